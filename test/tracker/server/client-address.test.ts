// Which address a peer is announced at: the socket's, unless a trusted source says otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolvePeerIp } from '../../../src/tracker/server/index.js';

const none = new Set<string>();
const proxy = new Set(['10.9.9.9']);

test('an untrusted client is announced at its socket address, whatever it claims', () => {
  assert.equal(resolvePeerIp('198.51.100.7', '1.2.3.4', '5.6.7.8', none), '198.51.100.7');
  assert.equal(resolvePeerIp('::ffff:198.51.100.7', undefined, undefined, none), '198.51.100.7', 'IPv4-mapped unwrapped');
});

test('loopback may name the address with ip= (tests, a local seeder)', () => {
  assert.equal(resolvePeerIp('127.0.0.1', undefined, '192.0.2.1', none), '192.0.2.1');
  assert.equal(resolvePeerIp('::1', undefined, '2001:db8::1', none), '2001:db8::1');
  assert.equal(resolvePeerIp('127.0.0.1', undefined, 'evil.example', none), '127.0.0.1', 'no host names');
});

test('a trusted proxy: X-Forwarded-For walked from the right past trusted hops', () => {
  assert.equal(resolvePeerIp('10.9.9.9', '203.0.113.5', undefined, proxy), '203.0.113.5');
  assert.equal(resolvePeerIp('10.9.9.9', '1.1.1.1, 203.0.113.5', undefined, proxy), '203.0.113.5', 'the client cannot forge the left part');
  assert.equal(resolvePeerIp('10.9.9.9', '203.0.113.5, 10.9.9.9', undefined, proxy), '203.0.113.5');
  assert.equal(resolvePeerIp('10.9.9.9', '203.0.113.5', '9.9.9.9', proxy), '203.0.113.5', 'ip= from the proxied client is not believed');
  assert.equal(resolvePeerIp('10.9.9.9', 'garbage', undefined, proxy), '10.9.9.9');
  assert.equal(resolvePeerIp('10.9.9.8', '203.0.113.5', undefined, proxy), '10.9.9.8', 'only the listed proxy');
  assert.equal(resolvePeerIp('10.9.9.9', 'x'.repeat(5000), undefined, proxy), '10.9.9.9', 'oversized header ignored');
});
