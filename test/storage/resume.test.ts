import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Storage, defaultHashPool } from '../../src/storage/index.js';
import { Kept, encodeResume, parseResume, type ResumeData } from '../../src/storage/resume.js';
import { makeMeta, piece, tempDir } from './helpers.js';

after(() => defaultHashPool().close());

test('files written just before a running snapshot are stamped racy; a clean close stamps none', async () => {
  // Kernels with coarse timestamps (one tick, 1-10 ms; 1-2 s on ext3/FAT) cannot show a
  // write in the same tick as the snapshot's stat: those stamps must not be trusted.
  const { dir, cleanup } = await tempDir();
  try {
    const { meta, payload } = makeMeta({ name: 'r', files: [{ path: ['a'], length: 40000 }, { path: ['b'], length: 40000 }], pieceLength: 16384 });
    const st = await Storage.open(meta, { dir });
    await st.check();
    await st.writePiece(0, piece(meta, payload, 0));
    await st.saveResume();
    const path = join(dir, '.sta', `${meta.infoHashHex}.resume`);
    const expect = { infoHash: meta.infoHash, pieceLength: meta.pieceLength, pieceCount: meta.pieceCount, fileCount: 2 };
    let parsed = parseResume(await readFile(path), expect);
    assert.ok(parsed.ok);
    assert.equal(parsed.data.files[0]!.stamp!.racy, true, 'a was written a moment ago');
    assert.deepEqual([...parsed.data.have], [0b10000000]);
    await st.close();
    parsed = parseResume(await readFile(path), expect);
    assert.ok(parsed.ok);
    assert.equal(parsed.data.files[0]!.stamp!.racy, false);
    assert.equal(parsed.data.files[1]!.stamp!.racy, false);
  } finally {
    await cleanup();
  }
});

test('parseResume refuses what does not fit the torrent, and round-trips what does', () => {
  const base: ResumeData = {
    infoHash: Buffer.alloc(20, 7),
    pieceLength: 16384,
    pieceCount: 10,
    have: Uint8Array.from([0xff, 0xc0]),
    files: [
      { kept: Kept.File, stamp: { size: 100, mtimeNs: 1_732_540_000_123_456_789n, racy: false } },
      { kept: Kept.Part, stamp: undefined },
      { kept: Kept.None, stamp: undefined },
    ],
    part: { size: 5, mtimeNs: 42n, racy: true },
  };
  const expect = { infoHash: base.infoHash, pieceLength: 16384, pieceCount: 10, fileCount: 3 };
  const ok = parseResume(encodeResume(base), expect);
  assert.ok(ok.ok);
  assert.deepEqual(ok.data, base);
  const bad = (patch: Partial<ResumeData>, e = expect) => parseResume(encodeResume({ ...base, ...patch }), e).ok;
  assert.equal(bad({ have: Uint8Array.from([0xff]) }), false);
  assert.equal(bad({ infoHash: Buffer.alloc(20, 8) }), false);
  assert.equal(bad({ pieceLength: 32768 }), false);
  assert.equal(bad({}, { ...expect, fileCount: 4 }), false);
  assert.equal(bad({ files: [{ kept: Kept.File, stamp: undefined }, base.files[1]!, base.files[2]!] }), false);
  assert.equal(parseResume(Buffer.from('d10:sta-resumei2ee'), expect).ok, false);
  assert.equal(parseResume(Buffer.alloc(1 << 20, 0x6c), expect).ok, false);
});

test('parseResume never throws on arbitrary bytes or mutated resume files (fuzz)', async () => {
  const fc = (await import('fast-check')).default;
  const base: ResumeData = {
    infoHash: Buffer.alloc(20, 1),
    pieceLength: 16384,
    pieceCount: 20,
    have: Uint8Array.from([0xf0, 0x0f, 0xa0]),
    files: [{ kept: Kept.File, stamp: { size: 1, mtimeNs: 5n, racy: false } }, { kept: Kept.None, stamp: undefined }],
    part: undefined,
  };
  const good = encodeResume(base);
  const expect = { infoHash: base.infoHash, pieceLength: 16384, pieceCount: 20, fileCount: 2 };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const r = parseResume(bytes, expect);
      assert.equal(typeof r.ok, 'boolean');
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 }), (pos, byte) => {
      const m = Buffer.from(good);
      m[pos] = byte;
      const r = parseResume(m, expect);
      if (r.ok) assert.equal(r.data.have.length, 3);
    }),
    { numRuns: 2000 },
  );
});
