import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Choker, type ChokerPeer } from '../../../src/peer/upload/index.js';

function p(id: number, down: number, extra: Partial<ChokerPeer> = {}): ChokerPeer {
  return { id, interested: true, downloadRateBps: down, uploadRateBps: 0, choked: true, unchokedSinceMs: 0, ...extra };
}

test('leeching: the fastest uploaders to us get the regular slots, plus one optimistic', () => {
  const c = new Choker({ slots: 2, optimisticSlots: 1, random: () => 0 });
  const peers = [p(1, 10), p(2, 500), p(3, 300), p(4, 1), p(5, 0, { interested: false })];
  const d = c.rechoke(peers, 0, false);
  assert.ok(d.unchoke.has(2) && d.unchoke.has(3));
  assert.equal(d.unchoke.size, 3);
  assert.equal(d.optimistic.size, 1);
  assert.ok(!d.unchoke.has(5), 'not interested: stays choked');
});

test('the optimistic unchoke is kept for 30 s, then rotates', () => {
  let r = 0;
  const c = new Choker({ slots: 1, optimisticSlots: 1, random: () => r });
  const peers = [p(1, 100), p(2, 0), p(3, 0), p(4, 0)];
  const d0 = c.rechoke(peers, 0, false);
  const first = [...d0.optimistic][0]!;
  r = 0.99;
  const mark = (d: { unchoke: Set<number> }) => peers.forEach((x) => (x.choked = !d.unchoke.has(x.id)));
  mark(d0);
  const d1 = c.rechoke(peers, 10_000, false);
  assert.deepEqual([...d1.optimistic], [first]);
  mark(d1);
  const d2 = c.rechoke(peers, 30_000, false);
  assert.notDeepEqual([...d2.optimistic], [first]);
});

test('seeding: round robin gives waiting peers a turn', () => {
  const c = new Choker({ slots: 2, optimisticSlots: 0, seedTurnMs: 60_000 });
  const peers = [p(1, 0), p(2, 0), p(3, 0), p(4, 0)];
  peers.forEach((x, i) => (x.unchokedSinceMs = i));
  let d = c.rechoke(peers, 100, true);
  assert.deepEqual([...d.unchoke].sort(), [1, 2]);
  for (const x of peers) if (d.unchoke.has(x.id)) {
    x.choked = false;
    x.unchokedSinceMs = 100;
  }
  d = c.rechoke(peers, 30_000, true);
  assert.deepEqual([...d.unchoke].sort(), [1, 2], 'inside their turn');
  d = c.rechoke(peers, 70_000, true);
  assert.deepEqual([...d.unchoke].sort(), [3, 4], 'turn over: the waiting ones');
});

test('seeding with few interested peers unchokes all of them', () => {
  const c = new Choker({ slots: 4, optimisticSlots: 1 });
  const d = c.rechoke([p(1, 0), p(2, 0)], 0, true);
  assert.deepEqual([...d.unchoke].sort(), [1, 2]);
});

test('a newly interested peer may be unchoked at once only while a slot (regular or optimistic) is free', () => {
  const c = new Choker({ slots: 2, optimisticSlots: 1 });
  assert.equal(c.hasFreeSlot([p(1, 0, { choked: false }), p(2, 0, { choked: false }), p(3, 0)]), true);
  assert.equal(c.hasFreeSlot([p(1, 0, { choked: false }), p(2, 0, { choked: false }), p(3, 0, { choked: false }), p(4, 0)]), false);
  assert.equal(c.hasFreeSlot([]), true);
});
