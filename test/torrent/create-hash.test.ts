import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILE_CHANGED, makeHashJob, PieceHasher, type HashJob } from '../../src/torrent/create-hash.js';
import { piecesOf } from './build.js';

function job(paths: string[], lengths: number[], pieceLength: number, piecesPerBatch = 2): HashJob {
  return makeHashJob(paths, lengths, pieceLength, piecesPerBatch);
}

test('hashes pieces that span several files, empty ones included', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sta-hash-'));
  try {
    const contents = [Buffer.from('abc'), Buffer.alloc(0), Buffer.from('defghij'), Buffer.alloc(0), Buffer.from('k')];
    const paths = contents.map((_, i) => join(dir, `f${i}`));
    await Promise.all(contents.map((c, i) => writeFile(paths[i]!, c)));
    for (const pieceLength of [1, 2, 4, 5, 16]) {
      const j = job(paths, contents.map((c) => c.length), pieceLength);
      new PieceHasher(j).run();
      assert.deepEqual(Buffer.from(j.hashes), piecesOf(Buffer.concat(contents), pieceLength), `piece length ${pieceLength}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a file shorter than announced is a TORRENT_FILE_CHANGED error, and stops other hashers', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sta-hash-'));
  try {
    const p = join(dir, 'short');
    await writeFile(p, 'abc');
    const j = job([p], [10], 4);
    assert.throws(() => new PieceHasher(j).run(), (e) => (e as NodeJS.ErrnoException).code === FILE_CHANGED);
    assert.equal(new Int32Array(j.control)[2], 1, 'abort flag set');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
