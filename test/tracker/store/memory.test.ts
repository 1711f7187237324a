// The store behaviour suite against the memory store, plus what only it does: the
// catalogue persisting under --data-dir, and the sweep timer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStore, openStore } from '../../../src/tracker/store/index.js';
import { hash, input, runStoreSuite } from './suite.js';

runStoreSuite('memory', (limits) => createMemoryStore({ limits, sweepIntervalMs: 0 }));

test('memory: the catalogue persists under the data dir across restarts', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sta-store-'));
  try {
    const h = hash('persist').toString('hex');
    const a = await openStore('memory', { dataDir: dir, sweepIntervalMs: 0 });
    await a.catalogue.put({ infoHashHex: h, name: 'Persisted', length: 1, fileCount: 1, files: [{ path: 'Persisted', length: 1 }], addedMs: 1 }, Buffer.from('torrent-bytes'));
    await a.close();
    const names = await readdir(join(dir, 'catalogue'));
    assert.deepEqual(names.sort(), [`${h}.json`, `${h}.torrent`], 'no temporary files left');
    const b = await openStore(undefined, { dataDir: dir, sweepIntervalMs: 0 });
    assert.deepEqual((await b.catalogue.search('persisted', 5)).map((e) => e.infoHashHex), [h]);
    assert.equal(Buffer.from((await b.catalogue.get(h))!).toString(), 'torrent-bytes');
    await b.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('memory: announce answers synchronously', async () => {
  const s = await createMemoryStore({ sweepIntervalMs: 0 });
  const out = s.announce(input(hash('sync'), 1));
  assert.ok(!(out instanceof Promise));
  await s.close();
});

test('memory: the sweep timer expires peers on its own', async () => {
  let now = 1_800_000_000_000;
  const s = await createMemoryStore({ limits: { peerTtlS: 1 }, sweepIntervalMs: 20, now: () => now });
  s.announce(input(hash('t'), 1, { nowMs: now }));
  now += 5000;
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(s.stats(), { torrents: 0, seeders: 0, leechers: 0 });
  await s.close();
});

test('memory: the timer sweeps in slices, reaching every swarm within one period', async () => {
  let now = 1_800_000_000_000;
  // A 2 s period in 1 s ticks: half of the swarms per tick.
  const s = await createMemoryStore({ limits: { peerTtlS: 1 }, sweepIntervalMs: 2000, now: () => now });
  try {
    for (let i = 0; i < 50; i++) s.announce(input(hash(`slice-${i}`), i, { nowMs: now }));
    now += 5000;
    await new Promise((r) => setTimeout(r, 1300));
    assert.equal(s.stats().torrents, 25, 'one tick: half the swarms checked');
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(s.stats(), { torrents: 0, seeders: 0, leechers: 0 });
  } finally {
    await s.close();
  }
});

test('openStore refuses an unknown store', async () => {
  await assert.rejects(openStore('mongodb://x'), { code: 'BAD_STORE' });
});
