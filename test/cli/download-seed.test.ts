// `sta seed` and `sta download` as processes (the built CLI), over 127.0.0.1: plain
// transfers, through a tracker (and its catalogue), resume after SIGKILL, timeouts and
// bad input exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTorrent } from '../../src/torrent/index.js';
import { startTracker } from '../../src/tracker/server/index.js';
import { StaNode } from '../../src/node/index.js';
import { withWorkspace } from '../interop/helpers/workspace.js';
import { makeFile, makePayloadTree } from '../interop/helpers/payload.js';
import { assertSameTree } from '../interop/helpers/trees.js';
import { staSeed, staDownload, staCommand } from '../interop/helpers/sta.js';
import { waitFor } from '../interop/helpers/proc.js';

const IGNORE = /^\.sta(\/|$)/;

test('sta seed prints its line and sta download fetches a multi-file tree from it', async () => {
  await withWorkspace('sta-cli-', async (ws) => {
    const src = await ws.mkdir('src');
    await makePayloadTree(join(src, 'tree'));
    const { torrent } = await createTorrent({ path: join(src, 'tree'), pieceLength: 16384, creationDate: null });
    await writeFile(ws.path('t.torrent'), torrent);
    const seed = await staSeed(ws, { torrent: ws.path('t.torrent'), dir: src, noTracker: true });
    const dl = await staDownload(ws, { torrent: ws.path('t.torrent'), dir: ws.path('dst'), noTracker: true, peers: [`127.0.0.1:${seed.port}`], timeoutS: 60 });
    await dl.done(60_000);
    await assertSameTree(src, ws.path('dst'), { ignore: IGNORE });
    const events = dl.events();
    assert.ok(events.some((e) => e['event'] === 'complete'));
  });
});

test('one seeder and three leechers find each other through sta\'s tracker; name and info hash resolve through its catalogue', async () => {
  await withWorkspace('sta-cli-', async (ws) => {
    const tracker = await startTracker({ host: '127.0.0.1', port: 0, intervalS: 5 });
    try {
      const announce = `http://127.0.0.1:${tracker.port}/announce`;
      const src = await ws.mkdir('src');
      await makeFile(join(src, 'movie.bin'), 3 * 1024 * 1024 + 5, 'movie');
      const { torrent, meta } = await createTorrent({ path: join(src, 'movie.bin'), trackers: [announce], pieceLength: 32768, creationDate: null });
      await writeFile(ws.path('m.torrent'), torrent);
      const res = await fetch(`http://127.0.0.1:${tracker.port}/api/torrents`, { method: 'POST', body: torrent });
      assert.ok(res.ok, `catalogue POST: ${res.status}`);
      await staSeed(ws, { torrent: ws.path('m.torrent'), dir: src });
      const dls = await Promise.all([
        staDownload(ws, { torrent: ws.path('m.torrent'), dir: ws.path('d0'), timeoutS: 60 }),
        staDownload(ws, { torrent: 'movie.bin', dir: ws.path('d1'), trackers: [announce], timeoutS: 60 }),
        staDownload(ws, { torrent: meta.infoHashHex, dir: ws.path('d2'), trackers: [announce], timeoutS: 60 }),
      ]);
      await Promise.all(dls.map((d) => d.done(60_000)));
      for (const d of ['d0', 'd1', 'd2']) await assertSameTree(src, ws.path(d), { ignore: IGNORE });
    } finally {
      await tracker.close();
    }
  });
});

test('killed with SIGKILL mid-way and started again, download fetches no verified piece again', async () => {
  await withWorkspace('sta-cli-', async (ws) => {
    const pieceLength = 65536;
    const size = 64 * pieceLength + 1000; // 65 pieces, the last one short
    const full = await ws.mkdir('full');
    await makeFile(join(full, 'r.bin'), size, 'resume');
    const { torrent, meta } = await createTorrent({ path: join(full, 'r.bin'), pieceLength, creationDate: null });
    await writeFile(ws.path('r.torrent'), torrent);
    // A partial seeder: only the first 30 pieces are right, so the first run cannot finish.
    const part = await ws.mkdir('part');
    const data = await readFile(join(full, 'r.bin'));
    data.fill(0, 30 * pieceLength);
    await writeFile(join(part, 'r.bin'), data);
    const partial = await StaNode.start({ port: 0, host: '127.0.0.1' });
    let had = 0;
    try {
      await partial.add({ kind: 'metainfo', meta }, { dir: part, noTracker: true });
      const first = await staDownload(ws, { torrent: ws.path('r.torrent'), dir: ws.path('dst'), noTracker: true, peers: [`127.0.0.1:${partial.port}`], name: 'first' });
      await waitFor(() => {
        const last = first.events().filter((e) => e['event'] === 'progress').pop();
        had = Number(last?.['piecesHave'] ?? 0);
        return had >= 30 ? true : undefined;
      }, 60_000, 'the first run to verify the partial seeder\'s 30 pieces');
      await first.proc.kill('SIGKILL');
    } finally {
      await partial.close();
    }
    const seed = await staSeed(ws, { torrent: ws.path('r.torrent'), dir: full, noTracker: true });
    const second = await staDownload(ws, { torrent: ws.path('r.torrent'), dir: ws.path('dst'), noTracker: true, peers: [`127.0.0.1:${seed.port}`], name: 'second', timeoutS: 60 });
    await second.done(60_000);
    const ev = second.events();
    const ready = ev.find((e) => e['event'] === 'ready')!;
    const done = ev.find((e) => e['event'] === 'complete')!;
    const resumed = Number(ready['piecesHave']);
    assert.ok(resumed >= had, `resumed with ${resumed} pieces, the first run had reported ${had}`);
    const missing = meta.pieceCount - resumed;
    const missingBytes = (missing - 1) * pieceLength + 1000; // the short last piece is among them
    assert.equal(done['downloaded'], missingBytes, 'fetched exactly the pieces not verified before');
    await assertSameTree(full, ws.path('dst'), { ignore: IGNORE });
  });
});

test('--timeout gives up with exit 1; bad input exits 2', async () => {
  await withWorkspace('sta-cli-', async (ws) => {
    const src = await ws.mkdir('src');
    await makeFile(join(src, 'x.bin'), 40000, 'x');
    const { torrent } = await createTorrent({ path: join(src, 'x.bin'), creationDate: null });
    await writeFile(ws.path('x.torrent'), torrent);
    await writeFile(ws.path('bad.torrent'), 'd4:infoi3ee');
    const [node, ...pre] = staCommand();
    const run = async (args: string[]) => {
      const p = ws.spawn(node, [...pre, ...args], { name: 'sta' });
      const info = await p.exited;
      return { code: info.code, err: p.output() };
    };
    const timedOut = await run(['download', ws.path('x.torrent'), '--dir', ws.path('d'), '--port', '0', '--no-tracker', '--peer', '127.0.0.1:1', '--timeout', '1']);
    assert.equal(timedOut.code, 1, timedOut.err);
    assert.match(timedOut.err, /timed out/);
    const missing = await run(['download', ws.path('nope.torrent'), '--dir', ws.path('d'), '--port', '0']);
    assert.equal(missing.code, 2, missing.err);
    const bad = await run(['download', ws.path('bad.torrent'), '--dir', ws.path('d'), '--port', '0']);
    assert.equal(bad.code, 2, bad.err);
    const badSeed = await run(['seed', ws.path('x.torrent'), '--dir', ws.path('empty'), '--port', '0', '--no-tracker']);
    assert.equal(badSeed.code, 1, badSeed.err);
    const badPeer = await run(['download', ws.path('x.torrent'), '--peer', 'nonsense', '--port', '0']);
    assert.equal(badPeer.code, 2, badPeer.err);
  });
});

test('download --seed keeps seeding after completion; a magnet via --peer fetches from it', async () => {
  await withWorkspace('sta-cli-', async (ws) => {
    const src = await ws.mkdir('src');
    await makeFile(join(src, 's.bin'), 500_000, 'seedflag');
    const { torrent, meta } = await createTorrent({ path: join(src, 's.bin'), pieceLength: 16384, creationDate: null });
    await writeFile(ws.path('s.torrent'), torrent);
    const first = await staSeed(ws, { torrent: ws.path('s.torrent'), dir: src, noTracker: true, name: 'first-seed' });
    const relay = await staDownload(ws, { torrent: ws.path('s.torrent'), dir: ws.path('relay'), noTracker: true, peers: [`127.0.0.1:${first.port}`], args: ['--seed'], name: 'relay' });
    await relay.proc.waitForOutput(/"event":"seeding"/, 60_000);
    await first.kill();
    const magnet = `magnet:?xt=urn:btih:${meta.infoHashHex}`;
    const last = await staDownload(ws, { torrent: magnet, dir: ws.path('last'), noTracker: true, peers: [`127.0.0.1:${relay.port}`], name: 'last', timeoutS: 60 });
    await last.done(60_000);
    await assertSameTree(src, ws.path('last'), { ignore: IGNORE });
    assert.equal(relay.proc.running, true, 'the --seed download is still running');
  });
});

test('SIGTERM ends seed (exit 0) and download (exit 1 while incomplete) cleanly, resume data saved', async () => {
  await withWorkspace('sta-cli-', async (ws) => {
    const src = await ws.mkdir('src');
    await makeFile(join(src, 'y.bin'), 100_000, 'y');
    const { torrent, meta } = await createTorrent({ path: join(src, 'y.bin'), pieceLength: 16384, creationDate: null });
    await writeFile(ws.path('y.torrent'), torrent);
    const seed = await staSeed(ws, { torrent: ws.path('y.torrent'), dir: src, noTracker: true });
    const dl = await staDownload(ws, { torrent: ws.path('y.torrent'), dir: ws.path('d'), noTracker: true, peers: ['127.0.0.1:1'] });
    await dl.proc.waitForOutput(/"event":"ready"/, 30_000);
    // check() already wrote resume data before 'ready': remove it, so only the save on
    // SIGTERM can bring it back.
    await rm(ws.path('d', '.sta', `${meta.infoHashHex}.resume`));
    const [seedExit, dlExit] = await Promise.all([seed.kill(), dl.kill()]);
    assert.equal(seedExit.code, 0, seed.proc.tail());
    assert.equal(dlExit.code, 1, dl.proc.tail());
    await readFile(ws.path('d', '.sta', `${meta.infoHashHex}.resume`));
  });
});
