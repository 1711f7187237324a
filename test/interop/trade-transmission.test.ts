// A sta leecher uploads to a transmission-daemon leecher while both download: a sta seed
// capped at 512 KiB/s serves both; the sta leecher starts with the second half of the
// pieces. Transmission must complete, and a good part of what it got must have come from
// the sta leecher (the seed downloads nothing, so every byte the leecher uploaded went to
// Transmission). Both run here through the library (the cap has no CLI flag yet);
// Transmission never dials 127.x peers, so both sta nodes dial it. Transmission 3.00 keeps
// one connection per peer IP address: the second sta node's connection from 127.0.0.1 was
// dropped right after the handshake. So the leecher reaches it through a relay here that
// connects from 127.0.0.2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StaNode } from '../../src/node/index.js';
import { parseTorrent } from '../../src/torrent/index.js';
import { assertSameTree, makeTorrent, needPrograms, Transmission, withWorkspace } from './helpers/clients.js';
import { makeFile, payloadBytes } from './helpers/payload.js';
import { complete } from '../node/helpers.js';
import { startRelay } from './helpers/relay.js';

const SIZE = 4 * 1024 * 1024 + 4321;
const PIECE = 262144;

test('a sta leecher uploads to a transmission-daemon leecher while both fetch from a capped sta seed', { timeout: 90_000 }, async (t) => {
  if (!needPrograms(t, ['transmission-daemon', 'mktorrent'])) return;
  await withWorkspace('sta-trade-tr-', async (ws) => {
    const data = await ws.mkdir('data');
    await makeFile(join(data, 'tr.bin'), SIZE, 'trade-tr');
    const torrentPath = ws.path('tr.torrent');
    await makeTorrent(ws, join(data, 'tr.bin'), torrentPath, { pieceLength: PIECE, trackers: ['http://127.0.0.1:9/announce'] });
    const meta = parseTorrent(await readFile(torrentPath));
    const half = Math.floor(meta.pieceCount / 2) * PIECE;
    const leechDir = await ws.mkdir('leech');
    const part = payloadBytes(SIZE, 'trade-tr');
    part.fill(0, 0, half);
    await mkdir(leechDir, { recursive: true });
    await writeFile(join(leechDir, 'tr.bin'), part);

    const down = await ws.mkdir('down');
    const tr = await Transmission.start(ws, { downloadDir: down, ...(process.env.TR_DEBUG_FD ? { args: ['--log-debug'] } : {}) });
    const id = await tr.add(torrentPath);
    const seed = await StaNode.start({ port: 0, host: '127.0.0.1', limits: { maxUploadRateBps: 512 * 1024 } });
    const leech = await StaNode.start({ port: 0, host: '127.0.0.1' });
    const relay = await startRelay(tr.peerPort, { from: '127.0.0.2' });
    try {
      const s = await seed.add({ kind: 'metainfo', meta }, { dir: data, noTracker: true, peers: [`127.0.0.1:${tr.peerPort}`] });
      const l = await leech.add({ kind: 'metainfo', meta }, { dir: leechDir, noTracker: true, peers: [`127.0.0.1:${seed.port}`, `127.0.0.1:${relay.port}`] });
      assert.equal(l.progress().piecesHave, meta.pieceCount - half / PIECE, 'the leecher resumed with the second half');
      const trAddress = `127.0.0.1:${relay.port}`;
      let fromTransmission = 0;
      if (process.env.STA_DEBUG) for (const [n, x] of [['seed', s], ['leech', l]] as const) { x.on('peer-connected', (e) => console.log(n, 'connected', e)); x.on('peer-closed', (e) => console.log(n, 'closed', e)); }
      l.on('piece', (p) => (fromTransmission += p.from.includes(trAddress) ? 1 : 0));
      await tr.waitComplete(id, 60_000);
      await complete(l, 30_000);
      await tr.stopTorrent(id);
      await assertSameTree(data, down, { ignore: /^\.sta(\/|$)/ });
      const leecherUp = l.progress().uploaded;
      const seedUp = s.progress().uploaded;
      if (process.env.STA_DEBUG) console.log({ leecherUp, seedUp, fromTransmission, size: SIZE });
      assert.ok(leecherUp >= 1024 * 1024, `the sta leecher uploaded ${leecherUp} B to Transmission`);
      assert.ok(seedUp < 2 * SIZE, `the seed sent ${seedUp} B`);
    } finally {
      await leech.close();
      await seed.close();
      relay.server.close();
    }
  });
});
