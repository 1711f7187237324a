// Issue 5 proof, a swarm of sta alone: one `sta seed` and three `sta download` started
// together through `sta tracker` (HTTP, and once UDP); each copy compared byte for byte.
// The scrape that waits for the seeder is HTTP either way: one port, one swarm.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  Workspace,
  assertSameTree,
  makeBigPayload,
  makeTorrent,
  makeTreePayload,
  needPrograms,
  staDownload,
  staSeed,
  startStaTracker,
  waitForSwarm,
  withWorkspace,
} from './helpers/clients.js';
import type { Payload } from './helpers/clients.js';

let sources: Workspace;
let tree: Payload;
let big: Payload;

before(async () => {
  sources = await Workspace.create('sta-transfer-swarm-src-');
  tree = await makeTreePayload(sources.dir);
  big = await makeBigPayload(sources.dir);
});
after(async () => {
  await sources.cleanup();
});

async function swarm(ws: Workspace, payload: Payload, leechers: number, timeoutMs: number, transport: 'http' | 'udp' = 'http'): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(1000, deadline - Date.now());
  const tracker = await startStaTracker(ws);
  const torrent = ws.path('swarm.torrent');
  const hash = await makeTorrent(ws, join(payload.dir, payload.name), torrent, {
    trackers: [transport === 'udp' ? tracker.udpUrl : tracker.announceUrl],
    pieceLength: payload.pieceLength,
  });
  await staSeed(ws, { torrent, dir: payload.dir, timeoutMs: left() });
  await waitForSwarm(tracker.announceUrl, hash, { seeders: 1 }, left());
  const dirs: string[] = [];
  const downloads = [];
  for (let i = 0; i < leechers; i++) {
    const dir = await ws.mkdir(`leecher-${i}`);
    dirs.push(dir);
    downloads.push(await staDownload(ws, { torrent, dir, name: `sta-download-${i}`, timeoutS: Math.ceil(left() / 1000) }));
  }
  await Promise.all(downloads.map((d) => d.done(left() + 2000)));
  if (transport === 'udp') {
    // the announces really went over UDP: 1 seeder + the leechers, at least once each
    const stats = (await (await fetch(`${tracker.baseUrl}/api/stats`)).json()) as { announces?: { http?: number; udp?: number } };
    assert.ok((stats.announces?.udp ?? 0) >= leechers + 1, `UDP announces: ${JSON.stringify(stats.announces)}`);
  }
  let bytes = 0;
  for (const dir of dirs) bytes += (await assertSameTree(join(payload.dir, payload.name), join(dir, payload.name))).bytesCompared;
  return bytes;
}

test('one sta seed and three sta downloads share the multi-file tree through sta tracker', { timeout: 90_000 }, async (t) => {
  if (!needPrograms(t, ['mktorrent'])) return;
  const bytes = await withWorkspace('sta-swarm-', (ws) => swarm(ws, tree, 3, 60_000));
  assert.equal(bytes, 3 * 1_509_604);
});

test('one sta seed and three sta downloads share a 64 MiB file through sta tracker', { timeout: 90_000 }, async (t) => {
  if (!needPrograms(t, ['mktorrent'])) return;
  const bytes = await withWorkspace('sta-swarm-', (ws) => swarm(ws, big, 3, 60_000));
  assert.equal(bytes, 3 * 64 * 2 ** 20);
});

test('one sta seed and three sta downloads meet through sta tracker over UDP (BEP 15)', { timeout: 90_000 }, async (t) => {
  if (!needPrograms(t, ['mktorrent'])) return;
  const bytes = await withWorkspace('sta-swarm-udp-', (ws) => swarm(ws, tree, 3, 60_000, 'udp'));
  assert.equal(bytes, 3 * 1_509_604);
});
