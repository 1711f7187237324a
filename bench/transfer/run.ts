// bench/transfer: one file (1 GiB by default) over loopback, seeder -> leecher, for the
// reference pairs (aria2c -> aria2c, transmission -> aria2c) and sta's pairs (sta -> sta,
// aria2c -> sta, sta -> aria2c, transmission -> sta, sta -> transmission), in one run.
// Prints MB/s, the leecher's CPU seconds and peak RSS, the seeder's CPU during the
// transfer, and sta's rows as ratios to the best reference. Peers meet through
// opentracker (the reference tracker; a fresh one per row), so the tracker is not measured.
//
//   node --import tsx bench/transfer/run.ts [--size 1GiB] [--piece-length 1MiB]
//        [--rows aria2-aria2,tr-aria2,sta-sta,aria2-sta,sta-aria2,tr-sta,sta-tr]
//        [--timeout 300] [--runs 1] [--keep]
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeFile } from '../../test/interop/helpers/payload.js';
import {
  Workspace,
  aria2Download,
  aria2Seed,
  compareTrees,
  freePort,
  hasProgram,
  makeTorrent,
  sampleProc,
  sleep,
  staDownload,
  staSeed,
  startOpentracker,
  Transmission,
  waitForSwarm,
  withTimeout,
  REPO_ROOT,
} from '../../test/interop/helpers/clients.js';
import type { Proc } from '../../test/interop/helpers/clients.js';

type Client = 'aria2' | 'tr' | 'sta';
const LABEL: Record<Client, string> = { aria2: 'aria2c', tr: 'transmission', sta: 'sta' };
const ALL_ROWS = ['aria2-aria2', 'tr-aria2', 'sta-sta', 'aria2-sta', 'sta-aria2', 'tr-sta', 'sta-tr'];

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size: ${s}`);
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  const mult = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit] ?? 1;
  return Math.round(Number(m[1]) * mult);
}

const { values: opts } = parseArgs({
  options: {
    size: { type: 'string', default: '1GiB' },
    'piece-length': { type: 'string', default: '1MiB' },
    rows: { type: 'string', default: ALL_ROWS.join(',') },
    timeout: { type: 'string', default: '300' },
    keep: { type: 'boolean', default: false },
    runs: { type: 'string', default: '1' },
  },
});
const SIZE = parseSize(opts.size);
const PIECE_LENGTH = parseSize(opts['piece-length']);
const ROW_TIMEOUT_MS = Number(opts.timeout) * 1000;
const RUNS = Math.max(1, Number(opts.runs) || 1);
const ROWS = opts.rows.split(',').map((r) => r.trim()).filter(Boolean);
for (const r of ROWS) if (!ALL_ROWS.includes(r)) throw new Error(`unknown row ${r} (known: ${ALL_ROWS.join(', ')})`);

interface RowResult {
  row: string;
  seeder: Client;
  leecher: Client;
  ok: boolean;
  error?: string;
  /** From the start of the transfer (both sides up) to the leecher complete. */
  wallS?: number;
  /** From the first byte on the leecher's disk to complete. */
  dataS?: number;
  leecherCpuS?: number;
  /** The same split (aria2c and sta: /usr/bin/time; Transmission: /proc). */
  leecherUserS?: number;
  leecherSysS?: number;
  /** With --runs N: the leecher CPU of every successful run of this row. */
  cpuRuns?: number[];
  leecherPeakRss?: number;
  seederCpuS?: number;
}

/** Bytes the leecher has on disk (allocated blocks): 0 until the first block lands. */
async function bytesOnDisk(path: string): Promise<number> {
  try {
    const st = await stat(path);
    return st.blocks * 512;
  } catch {
    return 0;
  }
}

/** `/usr/bin/time` prefix writing "user sys maxrssKB" to `file`. */
function timePrefix(file: string): string[] {
  return ['/usr/bin/time', '-f', '%U %S %M', '-o', file];
}

async function readTimeFile(file: string): Promise<{ cpuS: number; userS: number; sysS: number; peakRss: number } | undefined> {
  try {
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    const [u, s, m] = (lines[lines.length - 1] ?? '').split(' ').map(Number);
    if (u === undefined || s === undefined || m === undefined || [u, s, m].some(Number.isNaN)) return undefined;
    return { cpuS: u + s, userS: u, sysS: s, peakRss: m * 1024 };
  } catch {
    return undefined;
  }
}

async function runRow(base: Workspace, row: string, srcDir: string, name: string): Promise<RowResult> {
  const [seeder, leecher] = row.split('-') as [Client, Client];
  const res: RowResult = { row, seeder, leecher, ok: false };
  const ws = await Workspace.create(`${row}-`, base.dir);
  const dlDir = await ws.mkdir('dl');
  const outFile = join(dlDir, name);
  const timeFile = ws.path('leecher.time');
  // A fresh tracker (and so a fresh .torrent) per row: peers of the previous row that
  // did not say `stopped` would otherwise count as this row's seeder (see README).
  const port = await freePort();
  const announceUrl = `http://127.0.0.1:${port}/announce`;
  const torrent = ws.path('payload.torrent');
  let seederProc: Proc | undefined;
  let seederCpu0 = 0;
  let tr: Transmission | undefined;
  let trId = 0;
  try {
    const hash = await makeTorrent(ws, join(srcDir, name), torrent, { trackers: [announceUrl], pieceLength: PIECE_LENGTH });
    await startOpentracker(ws, [hash], { port });
    const deadline = Date.now() + ROW_TIMEOUT_MS;
    const left = () => Math.max(1000, deadline - Date.now());

    const startSeeder = async () => {
      if (seeder === 'aria2') {
        const h = await aria2Seed(ws, { torrent, dir: srcDir });
        seederProc = h.proc;
        await waitForSwarm(announceUrl, hash, { seeders: 1 }, left());
      } else if (seeder === 'tr') {
        tr = await Transmission.start(ws, { downloadDir: srcDir, name: 'transmission-seed' });
        const id = await tr.add(torrent);
        await tr.waitSeeding(id, left());
        seederProc = tr.proc;
        await waitForSwarm(announceUrl, hash, { seeders: 1 }, left());
      } else {
        const h = await staSeed(ws, { torrent, dir: srcDir, timeoutMs: left() });
        seederProc = h.proc;
        await waitForSwarm(announceUrl, hash, { seeders: 1 }, left());
      }
      seederCpu0 = sampleProc(seederProc.pid)?.cpuS ?? 0;
    };

    let t0 = 0;
    let waitDone: () => Promise<void>;
    let leecherPid = 0;
    if (leecher === 'tr') {
      // Transmission never dials loopback peers: it announces first, the seeder dials it.
      tr = await Transmission.start(ws, { downloadDir: dlDir, name: 'transmission-leech' });
      trId = await tr.add(torrent);
      leecherPid = tr.proc.pid;
      await waitForSwarm(announceUrl, hash, { leechers: 1 }, left());
      await startSeeder();
      t0 = performance.now();
      const trRef = tr;
      waitDone = async () => {
        await trRef.waitComplete(trId, left());
      };
    } else {
      await startSeeder();
      t0 = performance.now();
      if (leecher === 'aria2') {
        const h = await aria2Download(ws, { torrent, dir: dlDir, prefix: timePrefix(timeFile) });
        waitDone = () => h.done(left());
      } else {
        const h = await staDownload(ws, { torrent, dir: dlDir, prefix: timePrefix(timeFile) });
        waitDone = () => h.done(left());
      }
    }

    // first byte on disk, polled alongside the wait for completion
    let firstByteAt = 0;
    let finished = false;
    const poller = (async () => {
      while (!finished && !firstByteAt) {
        if ((await bytesOnDisk(outFile)) > 0) firstByteAt = performance.now();
        else await sleep(50);
      }
    })();
    await withTimeout(waitDone(), left() + 5000, `${row} transfer`);
    const t1 = performance.now();
    finished = true;
    await poller;
    res.wallS = (t1 - t0) / 1000;
    res.dataS = firstByteAt ? (t1 - firstByteAt) / 1000 : res.wallS;
    if (leecher === 'tr') {
      const s = sampleProc(leecherPid);
      res.leecherCpuS = s?.cpuS;
      res.leecherPeakRss = s?.peakRssBytes;
      await tr!.stopTorrent(trId); // flush its cache before comparing
      await sleep(500);
    } else {
      const s = await readTimeFile(timeFile);
      res.leecherCpuS = s?.cpuS;
      res.leecherUserS = s?.userS;
      res.leecherSysS = s?.sysS;
      res.leecherPeakRss = s?.peakRss;
    }
    if (seederProc) {
      const s = sampleProc(seederProc.pid);
      if (s) res.seederCpuS = s.cpuS - seederCpu0;
    }
    const cmp = await compareTrees(join(srcDir, name), outFile);
    if (!cmp.equal) throw new Error(`output differs: ${cmp.differences.join('; ')}`);
    res.ok = true;
  } catch (e) {
    res.error = (e as Error).message.split('\n')[0];
    const report = ws.report(15);
    process.stderr.write(`\n[${row}] failed: ${(e as Error).message.split('\n')[0]}${report}\n`);
  } finally {
    await ws.cleanup();
  }
  return res;
}

const MB = 1e6;
const fmt = (n: number | undefined, d = 1) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(d));

async function main(): Promise<void> {
  for (const p of ['aria2c', 'transmission-daemon', 'opentracker', 'mktorrent']) {
    if (!hasProgram(p)) throw new Error(`bench/transfer needs ${p} (scripts/install-deps.sh installs it)`);
  }
  const workRoot = join(REPO_ROOT, 'bench', '.work', 'transfer');
  await mkdir(workRoot, { recursive: true });
  const base = await Workspace.create('run-', workRoot);
  try {
    const srcDir = await base.mkdir('src');
    const name = `payload-${SIZE}.bin`;
    const t = performance.now();
    await makeFile(join(srcDir, name), SIZE, 'bench-transfer');
    console.log(`# payload: ${(SIZE / 2 ** 20).toFixed(0)} MiB in ${((performance.now() - t) / 1000).toFixed(1)} s; piece length ${PIECE_LENGTH}`);
    console.log(`# ${new Date().toISOString()} node ${process.version}; leecher CPU/RSS by /usr/bin/time (Transmission: /proc at completion)`);

    // --runs N: N rounds, each running every row once (interleaved, so a machine getting
    // busier or quieter affects every row alike); per row the run with the median wall time
    // is kept (two cores make single runs noisy; a failed run counts as slowest), and the
    // median leecher CPU of all its runs is shown beside it.
    const byRow = new Map<string, RowResult[]>(ROWS.map((r) => [r, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const row of ROWS) {
        const r = await runRow(base, row, srcDir, name);
        printRow(r);
        byRow.get(row)!.push(r);
      }
    }
    const results: RowResult[] = [];
    for (const row of ROWS) {
      const runs = byRow.get(row)!;
      runs.sort((a, b) => (a.ok ? (a.wallS ?? Infinity) : Infinity) - (b.ok ? (b.wallS ?? Infinity) : Infinity));
      const kept = runs[Math.floor((runs.length - 1) / 2)]!;
      kept.cpuRuns = runs.filter((r) => r.ok && r.leecherCpuS !== undefined).map((r) => r.leecherCpuS!);
      results.push(kept);
    }
    printTable(results);
  } finally {
    if (opts.keep) console.log(`# kept ${base.dir}`);
    else await base.cleanup();
  }
}

function mbps(r: RowResult, which: 'wall' | 'data'): number | undefined {
  const s = which === 'wall' ? r.wallS : r.dataS;
  return r.ok && s ? SIZE / s / MB : undefined;
}

function printRow(r: RowResult): void {
  const pair = `${LABEL[r.seeder]} -> ${LABEL[r.leecher]}`;
  if (!r.ok) {
    console.log(`# ${pair}: FAILED ${r.error ?? ''}`);
    return;
  }
  console.log(
    `# ${pair}: ${fmt(r.wallS, 2)} s, ${fmt(mbps(r, 'wall'))} MB/s wall, ${fmt(mbps(r, 'data'))} MB/s from first byte, leecher ${fmt(r.leecherCpuS, 2)} CPU s${r.leecherUserS !== undefined ? ` (user ${fmt(r.leecherUserS, 2)} + sys ${fmt(r.leecherSysS, 2)})` : ''}, ${fmt((r.leecherPeakRss ?? NaN) / MB, 0)} MB peak RSS`,
  );
}

/** "median (min-max)" of per-run CPU seconds, per GiB. */
function cpuSpread(runs: number[] | undefined, gib: number): string {
  if (!runs || runs.length === 0) return '';
  const v = [...runs].sort((a, b) => a - b).map((x) => x / gib);
  const mid = v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  return v.length === 1 ? fmt(mid, 2) : `${fmt(mid, 2)} (${fmt(v[0], 2)}-${fmt(v[v.length - 1], 2)})`;
}

function printTable(results: RowResult[]): void {
  const refs = results.filter((r) => r.ok && r.seeder !== 'sta' && r.leecher !== 'sta');
  const bestRef = refs.reduce<RowResult | undefined>((b, r) => (!b || (mbps(r, 'wall') ?? 0) > (mbps(b, 'wall') ?? 0) ? r : b), undefined);
  const bestWall = bestRef ? mbps(bestRef, 'wall') : undefined;
  const bestData = refs.reduce((m, r) => Math.max(m, mbps(r, 'data') ?? 0), 0) || undefined;
  const gib = SIZE / 2 ** 30;
  console.log(`\n## bench/transfer: ${(SIZE / 2 ** 20).toFixed(0)} MiB over loopback, piece length ${PIECE_LENGTH / 1024} KiB${RUNS > 1 ? `, median of ${RUNS} runs` : ''}`);
  console.log(
    '| seeder -> leecher | wall s | MB/s (wall) | MB/s (from 1st byte) | leecher CPU s | CPU s/GiB | CPU s/GiB, all runs: median (min-max) | leecher peak RSS MB | seeder CPU s | x best ref (wall) | x best ref (1st byte) | x pair ref (wall) |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  // The same pair with sta replaced by aria2c: is sta the slow side of a mixed pair?
  const pairRef = (r: RowResult) => {
    const ref = results.find((x) => x.ok && x.seeder === (r.seeder === 'sta' ? 'aria2' : r.seeder) && x.leecher === (r.leecher === 'sta' ? 'aria2' : r.leecher));
    return ref ? mbps(ref, 'wall') : undefined;
  };
  for (const r of results) {
    const pair = `${LABEL[r.seeder]} -> ${LABEL[r.leecher]}`;
    if (!r.ok) {
      console.log(`| ${pair} | failed: ${(r.error ?? '').replace(/\|/g, '/').slice(0, 120)} | | | | | | | | | | |`);
      continue;
    }
    const isSta = r.seeder === 'sta' || r.leecher === 'sta';
    const ratio = (v: number | undefined, best: number | undefined) => (isSta && v && best ? `${(v / best).toFixed(2)}x` : '');
    console.log(
      `| ${pair} | ${fmt(r.wallS, 2)} | ${fmt(mbps(r, 'wall'))} | ${fmt(mbps(r, 'data'))} | ${fmt(r.leecherCpuS, 2)} | ${fmt(r.leecherCpuS === undefined ? undefined : r.leecherCpuS / gib, 2)} | ${cpuSpread(r.cpuRuns, gib)} | ${fmt((r.leecherPeakRss ?? NaN) / MB, 0)} | ${fmt(r.seederCpuS, 2)} | ${ratio(mbps(r, 'wall'), bestWall)} | ${ratio(mbps(r, 'data'), bestData)} | ${ratio(mbps(r, 'wall'), pairRef(r))} |`,
    );
  }
  if (bestRef) console.log(`\nbest reference: ${LABEL[bestRef.seeder]} -> ${LABEL[bestRef.leecher]} (${fmt(bestWall)} MB/s wall)`);
  console.log('pair ref: the same pair with sta replaced by aria2c (none for sta -> transmission: aria2c -> transmission cannot connect on loopback)');
}

const watchdog = setTimeout(
  () => {
    console.error('bench/transfer: overall time limit reached');
    process.exit(1);
  },
  ROWS.length * RUNS * (ROW_TIMEOUT_MS + 60_000) + 120_000,
);
watchdog.unref();
main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`bench/transfer: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
