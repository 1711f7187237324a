// The esbuild bundle bin/sta runs (scripts/bundle.mjs): every module's import.meta.url
// still names its own file in dist/ (so worker threads and native addons are found), the
// worker entries exist there, error classes keep their names, and a worker thread started
// from the bundle really runs (a multi-threaded `sta create` hashes like the library does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTorrent, parseTorrent } from '../../src/torrent/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLE = join(ROOT, 'dist', 'bundle', 'main.js');
const STA = join(ROOT, 'bin', 'sta');

function sta(args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [STA, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('bin/sta runs the bundle', () => {
  assert.ok(existsSync(BUNDLE), 'build first: npm run build');
  assert.match(readFileSync(STA, 'utf8'), /dist\/bundle\/main\.js/);
});

test("every import.meta.url in the bundle is its module's original file in dist/", () => {
  const code = readFileSync(BUNDLE, 'utf8');
  const all = [...code.matchAll(/import\.meta\.url/g)].length;
  const rewritten = [...code.matchAll(/new URL\("(\.\.\/[^"]+)", import\.meta\.url\)/g)].map((m) => m[1]!);
  // One more: the banner's createRequire(import.meta.url) for the CommonJS packages.
  assert.equal(all, rewritten.length + 1, 'an import.meta.url the bundle script did not rewrite');
  const files = new Set(rewritten);
  // The modules that start workers or load addons must be among them.
  for (const f of ['../storage/hash-pool.js', '../torrent/create.js', '../tracker/server/udp-threads.js', '../tracker/server/native-addon.js']) {
    assert.ok(files.has(f), `${f} rewritten`);
  }
  for (const f of files) assert.ok(existsSync(join(ROOT, 'dist', 'bundle', f)), `${f} exists next to the bundle`);
  // The worker entries those modules start, unbundled.
  for (const f of ['storage/hash-worker.js', 'torrent/create-worker.js', 'tracker/server/udp-worker.js']) {
    assert.ok(existsSync(join(ROOT, 'dist', f)), `dist/${f}`);
  }
});

test('the bundle loads ioredis only for a Redis store', () => {
  const code = readFileSync(BUNDLE, 'utf8');
  assert.doesNotMatch(code, /^import .* from "ioredis";/m, 'a top-level import would load it for every command');
  assert.match(code, /await import\("ioredis"\)/);
});

test('error classes keep their names in the bundle', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sta-bundle-'));
  try {
    await writeFile(join(dir, 'bad.torrent'), 'garbage');
    const r = sta(['info', 'bad.torrent', '--verbose'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^TorrentError: /m);
    assert.match(r.stderr, /dist\/bundle\/main\.js/, 'the stack runs through the bundle');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("worker threads start from the bundle: sta create's hashing threads match the library", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sta-bundle-'));
  try {
    // Over create.ts's SMALL_FOR_THREADS (16 MiB), so the threads take part.
    const data = randomBytes(20 * 1024 * 1024 + 12345);
    await writeFile(join(dir, 'f.bin'), data);
    // `sta create` hashes in the threads it starts before loading the rest (early-threads.ts):
    // a worker entry that cannot be found fails the command.
    const r = sta(['create', 'f.bin', '-o', 'f.torrent', '--piece-length', '65536'], dir);
    assert.equal(r.code, 0, r.stderr);
    const got = parseTorrent(await readFile(join(dir, 'f.torrent')));
    const want = parseTorrent((await createTorrent({ path: join(dir, 'f.bin'), pieceLength: 65536, workers: 1 })).torrent);
    assert.equal(got.infoHashHex, want.infoHashHex);
    assert.equal(got.pieceCount, 321);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
