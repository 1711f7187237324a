import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createTorrent, parseTorrent, TorrentError } from '../../src/torrent/index.js';
import { THREAD_BOOT } from '../../src/torrent/create.js';
import { makeFile, makePayloadTree, payloadBytes, PAYLOAD_FILES, PAYLOAD_TOTAL } from '../interop/helpers/payload.js';
import { piecesOf } from './build.js';

let dir = '';
let tree = '';
const code = (c: string) => (e: unknown) => e instanceof TorrentError && e.code === c;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sta-create-'));
  tree = join(dir, 'tree');
  await makePayloadTree(tree);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The payload tree's data, concatenated in PAYLOAD_FILES (byte) order, built independently. */
function treeData(): Buffer {
  return Buffer.concat(PAYLOAD_FILES.map((f) => payloadBytes(f.length, f.seed)));
}

test('a folder: files in byte order of their paths, hashes of the concatenated data', async () => {
  for (const pieceLength of [16384, 65536]) {
    const { torrent, meta, warnings } = await createTorrent({ path: tree, pieceLength, creationDate: null });
    assert.deepEqual(warnings, []);
    assert.equal(meta.name, 'tree');
    assert.equal(meta.multiFile, true);
    assert.deepEqual(
      meta.files.map((f) => [f.pathString, f.length]),
      PAYLOAD_FILES.map((f) => [f.path, f.length]),
    );
    assert.equal(meta.length, PAYLOAD_TOTAL);
    assert.deepEqual(meta.pieces, piecesOf(treeData(), pieceLength));
    assert.deepEqual(parseTorrent(torrent).infoHash, meta.infoHash);
  }
});

test('the same on one thread and on several threads', async () => {
  const big = join(dir, 'big.bin');
  await makeFile(big, 40 * 1024 * 1024 + 12345, 'big');
  const one = await createTorrent({ path: big, pieceLength: 65536, workers: 0, creationDate: null });
  const many = await createTorrent({ path: big, pieceLength: 65536, workers: 3, creationDate: null });
  assert.deepEqual(many.torrent, one.torrent);
  const bigPieces = await createTorrent({ path: big, pieceLength: 4 * 1024 * 1024, workers: 2, creationDate: null });
  assert.deepEqual(bigPieces.meta.pieces, piecesOf(payloadBytes(40 * 1024 * 1024 + 12345, 'big'), 4 * 1024 * 1024));
  await rm(big);
});

test('threads started early by the caller (as the CLI does) hash their share and are ended', { timeout: 30_000 }, async () => {
  const big = join(dir, 'early.bin');
  await makeFile(big, 20 * 1024 * 1024 + 7, 'early');
  const exited = (w: Worker) => new Promise<void>((res) => w.once('exit', () => res()));
  const threads = [new Worker(THREAD_BOOT, { eval: true }), new Worker(THREAD_BOOT, { eval: true })];
  for (const w of threads) w.unref();
  const ended = Promise.all(threads.map(exited));
  const { meta } = await createTorrent({ path: big, pieceLength: 262144, threads, creationDate: null });
  assert.deepEqual(meta.pieces, piecesOf(payloadBytes(20 * 1024 * 1024 + 7, 'early'), 262144));
  await ended;
  // Too small for threads: the given ones are ended unused; a failure ends them too.
  const unused = [new Worker(THREAD_BOOT, { eval: true })];
  const unusedEnded = exited(unused[0]!);
  await createTorrent({ path: join(tree, 'sub', 'b.bin'), threads: unused });
  await unusedEnded;
  const failing = [new Worker(THREAD_BOOT, { eval: true })];
  const failingEnded = exited(failing[0]!);
  await assert.rejects(createTorrent({ path: join(dir, 'missing'), threads: failing }), code('TORRENT_NOT_FOUND'));
  await failingEnded;
  await rm(big);
});

test('a single file: one file named like the torrent; options land in the metainfo', async () => {
  const file = join(tree, 'sub', 'b.bin');
  let last = 0;
  const { meta } = await createTorrent({
    path: file,
    trackers: ['http://a/announce', 'udp://b:1'],
    webSeeds: ['http://w/'],
    private: true,
    comment: 'hello',
    name: 'renamed.bin',
    createdBy: 'test',
    creationDate: 1234,
    onProgress: (done, total) => {
      assert.ok(done >= last && done <= total);
      last = done;
    },
  });
  assert.equal(last, 1_048_583);
  assert.equal(meta.multiFile, false);
  assert.equal(meta.name, 'renamed.bin');
  assert.equal(meta.pieceLength, 16384);
  assert.deepEqual(meta.files.map((f) => f.pathString), ['renamed.bin']);
  assert.deepEqual(meta.announce, [['http://a/announce'], ['udp://b:1']]);
  assert.deepEqual(meta.urlList, ['http://w/']);
  assert.equal(meta.private, true);
  assert.equal(meta.comment, 'hello');
  assert.equal(meta.createdBy, 'test');
  assert.equal(meta.creationDate, 1234);
  assert.deepEqual(meta.pieces, piecesOf(payloadBytes(1_048_583, 'b'), 16384));
});

test('reproducible: no creation date gives identical bytes', async () => {
  const a = await createTorrent({ path: tree, creationDate: null });
  const b = await createTorrent({ path: tree, creationDate: null });
  assert.deepEqual(a.torrent, b.torrent);
});

test('symlinks and special files are skipped with a warning, never followed', async () => {
  const d = join(dir, 'links');
  await makeFile(join(d, 'real.bin'), 1000, 'r');
  await symlink('/etc/passwd', join(d, 'outside'));
  await symlink(join(d, 'real.bin'), join(d, 'inside'));
  await mkdir(join(d, 'loop'));
  await symlink('..', join(d, 'loop', 'up'));
  execFileSync('mkfifo', [join(d, 'fifo')]);
  const seen: string[] = [];
  const { meta, warnings } = await createTorrent({ path: d, onWarning: (m) => seen.push(m) });
  assert.deepEqual(meta.files.map((f) => f.pathString), ['real.bin']);
  assert.equal(warnings.length, 4);
  assert.deepEqual(seen, warnings);
  assert.ok(warnings.some((w) => w.includes('special file') && w.endsWith('fifo')));
  assert.ok(warnings.some((w) => w.includes('symlink') && w.endsWith('outside')));
});

test('refuses names other tools would read as paths, empty data, and bad piece lengths', async () => {
  const d = join(dir, 'bad');
  await makeFile(join(d, 'a\\b.txt'), 10, 'x');
  await assert.rejects(createTorrent({ path: d }), code('TORRENT_UNSAFE_PATH'));
  const e = join(dir, 'empty');
  await mkdir(join(e, 'sub'), { recursive: true });
  await writeFile(join(e, 'zero'), '');
  await assert.rejects(createTorrent({ path: e }), code('TORRENT_EMPTY'));
  for (const pieceLength of [1000, 8192, 32 * 1024 * 1024]) {
    await assert.rejects(createTorrent({ path: tree, pieceLength }), code('TORRENT_BAD_PIECE_LENGTH'));
  }
  await assert.rejects(createTorrent({ path: join(dir, 'missing') }), code('TORRENT_NOT_FOUND'));
  await assert.rejects(createTorrent({ path: tree, name: '..' }), code('TORRENT_UNSAFE_PATH'));
});
