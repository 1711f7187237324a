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
  o.add({ piece: 1, begin: 0, length: BLOCK_SIZE }, 0);
  o.add({ piece: 1, begin: BLOCK_SIZE, length: BLOCK_SIZE }, 10_000);
  assert.equal(o.take(1, 0, 5, 1), undefined, 'wrong length is not a match');
  assert.deepEqual(o.expire(30_000, 30_000), [{ piece: 1, begin: 0, length: BLOCK_SIZE }]);
  assert.equal(o.size, 1);
  assert.equal(o.isSnubbing(59_000, 60_000), false);
  assert.equal(o.isSnubbing(60_000, 60_000), true);
  assert.ok(o.take(1, BLOCK_SIZE, BLOCK_SIZE, 60_001));
  assert.equal(o.isSnubbing(200_000, 60_000), false, 'nothing outstanding: not snubbing');
});

test('outstanding requests keep huge pieces and piece indexes apart', () => {
  const o = new OutstandingRequests(0);
  const reqs = [
    { piece: 0, begin: 1024 * 16384, length: 16384 }, // block 1024 of piece 0
    { piece: 1, begin: 0, length: 16384 },
    { piece: 2 ** 20, begin: 0, length: 16384 },
    { piece: 1023, begin: 1024 * 16384, length: 16384 },
    { piece: 0, begin: 0, length: 16384 },
  ];
  for (const r of reqs) o.add(r, 0);
  assert.equal(o.size, reqs.length);
  assert.equal(o.take(1024, 0, 16384, 1), undefined, 'never asked');
  assert.equal(o.take(0, 1025 * 16384, 16384, 1), undefined, 'never asked');
  for (const r of reqs) assert.deepEqual(o.take(r.piece, r.begin, r.length, 1), r);
  assert.equal(o.size, 0);
});
