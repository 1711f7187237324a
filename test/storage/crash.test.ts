import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { Storage, defaultHashPool } from '../../src/storage/index.js';
import { crashMeta, piece, tempDir } from './helpers.js';

after(() => defaultHashPool().close());

const writer = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));

/** Runs the writer until it has reported `killAfter` verified pieces, then SIGKILLs it.
 *  Returns the pieces it reported. */
function runAndKill(dir: string, killAfter: number, delayMs: number, mode = ''): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, String(delayMs), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    const reported: number[] = [];
    let buf = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer timed out; stderr: ${err}`));
    }, 30_000);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^verified (\d+)$/.exec(line);
        if (m) reported.push(Number(m[1]));
        if ((m && reported.length >= killAfter) || line === 'done') child.kill('SIGKILL');
      }
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited without being killed: ${err}`));
      else resolve(reported);
    });
  });
}

test('SIGKILL mid-download: every piece reported verified is still verified after restart', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta, payload } = crashMeta();
    const all = new Set<number>();
    // Kill early (before or around the first debounced save), then later (after saves).
    for (const [killAfter, delay] of [
      [5, 0],
      [40, 15],
      [60, 5],
    ] as const) {
      const reported = await runAndKill(dir, killAfter, delay);
      assert.ok(reported.length >= killAfter, `reported ${reported.length}`);
      for (const p of reported) all.add(p);
      const st = await Storage.open(meta, { dir });
      const r = await st.check();
      for (const p of all) assert.ok(st.have.has(p), `piece ${p} was reported verified before the kill but is not after restart`);
      for (const p of st.have.indexes()) assert.deepEqual(await st.readBlock(p, 0, st.pieceLength(p)), piece(meta, payload, p));
      assert.equal(r.fromResume, true, 'the writer saved resume data after its check');
      await st.close();
    }
    // Finish the download and compare bytes.
    const st = await Storage.open(meta, { dir });
    await st.check();
    for (let i = 0; i < meta.pieceCount; i++) if (!st.have.has(i)) await st.writePiece(i, piece(meta, payload, i));
    assert.equal(st.isComplete(), true);
    await st.close();
    let off = 0;
    for (const f of meta.files) {
      assert.deepEqual(await readFile(join(dir, 'crash', ...f.path)), payload.subarray(off, off + f.length));
      off += f.length;
    }
  } finally {
    await cleanup();
  }
});

// The writer starts piece 1's write once a snapshot holds writes (after it copied the
// verified pieces), and pins every mtime to one whole second (a 1 s-timestamp file system),
// so the file looks unchanged since the snapshot's stamp: only the racy mark makes the
// restart rehash it. Checked: with racy marks turned off in storage this test fails.
test('a write racing a resume snapshot is not lost after SIGKILL', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { meta, payload } = crashMeta();
    const reported = await runAndKill(dir, 2, 0, 'racy');
    assert.deepEqual(reported, [0, 1]);
    const st = await Storage.open(meta, { dir });
    const r = await st.check();
    assert.equal(r.fromResume, true);
    assert.ok(st.have.has(0) && st.have.has(1), 'both pieces reported verified are verified');
    assert.deepEqual(await st.readBlock(1, 0, 16384), piece(meta, payload, 1));
    await st.close();
  } finally {
    await cleanup();
  }
});
