import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { pipelineDepth, OutstandingRequests, requestKey, MAX_PIPELINE, INITIAL_PIPELINE, BLOCK_SIZE } from '../../../src/peer/download/index.js';

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

/** The table before it was one: a Map from requestKey to the send time, in send order. */
class MapModel {
  readonly sent = new Map<number | string, number>();
  lastBlockAtMs: number;
  constructor(nowMs: number) {
    this.lastBlockAtMs = nowMs;
  }
  add(index: number, begin: number, length: number, nowMs: number): void {
    if (this.sent.size === 0 && nowMs > this.lastBlockAtMs) this.lastBlockAtMs = nowMs;
    this.sent.set(requestKey(index, begin, length), Math.floor(nowMs));
  }
  take(index: number, begin: number, length: number, nowMs: number): boolean {
    if (!this.sent.delete(requestKey(index, begin, length))) return false;
    this.lastBlockAtMs = nowMs;
    return true;
  }
  expired(nowMs: number, timeoutMs: number): number[] {
    const out: number[] = [];
    for (const [key, atMs] of this.sent) {
      if (nowMs - atMs < timeoutMs) break;
      if (typeof key === 'string') {
        const [index, begin] = key.split(':').map(Number) as [number, number];
        out.push(index, begin);
      } else if (key >= 0) {
        out.push(Math.floor(key / 1024), (key % 1024) * BLOCK_SIZE);
      } else {
        const v = -key - 1;
        out.push(Math.floor(v / 0x100000000), v % 0x100000000);
      }
    }
    return out;
  }
}

test('property: the request table answers like a Map in send order, through growth, deletes and clears', () => {
  // Few distinct requests (so they are asked again, answered twice, collide in probe runs),
  // mostly usual keys, some of every unusual shape.
  const request = fc.oneof(
    { weight: 8, arbitrary: fc.record({ index: fc.integer({ min: 0, max: 40 }), begin: fc.integer({ min: 0, max: 6 }).map((b) => b * BLOCK_SIZE), length: fc.constant(BLOCK_SIZE) }) },
    { weight: 1, arbitrary: fc.record({ index: fc.integer({ min: 0, max: 3 }), begin: fc.integer({ min: 0, max: 3 }).map((b) => b * 100 + 1), length: fc.constant(BLOCK_SIZE) }) },
    { weight: 1, arbitrary: fc.record({ index: fc.constantFrom(2 ** 20, 2 ** 21 + 3, 2 ** 31), begin: fc.constant(0), length: fc.constant(BLOCK_SIZE) }) },
    { weight: 1, arbitrary: fc.record({ index: fc.integer({ min: 0, max: 3 }), begin: fc.constant(0), length: fc.constantFrom(1, BLOCK_SIZE + 1) }) },
  );
  const op = fc.oneof(
    { weight: 10, arbitrary: fc.record({ kind: fc.constant('add' as const), r: request, dt: fc.integer({ min: 0, max: 5000 }) }) },
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('take' as const), r: request, dt: fc.integer({ min: 0, max: 5000 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('remove' as const), r: request, dt: fc.constant(0) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('has' as const), r: request, dt: fc.constant(0) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('expired' as const), r: request, dt: fc.integer({ min: 0, max: 40_000 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('keys' as const), r: request, dt: fc.constant(0) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const), r: request, dt: fc.constant(0) }) },
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 400 }), fc.constantFrom(1, 8, 256), fc.double({ min: 0, max: 1e6, noNaN: true }), (ops, slots, t0) => {
      const t = new OutstandingRequests(t0, slots);
      const m = new MapModel(t0);
      let now = t0;
      for (const { kind, r, dt } of ops) {
        now += dt + 0.25;
        const { index, begin, length } = r;
        switch (kind) {
          case 'add':
            t.add(index, begin, length, now);
            m.add(index, begin, length, now);
            break;
          case 'take':
            assert.equal(t.take(index, begin, length, now), m.take(index, begin, length, now));
            break;
          case 'remove':
            assert.equal(t.remove(index, begin, length), m.sent.delete(requestKey(index, begin, length)));
            break;
          case 'has':
            assert.equal(t.has(index, begin, length), m.sent.has(requestKey(index, begin, length)));
            break;
          case 'expired':
            assert.deepEqual(t.expired(now, 30_000), m.expired(now, 30_000));
            break;
          case 'keys':
            assert.deepEqual(t.keys(), [...m.sent.keys()]);
            break;
          case 'clear':
            t.clear();
            m.sent.clear();
            break;
        }
        assert.equal(t.size, m.sent.size);
        assert.equal(t.lastBlockAtMs, m.lastBlockAtMs);
        assert.equal(t.isSnubbing(now, 20_000), m.sent.size > 0 && now - m.lastBlockAtMs >= 20_000);
      }
      assert.deepEqual(t.keys(), [...m.sent.keys()]);
      assert.deepEqual(t.expired(now + 1e9, 30_000), m.expired(now + 1e9, 30_000));
    }),
    { numRuns: 300 },
  );
});

test('request table: a thousand requests answered first-in first-out stay in the slots they started with', () => {
  const t = new OutstandingRequests(0, 64);
  const slots = () => (t as unknown as { keysAt: Int32Array }).keysAt.length;
  for (let i = 0; i < 32; i++) t.add(i >> 6, (i & 63) * BLOCK_SIZE, BLOCK_SIZE, 0);
  assert.equal(slots(), 64);
  for (let i = 32; i < 100_000; i++) {
    const j = i - 32;
    assert.equal(t.take(j >> 6, (j & 63) * BLOCK_SIZE, BLOCK_SIZE, i), true);
    t.add(i >> 6, (i & 63) * BLOCK_SIZE, BLOCK_SIZE, i);
  }
  assert.equal(t.size, 32);
  assert.equal(slots(), 64, 'never grown: at most half full');
  t.add(5000, 0, BLOCK_SIZE, 1e6);
  assert.equal(slots(), 128, 'grows past half full');
  assert.deepEqual(t.expired(1e6 + 30_000, 30_000).slice(0, 2), [(100_000 - 32) >> 6, ((100_000 - 32) & 63) * BLOCK_SIZE]);
});
