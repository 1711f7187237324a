// Blocks written as they arrive (the download engine's path): writeBlockSync straight from
// the caller's buffer when a file's handle is open, writeBlock (thread pool, any file kind)
// otherwise, markWritten once the caller verified the piece, readUnverified for pieces
// being assembled. Nothing counts as had before markWritten, and a restart trusts only what
// was marked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Storage } from '../../src/storage/index.js';
import { makeMeta, piece, tempDir, type FileSpec } from './helpers.js';

const FILES: FileSpec[] = [
  { path: ['a'], length: 3000 },
  { path: ['skip'], length: 1500 },
  { path: ['b'], length: 700 },
  { path: ['c'], length: 4000 },
];

test('writeBlockSync writes at once where a handle is open, writeBlock everywhere; markWritten makes a piece had', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    // 9200 bytes in 1024-byte pieces; 'skip' (3000..4499) is unwanted: its bytes go to the part file.
    const { meta, payload } = makeMeta({ name: 'blk', files: FILES, pieceLength: 1024 });
    const st = await Storage.open(meta, { dir, wantedFiles: [true, false, true, true] });
    await st.check();
    const all = Array.from({ length: meta.pieceCount }, (_, i) => piece(meta, payload, i));
    // No handle open yet: nothing written at once.
    assert.equal(st.writeBlockSync(0, 0, all[0]!.subarray(0, 512)), false);
    await st.writeBlock(0, 0, Buffer.from(all[0]!.subarray(0, 512)));
    // Now 'a' is open: the rest of piece 0 goes straight in, from a buffer reused at once.
    const view = Buffer.from(all[0]!.subarray(512));
    assert.equal(st.writeBlockSync(0, 512, view), true);
    view.fill(0xee);
    assert.equal(st.have.has(0), false, 'written is not had');
    await assert.rejects(st.readBlock(0, 0, 10), { code: 'STORAGE_NOT_VERIFIED' });
    const back = Buffer.alloc(all[0]!.length);
    assert.equal(await st.readUnverified(0, 0, back), true);
    assert.deepEqual(back, all[0]);
    st.markWritten(0);
    assert.equal(st.have.has(0), true);
    assert.deepEqual(await st.readBlock(0, 0, all[0]!.length), all[0]);
    // Piece 2 spans 'a' (open) and 'skip' (part file): not at once; writeBlock handles it.
    assert.equal(st.writeBlockSync(2, 0, all[2]!), false);
    await st.writeBlock(2, 0, Buffer.from(all[2]!));
    // Piece 4 spans 'skip', 'b' and 'c' ('b' and 'c' not open yet).
    assert.equal(st.writeBlockSync(4, 0, all[4]!), false);
    await st.writeBlock(4, 0, Buffer.from(all[4]!));
    for (const i of [1, 3, 5, 6, 7, 8]) {
      if (!st.writeBlockSync(i, 0, all[i]!)) await st.writeBlock(i, 0, Buffer.from(all[i]!));
    }
    // 'c' is open now: piece 7 (inside 'c') is written at once.
    assert.equal(st.writeBlockSync(7, 0, all[7]!), true);
    await assert.rejects(st.writeBlock(9, 0, Buffer.alloc(1)), { code: 'STORAGE_BAD_PIECE' });
    await assert.rejects(st.readUnverified(8, 1000, Buffer.alloc(100)), { code: 'STORAGE_BAD_PIECE' });
    // Piece 8 is written but never marked: a restart must not count it.
    for (let i = 1; i < 8; i++) st.markWritten(i);
    await st.close();
    assert.deepEqual(await readFile(join(dir, 'blk', 'a')), payload.subarray(0, 3000));
    assert.deepEqual(await readFile(join(dir, 'blk', 'c')), payload.subarray(5200));
    const again = await Storage.open(meta, { dir, wantedFiles: [true, false, true, true] });
    const r = await again.check();
    assert.equal(r.fromResume, true);
    assert.equal(again.have.has(8), false, 'a piece written but not marked is not had after a restart');
    for (let i = 0; i < 8; i++) assert.equal(again.have.has(i), true, `piece ${i}`);
    await again.close();
  } finally {
    await cleanup();
  }
});

test('writeBlockSync declines when writes go to the thread pool (writeMode pool, or after a slow write)', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta, payload } = makeMeta({ name: 'one', files: [{ path: ['x'], length: 4096 }], pieceLength: 1024 });
    const p0 = piece(meta, payload, 0);
    const pool = await Storage.open(meta, { dir: join(dir, 'p'), writeMode: 'pool' });
    await pool.check();
    await pool.writeBlock(0, 0, Buffer.from(p0));
    assert.equal(pool.writeBlockSync(1, 0, piece(meta, payload, 1)), false);
    await pool.close();
    // Every synchronous write counted as slow: the first one succeeds, then the pool takes over.
    const slow = await Storage.open(meta, { dir: join(dir, 's'), slowSyncWriteMs: -1 });
    await slow.check();
    await slow.readUnverified(0, 0, Buffer.alloc(10)); // opens the file's handle
    assert.equal(slow.writeBlockSync(0, 0, p0), true);
    assert.equal(slow.writeBlockSync(1, 0, piece(meta, payload, 1)), false);
    await slow.writeBlock(1, 0, Buffer.from(piece(meta, payload, 1)));
    const back = Buffer.alloc(2048);
    assert.equal(await slow.readUnverified(0, 0, back.subarray(0, 1024)), true);
    assert.equal(await slow.readUnverified(1, 0, back.subarray(1024)), true);
    assert.deepEqual(back, payload.subarray(0, 2048));
    await slow.close();
  } finally {
    await cleanup();
  }
});
