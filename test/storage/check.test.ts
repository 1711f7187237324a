import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Storage, defaultHashPool } from '../../src/storage/index.js';
import { makeMeta, piece, tempDir } from './helpers.js';

after(() => defaultHashPool().close());

test('check without resume data hashes existing data (seeding) and reports progress', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta, payload } = makeMeta({ name: 'seed.bin', files: [{ path: ['seed.bin'], length: 300_000 }], pieceLength: 16384 });
    const corrupt = Buffer.from(payload);
    corrupt[5 * 16384 + 7] = corrupt[5 * 16384 + 7]! ^ 0xff;
    await writeFile(join(dir, 'seed.bin'), corrupt);
    const st = await Storage.open(meta, { dir });
    const seen: [number, number][] = [];
    const r = await st.check({ onProgress: (a, b) => seen.push([a, b]) });
    assert.deepEqual(r, { fromResume: false, havePieces: meta.pieceCount - 1, rehashedPieces: meta.pieceCount });
    assert.equal(st.have.has(5), false);
    assert.deepEqual(seen.at(-1), [meta.pieceCount, meta.pieceCount]);
    assert.ok(seen.every(([a], i) => i === 0 || a >= seen[i - 1]![0]), 'progress only grows');
    assert.equal(st.bytesLeft(), 16384);
    await st.close();
  } finally {
    await cleanup();
  }
});

test('check stops on its AbortSignal', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta, payload } = makeMeta({ name: 'ab.bin', files: [{ path: ['ab.bin'], length: 8 << 20 }], pieceLength: 16384 });
    await writeFile(join(dir, 'ab.bin'), payload);
    const st = await Storage.open(meta, { dir });
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(st.check({ signal: ac.signal }), { code: 'STORAGE_CHECK_ABORTED' });
    assert.ok(st.have.cardinality() < meta.pieceCount);
    await st.close();
  } finally {
    await cleanup();
  }
});

test('preallocate zero-fills new files; sparse files are the default', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta } = makeMeta({ name: 'p', files: [{ path: ['a'], length: 3 << 20 }, { path: ['b'], length: 10 }], pieceLength: 1 << 20 });
    let st = await Storage.open(meta, { dir, preallocate: true });
    await st.close();
    const full = await stat(join(dir, 'p', 'a'));
    assert.equal(full.size, 3 << 20);
    assert.ok(full.blocks * 512 >= 3 << 20, 'blocks allocated');
    const { meta: m2 } = makeMeta({ name: 'q', files: [{ path: ['a'], length: 3 << 20 }, { path: ['b'], length: 10 }], pieceLength: 1 << 20 });
    st = await Storage.open(m2, { dir });
    await st.close();
    const sparse = await stat(join(dir, 'q', 'a'));
    assert.equal(sparse.size, 3 << 20);
    assert.ok(sparse.blocks * 512 < 1 << 20, `sparse (${sparse.blocks} blocks)`);
  } finally {
    await cleanup();
  }
});

test('an oversized existing file is checked, then cut to length when first written into', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta, payload } = makeMeta({ name: 'o.bin', files: [{ path: ['o.bin'], length: 50_000 }], pieceLength: 16384 });
    const longer = Buffer.concat([payload.subarray(0, 16384), Buffer.alloc(50_000 - 16384), Buffer.from('trailing junk')]);
    await writeFile(join(dir, 'o.bin'), longer);
    const st = await Storage.open(meta, { dir });
    const r = await st.check();
    assert.equal(r.havePieces, 1);
    for (let i = 1; i < meta.pieceCount; i++) await st.writePiece(i, piece(meta, payload, i));
    await st.close();
    assert.deepEqual(await readFile(join(dir, 'o.bin')), payload);
  } finally {
    await cleanup();
  }
});

test('a verified piece whose file shrank underneath is reported missing and no longer had', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta, payload } = makeMeta({ name: 'g.bin', files: [{ path: ['g.bin'], length: 40_000 }], pieceLength: 16384 });
    const st = await Storage.open(meta, { dir });
    await st.check();
    for (let i = 0; i < meta.pieceCount; i++) await st.writePiece(i, piece(meta, payload, i));
    await truncate(join(dir, 'g.bin'), 20_000);
    await assert.rejects(st.readBlock(2, 0, 100), { code: 'STORAGE_DATA_MISSING' });
    assert.equal(st.have.has(2), false);
    assert.equal(st.isComplete(), false);
    assert.deepEqual(await st.readBlock(0, 0, 16384), piece(meta, payload, 0));
    await st.close();
  } finally {
    await cleanup();
  }
});

test('read-only data can be seeded; writing into it fails with STORAGE_READ_ONLY', async (t) => {
  // Root ignores permission bits: make the file immutable instead (chattr +i, ext4).
  const asRoot = process.getuid?.() === 0;
  if (asRoot && spawnSync('chattr', ['--help']).error) return t.skip('root, and no chattr to make a file immutable');
  const { dir, cleanup } = await tempDir();
  const file = join(dir, 'ro.bin');
  const lock = async (on: boolean) => {
    if (!asRoot) await chmod(file, on ? 0o444 : 0o644);
    else if (spawnSync('chattr', [on ? '+i' : '-i', file]).status !== 0 && on) t.skip('chattr +i not supported here');
  };
  try {
    const { meta, payload } = makeMeta({ name: 'ro.bin', files: [{ path: ['ro.bin'], length: 40_000 }], pieceLength: 16384 });
    const bad = Buffer.from(payload);
    bad[20_000] = bad[20_000]! ^ 1;
    await writeFile(file, bad);
    await lock(true);
    const st = await Storage.open(meta, { dir });
    assert.equal((await st.check()).havePieces, 2);
    assert.deepEqual(await st.readBlock(2, 0, 100), payload.subarray(32768, 32868));
    await assert.rejects(st.writePiece(1, piece(meta, payload, 1)), { code: 'STORAGE_READ_ONLY' });
    await st.close();
  } finally {
    await lock(false).catch(() => undefined);
    await cleanup();
  }
});

test('createFiles: false leaves missing files alone until a piece is written into them', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta, payload } = makeMeta({ name: 'lazy', files: [{ path: ['x', 'a'], length: 20_000 }, { path: ['y', 'b'], length: 20_000 }], pieceLength: 16384 });
    const st = await Storage.open(meta, { dir, createFiles: false });
    await st.check();
    await assert.rejects(stat(join(dir, 'lazy')), { code: 'ENOENT' });
    await st.writePiece(0, piece(meta, payload, 0));
    assert.equal((await stat(join(dir, 'lazy', 'x', 'a'))).size, 20_000);
    await assert.rejects(stat(join(dir, 'lazy', 'y')), { code: 'ENOENT' });
    for (let i = 1; i < meta.pieceCount; i++) await st.writePiece(i, piece(meta, payload, i));
    await st.close();
    assert.deepEqual(await readFile(join(dir, 'lazy', 'y', 'b')), payload.subarray(20_000));
  } finally {
    await cleanup();
  }
});

test('a check stopped early saves no resume data, so the next start checks again (seeding keeps its pieces)', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta, payload } = makeMeta({ name: 'int.bin', files: [{ path: ['int.bin'], length: 8 << 20 }], pieceLength: 16384 });
    await writeFile(join(dir, 'int.bin'), payload);
    // First start: interrupted by close() in the middle of the check.
    let st = await Storage.open(meta, { dir });
    const checking = st.check({ onProgress: (n) => n > 50 && void st.close() });
    await assert.rejects(checking, { code: 'STORAGE_CLOSED' });
    await st.close();
    await assert.rejects(stat(join(dir, '.sta', `${meta.infoHashHex}.resume`)), { code: 'ENOENT' });
    st = await Storage.open(meta, { dir });
    assert.deepEqual(await st.check(), { fromResume: false, havePieces: meta.pieceCount, rehashedPieces: meta.pieceCount });
    await st.close();
    // With resume data: touch the file, abort the recheck: the old resume data stays.
    const before = await readFile(join(dir, '.sta', `${meta.infoHashHex}.resume`));
    const later = new Date(Date.now() + 60_000);
    const { utimes } = await import('node:fs/promises');
    await utimes(join(dir, 'int.bin'), later, later);
    st = await Storage.open(meta, { dir });
    const ac = new AbortController();
    await assert.rejects(st.check({ signal: ac.signal, onProgress: () => ac.abort() }), { code: 'STORAGE_CHECK_ABORTED' });
    await st.close();
    assert.deepEqual(await readFile(join(dir, '.sta', `${meta.infoHashHex}.resume`)), before);
    st = await Storage.open(meta, { dir });
    assert.deepEqual(await st.check(), { fromResume: true, havePieces: meta.pieceCount, rehashedPieces: meta.pieceCount });
    await st.close();
  } finally {
    await cleanup();
  }
});
