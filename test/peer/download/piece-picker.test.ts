import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bitfield } from '../../../src/util/index.js';
import { PiecePicker, BLOCK_SIZE, type PickerPeer } from '../../../src/peer/download/index.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function peer(id: number, pieces: number, has: number[] | 'all', extra: Partial<PickerPeer> = {}): PickerPeer {
  const bf = has === 'all' ? Bitfield.full(pieces) : new Bitfield(pieces);
  if (has !== 'all') for (const i of has) bf.set(i);
  return { id, has: bf, choking: false, ...extra };
}

function picker(pieces: number, pieceLength = 4 * BLOCK_SIZE, opts: { have?: number[]; wanted?: number[] } = {}): PiecePicker {
  const have = new Bitfield(pieces);
  for (const i of opts.have ?? []) have.set(i);
  let wanted: Bitfield | undefined;
  if (opts.wanted) {
    wanted = new Bitfield(pieces);
    for (const i of opts.wanted) wanted.set(i);
  }
  return new PiecePicker({ pieceCount: pieces, pieceLength, totalLength: pieces * pieceLength, have, wanted, random: seeded(7) });
}

test('picks the rarest piece first', () => {
  const pk = picker(4);
  const a = peer(1, 4, 'all');
  const b = peer(2, 4, [0, 1, 3]);
  const c = peer(3, 4, [0, 1]);
  for (const p of [a, b, c]) pk.peerHasAll(p.has);
  // availability: 0:3 1:3 2:1 3:2
  const reqs = pk.pickBlocks(a, 4);
  assert.deepEqual(new Set(reqs.map((r) => r.piece)), new Set([2]));
  const next = pk.pickBlocks(a, 4);
  assert.deepEqual(new Set(next.map((r) => r.piece)), new Set([3]));
});

test('breaks ties at random (different seeds give different first pieces)', () => {
  const firsts = new Set<number>();
  for (let seed = 1; seed < 40; seed++) {
    const have = new Bitfield(16);
    const pk = new PiecePicker({ pieceCount: 16, pieceLength: BLOCK_SIZE, totalLength: 16 * BLOCK_SIZE, have, random: seeded(seed) });
    const a = peer(1, 16, 'all');
    pk.peerHasAll(a.has);
    firsts.add(pk.pickBlocks(a, 1)[0]!.piece);
  }
  assert.ok(firsts.size > 4, `only ${firsts.size} distinct first picks`);
});

test('finishes partial pieces before starting new ones', () => {
  const pk = picker(8);
  const a = peer(1, 8, 'all');
  const b = peer(2, 8, 'all');
  pk.peerHasAll(a.has);
  pk.peerHasAll(b.has);
  const first = pk.pickBlocks(a, 2); // half of one piece
  assert.equal(first.length, 2);
  const piece = first[0]!.piece;
  const second = pk.pickBlocks(b, 2);
  assert.deepEqual(
    second.map((r) => [r.piece, r.begin]),
    [
      [piece, 2 * BLOCK_SIZE],
      [piece, 3 * BLOCK_SIZE],
    ],
  );
});

test('asks only for pieces the peer has, we miss and want', () => {
  const pk = picker(6, BLOCK_SIZE, { have: [0], wanted: [0, 1, 2, 4] });
  const a = peer(1, 6, [0, 1, 3, 4, 5]);
  pk.peerHasAll(a.has);
  const got = pk.pickBlocks(a, 100).map((r) => r.piece).sort();
  assert.deepEqual(got, [1, 4]);
  assert.equal(pk.interestedIn(a.has), true);
  assert.equal(pk.interestedIn(peer(2, 6, [0, 3, 5]).has), false);
});

test('a choking peer is asked only for its allowed-fast pieces', () => {
  const pk = picker(4, BLOCK_SIZE);
  const a = peer(1, 4, 'all', { choking: true });
  pk.peerHasAll(a.has);
  assert.deepEqual(pk.pickBlocks(a, 10), []);
  const b = peer(2, 4, 'all', { choking: true, allowedFast: new Set([3]) });
  assert.deepEqual(
    pk.pickBlocks(b, 10).map((r) => r.piece),
    [3],
  );
});

test('the last block of the last piece is short', () => {
  const pk = new PiecePicker({ pieceCount: 2, pieceLength: 2 * BLOCK_SIZE, totalLength: 2 * BLOCK_SIZE + 1000, have: new Bitfield(2), random: seeded(1) });
  const a = peer(1, 2, 'all');
  pk.peerHasAll(a.has);
  const reqs = pk.pickBlocks(a, 10);
  const last = reqs.find((r) => r.piece === 1)!;
  assert.equal(reqs.length, 3);
  assert.deepEqual(last, { piece: 1, begin: 0, length: 1000 });
});

test('endgame requests blocks twice and names the peers to cancel', () => {
  const pk = picker(1, 2 * BLOCK_SIZE);
  const a = peer(1, 1, 'all');
  const b = peer(2, 1, 'all');
  pk.peerHasAll(a.has);
  pk.peerHasAll(b.has);
  assert.equal(pk.pickBlocks(a, 10).length, 2);
  assert.equal(pk.inEndgame(), true);
  const dup = pk.pickBlocks(b, 10);
  assert.equal(dup.length, 2);
  assert.deepEqual(pk.pickBlocks(b, 10), [], 'never twice to the same peer');
  const r1 = pk.blockReceived(2, 0, 0);
  assert.deepEqual(r1, { status: 'accepted', cancel: [1], pieceComplete: false });
  const late = pk.blockReceived(1, 0, 0);
  assert.equal(late.status, 'duplicate');
  const r2 = pk.blockReceived(1, 0, BLOCK_SIZE);
  assert.deepEqual(r2, { status: 'accepted', cancel: [2], pieceComplete: true });
  pk.pieceVerified(0);
  assert.equal(pk.isDone(), true);
});

test('an endgame pass that found nothing is tried again once something changed', () => {
  const pk = picker(3, 2 * BLOCK_SIZE, { have: [2] });
  const a = peer(1, 3, [0]);
  const b = peer(2, 3, 'all');
  pk.peerHasAll(a.has);
  pk.peerHasAll(b.has);
  assert.equal(pk.pickBlocks(a, 10).length, 2, 'piece 0');
  assert.equal(pk.pickBlocks(b, 2).length, 2, 'piece 1');
  assert.equal(pk.inEndgame(), true);
  assert.deepEqual(pk.pickBlocks(a, 10), [], 'piece 0 is its own, piece 1 it lacks');
  assert.deepEqual(pk.pickBlocks(a, 10), [], 'and again, nothing changed');
  // A gains piece 1 (a HAVE): b's requests of it are now endgame picks for a.
  a.has.set(1);
  pk.peerHas(1);
  assert.deepEqual(
    pk.pickBlocks(a, 10).map((r) => [r.piece, r.begin]),
    [
      [1, 0],
      [1, BLOCK_SIZE],
    ],
  );
  // A choked peer: only its allowed-fast pieces; an allowed-fast piece given later counts.
  const c = peer(3, 3, 'all', { choking: true, allowedFast: new Set([2]) });
  pk.peerHasAll(c.has);
  assert.deepEqual(pk.pickBlocks(c, 10), [], 'piece 2 we have');
  (c.allowedFast as Set<number>).add(0);
  assert.equal(pk.pickBlocks(c, 10).length, 2, 'piece 0, allowed fast');
});

test('released requests go to another peer; a closed peer releases all', () => {
  const pk = picker(2, 2 * BLOCK_SIZE);
  const a = peer(1, 2, 'all');
  const b = peer(2, 2, 'all');
  pk.peerHasAll(a.has);
  pk.peerHasAll(b.has);
  const got = pk.pickBlocks(a, 4);
  assert.equal(got.length, 4);
  pk.releaseBlock(1, got[0]!.piece, got[0]!.begin);
  const forB = pk.pickBlocks(b, 1);
  assert.deepEqual(forB, [got[0]]);
  pk.releasePeer(1);
  assert.equal(pk.requestedBy(1), 0);
  assert.equal(pk.pickBlocks(b, 10).length, 3);
});

test('a failed piece returns its senders and is fetched again', () => {
  const pk = picker(1, 2 * BLOCK_SIZE);
  const a = peer(1, 1, 'all');
  const b = peer(2, 1, 'all');
  pk.peerHasAll(a.has);
  pk.peerHasAll(b.has);
  pk.pickBlocks(a, 1);
  pk.pickBlocks(b, 1);
  pk.blockReceived(1, 0, 0);
  assert.equal(pk.blockReceived(2, 0, BLOCK_SIZE).pieceComplete, true);
  assert.deepEqual(pk.pieceFailed(0), [1, 2]);
  assert.equal(pk.pickBlocks(a, 10).length, 2);
});

test('unexpected blocks are reported, never counted', () => {
  const pk = picker(2, BLOCK_SIZE, { have: [0] });
  assert.equal(pk.blockReceived(1, 0, 0).status, 'unexpected');
  assert.equal(pk.blockReceived(1, 1, 0).status, 'unexpected');
  assert.equal(pk.blockReceived(1, 1, 5).status, 'unexpected');
});

test('a late block whose request was given up still counts while its piece is in progress', () => {
  const pk = picker(1, 2 * BLOCK_SIZE);
  const a = peer(1, 1, 'all');
  pk.peerHasAll(a.has);
  pk.pickBlocks(a, 2);
  pk.releaseBlock(1, 0, 0);
  assert.equal(pk.blockReceived(1, 0, BLOCK_SIZE).status, 'accepted');
  assert.equal(pk.blockReceived(1, 0, 0).pieceComplete, true);
  assert.deepEqual(pk.pickBlocks(a, 2), [], 'nothing left to ask');
});

test('a whole download by three peers completes with every block fetched once outside endgame', () => {
  const n = 50;
  const pk = new PiecePicker({ pieceCount: n, pieceLength: 4 * BLOCK_SIZE, totalLength: n * 4 * BLOCK_SIZE - 777, have: new Bitfield(n), random: seeded(3) });
  const peers = [peer(1, n, 'all'), peer(2, n, 'all'), peer(3, n, 'all')];
  for (const p of peers) pk.peerHasAll(p.has);
  const outstanding = new Map<number, { piece: number; begin: number }[]>(peers.map((p) => [p.id, []]));
  let received = 0;
  for (let round = 0; round < 10_000 && !pk.isDone(); round++) {
    for (const p of peers) {
      const q = outstanding.get(p.id)!;
      q.push(...pk.pickBlocks(p, 7 - q.length));
      const r = q.shift();
      if (!r) continue;
      received++;
      const res = pk.blockReceived(p.id, r.piece, r.begin);
      for (const c of res.cancel) {
        const oq = outstanding.get(c)!;
        const k = oq.findIndex((x) => x.piece === r.piece && x.begin === r.begin);
        if (k >= 0) oq.splice(k, 1);
      }
      if (res.pieceComplete) pk.pieceVerified(r.piece);
    }
  }
  assert.equal(pk.isDone(), true);
  assert.ok(received < n * 4 + 30, `received ${received} blocks for ${n * 4}`);
});

test('done and missing counts follow verified pieces and the wanted set', () => {
  const pk = picker(5, BLOCK_SIZE, { have: [1], wanted: [0, 1, 2] });
  assert.equal(pk.missingCount(), 2);
  pk.pieceVerified(0);
  assert.equal(pk.isDone(), false);
  pk.pieceVerified(3); // not wanted: does not count
  assert.equal(pk.missingCount(), 1);
  pk.pieceVerified(2);
  assert.equal(pk.isDone(), true);
  pk.setWanted(undefined);
  assert.equal(pk.missingCount(), 1, 'piece 4 is wanted now');
});

test('many small pieces: picking stays cheap (cached rarest-first order)', () => {
  const n = 65536;
  const pk = new PiecePicker({ pieceCount: n, pieceLength: BLOCK_SIZE, totalLength: n * BLOCK_SIZE, have: new Bitfield(n), random: seeded(9) });
  const a = peer(1, n, 'all');
  pk.peerHasAll(a.has);
  const t0 = performance.now();
  let got = 0;
  for (let round = 0; round < n / 64; round++) {
    const reqs = pk.pickBlocks(a, 64);
    for (const r of reqs) {
      pk.blockReceived(1, r.piece, r.begin);
      pk.pieceVerified(r.piece);
      pk.peerHas(r.piece); // HAVEs from others keep changing availability
    }
    got += reqs.length;
  }
  assert.equal(got, n);
  assert.equal(pk.isDone(), true);
  assert.ok(performance.now() - t0 < 3000, `took ${Math.round(performance.now() - t0)} ms`);
});

test('never more pieces in progress than maxPartials', () => {
  const pk = new PiecePicker({ pieceCount: 20, pieceLength: 2 * BLOCK_SIZE, totalLength: 40 * BLOCK_SIZE, have: new Bitfield(20), random: seeded(2), maxPartials: 3 });
  const a = peer(1, 20, 'all');
  pk.peerHasAll(a.has);
  const reqs = pk.pickBlocks(a, 100);
  assert.equal(new Set(reqs.map((r) => r.piece)).size, 3);
  for (const r of reqs.filter((x) => x.piece === reqs[0]!.piece)) pk.blockReceived(1, r.piece, r.begin);
  pk.pieceVerified(reqs[0]!.piece);
  assert.equal(new Set(pk.pickBlocks(a, 100).map((r) => r.piece)).size, 1, 'one slot freed, one new piece');
});

test('equally rare pieces come a 4 MiB extent at a time, in index order from a random start', () => {
  const pieceLength = 1024 * 1024; // 4 pieces per extent
  const n = 38; // the last extent is short (2 pieces)
  const firsts = new Set<number>();
  for (let seed = 1; seed <= 12; seed++) {
    const pk = new PiecePicker({ pieceCount: n, pieceLength, totalLength: n * pieceLength, have: new Bitfield(n), random: seeded(seed) });
    const a = peer(1, n, 'all');
    pk.peerHasAll(a.has);
    const order: number[] = [];
    for (;;) {
      const reqs = pk.pickBlocks(a, pieceLength / BLOCK_SIZE);
      if (reqs.length === 0) break;
      const piece = reqs[0]!.piece;
      assert.ok(reqs.every((r) => r.piece === piece), 'one whole piece per pick');
      order.push(piece);
      for (const r of reqs) pk.blockReceived(1, r.piece, r.begin);
      pk.pieceVerified(piece);
    }
    assert.deepEqual([...order].sort((x, y) => x - y), Array.from({ length: n }, (_, i) => i), 'every piece once');
    firsts.add(order[0]!);
    // Each extent's pieces are picked back to back, each the next index after the one
    // before, wrapping around inside the extent.
    for (let k = 0; k < n; ) {
      const start = order[k]! - (order[k]! % 4);
      const len = Math.min(4, n - start);
      for (let j = 1; j < len; j++) {
        assert.equal(order[k + j], start + ((order[k]! - start + j) % len), `seed ${seed}: ${order.join(',')}`);
      }
      k += len;
    }
  }
  assert.ok(firsts.size > 4, `only ${firsts.size} distinct first picks`);
});
