// Whole pieces written unbuffered (O_DIRECT) from aligned buffers: which pieces qualify
// (directPiece), that the bytes land and count after markWritten (across a restart), that
// a refused direct write turns the path off; and the AlignedPool that hands the buffers out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AlignedPool, DIRECT_ALIGN, Storage } from '../../src/storage/index.js';
import { DIRECT_WRITES_AT_ONCE } from '../../src/storage/config.js';
import { makeMeta, piece, tempDir } from './helpers.js';

const PIECE = 16 * 1024;

test('AlignedPool: buffers of aligned lengths, reused once given back, none past its capacity', () => {
  const pool = new AlignedPool(64 * 1024);
  assert.equal(pool.take(1000), null, 'a length that is not a multiple of DIRECT_ALIGN');
  const a = pool.take(32 * 1024)!;
  const b = pool.take(16 * 1024)!;
  assert.equal(a.length, 32 * 1024);
  assert.equal(b.length, 16 * 1024);
  assert.equal(pool.bytesOut, 48 * 1024);
  assert.equal(pool.take(32 * 1024), null, 'capacity reached');
  a[0] = 7;
  pool.give(a);
  const again = pool.take(32 * 1024)!;
  assert.equal(again.buffer, a.buffer);
  assert.equal(again.byteOffset, a.byteOffset, 'the same slot is handed out again');
  assert.equal(again[0], 7);
  // Offsets into one memory whose start is page-aligned (the direct writes below check the
  // addresses themselves: the kernel refuses a misaligned one).
  assert.equal(b.byteOffset % DIRECT_ALIGN, 0);
  assert.equal(again.byteOffset % DIRECT_ALIGN, 0);
  assert.equal(pool.bytesOut, 48 * 1024);
});

test('writePieceDirect: aligned pieces of an open file are written whole and count after markWritten, across a restart', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    // 4 pieces and a 1000-byte last one.
    const { meta, payload } = makeMeta({ name: 'd.bin', files: [{ path: ['d.bin'], length: 4 * PIECE + 1000 }], pieceLength: PIECE });
    const pool = new AlignedPool(4 * PIECE);
    const off = await Storage.open(meta, { dir: join(dir, 'off') });
    await off.check();
    await off.writeBlock(0, 0, piece(meta, payload, 0));
    assert.equal(off.directPiece(1), false, 'not without directWrites');
    await off.close();

    const small = await Storage.open(meta, { dir: join(dir, 'small'), directWrites: true });
    await small.check();
    await small.writeBlock(0, 0, piece(meta, payload, 0));
    assert.equal(small.directPiece(1), false, 'not pieces under DIRECT_MIN_PIECE_BYTES (1 MiB) by default');
    await small.close();

    const st = await Storage.open(meta, { dir, directWrites: true, directMinPieceBytes: PIECE });
    await st.check();
    assert.equal(st.directPiece(1), false, 'not before storage has the file open');
    await st.writeBlock(0, 0, piece(meta, payload, 0));
    st.markWritten(0);
    assert.equal(st.directPiece(1), true);
    assert.equal(st.directPiece(4), false, 'not the short last piece');
    for (const i of [1, 2, 3]) {
      const buf = pool.take(PIECE)!;
      piece(meta, payload, i).copy(buf);
      await st.writePieceDirect(i, buf);
      assert.equal(st.have.has(i), false, 'written is not had');
      st.markWritten(i);
      pool.give(buf);
    }
    await assert.rejects(st.writePieceDirect(4, Buffer.alloc(1000)), { code: 'STORAGE_BAD_PIECE' });
    await st.close();
    assert.deepEqual((await readFile(join(dir, 'd.bin'))).subarray(0, 4 * PIECE), payload.subarray(0, 4 * PIECE));

    const again = await Storage.open(meta, { dir, directWrites: true, directMinPieceBytes: PIECE });
    const r = await again.check();
    assert.equal(r.fromResume, true);
    assert.deepEqual([...again.have.indexes()], [0, 1, 2, 3]);
    await again.close();
  } finally {
    await cleanup();
  }
});

test('writePieceDirect: a write the kernel refuses (a buffer that is not aligned) fails, and no piece is offered the direct path again', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta, payload } = makeMeta({ name: 'd.bin', files: [{ path: ['d.bin'], length: 4 * PIECE }], pieceLength: PIECE });
    const st = await Storage.open(meta, { dir, directWrites: true, directMinPieceBytes: PIECE });
    await st.check();
    await st.writeBlock(0, 0, piece(meta, payload, 0));
    assert.equal(st.directPiece(1), true);
    // A malloc'd Buffer one byte in: never at an aligned address.
    const misaligned = Buffer.allocUnsafeSlow(PIECE + 1).subarray(1);
    piece(meta, payload, 1).copy(misaligned);
    await assert.rejects(st.writePieceDirect(1, misaligned), { code: 'STORAGE_IO' });
    assert.equal(st.directPiece(2), false);
    // The caller's fall-back: the ordinary write.
    await st.writeBlock(1, 0, misaligned);
    st.markWritten(1);
    await st.close();
    assert.deepEqual((await readFile(join(dir, 'd.bin'))).subarray(PIECE, 2 * PIECE), payload.subarray(PIECE, 2 * PIECE));
  } finally {
    await cleanup();
  }
});

test('writePieceDirect: close() waits for direct writes still running, and direct descriptors stay bounded across many files', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    // 12 files of 2 aligned pieces each: more files than direct descriptors kept (8).
    const files = Array.from({ length: 12 }, (_, i) => ({ path: [`f${i}.bin`], length: 2 * PIECE }));
    const { meta, payload } = makeMeta({ name: 'multi', files, pieceLength: PIECE, multiFile: true });
    const pool = new AlignedPool(24 * PIECE);
    const fdCount = () => readdirSync('/proc/self/fd').length;
    const start = fdCount();
    const st = await Storage.open(meta, { dir, directWrites: true, directMinPieceBytes: PIECE });
    await st.check();
    // The first piece of each file through the cache (it opens the file), the second direct.
    for (let f = 0; f < 12; f++) {
      await st.writeBlock(2 * f, 0, piece(meta, payload, 2 * f));
      st.markWritten(2 * f);
    }
    const before = fdCount();
    for (let f = 0; f < 12; f++) {
      const i = 2 * f + 1;
      assert.equal(st.directPiece(i), true, `piece ${i}`);
      const buf = pool.take(PIECE)!;
      piece(meta, payload, i).copy(buf);
      await st.writePieceDirect(i, buf);
      st.markWritten(i);
      pool.give(buf);
    }
    // Evicted descriptors are closed on the thread pool: give that a moment.
    for (let k = 0; k < 100 && fdCount() - before > 8; k++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(fdCount() - before <= 8, `at most 8 direct descriptors open (${fdCount() - before})`);
    // Several direct writes started and not awaited, then close(): none may fail (a
    // descriptor closed under a running write) and every byte must be there.
    const again = await Storage.open(meta, { dir: join(dir, 'b'), directWrites: true, directMinPieceBytes: PIECE });
    await again.check();
    for (let f = 0; f < 12; f++) {
      await again.writeBlock(2 * f, 0, piece(meta, payload, 2 * f));
      again.markWritten(2 * f);
    }
    const running: Promise<void>[] = [];
    for (let f = 0; f < 12; f++) {
      const buf = pool.take(PIECE)!;
      piece(meta, payload, 2 * f + 1).copy(buf);
      running.push(again.writePieceDirect(2 * f + 1, buf));
    }
    const closed = again.close();
    const results = await Promise.allSettled(running);
    await closed;
    assert.deepEqual(results.map((r) => r.status), results.map(() => 'fulfilled'));
    for (let f = 0; f < 12; f++) {
      assert.deepEqual(await readFile(join(dir, 'b', 'multi', `f${f}.bin`)), payload.subarray(2 * f * PIECE, (2 * f + 2) * PIECE), `f${f}.bin`);
    }
    await st.close();
    assert.ok(fdCount() <= start, `every descriptor closed (${fdCount()} open, ${start} at the start)`);
  } finally {
    await cleanup();
  }
});

test('writePieceDirect: writes queued behind the running ones are merged per run of neighbouring pieces, in any order of arrival, and bytes land where they belong', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta, payload } = makeMeta({ name: 'q.bin', files: [{ path: ['q.bin'], length: 20 * PIECE }], pieceLength: PIECE });
    const pool = new AlignedPool(20 * PIECE);
    const st = await Storage.open(meta, { dir, directWrites: true, directMinPieceBytes: PIECE });
    await st.check();
    await st.writeBlock(0, 0, piece(meta, payload, 0));
    st.markWritten(0);
    // The first DIRECT_WRITES_AT_ONCE start at once; the rest wait and go as runs of
    // neighbours, whatever their order of arrival (7, 5, 8, 6; 11, 10; 19, 15, 16, 18, 17).
    const order = [1, 2, 3, 4, 7, 5, 8, 6, 11, 10, 13, 19, 15, 16, 18, 17];
    const writes = order.map((i) => {
      const buf = pool.take(PIECE)!;
      piece(meta, payload, i).copy(buf);
      return st.writePieceDirect(i, buf).then(() => st.markWritten(i));
    });
    await Promise.all(writes);
    // Queued together before any write finished, so: the first DIRECT_WRITES_AT_ONCE alone,
    // then one call per run of neighbours (with two at once: [1], [2], [3-8], [11], [10],
    // [13], [19], [15-18], 8 calls; 11 with four). Unmerged, it would be one per piece.
    assert.ok(st.directWriteCalls >= DIRECT_WRITES_AT_ONCE + 1 && st.directWriteCalls <= order.length - 4, `${st.directWriteCalls} direct writes for ${order.length} pieces`);
    await st.close();
    const got = await readFile(join(dir, 'q.bin'));
    for (const i of [0, ...order]) assert.deepEqual(got.subarray(i * PIECE, (i + 1) * PIECE), piece(meta, payload, i), `piece ${i}`);
    for (const i of [9, 12, 14]) assert.equal(got.subarray(i * PIECE, (i + 1) * PIECE).every((b) => b === 0), true, `piece ${i} never written`);
  } finally {
    await cleanup();
  }
});

test('writePieceDirect: a merged write the kernel refuses fails for every piece in it, and direct writes stop', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta, payload } = makeMeta({ name: 'e.bin', files: [{ path: ['e.bin'], length: 16 * PIECE }], pieceLength: PIECE });
    const pool = new AlignedPool(16 * PIECE);
    const st = await Storage.open(meta, { dir, directWrites: true, directMinPieceBytes: PIECE });
    await st.check();
    await st.writeBlock(0, 0, piece(meta, payload, 0));
    const good = (i: number) => {
      const buf = pool.take(PIECE)!;
      piece(meta, payload, i).copy(buf);
      return buf;
    };
    // As many as run at once, none next to another; then, queued behind them and merged,
    // piece 12 (aligned) and piece 13 (a misaligned buffer).
    assert.ok(DIRECT_WRITES_AT_ONCE <= 5);
    const running = Array.from({ length: DIRECT_WRITES_AT_ONCE }, (_, k) => st.writePieceDirect(1 + 2 * k, good(1 + 2 * k)));
    const misaligned = Buffer.allocUnsafeSlow(PIECE + 1).subarray(1);
    const twelve = st.writePieceDirect(12, good(12));
    const thirteen = st.writePieceDirect(13, misaligned);
    await Promise.all([...running, assert.rejects(twelve, { code: 'STORAGE_IO' }), assert.rejects(thirteen, { code: 'STORAGE_IO' })]);
    assert.equal(st.directPiece(14), false);
    await st.close();
  } finally {
    await cleanup();
  }
});
