import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, stat, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Storage, StorageError, defaultHashPool } from '../../src/storage/index.js';
import { makeMeta, piece, tempDir, type FileSpec } from './helpers.js';

after(() => defaultHashPool().close());

const MULTI: FileSpec[] = [
  { path: ['a.bin'], length: 1000 },
  { path: ['empty.txt'], length: 0 },
  { path: ['sub', 'deep', 'one.byte'], length: 1 },
  { path: ['sub', 'b.bin'], length: 5000 },
  { path: ['sub', 'empty2'], length: 0 },
  { path: ['c ü.bin'], length: 2500 },
];

async function writeAllPieces(st: Storage, payload: Buffer): Promise<void> {
  for (let i = 0; i < st.meta.pieceCount; i++) {
    const data = piece(st.meta, payload, i);
    assert.equal(await st.verifyPiece(i, data), true);
    await st.writePiece(i, data);
  }
}

test('multi-file layout: 0-byte files created, pieces across file boundaries written and read back', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta, payload } = makeMeta({ name: 'multi', files: MULTI, pieceLength: 1024 });
    const st = await Storage.open(meta, { dir });
    assert.equal((await stat(join(dir, 'multi', 'empty.txt'))).size, 0);
    assert.equal((await stat(join(dir, 'multi', 'sub', 'empty2'))).size, 0);
    assert.equal((await stat(join(dir, 'multi', 'sub', 'b.bin'))).size, 5000); // sparse, full length
    const r = await st.check();
    assert.deepEqual(r, { fromResume: false, havePieces: 0, rehashedPieces: 0 });
    assert.equal(st.bytesLeft(), meta.length);
    assert.equal(st.isComplete(), false);
    await writeAllPieces(st, payload);
    assert.equal(st.isComplete(), true);
    assert.equal(st.bytesLeft(), 0);
    // Piece 0 spans a.bin (1000) + one.byte (1) + b.bin: read it across the boundaries.
    assert.deepEqual(await st.readBlock(0, 990, 34), payload.subarray(990, 1024));
    assert.deepEqual(await st.readBlock(meta.pieceCount - 1, 0, st.pieceLength(meta.pieceCount - 1)), piece(meta, payload, meta.pieceCount - 1));
    await st.close();
    let off = 0;
    for (const f of MULTI) {
      const got = await readFile(join(dir, 'multi', ...f.path));
      assert.deepEqual(got, payload.subarray(off, off + f.length), f.path.join('/'));
      off += f.length;
    }
    // The hidden folder holds only our resume file.
    assert.deepEqual(await readdir(join(dir, '.sta')), [`${meta.infoHashHex}.resume`]);
  } finally {
    await cleanup();
  }
});

test('single-file torrent lives at dir/<name>', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta, payload } = makeMeta({ name: 'one.iso', files: [{ path: ['one.iso'], length: 70_000 }], pieceLength: 16384 });
    const st = await Storage.open(meta, { dir });
    await st.check();
    await writeAllPieces(st, payload);
    await st.close();
    assert.deepEqual(await readFile(join(dir, 'one.iso')), payload);
  } finally {
    await cleanup();
  }
});

test('verifyPiece refuses corrupt data; readBlock refuses unverified pieces and bad ranges', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta, payload } = makeMeta({ name: 'v', files: MULTI, pieceLength: 1024 });
    const st = await Storage.open(meta, { dir });
    const good = Buffer.from(piece(meta, payload, 2));
    assert.equal(await st.verifyPiece(2, good), true);
    good[100] = good[100]! ^ 1;
    assert.equal(await st.verifyPiece(2, good), false);
    await assert.rejects(st.verifyPiece(2, Buffer.alloc(10)), { code: 'STORAGE_BAD_PIECE' });
    await assert.rejects(st.readBlock(2, 0, 16), { code: 'STORAGE_NOT_VERIFIED' });
    await st.writePiece(2, piece(meta, payload, 2));
    await assert.rejects(st.readBlock(2, 1000, 25), { code: 'STORAGE_BAD_PIECE' });
    await assert.rejects(st.readBlock(2, -1, 2), { code: 'STORAGE_BAD_PIECE' });
    await assert.rejects(st.readBlock(99, 0, 2), { code: 'STORAGE_BAD_PIECE' });
    await st.close();
    await assert.rejects(st.readBlock(2, 0, 16), { code: 'STORAGE_CLOSED' });
  } finally {
    await cleanup();
  }
});

test('resume data is trusted when files match; a touched or truncated file is rehashed alone', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const files: FileSpec[] = [
      { path: ['x.bin'], length: 8192 },
      { path: ['y.bin'], length: 8192 },
      { path: ['z.bin'], length: 8192 },
    ];
    const { meta, payload } = makeMeta({ name: 'r', files, pieceLength: 4096 });
    let st = await Storage.open(meta, { dir });
    await st.check();
    await writeAllPieces(st, payload);
    await st.close();

    st = await Storage.open(meta, { dir });
    let r = await st.check();
    assert.deepEqual(r, { fromResume: true, havePieces: 6, rehashedPieces: 0 });
    await st.close();

    // Touch y.bin: same bytes, new mtime -> its two pieces are rehashed and still verify.
    const later = new Date(Date.now() + 60_000);
    await utimes(join(dir, 'r', 'y.bin'), later, later);
    st = await Storage.open(meta, { dir });
    r = await st.check();
    assert.deepEqual(r, { fromResume: true, havePieces: 6, rehashedPieces: 2 });
    await st.close();

    // Truncate z.bin: its pieces are gone (it is extended again, sparse, and re-fetched).
    await truncate(join(dir, 'r', 'z.bin'), 5000);
    st = await Storage.open(meta, { dir });
    r = await st.check();
    assert.equal(r.fromResume, true);
    assert.equal(r.havePieces, 5, 'z.bin piece 5 (bytes 4096..8191 of z) is missing');
    assert.equal(r.rehashedPieces, 1, 'piece 4 lies within the old size but the file changed: hashed');
    await st.close();
  } finally {
    await cleanup();
  }
});

test('refuses paths that escape the download folder, and writes nothing outside', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const inner = join(dir, 'inner');
    await mkdir(inner);
    const hostile: { name: string; files: FileSpec[] }[] = [
      { name: 'evil', files: [{ path: ['..', 'escaped.txt'], length: 10 }, { path: ['ok'], length: 10 }] },
      { name: '..', files: [{ path: ['a'], length: 10 }, { path: ['b'], length: 10 }] },
      { name: 'evil', files: [{ path: ['sub', '..', '..', 'x'], length: 10 }, { path: ['ok'], length: 10 }] },
      { name: 'evil', files: [{ path: ['/etc', 'passwd'], length: 10 }, { path: ['ok'], length: 10 }] },
      { name: 'evil', files: [{ path: [''], length: 10 }, { path: ['ok'], length: 10 }] },
    ];
    for (const h of hostile) {
      const { meta } = makeMeta({ name: h.name, files: h.files, pieceLength: 16384, multiFile: true });
      await assert.rejects(Storage.open(meta, { dir: inner }), (e: unknown) => e instanceof StorageError && e.code === 'STORAGE_UNSAFE_PATH', h.files[0]!.path.join('/'));
    }
    const single = makeMeta({ name: '..', files: [{ path: ['..'], length: 10 }], pieceLength: 16384 }).meta;
    await assert.rejects(Storage.open(single, { dir: inner }), { code: 'STORAGE_UNSAFE_PATH' });
    // A symlinked folder inside dir that points outside it.
    const outside = join(dir, 'outside');
    await mkdir(outside);
    await symlink(outside, join(inner, 'linked'));
    const viaLink = makeMeta({ name: 'linked', files: [{ path: ['f'], length: 10 }, { path: ['g'], length: 1 }], pieceLength: 16384 }).meta;
    await assert.rejects(Storage.open(viaLink, { dir: inner }), { code: 'STORAGE_UNSAFE_PATH' });
    // A symlinked file.
    await writeFile(join(outside, 'target'), 'secret');
    await mkdir(join(inner, 'lf'));
    await symlink(join(outside, 'target'), join(inner, 'lf', 'f'));
    const fileLink = makeMeta({ name: 'lf', files: [{ path: ['f'], length: 6 }, { path: ['g'], length: 1 }], pieceLength: 16384 }).meta;
    await assert.rejects(Storage.open(fileLink, { dir: inner }), { code: 'STORAGE_UNSAFE_PATH' });
    assert.deepEqual((await readdir(dir)).sort(), ['inner', 'outside']);
    assert.deepEqual(await readdir(outside), ['target']);
    assert.equal(await readFile(join(outside, 'target'), 'utf8'), 'secret');
  } finally {
    await cleanup();
  }
});

test('two files at one path, or a file that is also a folder, are refused', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const dup = makeMeta({ name: 'd', files: [{ path: ['a'], length: 1 }, { path: ['a'], length: 1 }], pieceLength: 16384 }).meta;
    await assert.rejects(Storage.open(dup, { dir }), { code: 'STORAGE_PATH_CONFLICT' });
    const nest = makeMeta({ name: 'd', files: [{ path: ['a'], length: 1 }, { path: ['a', 'b'], length: 1 }], pieceLength: 16384 }).meta;
    await assert.rejects(Storage.open(nest, { dir }), { code: 'STORAGE_PATH_CONFLICT' });
    // A torrent named like sta's hidden folder.
    const hidden = makeMeta({ name: '.sta', files: [{ path: ['.sta'], length: 1 }], pieceLength: 16384 }).meta;
    await assert.rejects(Storage.open(hidden, { dir }), { code: 'STORAGE_PATH_CONFLICT' });
  } finally {
    await cleanup();
  }
});

test('wanted files: unwanted files are not created; shared boundary bytes go to the part file and serve', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const files: FileSpec[] = [
      { path: ['want1'], length: 3000 },
      { path: ['skip'], length: 5000 },
      { path: ['want2'], length: 3000 },
      { path: ['skip2'], length: 9000 },
    ];
    const { meta, payload } = makeMeta({ name: 'w', files, pieceLength: 2048 });
    const wantedFiles = [true, false, true, false];
    // Resume data kept elsewhere (as the daemon does): the part file still goes in dir/.sta.
    const elsewhere = await tempDir();
    const other = await Storage.open(meta, { dir: join(dir, 'other'), wantedFiles, resumePath: join(elsewhere.dir, 'r.resume') });
    await other.writePiece(1, piece(meta, payload, 1));
    assert.deepEqual(await other.readBlock(1, 0, 2048), piece(meta, payload, 1));
    await other.close();
    await elsewhere.cleanup();
    let st = await Storage.open(meta, { dir, wantedFiles });
    await st.check();
    // want1: 0..2999 -> pieces 0,1; want2: 8000..10999 -> pieces 3,4,5.
    assert.deepEqual([...st.wantedPieces.indexes()], [0, 1, 3, 4, 5]);
    assert.equal(st.bytesLeft(), 5 * 2048);
    for (const i of st.wantedPieces.indexes()) await st.writePiece(i, piece(meta, payload, i));
    assert.equal(st.isComplete(), true);
    await assert.rejects(stat(join(dir, 'w', 'skip')), { code: 'ENOENT' });
    await assert.rejects(stat(join(dir, 'w', 'skip2')), { code: 'ENOENT' });
    // Piece 1 holds want1's tail and skip's head: served whole, from file + part file.
    assert.deepEqual(await st.readBlock(1, 0, 2048), piece(meta, payload, 1));
    await st.close();
    assert.deepEqual(await readFile(join(dir, 'w', 'want1')), payload.subarray(0, 3000));
    assert.deepEqual(await readFile(join(dir, 'w', 'want2')), payload.subarray(8000, 11000));

    // Restart: resume trusted, part file included.
    st = await Storage.open(meta, { dir, wantedFiles });
    assert.deepEqual(await st.check(), { fromResume: true, havePieces: 5, rehashedPieces: 0 });
    assert.deepEqual(await st.readBlock(5, 0, 2048), piece(meta, payload, 5));
    await st.close();

    // Without resume data the part file is hashed too, up to its end: piece 2 (inside
    // skip, a hole in the part file) is hashed and fails; pieces 6..9 lie past its end.
    await rm(join(dir, '.sta', `${meta.infoHashHex}.resume`));
    st = await Storage.open(meta, { dir, wantedFiles });
    assert.deepEqual(await st.check(), { fromResume: false, havePieces: 5, rehashedPieces: 6 });
    await st.close();

    // Now want everything: skip is created and the verified boundary bytes move into it
    // from the part file (pieces 1 and 3 stay verified, nothing is fetched again).
    st = await Storage.open(meta, { dir });
    assert.deepEqual(await st.check(), { fromResume: true, havePieces: 5, rehashedPieces: 0 });
    assert.deepEqual(await st.readBlock(1, 0, 2048), piece(meta, payload, 1));
    assert.deepEqual(await st.readBlock(3, 0, 2048), piece(meta, payload, 3));
    await st.close();
    const skip = await readFile(join(dir, 'w', 'skip'));
    assert.deepEqual(skip.subarray(0, 1096), payload.subarray(3000, 4096));
    assert.deepEqual(skip.subarray(6144 - 3000), payload.subarray(6144, 8000));
    // And that state is trusted on the next start.
    st = await Storage.open(meta, { dir });
    assert.deepEqual(await st.check(), { fromResume: true, havePieces: 5, rehashedPieces: 0 });
    await st.close();
  } finally {
    await cleanup();
  }
});

test('handle cache: 300 files with maxOpenFiles 8 stay within 8 open handles', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const files: FileSpec[] = Array.from({ length: 300 }, (_, i) => ({ path: [`d${i % 7}`, `f${i}.bin`], length: 100 + (i % 13) * 37 }));
    const { meta, payload } = makeMeta({ name: 'many', files, pieceLength: 1024 });
    const st = await Storage.open(meta, { dir, maxOpenFiles: 8 });
    await st.check();
    let peak = 0;
    await Promise.all(
      Array.from({ length: meta.pieceCount }, async (_, i) => {
        await st.writePiece(i, piece(meta, payload, i));
        peak = Math.max(peak, st.openHandles);
      }),
    );
    assert.ok(st.openHandles <= 8, `open ${st.openHandles}`);
    for (let i = 0; i < meta.pieceCount; i += 3) {
      assert.deepEqual(await st.readBlock(i, 0, st.pieceLength(i)), piece(meta, payload, i));
      assert.ok(st.openHandles <= 8);
    }
    await st.close();
    assert.equal(st.openHandles, 0);
    const f = files[299]!;
    assert.deepEqual(await readFile(join(dir, 'many', ...f.path)), payload.subarray(meta.length - f.length));
    // All pieces in flight at once may briefly pin more handles than the bound, never all.
    assert.ok(peak < 300, `peak ${peak}`);
  } finally {
    await cleanup();
  }
});

test('a corrupt, truncated or oversized resume file only costs a rehash', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta, payload } = makeMeta({ name: 'c', files: MULTI, pieceLength: 1024 });
    let st = await Storage.open(meta, { dir });
    await st.check();
    await writeAllPieces(st, payload);
    await st.close();
    const resume = join(dir, '.sta', `${meta.infoHashHex}.resume`);
    const good = await readFile(resume);
    for (const bad of [good.subarray(0, good.length - 3), Buffer.from('garbage'), Buffer.alloc(10_000_000, 0x31), Buffer.concat([good, Buffer.from('x')])]) {
      await writeFile(resume, bad);
      st = await Storage.open(meta, { dir });
      assert.ok(st.resumeProblem, 'refused');
      assert.deepEqual(await st.check(), { fromResume: false, havePieces: meta.pieceCount, rehashedPieces: meta.pieceCount });
      await st.close();
    }
    // Another torrent's resume data is not used either.
    const other = makeMeta({ name: 'c', files: MULTI, pieceLength: 1024 }).meta;
    await writeFile(join(dir, '.sta', `${meta.infoHashHex}.resume`), await readFile(resume));
    st = await Storage.open(other, { dir, resumePath: resume });
    assert.equal((await st.check()).fromResume, false);
    await st.close();
  } finally {
    await cleanup();
  }
});

test('resume writes are atomic: stale temp files are removed, the resume file is always whole', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta, payload } = makeMeta({ name: 'a', files: MULTI, pieceLength: 1024 });
    let st = await Storage.open(meta, { dir });
    await st.check();
    await writeAllPieces(st, payload);
    await st.saveResume();
    await st.close();
    const stale = join(dir, '.sta', `${meta.infoHashHex}.resume.1234-deadbeef.tmp`);
    await writeFile(stale, 'half a resume fi');
    st = await Storage.open(meta, { dir });
    assert.deepEqual(await st.check(), { fromResume: true, havePieces: meta.pieceCount, rehashedPieces: 0 });
    await assert.rejects(stat(stale), { code: 'ENOENT' });
    // Many concurrent saves never leave a torn file behind.
    await Promise.all(Array.from({ length: 20 }, () => st.saveResume()));
    await st.close();
    assert.deepEqual(await readdir(join(dir, '.sta')), [`${meta.infoHashHex}.resume`]);
  } finally {
    await cleanup();
  }
});

test('BEP 47 pad files are never created and read as zeros; their pieces verify', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const files: FileSpec[] = [
      { path: ['a.bin'], length: 1000 },
      { path: ['.pad', '48'], length: 48, pad: true },
      { path: ['b.bin'], length: 2000 },
    ];
    const { meta, payload } = makeMeta({ name: 'pad', files, pieceLength: 1024 });
    let st = await Storage.open(meta, { dir });
    await st.check();
    await writeAllPieces(st, payload);
    assert.deepEqual(await st.readBlock(0, 990, 34), payload.subarray(990, 1024));
    await st.close();
    await assert.rejects(stat(join(dir, 'pad', '.pad')), { code: 'ENOENT' });
    await rm(join(dir, '.sta'), { recursive: true });
    st = await Storage.open(meta, { dir });
    assert.deepEqual(await st.check(), { fromResume: false, havePieces: 3, rehashedPieces: 3 });
    await st.close();
  } finally {
    await cleanup();
  }
});

test('a torrent of only 0-byte files is complete at once', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta } = makeMeta({ name: 'z', files: [{ path: ['a'], length: 0 }, { path: ['b', 'c'], length: 0 }], pieceLength: 16384 });
    const st = await Storage.open(meta, { dir });
    assert.deepEqual(await st.check(), { fromResume: false, havePieces: 0, rehashedPieces: 0 });
    assert.equal(st.isComplete(), true);
    assert.equal(st.bytesLeft(), 0);
    await st.close();
    assert.equal((await stat(join(dir, 'z', 'b', 'c'))).size, 0);
  } finally {
    await cleanup();
  }
});

for (const mode of ['sync', 'pool', 'sync, then the pool after a slow write'] as const) {
test(`writePieces (${mode} writes): a run of pieces across files and the part file; had pieces are skipped`, async () => {
  const writeMode = mode === 'pool' ? 'pool' : 'sync';
  // The last variant counts every synchronous run as slow, so the first write takes the
  // fall-back: later writes go to the thread pool (asserted below).
  const slowSyncWriteMs = mode === 'sync' || mode === 'pool' ? undefined : -1;
  const { dir, cleanup } = await tempDir();
  try {
    const files: FileSpec[] = [
      { path: ['a'], length: 3000 },
      { path: ['skip'], length: 1500 },
      { path: ['b'], length: 700 },
      { path: ['c'], length: 4000 },
    ];
    const { meta, payload } = makeMeta({ name: 'run', files, pieceLength: 1024 });
    // 9200 bytes: pieces 0..8, the last one 1008 bytes; 'skip' (3000..4499) goes to the part file.
    const st = await Storage.open(meta, { dir, wantedFiles: [true, false, true, true], writeMode, ...(slowSyncWriteMs !== undefined ? { slowSyncWriteMs } : {}) });
    await st.check();
    const all = Array.from({ length: meta.pieceCount }, (_, i) => piece(meta, payload, i));
    // A wrong length fails the whole call before anything is written.
    await assert.rejects(st.writePieces(0, [all[0]!, all[1]!.subarray(1)]), { code: 'STORAGE_BAD_PIECE' });
    assert.equal(st.have.isEmpty(), true);
    await st.writePiece(4, all[4]!);
    const poolUntil = (st as unknown as { poolWritesUntil: number }).poolWritesUntil;
    if (slowSyncWriteMs !== undefined) assert.ok(poolUntil > performance.now(), 'a slow synchronous write sends the next writes to the pool');
    else assert.equal(poolUntil, 0, 'no fall-back without a slow write');
    // 2..8 in one call: piece 4 (had) splits it into 2..3 and 5..8.
    await st.writePieces(2, all.slice(2));
    await st.writePieces(0, all.slice(0, 2));
    for (let i = 0; i < meta.pieceCount; i++) {
      if (st.wantedPieces.has(i)) assert.equal(st.have.has(i), true, `piece ${i}`);
      assert.deepEqual(await st.readBlock(i, 0, all[i]!.length), all[i]!, `piece ${i} reads back`);
    }
    assert.equal(st.isComplete(), true);
    await st.close();
    assert.deepEqual(await readFile(join(dir, 'run', 'a')), payload.subarray(0, 3000));
    assert.deepEqual(await readFile(join(dir, 'run', 'b')), payload.subarray(4500, 5200));
    assert.deepEqual(await readFile(join(dir, 'run', 'c')), payload.subarray(5200));
    await assert.rejects(stat(join(dir, 'run', 'skip')), { code: 'ENOENT' });
    // The restart trusts what was written.
    const again = await Storage.open(meta, { dir, wantedFiles: [true, false, true, true] });
    assert.deepEqual(await again.check(), { fromResume: true, havePieces: meta.pieceCount, rehashedPieces: 0 });
    await again.close();
  } finally {
    await cleanup();
  }
});
}
