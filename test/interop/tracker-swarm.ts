// Shared body of tracker-http.test.ts and tracker-udp.test.ts: transmission-daemon seeds and
// aria2c leeches a multi-file payload, finding each other only through `sta tracker` on
// 127.0.0.1 (Transmission never dials loopback peers, aria2 as a leecher does: see
// ../shared/INTEROP.md); the download must be byte-exact and a scrape must then show one
// seeder, no leechers and one completed download.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import {
  aria2Download,
  assertStaBuilt,
  compareTrees,
  freePort,
  makeTorrent,
  needPrograms,
  scrape,
  startStaTracker,
  Transmission,
  waitFor,
  waitForSwarm,
  withWorkspace,
} from './helpers/clients.js';
import { makePayloadTree } from './helpers/payload.js';

export async function trackerSwarmTest(t: TestContext, transport: 'http' | 'udp'): Promise<void> {
  if (!needPrograms(t, ['transmission-daemon', 'aria2c', 'mktorrent'])) return;
  assertStaBuilt();
  await withWorkspace(`sta-tracker-${transport}-`, async (ws) => {
    const tracker = await startStaTracker(ws, { args: ['--interval', '10'] });
    const announce = transport === 'http' ? tracker.announceUrl : tracker.udpUrl;

    const seedDir = await ws.mkdir('seed');
    await makePayloadTree(ws.path('seed', 'payload'));
    const torrent = ws.path('payload.torrent');
    const infoHash = await makeTorrent(ws, ws.path('seed', 'payload'), torrent, { trackers: [announce], pieceLength: 32 * 1024 });

    const tr = await Transmission.start(ws, { downloadDir: seedDir, name: 'transmission-seed' });
    ws.onCleanup(() => tr.kill());
    const id = await tr.add(torrent, { downloadDir: seedDir });
    await tr.waitSeeding(id, 30_000);
    // The seeder is in the swarm before the leecher asks (scrape over HTTP: same port).
    await waitForSwarm(tracker.announceUrl, infoHash, { seeders: 1 }, 30_000);

    const leechDir = await ws.mkdir('leech');
    // aria2 1.36 speaks BEP 15 only through its DHT's UDP socket: with DHT off it says "udp is
    // not supported yet". So for UDP its DHT is on, on a free port, with no bootstrap node and
    // a private routing-table file: peers still come only from the tracker.
    const dhtArgs =
      transport === 'udp' ? ['--enable-dht=true', `--dht-listen-port=${await freePort()}`, `--dht-file-path=${ws.path('aria2-dht.dat')}`] : [];
    const leech = await aria2Download(ws, { torrent, dir: leechDir, trackerIntervalS: 5, args: dhtArgs });
    await leech.done(60_000);

    const cmp = await compareTrees(ws.path('seed', 'payload'), ws.path('leech', 'payload'));
    assert.deepEqual(cmp.differences, [], 'byte-exact download');
    assert.ok(cmp.bytesCompared > 1_000_000);

    // aria2 announced `completed` then `stopped` on exit: one seeder, no leecher, one download.
    const want = { complete: 1, incomplete: 0, downloaded: 1 };
    let last = await scrape(tracker.announceUrl, infoHash);
    await waitFor(
      async () => {
        last = await scrape(tracker.announceUrl, infoHash);
        return last.complete === want.complete && last.incomplete === want.incomplete && last.downloaded === want.downloaded;
      },
      15_000,
      `scrape ${JSON.stringify(want)} (last ${JSON.stringify(last)})`,
    );
    assert.deepEqual(last, want);
    const stats = (await (await fetch(`${tracker.baseUrl}/api/stats`)).json()) as { announces: { http: number; udp: number } };
    if (transport === 'udp') assert.ok(stats.announces.udp >= 2 && stats.announces.http === 0, `announces ${JSON.stringify(stats.announces)}`);
    else assert.ok(stats.announces.http >= 2 && stats.announces.udp === 0, `announces ${JSON.stringify(stats.announces)}`);
  });
}
