// Hostile peers against sta. First each scripted peer against one PeerConnection (the
// connection must close it with a protocol violation, buffering nothing big); then the
// whole engine: `sta download` with an honest `sta seed` and four hostile peers at once
// must finish byte-exact, ban the hostile ones, keep its memory bounded and not crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PeerConnection, makeGeometry, type CloseInfo } from '../../src/peer/index.js';
import { startHostilePeer, type HostileKind } from './hostile-peer.js';

const infoHash = randomBytes(20);
const geometry = makeGeometry(32, 256 * 1024, 32 * 256 * 1024 - 1000);

async function againstConnection(kind: HostileKind): Promise<{ info: CloseInfo; requests: number; heapGrowthMB: number }> {
  const hostile = await startHostilePeer(kind, infoHash, geometry, 200_000);
  try {
    const heap0 = process.memoryUsage().heapUsed;
    const conn = await PeerConnection.connect({ host: '127.0.0.1', port: hostile.port, infoHash, peerId: randomBytes(20), geometry });
    const closed = new Promise<CloseInfo>((r) => conn.once('close', r));
    conn.on('bitfield', () => conn.sendInterested());
    conn.on('request', (i, b, l) => conn.sendReject(i, b, l));
    conn.start();
    conn.sendAvailability(null);
    const info = await Promise.race([closed, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`${kind}: not closed`)), 10_000))]);
    return { info, requests: hostile.stats.requestsSeen, heapGrowthMB: (process.memoryUsage().heapUsed - heap0) / 1048576 };
  } finally {
    await hostile.close();
  }
}

test('a peer announcing a 2 GiB message is cut off at its header', async () => {
  const r = await againstConnection('oversized');
  assert.equal(r.info.violation, true);
  assert.equal(r.info.code, 'WIRE_MESSAGE_TOO_LONG');
  assert.ok(r.heapGrowthMB < 32, `heap grew ${r.heapGrowthMB} MB`);
});

test('a peer requesting blocks outside the torrent is cut off', async () => {
  const r = await againstConnection('bad-request');
  assert.equal(r.info.violation, true);
  assert.equal(r.info.code, 'WIRE_BAD_REQUEST');
});

test('a peer flooding haves is read through, then cut off at its first bad index', async () => {
  const r = await againstConnection('have-flood');
  assert.equal(r.info.violation, true);
  assert.equal(r.info.code, 'WIRE_BAD_INDEX');
  assert.ok(r.heapGrowthMB < 32, `heap grew ${r.heapGrowthMB} MB`);
});
