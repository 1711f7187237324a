import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Layout, isInside, resolveInside } from '../../src/storage/layout.js';
import { makeMeta } from './helpers.js';

test('spans cover any torrent range exactly, in order, inside the files (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.nat(5000), { minLength: 1, maxLength: 12 }),
      fc.integer({ min: 1, max: 4096 }),
      fc.nat(),
      fc.nat(),
      (lengths, pieceLength, a, b) => {
        const total = lengths.reduce((x, y) => x + y, 0);
        fc.pre(total > 0);
        const { meta } = makeMeta({ name: 't', files: lengths.map((length, i) => ({ path: [`f${i}`], length })), pieceLength, multiFile: true, payload: Buffer.alloc(total) });
        const layout = new Layout(meta, '/root');
        const start = a % total;
        const len = 1 + (b % (total - start));
        const spans = layout.spans(start, len);
        let pos = 0;
        for (const s of spans) {
          const f = meta.files[s.file]!;
          assert.ok(s.length > 0 && f.length > 0);
          assert.equal(s.bufOffset, pos);
          assert.equal(f.offset + s.fileOffset, start + pos);
          assert.ok(s.fileOffset + s.length <= f.length);
          pos += s.length;
        }
        assert.equal(pos, len);
        // Every piece's files are exactly the files its spans touch.
        for (let p = 0; p < meta.pieceCount; p++) {
          const sum = layout.spans(p * pieceLength, layout.pieceLength(p)).reduce((x, s) => x + s.length, 0);
          assert.equal(sum, layout.pieceLength(p));
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('resolveInside refuses escapes; isInside is not fooled by prefixes', () => {
  assert.equal(resolveInside('/r', ['a', 'b']), '/r/a/b');
  for (const bad of [['..'], ['a', '..', '..', 'x'], ['.'], [''], ['a/b'], ['a\\b'], ['C:x'], ['a\0']]) {
    assert.throws(() => resolveInside('/r', bad), { code: 'STORAGE_UNSAFE_PATH' }, JSON.stringify(bad));
  }
  assert.equal(isInside('/r', '/r/x'), true);
  assert.equal(isInside('/r', '/rx'), false);
  assert.equal(isInside('/r', '/'), false);
  assert.equal(isInside('/r', '/r/..x'), true);
});

test('metainfo that does not add up is refused', () => {
  const { meta } = makeMeta({ name: 'm', files: [{ path: ['a'], length: 10 }, { path: ['b'], length: 10 }], pieceLength: 16 });
  assert.throws(() => new Layout({ ...meta, pieceCount: 3 }, '/r'), { code: 'STORAGE_BAD_METAINFO' });
  assert.throws(() => new Layout({ ...meta, length: 21 }, '/r'), { code: 'STORAGE_BAD_METAINFO' });
  assert.throws(() => new Layout({ ...meta, files: [meta.files[0]!, { ...meta.files[1]!, offset: 11 }] }, '/r'), { code: 'STORAGE_BAD_METAINFO' });
  assert.throws(() => new Layout({ ...meta, pieces: meta.pieces.subarray(1) }, '/r'), { code: 'STORAGE_BAD_METAINFO' });
});

test('fileOf agrees with spans over any sequence of ranges (its one-entry memory never answers for another file) (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.nat(3000), { minLength: 1, maxLength: 10 }),
      fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 40 }),
      (lengths, ranges) => {
        const total = lengths.reduce((x, y) => x + y, 0);
        fc.pre(total > 0);
        const { meta } = makeMeta({ name: 't', files: lengths.map((length, i) => ({ path: [`f${i}`], length })), pieceLength: 1024, multiFile: true, payload: Buffer.alloc(total) });
        const layout = new Layout(meta, '/root');
        for (const [a, b] of ranges) {
          const start = a % total;
          const len = 1 + (b % (total - start));
          const spans = layout.spans(start, len);
          assert.equal(layout.fileOf(start, len), spans.length === 1 ? spans[0]!.file : -1, `[${start}, ${start + len}) of ${lengths.join(',')}`);
        }
      },
    ),
  );
});
