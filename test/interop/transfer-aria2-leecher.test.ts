// Issue 5 proof, aria2c as leecher: aria2c downloads from `sta seed` (aria2c dials the
// seeder the tracker hands it), the multi-file tree and a 64 MiB file, paired through
// `sta tracker`; every output compared byte for byte (aria2c creates 0-byte files).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Workspace, makeBigPayload, makeTreePayload, needPrograms, runTransfer, withWorkspace } from './helpers/clients.js';
import type { Payload } from './helpers/clients.js';

const PROGRAMS = ['aria2c', 'mktorrent'];
let sources: Workspace;
let tree: Payload;
let big: Payload;

before(async () => {
  sources = await Workspace.create('sta-transfer-aria2-leech-src-');
  tree = await makeTreePayload(sources.dir);
  big = await makeBigPayload(sources.dir);
});
after(async () => {
  await sources.cleanup();
});

test('aria2c downloads the multi-file tree from sta seed', { timeout: 90_000 }, async (t) => {
  if (!needPrograms(t, PROGRAMS)) return;
  const r = await withWorkspace('sta-transfer-', (ws) => runTransfer(ws, tree, 'sta', 'aria2'));
  assert.equal(r.compare.filesCompared, 7);
});

test('aria2c downloads a 64 MiB file from sta seed', { timeout: 90_000 }, async (t) => {
  if (!needPrograms(t, PROGRAMS)) return;
  const r = await withWorkspace('sta-transfer-', (ws) => runTransfer(ws, big, 'sta', 'aria2'));
  assert.equal(r.compare.bytesCompared, 64 * 2 ** 20);
});
