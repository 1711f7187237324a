import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { MetadataAssembler } from '../../src/node/metadata-fetch.js';

const info = randomBytes(40_000); // 3 pieces of 16 KiB, the last short
const hash = createHash('sha1').update(info).digest();
const piece = (i: number) => info.subarray(i * 16384, Math.min(info.length, (i + 1) * 16384));

test('assembles metadata from pieces and checks it against the info hash', () => {
  const a = new MetadataAssembler(hash);
  assert.equal(a.offerSize(info.length), true);
  assert.deepEqual(a.nextRequests(1, 0, 10), [0, 1, 2]);
  assert.deepEqual(a.nextRequests(2, 0, 10), [], 'asked pieces are not asked twice at once');
  assert.equal(a.receive(0, info.length, piece(0)), null);
  assert.equal(a.receive(2, info.length, piece(2)), null);
  const done = a.receive(1, info.length, piece(1));
  assert.ok(done instanceof Buffer && done.equals(info));
});

test('wrong sizes and lengths are ignored; a bad whole is refused and refetched', () => {
  const a = new MetadataAssembler(hash);
  assert.equal(a.offerSize(0), false);
  assert.equal(a.offerSize(17 * 1024 * 1024), false, 'larger than BEP 9 sizes we accept');
  a.offerSize(info.length);
  assert.equal(a.offerSize(info.length + 1), false, 'a disagreeing size');
  assert.equal(a.receive(0, info.length + 1, piece(0)), null);
  assert.equal(a.receive(2, info.length, piece(1)), null, 'wrong length for the last piece');
  a.receive(0, info.length, piece(0));
  a.receive(1, info.length, piece(1));
  assert.equal(a.receive(2, info.length, Buffer.alloc(piece(2).length)), 'bad');
  assert.deepEqual(a.nextRequests(1, 20_000, 10), [0, 1, 2], 'everything is asked again');
});

test('a timed-out or released request is asked elsewhere', () => {
  const a = new MetadataAssembler(hash);
  a.offerSize(info.length);
  a.nextRequests(1, 0, 1);
  assert.deepEqual(a.nextRequests(2, 1000, 1), [1]);
  a.release(1);
  assert.deepEqual(a.nextRequests(3, 1000, 1), [0]);
  assert.deepEqual(a.nextRequests(3, 100_000, 5), [0, 1, 2], "all expired");
});
