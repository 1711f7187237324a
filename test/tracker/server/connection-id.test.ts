// BEP 15 connection ids as a MAC of address, port and time window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionIds, UDP_CONNECTION_WINDOW_MS as W } from '../../../src/tracker/server/index.js';

const T = 1_800_000_000_000 - (1_800_000_000_000 % W);

test('an id verifies for its address in its window and the next, not after', () => {
  const ids = new ConnectionIds(Buffer.alloc(32, 1));
  const id = ids.issue('192.0.2.1', 6881, T + 10);
  assert.equal(id.length, 8);
  assert.ok(ids.verify(id, 0, '192.0.2.1', 6881, T + W - 1));
  assert.ok(ids.verify(id, 0, '192.0.2.1', 6881, T + W + 5), 'previous window accepted');
  assert.ok(!ids.verify(id, 0, '192.0.2.1', 6881, T + 2 * W), 'two windows on: expired');
});

test('an id is bound to address and port, and to the secret', () => {
  const ids = new ConnectionIds(Buffer.alloc(32, 1));
  const id = ids.issue('192.0.2.1', 6881, T);
  assert.ok(!ids.verify(id, 0, '192.0.2.2', 6881, T));
  assert.ok(!ids.verify(id, 0, '192.0.2.1', 6882, T));
  assert.ok(!new ConnectionIds(Buffer.alloc(32, 2)).verify(id, 0, '192.0.2.1', 6881, T));
  assert.ok(new ConnectionIds(Buffer.alloc(32, 1)).verify(id, 0, '192.0.2.1', 6881, T), 'same secret: stateless');
  assert.ok(!ids.verify(id.subarray(0, 7), 0, '192.0.2.1', 6881, T), 'short input');
});

test('ids differ per address and per window', () => {
  const ids = new ConnectionIds(Buffer.alloc(32, 1));
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) seen.add(ids.issue(`10.0.${i >> 8}.${i & 255}`, 1, T).toString('hex'));
  assert.equal(seen.size, 1000);
  assert.notDeepEqual(ids.issue('10.0.0.1', 1, T), ids.issue('10.0.0.1', 1, T + W));
});

test('IPv6 sources get ids of their own; an IPv4-mapped source is its IPv4 address', () => {
  const ids = new ConnectionIds(Buffer.alloc(16, 7));
  const id6 = ids.issue('2001:db8::1', 6881, T);
  assert.ok(ids.verify(id6, 0, '2001:db8::1', 6881, T + 1));
  assert.ok(!ids.verify(id6, 0, '2001:db8::2', 6881, T));
  const id4 = ids.issue('192.0.2.1', 6881, T);
  assert.ok(ids.verify(id4, 0, '::ffff:192.0.2.1', 6881, T));
  assert.ok(!ids.verify(id4, 0, '2001:db8::1', 6881, T));
});

test('the compact-address API agrees with the text one, at any offset', () => {
  const ids = new ConnectionIds(Buffer.alloc(32, 1));
  const addr = Buffer.from([0, 192, 0, 2, 1, 0x1a, 0xe1]); // 192.0.2.1:6881 at offset 1
  const out = Buffer.alloc(12);
  ids.issueFor(addr, 1, 6, T, out, 4);
  assert.deepEqual(out.subarray(4), ids.issue('192.0.2.1', 6881, T));
  assert.ok(ids.verifyFor(out, 4, addr, 1, 6, T + W));
  assert.ok(!ids.verifyFor(out, 4, addr, 1, 6, T + 2 * W));
  assert.ok(!ids.verifyFor(out.subarray(0, 11), 4, addr, 1, 6, T), 'short input');
});
