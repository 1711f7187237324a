import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipelineDepth, OutstandingRequests, MAX_PIPELINE, INITIAL_PIPELINE, BLOCK_SIZE } from '../../../src/peer/download/index.js';

test('pipeline depth grows with rate and stays within bounds', () => {
  assert.equal(pipelineDepth({}), INITIAL_PIPELINE);
  assert.equal(pipelineDepth({ rateBps: 300e6, peerReqq: 2000 }), MAX_PIPELINE);
  const slow = pipelineDepth({ rateBps: 50_000 });
  assert.ok(slow >= 8 && slow < INITIAL_PIPELINE, String(slow));
  assert.equal(pipelineDepth({ rateBps: 300e6, peerReqq: 64 }), 64, 'never more than the peer queues');
  assert.equal(pipelineDepth({ rateBps: 300e6, snubbed: true }), 1);
  const mid = pipelineDepth({ rateBps: 20 * BLOCK_SIZE * 10 });
  assert.equal(mid, 600 > MAX_PIPELINE ? Math.min(MAX_PIPELINE, 250) : 600);
});

test('outstanding requests expire oldest first and match arriving blocks', () => {
  const o = new OutstandingRequests(0);
  o.add(1, 0, BLOCK_SIZE, 0);
  o.add(1, BLOCK_SIZE, BLOCK_SIZE, 10_000);
  assert.equal(o.take(1, 7, BLOCK_SIZE, 1), false, 'another offset is not a match');
  assert.equal(o.take(1, 0, BLOCK_SIZE + 1, 1), false, 'an oversized block is not a match');
  assert.deepEqual(o.expired(30_000, 30_000), [1, 0]);
  assert.equal(o.size, 2, 'expired requests stay until cancelled');
  assert.equal(o.remove(1, 0, BLOCK_SIZE), true);
  assert.equal(o.remove(1, 0, BLOCK_SIZE), false);
  assert.equal(o.size, 1);
  assert.equal(o.isSnubbing(59_000, 60_000), false);
  assert.equal(o.isSnubbing(60_000, 60_000), true);
  assert.equal(o.take(1, BLOCK_SIZE, BLOCK_SIZE, 60_001), true);
  assert.equal(o.take(1, BLOCK_SIZE, BLOCK_SIZE, 60_002), false, 'answered once');
  assert.equal(o.isSnubbing(200_000, 60_000), false, 'nothing outstanding: not snubbing');
  o.add(2, 0, BLOCK_SIZE, 200_000);
  assert.equal(o.isSnubbing(259_999, 60_000), false, 'the wait counts from the first request after a quiet spell');
  assert.equal(o.isSnubbing(260_000, 60_000), true);
});

test('outstanding requests keep huge pieces and piece indexes apart, and expire each as it was asked', () => {
  const o = new OutstandingRequests(0);
  const reqs = [
    { piece: 0, begin: 1024 * 16384, length: 16384 }, // block 1024 of piece 0
    { piece: 1, begin: 0, length: 16384 },
    { piece: 2 ** 20, begin: 0, length: 16384 },
    { piece: 1023, begin: 1024 * 16384, length: 16384 },
    { piece: 0, begin: 0, length: 16384 },
    { piece: 2 ** 21 + 3, begin: 5 * 16384, length: 16384 }, // past exact negative keys
    { piece: 7, begin: 100, length: 16384 }, // unaligned
    { piece: 9, begin: 0, length: 32768 }, // oversized
  ];
  for (const r of reqs) o.add(r.piece, r.begin, r.length, 0);
  assert.equal(o.size, reqs.length);
  assert.deepEqual(o.expired(1, 1), reqs.flatMap((r) => [r.piece, r.begin]));
  assert.equal(o.take(1024, 0, 16384, 1), false, 'never asked');
  assert.equal(o.take(0, 1025 * 16384, 16384, 1), false, 'never asked');
  assert.equal(o.take(9, 0, 16384, 1), false, 'never asked at that length');
  for (const r of reqs) assert.equal(o.take(r.piece, r.begin, r.length, 1), true, `${r.piece}/${r.begin}`);
  assert.equal(o.size, 0);
});
