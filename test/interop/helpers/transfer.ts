// One seeder -> one leecher transfer between any two of sta, aria2c and
// transmission-daemon, paired through `sta tracker` on 127.0.0.1, then compared byte for
// byte. Encodes who dials whom on loopback (../shared/INTEROP.md): aria2c as seeder
// dials no one, so the leecher must find it and dial; Transmission never dials
// 127.x peers, so as leecher it announces first and the seeder (sta) dials it.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeFile, makePayloadTree } from './payload.js';
import { aria2Download, aria2Seed } from './aria2.js';
import { staDownload, staSeed, startStaTracker } from './sta.js';
import { makeTorrent } from './torrents.js';
import { waitForSwarm } from './trackers.js';
import { Transmission } from './transmission.js';
import { assertSameTree } from './trees.js';
import type { CompareResult } from './trees.js';
import type { Workspace } from './workspace.js';

export type Client = 'sta' | 'aria2' | 'transmission';

export interface Payload {
  /** Folder holding the payload (the torrent's name is inside it). */
  dir: string;
  name: string;
  pieceLength: number;
}

/** The shared multi-file tree (nested folders, 0- and 1-byte files, non-ASCII names). */
export async function makeTreePayload(root: string): Promise<Payload> {
  const dir = join(root, 'tree-src');
  await rm(dir, { recursive: true, force: true });
  await makePayloadTree(join(dir, 'payload tree'));
  // 32 KiB pieces: many pieces cross file boundaries, some span several small files
  return { dir, name: 'payload tree', pieceLength: 32 * 1024 };
}

/** One file of `size` seeded bytes (64 MiB in the proof). */
export async function makeBigPayload(root: string, size = 64 * 2 ** 20): Promise<Payload> {
  const dir = join(root, 'big-src');
  await rm(dir, { recursive: true, force: true });
  await makeFile(join(dir, 'big.bin'), size, 'transfer-big');
  return { dir, name: 'big.bin', pieceLength: 256 * 1024 };
}

export interface TransferResult {
  compare: CompareResult;
  ms: number;
}

/**
 * Runs `seeder` -> `leecher` for `payload` inside `ws`, through a fresh `sta tracker`,
 * and asserts the leecher's copy is byte-identical (0-byte files excepted when the
 * leecher is Transmission, which does not create them).
 */
export async function runTransfer(ws: Workspace, payload: Payload, seeder: Client, leecher: Client, timeoutMs = 60_000): Promise<TransferResult> {
  const t0 = Date.now();
  const deadline = t0 + timeoutMs;
  const left = () => Math.max(1000, deadline - Date.now());
  const tracker = await startStaTracker(ws);
  const torrent = ws.path(`${seeder}-${leecher}.torrent`);
  const hash = await makeTorrent(ws, join(payload.dir, payload.name), torrent, { trackers: [tracker.announceUrl], pieceLength: payload.pieceLength });
  const dlDir = await ws.mkdir(`${seeder}-${leecher}-dl`);

  const startSeeder = async () => {
    if (seeder === 'aria2') await aria2Seed(ws, { torrent, dir: payload.dir });
    else if (seeder === 'transmission') {
      const tr = await Transmission.start(ws, { downloadDir: payload.dir, name: 'transmission-seed' });
      await tr.waitSeeding(await tr.add(torrent), left());
    } else await staSeed(ws, { torrent, dir: payload.dir, timeoutMs: left() });
    await waitForSwarm(tracker.announceUrl, hash, { seeders: 1 }, left());
  };

  if (leecher === 'transmission') {
    const tr = await Transmission.start(ws, { downloadDir: dlDir, name: 'transmission-leech' });
    const id = await tr.add(torrent);
    await waitForSwarm(tracker.announceUrl, hash, { leechers: 1 }, left());
    await startSeeder();
    await tr.waitComplete(id, left());
    await tr.stopTorrent(id);
  } else {
    await startSeeder();
    if (leecher === 'aria2') await (await aria2Download(ws, { torrent, dir: dlDir })).done(left());
    else await (await staDownload(ws, { torrent, dir: dlDir, timeoutS: Math.ceil(left() / 1000) })).done(left() + 2000);
  }
  const ms = Date.now() - t0;
  const compare = await assertSameTree(join(payload.dir, payload.name), join(dlDir, payload.name), {
    ignoreEmptyFiles: leecher === 'transmission',
  });
  return { compare, ms };
}
