import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileGlob, wantedFilesFromGlobs } from '../../src/storage/index.js';
import { makeMeta } from './helpers.js';

test('glob: * stays within a folder, ** crosses folders, ? is one character', () => {
  const cases: [string, string, boolean][] = [
    ['*.txt', 'a.txt', true],
    ['*.txt', 'd/a.txt', false],
    ['d/*.txt', 'd/a.txt', true],
    ['d/*.txt', 'd/e/a.txt', false],
    ['d/**', 'd/e/a.txt', true],
    ['**/a.txt', 'a.txt', true],
    ['**/a.txt', 'x/y/a.txt', true],
    ['**/a.txt', 'x/ya.txt', false],
    ['d/**/a.txt', 'd/a.txt', true],
    ['d/**/a.txt', 'd/x/y/a.txt', true],
    ['d/**/a.txt', 'd/xa.txt', false],
    ['?.bin', 'a.bin', true],
    ['?.bin', 'ab.bin', false],
    ['?', '/', false],
    ['a[1].txt', 'a[1].txt', true],
    ['a.+', 'a.+', true],
    ['a.+', 'aa+', false],
    ['ü*', 'über', true],
    ['./x', 'x', true],
  ];
  for (const [g, p, want] of cases) assert.equal(compileGlob(g)(p), want, `${g} vs ${p}`);
});

test('glob: hostile patterns stay fast (no exponential backtracking)', () => {
  const g = compileGlob('*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b');
  const t0 = Date.now();
  assert.equal(g('a'.repeat(4000)), false);
  assert.ok(Date.now() - t0 < 2000);
  assert.throws(() => compileGlob(''), { code: 'STORAGE_BAD_GLOB' });
  assert.throws(() => compileGlob('x'.repeat(5000)), { code: 'STORAGE_BAD_GLOB' });
});

test('wantedFilesFromGlobs: patterns without / also match base names; pad files never', () => {
  const { meta } = makeMeta({
    name: 'm',
    pieceLength: 16384,
    files: [
      { path: ['docs', 'readme.txt'], length: 10 },
      { path: ['video', 'a.mkv'], length: 10 },
      { path: ['.pad', '6'], length: 6, pad: true },
      { path: ['video', 'extras', 'b.mkv'], length: 10 },
      { path: ['top.txt'], length: 3 },
    ],
  });
  assert.deepEqual(wantedFilesFromGlobs(meta, ['*.mkv']), [false, true, false, true, false]);
  assert.deepEqual(wantedFilesFromGlobs(meta, ['video/*.mkv']), [false, true, false, false, false]);
  assert.deepEqual(wantedFilesFromGlobs(meta, ['**/*.txt', 'video/extras/**']), [true, false, false, true, true]);
  assert.deepEqual(wantedFilesFromGlobs(meta, ['**']), [true, true, false, true, true]);
  assert.deepEqual(wantedFilesFromGlobs(meta, ['nothing']), [false, false, false, false, false]);
});
