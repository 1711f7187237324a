// `sta create` and `sta info` as a user runs them (built CLI, ./bin/sta): the contract's
// flags, --json shapes, exit codes, and one clear stderr line for each kind of bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from '../../src/bencode/index.js';
import { parseTorrent } from '../../src/torrent/index.js';
import { makeFile, makePayloadTree, PAYLOAD_FILES, PAYLOAD_TOTAL } from '../interop/helpers/payload.js';
import { hasProgram } from '../interop/helpers/proc.js';
import { infoWithPath, torrentBytes } from '../torrent/build.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STA = join(ROOT, 'bin', 'sta');
let dir = '';
let tree = '';

function sta(args: string[], cwd = dir): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [STA, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 2 and exactly one line on stderr, naming `pattern`. */
function assertBadInput(r: ReturnType<typeof sta>, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `one stderr line, got: ${JSON.stringify(r.stderr)}`);
  assert.match(lines[0]!, /^sta: /);
  assert.match(lines[0]!, pattern);
  assert.equal(r.stdout, '');
}

before(async () => {
  assert.ok(existsSync(join(ROOT, 'dist', 'cli', 'main.js')), 'build first: npx tsc -p tsconfig.build.json');
  dir = await mkdtemp(join(tmpdir(), 'sta-cli-'));
  tree = join(dir, 'payload');
  await makePayloadTree(tree);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('create --json prints {infoHash, magnet, output} and writes a torrent sta info reads back', async () => {
  const out = join(dir, 'p.torrent');
  const r = sta(['create', tree, '-o', out, '-t', 'http://127.0.0.1:1/announce', '-t', 'udp://127.0.0.1:2', '--piece-length', '32768', '--private', '--comment', 'c', '--web-seed', 'http://w/', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, string>;
  assert.deepEqual(Object.keys(j).sort(), ['infoHash', 'magnet', 'output']);
  assert.match(j.infoHash!, /^[0-9a-f]{40}$/);
  assert.equal(j.output, out);
  assert.ok(j.magnet!.startsWith(`magnet:?xt=urn:btih:${j.infoHash}`));
  const meta = parseTorrent(await readFile(out));
  assert.equal(meta.infoHashHex, j.infoHash);
  assert.equal(meta.pieceLength, 32768);
  assert.equal(meta.private, true);

  const info = sta(['info', out, '--json']);
  assert.equal(info.code, 0, info.stderr);
  const obj = JSON.parse(info.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(obj), ['infoHash', 'name', 'length', 'pieceLength', 'pieceCount', 'files', 'announce', 'private']);
  assert.deepEqual(obj, {
    infoHash: j.infoHash,
    name: 'payload',
    length: PAYLOAD_TOTAL,
    pieceLength: 32768,
    pieceCount: Math.ceil(PAYLOAD_TOTAL / 32768),
    files: PAYLOAD_FILES.map((f) => ({ path: f.path, length: f.length })),
    announce: ['http://127.0.0.1:1/announce', 'udp://127.0.0.1:2'],
    private: true,
  });
});

test('create text output names the info hash and magnet; default output is <name>.torrent in the cwd', async () => {
  const r = sta(['create', join(tree, 'sub', 'b.bin')]);
  assert.equal(r.code, 0, r.stderr);
  const hash = /\b([0-9a-f]{40})\b/.exec(r.stdout)?.[1];
  assert.ok(hash, r.stdout);
  assert.match(r.stdout, new RegExp(`magnet:\\?xt=urn:btih:${hash}`));
  const meta = parseTorrent(await readFile(join(dir, 'b.bin.torrent')));
  assert.equal(meta.infoHashHex, hash);
  assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
});

test('info text shows name, hash, magnet, pieces, size, files and trackers', () => {
  const r = sta(['info', join(dir, 'p.torrent')]);
  assert.equal(r.code, 0, r.stderr);
  for (const want of [/name: +payload/, /info hash: +[0-9a-f]{40}/, /magnet: +magnet:\?xt=urn:btih:/, /pieces: +47 x 32\.00 KiB/, /total size: .*1509604 bytes/, /udp:\/\/127\.0\.0\.1:2/, /payload\/dir one\/Ünïcødé ñame – ok\.txt/, /files \(7\)/]) {
    assert.match(r.stdout, want);
  }
});

test('info on a magnet prints what it knows; --json keeps the torrent keys with nulls', () => {
  const uri = 'magnet:?xt=urn:btih:5f1205bcee89e2e66e2f20a99c1afc2476d8fefc&dn=A+name&tr=http%3A%2F%2Ft%2Fa&x.pe=127.0.0.1:6881';
  const t = sta(['info', uri]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /5f1205bcee89e2e66e2f20a99c1afc2476d8fefc/);
  assert.match(t.stdout, /A name/);
  const j = sta(['info', '--json', uri]);
  assert.deepEqual(JSON.parse(j.stdout), {
    infoHash: '5f1205bcee89e2e66e2f20a99c1afc2476d8fefc',
    name: 'A name',
    length: null,
    pieceLength: null,
    pieceCount: null,
    files: null,
    announce: ['http://t/a'],
    private: null,
    peers: ['127.0.0.1:6881'],
    webSeeds: [],
  });
});

test('info refuses bad input with one stderr line and exit 2', async () => {
  const good = await readFile(join(dir, 'p.torrent'));
  await writeFile(join(dir, 'trunc.torrent'), good.subarray(0, Math.floor(good.length / 2)));
  assertBadInput(sta(['info', 'trunc.torrent']), /trunc\.torrent.*not a valid torrent/);
  await writeFile(join(dir, 'random.torrent'), randomBytes(4096));
  assertBadInput(sta(['info', 'random.torrent']), /random\.torrent.*not a valid torrent/);
  await writeFile(join(dir, 'evil.torrent'), torrentBytes(infoWithPath(['..', '..', 'etc', 'passwd'])));
  assertBadInput(sta(['info', 'evil.torrent']), /unsafe file name.*"\.\."/);
  assertBadInput(sta(['info', 'missing.torrent']), /cannot read missing\.torrent: no such file/);
  await writeFile(join(dir, 'list.torrent'), encode([1, 2, 3]));
  assertBadInput(sta(['info', 'list.torrent']), /not a dictionary/);
  assertBadInput(sta(['info', 'magnet:?xt=urn:btih:nothex']), /bad magnet link/);
  assertBadInput(sta(['info', 'magnet:?xt=urn:btmh:1220abcd']), /v2 .*not supported yet/);
  assertBadInput(sta(['info', dir]), /is not a file/);
});

test('create refuses bad input with one stderr line and exit 2', () => {
  assertBadInput(sta(['create', join(dir, 'nope')]), /cannot read .*nope: no such file or folder/);
  assertBadInput(sta(['create', tree, '--piece-length', '1000', '-o', join(dir, 'x.torrent')]), /piece length must be a power of two/);
  assertBadInput(sta(['create', tree, '--piece-length', 'big', '-o', join(dir, 'x.torrent')]), /--piece-length/);
  assert.equal(existsSync(join(dir, 'x.torrent')), false);
});

test('--help lists every contract flag', () => {
  const c = sta(['create', '--help']);
  assert.equal(c.code, 0);
  for (const f of ['--output', '--tracker', '--piece-length', '--private', '--comment', '--name', '--web-seed', '--json']) assert.ok(c.stdout.includes(f), f);
  const i = sta(['info', '--help']);
  assert.ok(i.stdout.includes('--json'));
});

test('create warns about a skipped symlink on stderr and still succeeds', async () => {
  const d = join(dir, 'with-link');
  await mkdir(d);
  await writeFile(join(d, 'data.txt'), 'some data');
  await symlink('/etc/hostname', join(d, 'link'));
  const r = sta(['create', d, '-o', join(dir, 'with-link.torrent'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^sta: warning: skipped symlink .*link\n$/);
  assert.deepEqual(parseTorrent(await readFile(join(dir, 'with-link.torrent'))).files.map((f) => f.pathString), ['data.txt']);
});

test('create shows a progress bar with the rate on a terminal', async (t) => {
  if (!hasProgram('script')) return t.skip('needs script(1) for a pseudo-terminal');
  const big = join(dir, 'big.bin');
  await makeFile(big, 64 * 1024 * 1024, 'bar');
  const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(STA)} create ${JSON.stringify(big)} -o ${JSON.stringify(join(dir, 'big.torrent'))}`;
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /hashing \[.*\] +\d+% \| .* \/ 64\.00 MiB \| [\d.]+ (B|KiB|MiB|GiB)\/s/);
  assert.match(r.stdout, /info hash: +[0-9a-f]{40}/);
});
