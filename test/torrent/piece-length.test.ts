import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choosePieceLength, isValidCreatePieceLength } from '../../src/torrent/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

test('small payloads get the 16 KiB minimum', () => {
  for (const n of [0, 1, 16 * KiB, 30 * MiB]) assert.equal(choosePieceLength(n), 16 * KiB, String(n));
});

test('huge payloads get the 16 MiB maximum', () => {
  assert.equal(choosePieceLength(100 * GiB), 16 * MiB);
  assert.equal(choosePieceLength(2 ** 50), 16 * MiB);
});

test('in between: a power of two giving 1000-2000 pieces', () => {
  for (let n = 40 * MiB; n <= 30 * GiB; n = Math.floor(n * 1.37)) {
    const p = choosePieceLength(n);
    assert.ok(isValidCreatePieceLength(p), `${p} for ${n}`);
    const pieces = Math.ceil(n / p);
    assert.ok(pieces > 1000 && pieces <= 2000, `${pieces} pieces of ${p} for ${n}`);
  }
  assert.equal(choosePieceLength(GiB), MiB);
});

test('create accepts only powers of two from 16 KiB to 16 MiB', () => {
  for (const ok of [16 * KiB, 32 * KiB, MiB, 16 * MiB]) assert.ok(isValidCreatePieceLength(ok), String(ok));
  for (const bad of [0, 8 * KiB, 16 * KiB + 1, 48 * KiB, 32 * MiB, 1.5, NaN, -16 * KiB]) assert.ok(!isValidCreatePieceLength(bad), String(bad));
});
