// A peer that stops reading and asks one block here and one there must not make a seed
// hold much memory. Blocks are sent as slices of 1 MiB read chunks (zero-copy), and a
// slice keeps its whole chunk alive until the kernel takes it: 2 MiB of such blocks queued
// on one socket held 128 MiB of chunks (measured: +159 MiB of ArrayBuffers for one peer).
// Now one peer's unsent slices may keep at most 4 MiB of chunks alive; past that, blocks
// are copied. And chunk reads in flight stay within the read cache's 16 MiB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { StaNode, type Torrent } from '../../src/node/index.js';
import { createTorrent, type Metainfo } from '../../src/torrent/index.js';
import { makeGeometry } from '../../src/peer/wire/index.js';
import { dialScripted, type ScriptedPeer } from './scripted-peer.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function arrayBuffersMiB(): number {
  gc();
  gc();
  return process.memoryUsage().arrayBuffers / 1048576;
}

/** A node seeding a sparse all-zero file of `pieces` 1 MiB pieces (nothing to write). */
async function withZeroSeed(pieces: number, fn: (node: StaNode, t: Torrent, meta: Metainfo) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sta-upmem-'));
  const node = await StaNode.start({ port: 0, host: '127.0.0.1' });
  try {
    const fh = await open(join(dir, 'z.bin'), 'w');
    await fh.truncate(pieces * 1024 * 1024);
    await fh.close();
    const { meta } = await createTorrent({ path: join(dir, 'z.bin'), pieceLength: 1 << 20, creationDate: null });
    const t = await node.add({ kind: 'metainfo', meta }, { dir, noTracker: true });
    await fn(node, t, meta);
  } finally {
    await node.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('a seed holds bounded memory for a peer that asks scattered blocks and stops reading', async () => {
  const PIECES = 128;
  await withZeroSeed(PIECES, async (node, _t, meta) => {
    const before = arrayBuffersMiB();
    const p = await dialScripted(node.port, { infoHash: meta.infoHash, geometry: makeGeometry(meta.pieceCount, meta.pieceLength, meta.length) });
    try {
      p.send({ type: 'interested' });
      await p.waitFor((m) => m.type === 'unchoke', 2000);
      p.socket.pause();
      // Block b of every piece, then block b+1 of every piece...: 1000 requests (the queue
      // bound), every consecutive pair in a different chunk.
      for (let b = 0; b < 8; b++) for (let i = 0; i < PIECES; i++) p.send({ type: 'request', index: i, begin: b * 16384, length: 16384 });
      await new Promise((r) => setTimeout(r, 2000));
      const grown = arrayBuffersMiB() - before;
      // The read cache (16 MiB), 4 MiB of pinned chunks, ~2.5 MiB queued on the socket.
      assert.ok(grown < 40, `ArrayBuffers grew ${grown.toFixed(0)} MiB for one peer that asked 16 MiB`);
    } finally {
      p.close();
    }
  });
});

test('chunk reads in flight stay within the read cache size whatever several peers ask', async () => {
  await withZeroSeed(128, async (node, t, meta) => {
    // Count the bytes of reads the seed has started and not finished.
    const st = t.storage!;
    const read = st.readBlock.bind(st);
    let inFlight = 0;
    let peak = 0;
    st.readBlock = (piece: number, begin: number, length: number) => {
      inFlight += length;
      peak = Math.max(peak, inFlight);
      const p = read(piece, begin, length);
      const done = () => (inFlight -= length);
      p.then(done, done);
      return p;
    };
    const geometry = makeGeometry(meta.pieceCount, meta.pieceLength, meta.length);
    const peers = await Promise.all([0, 1, 2].map(() => dialScripted(node.port, { infoHash: meta.infoHash, geometry })));
    try {
      await Promise.all(peers.map(async (p) => (p.send({ type: 'interested' }), p.waitFor((m) => m.type === 'unchoke', 2000))));
      // Each peer: two blocks of each of its own 42 pieces, first blocks first, so every
      // read it starts is a different 1 MiB chunk that one more request will use.
      peers.forEach((p, k) => {
        for (let b = 0; b < 2; b++) for (let i = k * 42; i < k * 42 + 42; i++) p.send({ type: 'request', index: i, begin: b * 16384, length: 16384 });
      });
      await Promise.all(peers.map((p) => waitBlocks(p, 84)));
      assert.ok(peak <= 16 * 1024 * 1024 + 3 * 32 * 16384, `${(peak / 1048576).toFixed(1)} MiB of reads in flight at once`);
    } finally {
      for (const p of peers) p.close();
    }
  });
});

async function waitBlocks(p: ScriptedPeer, n: number): Promise<void> {
  for (let i = 0; i < 200 && p.received.filter((r) => r.m.type === 'piece').length < n; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(p.received.filter((r) => r.m.type === 'piece').length, n, 'every block served');
}
