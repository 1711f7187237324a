// bench/storage: how fast Storage.check() hashes a 1 GiB file (no resume data: every
// piece read and SHA-1'd in the worker pool), against mktorrent -t 2 hashing the same
// page-cached file, and sha1sum (one core) for scale. Also the resume fast path.
// Run: node --import tsx bench/storage/run.ts [--size-mib N] [--piece-log2 L]
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Storage, defaultHashPool } from '../../src/storage/index.js';
import { parseTorrent } from '../../src/torrent/index.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const sizeMiB = arg('--size-mib', 1024);
const pieceLog2 = arg('--piece-log2', 20);
const work = fileURLToPath(new URL('../.work/storage/', import.meta.url));
const data = join(work, 'data');
const file = join(data, `payload-${sizeMiB}MiB.bin`);
mkdirSync(data, { recursive: true });

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

if (!existsSync(file) || statSync(file).size !== sizeMiB * 1024 * 1024) {
  console.error(`writing ${sizeMiB} MiB of random data to ${file}`);
  const fd = openSync(file, 'w');
  const chunk = Buffer.allocUnsafe(16 * 1024 * 1024);
  for (let left = sizeMiB * 1024 * 1024; left > 0; left -= chunk.length) {
    randomFillSync(chunk);
    writeSync(fd, chunk, 0, Math.min(chunk.length, left));
  }
  closeSync(fd);
}
// Page-cache the file so every contender hashes from memory (as mktorrent's figure in
// INTEROP.md was measured).
execFileSync('sh', ['-c', `cat '${file}' > /dev/null`]);

function timeIt(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const torrent = join(work, `payload-${sizeMiB}MiB-l${pieceLog2}.torrent`);
rmSync(torrent, { force: true });
if (!have('mktorrent')) throw new Error('mktorrent is not installed (apt-get install mktorrent)');
const runs = 5;
const best = (xs: number[]) => Math.min(...xs);
const mk: number[] = [];
const runMktorrent = () => {
  rmSync(torrent, { force: true });
  mk.push(timeIt(() => execFileSync('mktorrent', ['-t', '2', '-l', String(pieceLog2), '-a', 'http://127.0.0.1:1/announce', '-o', torrent, file], { stdio: 'ignore' })));
};
runMktorrent();
const sha1sum = have('sha1sum') ? timeIt(() => execFileSync('sha1sum', [file], { stdio: 'ignore' })) : NaN;

const meta = parseTorrent(readFileSync(torrent));
// One core of the same SHA-1 (node's OpenSSL) over the same pieces: what 2 cores double.
const oneCore = timeIt(() => {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(meta.pieceLength);
  for (let i = 0; i < meta.pieceCount; i++) {
    const n = readSync(fd, buf, 0, buf.length, i * meta.pieceLength);
    createHash('sha1').update(buf.subarray(0, n)).digest();
  }
  closeSync(fd);
});
const resumePath = join(work, 'bench.resume');
const staCold: number[] = [];
let pieces = 0;
// Interleaved with the reference, best of each: a shared machine's load hits both alike.
for (let r = 0; r < runs; r++) {
  if (r > 0) runMktorrent();
  rmSync(resumePath, { force: true });
  const st = await Storage.open(meta, { dir: data, resumePath });
  staCold.push(
    await timeAsync(async () => {
      const res = await st.check();
      pieces = res.havePieces;
    }),
  );
  await st.close();
}
if (pieces !== meta.pieceCount) throw new Error(`check verified ${pieces} of ${meta.pieceCount} pieces`);
// Resume fast path: resume data written by the last close, files unchanged.
const stWarm = await Storage.open(meta, { dir: data, resumePath });
let fromResume = false;
const staResume = await timeAsync(async () => {
  fromResume = (await stWarm.check()).fromResume;
});
await stWarm.close();
await defaultHashPool().close();

const mib = sizeMiB;
const rate = (s: number) => `${(mib / 1.048576 / s).toFixed(0)} MB/s`;
console.log(`# storage check: ${mib} MiB, ${meta.pieceCount} pieces of ${meta.pieceLength} bytes, ${availableParallelism()} cores, best of ${runs} interleaved runs`);
console.log(`| contender | seconds | rate | ratio to mktorrent -t 2 |`);
console.log(`|---|---|---|---|`);
console.log(`| mktorrent -t 2 (reference) | ${best(mk).toFixed(3)} | ${rate(best(mk))} | 1.00 |`);
if (!Number.isNaN(sha1sum)) console.log(`| sha1sum (1 core, whole file) | ${sha1sum.toFixed(3)} | ${rate(sha1sum)} | ${(best(mk) / sha1sum).toFixed(2)} |`);
console.log(`| node crypto SHA-1, 1 core, same pieces | ${oneCore.toFixed(3)} | ${rate(oneCore)} | ${(best(mk) / oneCore).toFixed(2)} |`);
console.log(`| sta Storage.check() (no resume) | ${best(staCold).toFixed(3)} | ${rate(best(staCold))} | ${(best(mk) / best(staCold)).toFixed(2)} |`);
console.log(`| sta Storage.check() (resume data) | ${staResume.toFixed(3)} | - | fromResume=${fromResume} |`);
console.log(`ratio (mktorrent time / sta time, higher is better): ${(best(mk) / best(staCold)).toFixed(2)}; sta vs one core: ${(oneCore / best(staCold)).toFixed(2)}x`);
