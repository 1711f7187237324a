// Issue 5 proof, Transmission side: sta downloads from a transmission-daemon seeder (sta
// dials it; Transmission accepts loopback peers) and transmission-daemon downloads from
// `sta seed` (Transmission never dials 127.x peers, so it announces first and sta seed
// dials the leecher the tracker hands it), for the multi-file tree and a 64 MiB file,
// paired through `sta tracker`; outputs compared byte for byte (Transmission creates no
// 0-byte files).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Workspace, makeBigPayload, makeTreePayload, needPrograms, runTransfer, withWorkspace } from './helpers/clients.js';
import type { Payload } from './helpers/clients.js';

const PROGRAMS = ['transmission-daemon', 'mktorrent'];
let sources: Workspace;
let tree: Payload;
let big: Payload;

before(async () => {
  sources = await Workspace.create('sta-transfer-tr-src-');
  tree = await makeTreePayload(sources.dir);
  big = await makeBigPayload(sources.dir);
});
after(async () => {
  await sources.cleanup();
});

test('sta downloads the multi-file tree from a transmission-daemon seeder', { timeout: 90_000 }, async (t) => {
  if (!needPrograms(t, PROGRAMS)) return;
  const r = await withWorkspace('sta-transfer-', (ws) => runTransfer(ws, tree, 'transmission', 'sta'));
  assert.equal(r.compare.filesCompared, 7);
});

test('transmission-daemon downloads the multi-file tree from sta seed', { timeout: 90_000 }, async (t) => {
  if (!needPrograms(t, PROGRAMS)) return;
  const r = await withWorkspace('sta-transfer-', (ws) => runTransfer(ws, tree, 'sta', 'transmission'));
  assert.ok(r.compare.filesCompared >= 6, `compared ${r.compare.filesCompared} files`); // the 0-byte file may be absent
});

test('sta downloads a 64 MiB file from a transmission-daemon seeder', { timeout: 90_000 }, async (t) => {
  if (!needPrograms(t, PROGRAMS)) return;
  const r = await withWorkspace('sta-transfer-', (ws) => runTransfer(ws, big, 'transmission', 'sta'));
  assert.equal(r.compare.bytesCompared, 64 * 2 ** 20);
});

test('transmission-daemon downloads a 64 MiB file from sta seed', { timeout: 90_000 }, async (t) => {
  if (!needPrograms(t, PROGRAMS)) return;
  const r = await withWorkspace('sta-transfer-', (ws) => runTransfer(ws, big, 'sta', 'transmission'));
  assert.equal(r.compare.bytesCompared, 64 * 2 ** 20);
});
