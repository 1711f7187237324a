// Issue 5 proof, aria2c as seeder: sta downloads from an aria2c seeder (sta dials it:
// aria2c as seeder dials no one), the multi-file tree and a 64 MiB file, paired through
// `sta tracker`; every output compared byte for byte.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Workspace, makeBigPayload, makeTreePayload, needPrograms, runTransfer, withWorkspace } from './helpers/clients.js';
import type { Payload } from './helpers/clients.js';

const PROGRAMS = ['aria2c', 'mktorrent'];
let sources: Workspace;
let tree: Payload;
let big: Payload;

before(async () => {
  sources = await Workspace.create('sta-transfer-aria2-src-');
  tree = await makeTreePayload(sources.dir);
  big = await makeBigPayload(sources.dir);
});
after(async () => {
  await sources.cleanup();
});

test('sta downloads the multi-file tree from an aria2c seeder', { timeout: 90_000 }, async (t) => {
  if (!needPrograms(t, PROGRAMS)) return;
  const r = await withWorkspace('sta-transfer-', (ws) => runTransfer(ws, tree, 'aria2', 'sta'));
  assert.equal(r.compare.filesCompared, 7);
});

test('sta downloads a 64 MiB file from an aria2c seeder', { timeout: 90_000 }, async (t) => {
  if (!needPrograms(t, PROGRAMS)) return;
  const r = await withWorkspace('sta-transfer-', (ws) => runTransfer(ws, big, 'aria2', 'sta'));
  assert.equal(r.compare.bytesCompared, 64 * 2 ** 20);
});
