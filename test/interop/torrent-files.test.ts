// .torrent files across tools, over the shared payload tree (nested folders, 0- and 1-byte
// files, spaces and non-ASCII names, odd sizes):
// - mktorrent and transmission-create torrents parse in sta to the files, lengths and info
//   hash transmission-show prints;
// - `sta create` makes the same info hash as mktorrent for the same piece length, which
//   transmission-show reads, and aria2c verifies the original data against it as complete
//   (and refuses a corrupted copy, so the check can fail).
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseTorrent, type Metainfo } from '../../src/torrent/index.js';
import { freePort, hasProgram } from './helpers/proc.js';
import { makePayloadTree, PAYLOAD_FILES, PAYLOAD_TOTAL } from './helpers/payload.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TRACKER = 'http://127.0.0.1:1/announce';
const PIECE = 32 * 1024;
let dir = '';
let tree = '';

/** Skips (or, under STA_REQUIRE_INTEROP=1, fails) when a reference program is missing. */
function need(t: TestContext, ...programs: string[]): boolean {
  const missing = programs.filter((p) => !hasProgram(p));
  if (!missing.length) return true;
  if (process.env.STA_REQUIRE_INTEROP === '1') assert.fail(`missing reference programs: ${missing.join(', ')}`);
  t.skip(`missing ${missing.join(', ')}`);
  return false;
}

interface Shown {
  hash: string;
  pieceCount: number;
  files: { path: string; size: number; tolerance: number }[];
}

/** Reads `transmission-show` output: hash, piece count, and FILES as `name/path (size)`. */
async function transmissionShow(file: string): Promise<Shown> {
  const { stdout } = await run('transmission-show', [file], { timeout: 30_000 });
  const hash = /^\s*Hash: ([0-9a-f]{40})$/m.exec(stdout)?.[1];
  const pieceCount = Number(/^\s*Piece Count: (\d+)$/m.exec(stdout)?.[1]);
  assert.ok(hash && pieceCount, `unexpected transmission-show output:\n${stdout}`);
  const section = stdout.split(/^FILES$/m)[1] ?? '';
  const units: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 };
  const files = section
    .split('\n')
    .map((l) => /^ {2}(.+) \(([\d.]+) (B|kB|MB|GB)\)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => {
      const decimals = m[2]!.split('.')[1]?.length ?? 0;
      const unit = units[m[3]!]!;
      return { path: m[1]!, size: Number(m[2]) * unit, tolerance: (unit * 10 ** -decimals) / 2 + 1 };
    });
  return { hash, pieceCount, files };
}

/**
 * sta's reading of a torrent agrees with transmission-show and with the files on disk.
 * transmission-show sorts FILES for display, so that comparison is by path; `ordered`
 * also checks sta's file order (mktorrent and sta both write byte order of paths).
 */
function assertAgrees(meta: Metainfo, shown: Shown, expected: readonly { path: string; length: number }[], ordered = true): void {
  assert.equal(meta.infoHashHex, shown.hash, 'info hash');
  assert.equal(meta.pieceCount, shown.pieceCount, 'piece count');
  const got = meta.files.map((f) => ({ path: f.pathString, length: f.length }));
  const want = expected.map((f) => ({ path: f.path, length: f.length }));
  const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  if (ordered) assert.deepEqual(got, want);
  else assert.deepEqual([...got].sort(byPath), [...want].sort(byPath));
  const shownByPath = new Map(shown.files.map((f) => [f.path, f]));
  assert.equal(shownByPath.size, meta.files.length, 'file count');
  for (const f of meta.files) {
    const s = shownByPath.get(`payload/${f.pathString}`);
    assert.ok(s, `transmission-show does not list payload/${f.pathString}`);
    assert.ok(Math.abs(s.size - f.length) <= s.tolerance, `${s.path}: transmission-show says ${s.size}, sta ${f.length}`);
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sta-torrent-files-'));
  tree = join(dir, 'payload');
  await makePayloadTree(tree);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a mktorrent torrent parses in sta as transmission-show reads it', async (t) => {
  if (!need(t, 'mktorrent', 'transmission-show')) return;
  const out = join(dir, 'mk.torrent');
  await run('mktorrent', ['-t', '2', '-l', String(Math.log2(PIECE)), '-a', TRACKER, '-o', out, tree], { timeout: 30_000 });
  const meta = parseTorrent(await readFile(out));
  assertAgrees(meta, await transmissionShow(out), PAYLOAD_FILES);
  assert.equal(meta.length, PAYLOAD_TOTAL);
  assert.deepEqual(meta.announce, [[TRACKER]]);
});

test('a transmission-create torrent parses in sta as transmission-show reads it (it leaves out 0-byte files)', async (t) => {
  if (!need(t, 'transmission-create', 'transmission-show')) return;
  const out = join(dir, 'tr.torrent');
  await run('transmission-create', ['-o', out, '-s', String(PIECE / 1024), '-t', TRACKER, tree], { timeout: 30_000 });
  const meta = parseTorrent(await readFile(out));
  assertAgrees(
    meta,
    await transmissionShow(out),
    PAYLOAD_FILES.filter((f) => f.length > 0),
    false, // its own order, not byte order
  );
});

test('sta create: same info hash as mktorrent, read by transmission-show, verified complete by aria2c', async (t) => {
  if (!need(t, 'mktorrent', 'transmission-show', 'aria2c')) return;
  assert.ok(existsSync(join(ROOT, 'dist', 'cli', 'main.js')), 'build first: npx tsc -p tsconfig.build.json');
  const out = join(dir, 'sta.torrent');
  const { stdout } = await run(process.execPath, [join(ROOT, 'bin', 'sta'), 'create', tree, '-o', out, '--piece-length', String(PIECE), '-t', TRACKER, '--json'], {
    timeout: 60_000,
  });
  const { infoHash } = JSON.parse(stdout) as { infoHash: string };
  const meta = parseTorrent(await readFile(out));
  assertAgrees(meta, await transmissionShow(out), PAYLOAD_FILES);
  assert.equal(infoHash, meta.infoHashHex);

  const mk = join(dir, 'mk-same.torrent');
  await run('mktorrent', ['-l', String(Math.log2(PIECE)), '-a', TRACKER, '-o', mk, tree], { timeout: 30_000 });
  assert.equal(parseTorrent(await readFile(mk)).infoHashHex, infoHash, 'sta and mktorrent agree byte for byte on the info dictionary');

  // aria2c checks every piece, finds the download complete and exits 0 ("OK"); with data
  // missing it would wait for peers, which --bt-stop-timeout turns into a non-zero exit.
  const aria2 = async (d: string) =>
    run(
      'aria2c',
      [
        `--listen-port=${await freePort()}`, // not its default 6881-6999, which other tests' peers may use
        '--check-integrity=true',
        '--seed-time=0',
        '--seed-ratio=0.0',
        '--bt-stop-timeout=3',
        '--bt-tracker-connect-timeout=1',
        '--bt-tracker-timeout=1',
        '--enable-dht=false',
        '--enable-dht6=false',
        '--bt-enable-lpd=false',
        '--enable-peer-exchange=false',
        '--file-allocation=none',
        '--summary-interval=0',
        '--console-log-level=error',
        '--auto-save-interval=0',
        '-d',
        d,
        out,
      ],
      { timeout: 30_000 },
    );
  const ok = await aria2(dir);
  assert.match(ok.stdout, /\|OK\s+\|/);

  const bad = join(dir, 'corrupt');
  await cp(tree, join(bad, 'payload'), { recursive: true });
  const fh = await open(join(bad, 'payload', 'sub', 'b.bin'), 'r+');
  await fh.write(Buffer.from([0xff ^ (await readFile(join(tree, 'sub', 'b.bin')))[5000]!]), 0, 1, 5000);
  await fh.close();
  await assert.rejects(aria2(bad), (e: { code?: number }) => typeof e.code === 'number' && e.code !== 0);
});
