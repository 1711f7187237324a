// A peer that becomes interested is unchoked at once when an unchoke slot is free (as
// libtorrent does), whether it dialled us or we dialled it; not at the next 10 s choke
// round. Measured over 127.0.0.1 with a scripted peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StaNode } from '../../src/node/index.js';
import { createTorrent, type Metainfo } from '../../src/torrent/index.js';
import { makeGeometry } from '../../src/peer/wire/index.js';
import { makeFile, payloadBytes } from '../interop/helpers/payload.js';
import { dialScripted, listenScripted, type ScriptedPeer } from './scripted-peer.js';

const LATENCY_MS = 200;

async function withSeed(fn: (node: StaNode, meta: Metainfo, dir: string) => Promise<void>, uploadSlots?: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sta-unchoke-'));
  const node = await StaNode.start({ port: 0, host: '127.0.0.1', ...(uploadSlots ? { limits: { uploadSlots } } : {}) });
  try {
    await makeFile(join(dir, 'src', 'u.bin'), 1_000_000, 'unchoke');
    const { meta } = await createTorrent({ path: join(dir, 'src', 'u.bin'), pieceLength: 32768, creationDate: null });
    await fn(node, meta, dir);
  } finally {
    await node.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits past the choke round a new connection triggers, then sends INTERESTED and
 *  returns how long the UNCHOKE took. */
async function interestedToUnchoke(p: ScriptedPeer): Promise<number> {
  await sleep(300);
  assert.ok(!p.received.some((r) => r.m.type === 'unchoke'), 'not unchoked before it is interested');
  const from = p.received.length;
  const sentAt = p.send({ type: 'interested' });
  const got = await p.waitFor((m) => m.type === 'unchoke', 12_000, from);
  if (process.env.STA_DEBUG) console.log(`UNCHOKE ${(got.at - sentAt).toFixed(2)} ms after INTERESTED`);
  return got.at - sentAt;
}

for (const fast of [true, false]) {
  const label = fast ? 'with BEP 6' : 'without BEP 6';

  test(`a seed unchokes a peer that dialled it within ${LATENCY_MS} ms of INTERESTED (${label})`, async () => {
    await withSeed(async (node, meta, dir) => {
      await node.add({ kind: 'metainfo', meta }, { dir: join(dir, 'src'), noTracker: true });
      const p = await dialScripted(node.port, { infoHash: meta.infoHash, geometry: makeGeometry(meta.pieceCount, meta.pieceLength, meta.length), fast });
      try {
        const ms = await interestedToUnchoke(p);
        assert.ok(ms < LATENCY_MS, `UNCHOKE ${ms.toFixed(0)} ms after INTERESTED`);
      } finally {
        p.close();
      }
    });
  });

  test(`a seed unchokes a peer it dialled within ${LATENCY_MS} ms of INTERESTED (${label})`, async () => {
    await withSeed(async (node, meta, dir) => {
      const l = await listenScripted({ infoHash: meta.infoHash, geometry: makeGeometry(meta.pieceCount, meta.pieceLength, meta.length), fast });
      try {
        await node.add({ kind: 'metainfo', meta }, { dir: join(dir, 'src'), noTracker: true, peers: [`127.0.0.1:${l.port}`] });
        const p = await l.accepted;
        try {
          const ms = await interestedToUnchoke(p);
          assert.ok(ms < LATENCY_MS, `UNCHOKE ${ms.toFixed(0)} ms after INTERESTED`);
        } finally {
          p.close();
        }
      } finally {
        l.server.close();
      }
    });
  });
}

test(`a leecher unchokes an interested peer within ${LATENCY_MS} ms when a slot is free`, async () => {
  await withSeed(async (node, meta, dir) => {
    // The first half of the data only: the node is downloading (tit-for-tat), with pieces to give.
    const half = payloadBytes(1_000_000, 'unchoke');
    half.fill(0, 500_000);
    await mkdir(join(dir, 'half'), { recursive: true });
    await writeFile(join(dir, 'half', 'u.bin'), half);
    const t = await node.add({ kind: 'metainfo', meta }, { dir: join(dir, 'half'), noTracker: true });
    assert.equal(t.state, 'downloading');
    const p = await dialScripted(node.port, { infoHash: meta.infoHash, geometry: makeGeometry(meta.pieceCount, meta.pieceLength, meta.length) });
    try {
      const ms = await interestedToUnchoke(p);
      assert.ok(ms < LATENCY_MS, `UNCHOKE ${ms.toFixed(0)} ms after INTERESTED`);
    } finally {
      p.close();
    }
  });
});

test('an INTERESTED peer waits for the choke round when every slot is taken: it does not displace an unchoked peer', async () => {
  // One regular slot plus the optimistic one. A and B take them; then C, which has been
  // uploading to the node (the best tit-for-tat candidate), becomes interested. C gets a
  // slot at the next 10 s round, not by choking A out of turn.
  await withSeed(async (node, meta, dir) => {
    const content = payloadBytes(1_000_000, 'unchoke');
    const half = Buffer.from(content);
    half.fill(0, 500_000);
    await mkdir(join(dir, 'half'), { recursive: true });
    await writeFile(join(dir, 'half', 'u.bin'), half);
    const t = await node.add({ kind: 'metainfo', meta }, { dir: join(dir, 'half'), noTracker: true });
    assert.equal(t.state, 'downloading');
    const g = makeGeometry(meta.pieceCount, meta.pieceLength, meta.length);
    const peers: ScriptedPeer[] = [];
    try {
      const a = await dialScripted(node.port, { infoHash: meta.infoHash, geometry: g });
      peers.push(a);
      await interestedToUnchoke(a);
      const b = await dialScripted(node.port, { infoHash: meta.infoHash, geometry: g });
      peers.push(b);
      await interestedToUnchoke(b);
      // C holds the pieces the node lacks (from byte 500 000 on) and serves them.
      const bits = Buffer.alloc(Math.ceil(meta.pieceCount / 8));
      for (let i = Math.ceil(500_000 / meta.pieceLength); i < meta.pieceCount; i++) bits[i >> 3]! |= 0x80 >> (i & 7);
      const c = await dialScripted(node.port, { infoHash: meta.infoHash, geometry: g, hello: [{ type: 'bitfield', bytes: bits }, { type: 'unchoke' }] });
      peers.push(c);
      c.socket.on('data', () => {
        for (const r of c.received.splice(0)) {
          if (r.m.type !== 'request') continue;
          const at = r.m.index * meta.pieceLength + r.m.begin;
          c.send({ type: 'piece', index: r.m.index, begin: r.m.begin, block: content.subarray(at, at + r.m.length) });
        }
      });
      await new Promise<void>((resolve) => t.once('piece', () => resolve()));
      assert.ok(t.peerList().length === 3);
      const fromA = a.received.length;
      c.send({ type: 'interested' });
      await sleep(500);
      const choked = a.received.slice(fromA).some((r) => r.m.type === 'choke');
      assert.ok(!choked, 'A kept its slot: an INTERESTED message does not rechoke out of turn');
    } finally {
      for (const p of peers) p.close();
    }
  }, 1);
});
