// What a node serves, seen from a scripted peer over 127.0.0.1: exact bytes for requests
// once unchoked; BEP 6 allowed-fast pieces while choked; REJECT (BEP 6) or silence for what
// it will not serve (choked, missing piece); CANCEL honoured, and with BEP 6 every request
// answered exactly once, by PIECE or REJECT, cancelled ones included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StaNode } from '../../src/node/index.js';
import { createTorrent, type Metainfo } from '../../src/torrent/index.js';
import { makeGeometry, type WireMessage } from '../../src/peer/wire/index.js';
import { payloadBytes } from '../interop/helpers/payload.js';
import { dialScripted, type ScriptedPeer } from './scripted-peer.js';

const SIZE = 1_000_000;
const PIECE = 32768;
const BLOCK = 16384;
const content = payloadBytes(SIZE, 'upload');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Setup {
  meta: Metainfo;
  connect(fast?: boolean): Promise<ScriptedPeer>;
}

/** A node holding bytes [from, to) of the file's pieces (whole pieces), others zero. */
async function withNode(o: { fromPiece?: number; maxUploadRateBps?: number }, fn: (s: Setup) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sta-upload-'));
  const node = await StaNode.start({ port: 0, host: '127.0.0.1', ...(o.maxUploadRateBps ? { limits: { maxUploadRateBps: o.maxUploadRateBps } } : {}) });
  const peers: ScriptedPeer[] = [];
  try {
    await mkdir(join(dir, 'src'));
    await writeFile(join(dir, 'src', 'up.bin'), content);
    const { meta } = await createTorrent({ path: join(dir, 'src', 'up.bin'), pieceLength: PIECE, creationDate: null });
    const data = Buffer.from(content);
    data.fill(0, 0, (o.fromPiece ?? 0) * PIECE);
    await mkdir(join(dir, 'node'));
    await writeFile(join(dir, 'node', 'up.bin'), data);
    await node.add({ kind: 'metainfo', meta }, { dir: join(dir, 'node'), noTracker: true });
    const geometry = makeGeometry(meta.pieceCount, meta.pieceLength, meta.length);
    await fn({
      meta,
      connect: async (fast = true) => {
        const p = await dialScripted(node.port, { infoHash: meta.infoHash, geometry, fast });
        peers.push(p);
        return p;
      },
    });
  } finally {
    for (const p of peers) p.close();
    await node.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const isBlock = (type: string, index: number, begin: number) => (m: WireMessage) => m.type === type && 'begin' in m && m.index === index && m.begin === begin;

function bytesOf(index: number, begin: number, length = BLOCK): Buffer {
  return content.subarray(index * PIECE + begin, index * PIECE + begin + length);
}

async function unchoked(p: ScriptedPeer): Promise<void> {
  p.send({ type: 'interested' });
  await p.waitFor((m) => m.type === 'unchoke', 2000);
}

test('BEP 6: a choked peer gets REJECT, except for its allowed-fast pieces, which are served; once unchoked, exact bytes', async () => {
  await withNode({}, async ({ meta, connect }) => {
    const p = await connect(true);
    await sleep(200);
    const allowed = new Set(p.received.flatMap((r) => (r.m.type === 'allowed-fast' ? [r.m.index] : [])));
    assert.ok(allowed.size > 0 && allowed.size < meta.pieceCount, `allowed fast: ${[...allowed].join(',')}`);
    const fastPiece = [...allowed].find((i) => i !== meta.pieceCount - 1)!; // a full-size piece
    const other = Array.from({ length: meta.pieceCount }, (_, i) => i).find((i) => !allowed.has(i))!;
    p.send({ type: 'request', index: other, begin: 0, length: BLOCK });
    p.send({ type: 'request', index: fastPiece, begin: BLOCK, length: BLOCK });
    await p.waitFor(isBlock('reject', other, 0), 2000);
    const got = await p.waitFor(isBlock('piece', fastPiece, BLOCK), 2000);
    assert.deepEqual(got.m.type === 'piece' && got.m.block, bytesOf(fastPiece, BLOCK));
    await unchoked(p);
    p.send({ type: 'request', index: other, begin: 0, length: BLOCK });
    const served = await p.waitFor(isBlock('piece', other, 0), 2000);
    assert.deepEqual(served.m.type === 'piece' && served.m.block, bytesOf(other, 0));
    // The last piece is short: its last block too.
    const last = meta.pieceCount - 1;
    const lastLen = SIZE - last * PIECE;
    p.send({ type: 'request', index: last, begin: 0, length: Math.min(BLOCK, lastLen) });
    const tail = await p.waitFor(isBlock('piece', last, 0), 2000);
    assert.deepEqual(tail.m.type === 'piece' && tail.m.block, bytesOf(last, 0, Math.min(BLOCK, lastLen)));
  });
});

test('without BEP 6 a choked peer\'s request is dropped silently, and the connection stays', async () => {
  await withNode({}, async ({ connect }) => {
    const p = await connect(false);
    await sleep(100);
    p.send({ type: 'request', index: 3, begin: 0, length: BLOCK });
    await sleep(300);
    assert.ok(!p.received.some((r) => r.m.type === 'piece'), 'nothing served while choked');
    await unchoked(p);
    p.send({ type: 'request', index: 3, begin: 0, length: BLOCK });
    const got = await p.waitFor(isBlock('piece', 3, 0), 2000);
    assert.deepEqual(got.m.type === 'piece' && got.m.block, bytesOf(3, 0));
  });
});

test('a request for a piece the node does not have is rejected (BEP 6)', async () => {
  await withNode({ fromPiece: 10 }, async ({ connect }) => {
    const p = await connect(true);
    await unchoked(p);
    p.send({ type: 'request', index: 2, begin: 0, length: BLOCK });
    p.send({ type: 'request', index: 12, begin: 0, length: BLOCK });
    await p.waitFor(isBlock('reject', 2, 0), 2000);
    await p.waitFor(isBlock('piece', 12, 0), 2000);
  });
});

for (const fast of [true, false]) {
  test(`CANCEL: a queued request is not sent${fast ? '; with BEP 6 it is answered by REJECT, every request exactly once' : ''}`, async () => {
    // 32 KiB/s: one block goes at once, the next after ~0.5 s, so the cancels find the
    // rest still queued.
    await withNode({ maxUploadRateBps: 2 * BLOCK }, async ({ connect }) => {
      const p = await connect(fast);
      await unchoked(p);
      const reqs = Array.from({ length: 6 }, (_, k) => ({ index: 5 + (k >> 1), begin: (k & 1) * BLOCK }));
      for (const r of reqs) p.send({ type: 'request', ...r, length: BLOCK });
      for (const r of reqs.slice(2)) p.send({ type: 'cancel', ...r, length: BLOCK });
      await sleep(1500);
      const answers = (r: { index: number; begin: number }) =>
        p.received.filter((x) => (x.m.type === 'piece' || x.m.type === 'reject') && x.m.index === r.index && x.m.begin === r.begin).map((x) => x.m.type);
      assert.deepEqual(answers(reqs[0]!), ['piece']);
      assert.deepEqual(answers(reqs[1]!), ['piece']);
      for (const r of reqs.slice(2)) assert.deepEqual(answers(r), fast ? ['reject'] : [], `cancelled ${r.index}:${r.begin}`);
    });
  });
}
