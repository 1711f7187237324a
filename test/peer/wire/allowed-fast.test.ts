import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedFastSet } from '../../../src/peer/wire/index.js';

// BEP 6's own example: 80.4.4.200, info hash of 0xaa bytes, 1313 pieces.
test('computes the allowed-fast set of the BEP 6 example', () => {
  const ip = Uint8Array.from([80, 4, 4, 200]);
  const ih = Buffer.alloc(20, 0xaa);
  assert.deepEqual(allowedFastSet(ip, ih, 1313, 7), [1059, 431, 808, 1217, 287, 376, 1188]);
  assert.deepEqual(allowedFastSet(ip, ih, 1313, 9), [1059, 431, 808, 1217, 287, 376, 1188, 353, 508]);
});

test('never asks for more pieces than the torrent has', () => {
  const s = allowedFastSet(Uint8Array.from([10, 0, 0, 1]), Buffer.alloc(20, 1), 3, 10);
  assert.deepEqual([...s].sort(), [0, 1, 2]);
});
