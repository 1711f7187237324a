// The downloader's piece assembly, driven block by block: blocks go to disk as they arrive
// and a piece is hashed as its blocks come in order; blocks that come out of order (two
// peers sharing a piece, a peer answering backwards) are hashed by reading them back from
// disk, and a piece that fails its hash is still attributed block by block (the digests of
// what each peer sent, read back from disk) so smart ban can convict the liar once the piece
// passes. Real Storage and PiecePicker; peers are stubs whose requests the test answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Downloader } from '../../src/node/downloader.js';
import type { TorrentContext } from '../../src/node/context.js';
import type { Peer } from '../../src/node/peer.js';
import { OutstandingRequests, PiecePicker, SmartBan } from '../../src/peer/download/index.js';

const EMPTY = Buffer.alloc(0);
import { Storage, sharedAlignedPool, type AlignedPool } from '../../src/storage/index.js';
import { createTorrent, type Metainfo } from '../../src/torrent/index.js';
import { Bitfield } from '../../src/util/index.js';
import { makeFile } from '../interop/helpers/payload.js';
import { withTmp } from './helpers.js';

const PIECE = 64 * 1024; // 4 blocks
const SIZE = 3 * PIECE + 20_000; // and a short last piece of 2 blocks

interface Req {
  piece: number;
  begin: number;
  length: number;
}

interface StubPeer {
  peer: Peer;
  sent: Req[];
}

function stubPeer(id: number, pieceCount: number, reqq: number): StubPeer {
  const sent: Req[] = [];
  // The connection keeps the requests in the peer's table (Downloader.rememberPeer), and
  // matches each block against it before the downloader sees it (deliver).
  let table = new OutstandingRequests(0);
  const conn = {
    peerBitfield: Bitfield.full(pieceCount),
    peerChoking: false,
    peerAllowedFast: new Set<number>(),
    amInterested: true,
    fast: true,
    peerExtensions: { reqq, m: new Map() },
    downloadRate: () => 0,
    useRequestTable: (t: OutstandingRequests) => {
      table = t;
    },
    sendRequest: (piece: number, begin: number, length: number) => (table.add(piece, begin, length, 0), sent.push({ piece, begin, length }), true),
    sendCancel: (piece: number, begin: number, length: number) => (table.remove(piece, begin, length), true),
    sendInterested: () => true,
    sendNotInterested: () => true,
    pauseReading: () => undefined,
    resumeReading: () => undefined,
  };
  const peer = {
    id,
    conn,
    banKey: `127.0.0.1:${7000 + id}`,
    address: `127.0.0.1:${7000 + id}`,
    outstanding: new OutstandingRequests(0),
    counted: null,
    snubbed: false,
    depth: 0,
    closed: false,
    get has() {
      return conn.peerBitfield;
    },
    get choking() {
      return false;
    },
    get allowedFast() {
      return conn.peerAllowedFast;
    },
    get reqq() {
      return reqq;
    },
  } as unknown as Peer;
  return { peer, sent };
}

interface Rig {
  meta: Metainfo;
  src: Buffer;
  dst: string;
  st: Storage;
  d: Downloader;
  ctx: TorrentContext;
  peers: Map<number, Peer>;
  done: number[];
  failed: number[];
  bans: { key: string; reason: string }[];
  readBacks: () => number;
  poolWrites: () => number;
  /** Pieces read back from disk (readUnverified), in order. */
  readBackPieces: number[];
  /** Pieces written whole with writePieceDirect, in order. */
  directPieces: number[];
}

async function rig(dir: string, writeMode: 'sync' | 'pool', directWrites = false, aligned?: AlignedPool): Promise<Rig> {
  await makeFile(join(dir, 'src', 'd.bin'), SIZE, 'downloader');
  const src = await readFile(join(dir, 'src', 'd.bin'));
  const { meta } = await createTorrent({ path: join(dir, 'src', 'd.bin'), pieceLength: PIECE, creationDate: null });
  const st = await Storage.open(meta, { dir: join(dir, 'dst'), writeMode, directWrites, directMinPieceBytes: PIECE });
  await st.check();
  let readBacks = 0;
  const readBackPieces: number[] = [];
  const read = st.readUnverified.bind(st);
  st.readUnverified = (i, b, into) => (readBacks++, readBackPieces.push(i), read(i, b, into));
  const directPieces: number[] = [];
  const direct = st.writePieceDirect.bind(st);
  st.writePieceDirect = (i, data) => (directPieces.push(i), direct(i, data));
  let poolWrites = 0;
  const write = st.writeBlock.bind(st);
  st.writeBlock = (i, b, data) => (poolWrites++, write(i, b, data));
  const picker = new PiecePicker({ pieceCount: meta.pieceCount, pieceLength: meta.pieceLength, totalLength: meta.length, have: st.have, wanted: st.wantedPieces, random: () => 0 });
  const peers = new Map<number, Peer>();
  const done: number[] = [];
  const failed: number[] = [];
  const bans: { key: string; reason: string }[] = [];
  const events = new EventEmitter();
  events.on('hash-failed', ({ index }: { index: number }) => failed.push(index));
  events.on('error', (e: Error) => assert.fail(e));
  const ctx = {
    infoHash: meta.infoHash,
    infoHashHex: meta.infoHashHex,
    events,
    peers,
    smartBan: new SmartBan(),
    meta,
    storage: st,
    picker,
    now: () => 0,
    ban: (key: string, reason: string) => bans.push({ key, reason }),
    addDownloaded: () => undefined,
    addUploaded: () => undefined,
    pieceDone: (i: number) => done.push(i),
    requestRechoke: () => undefined,
  } as unknown as TorrentContext;
  const d = new Downloader(ctx, aligned);
  if (directWrites) {
    // Direct writes go only to a file storage has open already: one ordinary write first
    // (piece 3's first block, correct bytes, not counted as had).
    await st.writeBlock(3, 0, src.subarray(3 * PIECE, 3 * PIECE + 16384));
    poolWrites = 0;
  }
  return { meta, src, dst: join(dir, 'dst', 'd.bin'), st, d, ctx, peers, done, failed, bans, readBacks: () => readBacks, poolWrites: () => poolWrites, readBackPieces, directPieces };
}

function add(r: Rig, s: StubPeer): void {
  r.peers.set(s.peer.id, s.peer);
  r.d.rememberPeer(s.peer);
  r.d.onBitfield(s.peer);
}

/** The bytes of a request from the source file; `corrupt` flips one byte. */
function blockOf(r: Rig, q: Req, corrupt = false): Buffer {
  // A view into a larger buffer, as the socket's read buffer hands blocks over; refilled
  // afterwards, so a downloader that kept the view instead of writing it would fail.
  const arena = Buffer.alloc(q.length + 100);
  r.src.copy(arena, 50, q.piece * PIECE + q.begin, q.piece * PIECE + q.begin + q.length);
  if (corrupt) arena[50 + 7]! ^= 0xff;
  return arena.subarray(50, 50 + q.length);
}

function deliver(r: Rig, s: StubPeer, q: Req, corrupt = false, cut = 0): void {
  const block = blockOf(r, q, corrupt);
  const requested = s.peer.outstanding.take(q.piece, q.begin, block.length, 0);
  if (cut > 0) {
    // Split between two reads, as the connection hands such a block over: the head at the
    // end of one buffer, the tail at the start of another.
    const tail = Buffer.alloc(block.length - cut + 10);
    block.copy(tail, 0, cut);
    r.d.onBlock(s.peer, q.piece, q.begin, block.subarray(0, cut), tail.subarray(0, block.length - cut), requested);
    tail.fill(0xee);
  } else {
    r.d.onBlock(s.peer, q.piece, q.begin, block, EMPTY, requested);
  }
  block.fill(0xee); // the read buffer is reused by the next read
}

/** Lets verification (an await or a disk read per piece) finish. */
async function settle(r: Rig, pieces: number): Promise<void> {
  for (let i = 0; i < 500 && r.done.length + r.failed.length < pieces; i++) await new Promise((res) => setTimeout(res, 2));
}

for (const mode of ['sync', 'pool'] as const) {
  test(`blocks of one piece from two peers, out of order (${mode} writes): read back, verified, the file is exact`, async () => {
    await withTmp('sta-dl-', async (dir) => {
      const r = await rig(dir, mode);
      try {
        // reqq 2: each peer asks two blocks at a time, so the second peer takes the
        // free half of the piece the first one started (partial pieces first).
        const a = stubPeer(1, r.meta.pieceCount, 2);
        const b = stubPeer(2, r.meta.pieceCount, 2);
        add(r, a);
        add(r, b);
        let answered = 0;
        for (let round = 0; round < 50 && !r.st.isComplete(); round++) {
          r.d.fill(a.peer, true);
          r.d.fill(b.peer, true);
          const qa = a.sent.splice(0);
          const qb = b.sent.splice(0);
          // b's blocks (later in the piece) first, each peer's backwards.
          for (const q of qb.reverse()) deliver(r, b, q);
          for (const q of qa.reverse()) deliver(r, a, q);
          answered += qa.length + qb.length;
          await settle(r, r.done.length + 1);
        }
        assert.equal(r.st.isComplete(), true, `complete after ${answered} blocks, done ${r.done.join(',')}`);
        assert.deepEqual([...r.done].sort((x, y) => x - y), [0, 1, 2, 3]);
        assert.deepEqual(r.failed, []);
        assert.deepEqual(r.bans, []);
        assert.ok(r.readBacks() >= 4, `out-of-order pieces were hashed from disk (${r.readBacks()} reads)`);
        assert.ok((await readFile(r.dst)).equals(r.src), 'the file is byte-identical');
      } finally {
        r.d.stop();
        await r.st.close();
      }
    });
  });
}

test('blocks in order from one peer are hashed as they arrive: nothing is read back', async () => {
  await withTmp('sta-dl-', async (dir) => {
    const r = await rig(dir, 'sync');
    try {
      const a = stubPeer(1, r.meta.pieceCount, 4);
      add(r, a);
      for (let round = 0; round < 20 && !r.st.isComplete(); round++) {
        r.d.fill(a.peer, true);
        for (const q of a.sent.splice(0)) deliver(r, a, q);
        await settle(r, round + 1);
      }
      assert.equal(r.st.isComplete(), true);
      assert.deepEqual(r.failed, []);
      // The first piece goes through the thread pool (the file's handle opens on its first
      // write; copies of in-order blocks are hashed too), the rest straight from the "read
      // buffer"; nothing is read back.
      assert.equal(r.poolWrites(), 4);
      assert.equal(r.readBacks(), 0);
      assert.ok((await readFile(r.dst)).equals(r.src));
    } finally {
      r.d.stop();
      await r.st.close();
    }
  });
});

test('blocks split between two reads (a head and a tail) land whole, in direct mode and block by block', async () => {
  for (const direct of [false, true]) {
    await withTmp('sta-dl-', async (dir) => {
      const r = await rig(dir, 'sync', direct);
      try {
        const a = stubPeer(1, r.meta.pieceCount, 4);
        add(r, a);
        let n = 0;
        for (let round = 0; round < 40 && !r.st.isComplete(); round++) {
          r.d.fill(a.peer, true);
          for (const q of a.sent.splice(0)) deliver(r, a, q, false, [1, 100, 8192, q.length - 1][n++ % 4]!);
          await settle(r, r.done.length + 1);
        }
        assert.equal(r.st.isComplete(), true, `direct ${direct}`);
        assert.deepEqual(r.failed, []);
        if (direct) assert.deepEqual([...r.directPieces].sort((x, y) => x - y), [0, 1, 2]);
        assert.ok((await readFile(r.dst)).equals(r.src), `direct ${direct}: byte-identical`);
      } finally {
        r.d.stop();
        await r.st.close();
      }
    });
  }
});

test('a piece failing its hash is attributed block by block from disk; the liar is convicted when it passes', async () => {
  await withTmp('sta-dl-', async (dir) => {
    const r = await rig(dir, 'sync');
    try {
      const liar = stubPeer(1, r.meta.pieceCount, 2);
      const honest = stubPeer(2, r.meta.pieceCount, 2);
      add(r, liar);
      add(r, honest);
      r.d.fill(liar.peer, true);
      r.d.fill(honest.peer, true);
      const ql = liar.sent.splice(0);
      const qh = honest.sent.splice(0);
      assert.equal(ql.length, 2);
      assert.equal(qh.length, 2);
      const piece = ql[0]!.piece;
      assert.ok(qh.every((q) => q.piece === piece) && ql.every((q) => q.piece === piece), 'both peers work on one piece');
      // The honest half first (out of order), then the liar's, its second block corrupt.
      for (const q of qh) deliver(r, honest, q);
      deliver(r, liar, ql[0]!);
      deliver(r, liar, ql[1]!, true);
      await settle(r, 1);
      assert.deepEqual(r.failed, [piece]);
      assert.deepEqual(r.bans, [], 'two senders: nobody is banned on one failure');
      assert.equal(r.ctx.smartBan.failureCount(liar.peer.banKey), 1);
      assert.equal(r.ctx.smartBan.failureCount(honest.peer.banKey), 1);
      assert.equal(r.ctx.smartBan.hasFailed(piece), true);

      // The liar leaves; the honest peer fetches the piece again (and the rest).
      r.peers.delete(liar.peer.id);
      r.d.onClose(liar.peer);
      for (let round = 0; round < 50 && !r.st.isComplete(); round++) {
        r.d.fill(honest.peer, true);
        for (const q of honest.sent.splice(0)) deliver(r, honest, q);
        await settle(r, r.meta.pieceCount + 1);
      }
      assert.equal(r.st.isComplete(), true);
      // The good piece's blocks, read back from disk, differ from the liar's second block
      // only: the liar is convicted, the honest peer (same failure count) is not.
      assert.deepEqual(r.bans, [{ key: liar.peer.banKey, reason: `sent corrupt data for piece ${piece} (block at ${ql[1]!.begin})` }]);
      assert.ok((await readFile(r.dst)).equals(r.src), 'the corrupt block was overwritten');
    } finally {
      r.d.stop();
      await r.st.close();
    }
  });
});

// Direct mode (Storage directWrites, as the node runs): a piece storage can write with
// O_DIRECT is gathered in an aligned buffer and written whole once it verifies; the short
// last piece (20,000 bytes, not a multiple of 4096) still goes block by block.

test('direct mode: blocks from two peers out of order are gathered in a buffer, hashed there, written whole: only the short last piece is read back', async () => {
  await withTmp('sta-dl-', async (dir) => {
    const r = await rig(dir, 'sync', true);
    try {
      const a = stubPeer(1, r.meta.pieceCount, 2);
      const b = stubPeer(2, r.meta.pieceCount, 2);
      add(r, a);
      add(r, b);
      for (let round = 0; round < 50 && !r.st.isComplete(); round++) {
        r.d.fill(a.peer, true);
        r.d.fill(b.peer, true);
        const qa = a.sent.splice(0);
        const qb = b.sent.splice(0);
        for (const q of qb.reverse()) deliver(r, b, q);
        for (const q of qa.reverse()) deliver(r, a, q);
        await settle(r, r.done.length + 1);
      }
      assert.equal(r.st.isComplete(), true);
      assert.deepEqual([...r.done].sort((x, y) => x - y), [0, 1, 2, 3]);
      assert.deepEqual(r.failed, []);
      assert.deepEqual([...r.directPieces].sort((x, y) => x - y), [0, 1, 2], 'the aligned pieces were written whole');
      assert.deepEqual([...new Set(r.readBackPieces)], [3], 'only the block-by-block piece was read back');
      assert.ok((await readFile(r.dst)).equals(r.src), 'the file is byte-identical');
    } finally {
      r.d.stop();
      await r.st.close();
    }
  });
});

test('direct mode: a failing piece is attributed from its buffer and never written; the liar is convicted when it passes', async () => {
  await withTmp('sta-dl-', async (dir) => {
    const r = await rig(dir, 'sync', true);
    try {
      const liar = stubPeer(1, r.meta.pieceCount, 2);
      const honest = stubPeer(2, r.meta.pieceCount, 2);
      add(r, liar);
      add(r, honest);
      r.d.fill(liar.peer, true);
      r.d.fill(honest.peer, true);
      const ql = liar.sent.splice(0);
      const qh = honest.sent.splice(0);
      const piece = ql[0]!.piece;
      assert.ok(piece < 3 && qh.every((q) => q.piece === piece) && ql.every((q) => q.piece === piece), 'both peers work on one aligned piece');
      for (const q of qh) deliver(r, honest, q);
      deliver(r, liar, ql[0]!);
      deliver(r, liar, ql[1]!, true);
      await settle(r, 1);
      const written: number[] = r.directPieces;
      assert.deepEqual(r.failed, [piece]);
      assert.deepEqual(r.directPieces, [], 'a failed piece is not written');
      assert.deepEqual(r.readBackPieces, [], 'nor read back: its blocks are in the buffer');
      assert.equal(r.ctx.smartBan.failureCount(liar.peer.banKey), 1);
      assert.equal(r.ctx.smartBan.failureCount(honest.peer.banKey), 1);

      r.peers.delete(liar.peer.id);
      r.d.onClose(liar.peer);
      for (let round = 0; round < 50 && !r.st.isComplete(); round++) {
        r.d.fill(honest.peer, true);
        for (const q of honest.sent.splice(0)) deliver(r, honest, q);
        await settle(r, r.meta.pieceCount + 1);
      }
      assert.equal(r.st.isComplete(), true);
      assert.deepEqual(r.bans, [{ key: liar.peer.banKey, reason: `sent corrupt data for piece ${piece} (block at ${ql[1]!.begin})` }]);
      assert.ok(written.includes(piece), 'written once it passed');
      assert.ok((await readFile(r.dst)).equals(r.src));
    } finally {
      r.d.stop();
      await r.st.close();
    }
  });
});

test('direct mode: a piece whose direct write fails is written through the page cache and still counts', async () => {
  await withTmp('sta-dl-', async (dir) => {
    const r = await rig(dir, 'sync', true);
    try {
      let refused = 0;
      const direct = r.st.writePieceDirect.bind(r.st);
      r.st.writePieceDirect = (i, data) => (refused++ === 0 ? Promise.reject(new Error('EIO (test)')) : direct(i, data));
      const a = stubPeer(1, r.meta.pieceCount, 4);
      add(r, a);
      for (let round = 0; round < 20 && !r.st.isComplete(); round++) {
        r.d.fill(a.peer, true);
        for (const q of a.sent.splice(0)) deliver(r, a, q);
        await settle(r, round + 1);
      }
      assert.equal(r.st.isComplete(), true);
      assert.deepEqual(r.failed, []);
      assert.equal(refused, 3, 'three aligned pieces offered to the direct path');
      assert.equal(r.poolWrites(), 1, 'the refused one went to writeBlock');
      assert.ok((await readFile(r.dst)).equals(r.src));
    } finally {
      r.d.stop();
      await r.st.close();
    }
  });
});

test('a block that answers a request at the wrong length is dropped and its block asked again; an unrequested one is dropped', async () => {
  await withTmp('sta-dl-', async (dir) => {
    const r = await rig(dir, 'sync');
    try {
      const a = stubPeer(1, r.meta.pieceCount, 1);
      add(r, a);
      r.d.fill(a.peer, true);
      const [q] = a.sent.splice(0);
      assert.ok(q);
      // Half the block at its offset: it answers the request (the connection matched it),
      // but is not the block: nothing is written, and the block is asked again at once.
      deliver(r, a, { ...q, length: q.length / 2 });
      assert.deepEqual(a.sent.splice(0), [q], 'asked again');
      assert.equal(a.peer.outstanding.size, 1);
      // Pushed without a request: dropped, nothing asked in its place.
      deliver(r, a, { piece: q.piece, begin: q.begin + q.length, length: q.length });
      r.d.fill(a.peer, true);
      assert.deepEqual(a.sent, []);
      deliver(r, a, q);
      for (let round = 0; round < 40 && !r.st.isComplete(); round++) {
        r.d.fill(a.peer, true);
        for (const x of a.sent.splice(0)) deliver(r, a, x);
        await settle(r, r.done.length + 1);
      }
      assert.equal(r.st.isComplete(), true);
      assert.deepEqual(r.failed, []);
      assert.ok((await readFile(r.dst)).equals(r.src));
    } finally {
      r.d.stop();
      await r.st.close();
    }
  });
});

test('direct mode: stopped with complete pieces waiting for their check, each buffer goes back to the pool once and nothing counts', async () => {
  await withTmp('sta-dl-', async (dir) => {
    const real = sharedAlignedPool();
    const held = new Set<Buffer>();
    let gives = 0;
    const pool = {
      take: (n: number) => {
        const b = real.take(n);
        if (b) held.add(b);
        return b;
      },
      give: (b: Buffer) => {
        gives++;
        assert.ok(held.delete(b), 'a buffer given back twice, or never taken');
        real.give(b);
      },
    } as unknown as AlignedPool;
    const r = await rig(dir, 'sync', true, pool);
    try {
      const a = stubPeer(1, r.meta.pieceCount, 8);
      add(r, a);
      r.d.fill(a.peer, true);
      const qs = a.sent.splice(0);
      assert.ok(qs.length === 8 && qs.every((q) => q.piece < 3), 'two aligned pieces asked');
      for (const q of qs) deliver(r, a, q); // both complete: their checks wait for a microtask
      assert.equal(r.d.piecesInProgress, 2);
      r.d.stop();
      await settle(r, 1);
      await new Promise((res) => setTimeout(res, 20));
      assert.equal(held.size, 0, 'every buffer back');
      assert.equal(gives, 2);
      assert.deepEqual(r.done, []);
      assert.deepEqual(r.directPieces, [], 'nothing written after stop');
    } finally {
      r.d.stop();
      await r.st.close();
    }
  });
});
