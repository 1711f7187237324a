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
