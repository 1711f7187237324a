// bench/tracker: the same announce load against opentracker, bittorrent-tracker, a
// fixed-reply Node server (the runtime's own limit) and `sta tracker` (memory store, then
// Redis store), in one run; prints announces/s, server CPU and RSS, and sta's ratios.
// Then the memory store's resident bytes per peer with 1,000,000 peers in 100,000 swarms.
//
//   node --import tsx bench/tracker/run.ts [options]
//     --duration S        seconds per measurement (default 10)
//     --targets LIST      comma list of opentracker,bittorrent-tracker,fixed-reply,sta-memory,sta-redis
//                         (default), and sta-stub: sta's servers over a store that keeps nothing,
//                         and fixed-reply-2t: fixed-reply with UDP served by 2 threads on one fd,
//                         sta-memory-1t: sta-memory with its UDP on one thread (--udp-threads 1),
//                         sta-memory-2t: on two threads (--udp-threads 2), sta-memory-dgram: UDP
//                         through node:dgram instead of the batch addon (--udp-io dgram: two threads),
//                         sta-memory-httpnode: HTTP through net.Server instead of the native
//                         HTTP addon (--http-io node)
//     --modes LIST        comma list of http-close,http-keepalive,udp,udp-reuse (default all)
//     --wrk-threads N     (default 2)   --wrk-connections N (default 64)
//     --udp-workers N     load-generator threads (default 2)   --udp-inflight N per thread (default 64:
//                         more overflows a target's default 208 KB socket buffer and measures losses)
//     --udp-gen G         the UDP generator: native (bench/tracker/udp-load.c, compiled with cc;
//                         the default when cc exists) or node (udp-load-worker.ts, worker threads)
//     --repeat N          run each measurement N times and keep the best (default 1; the box is noisy)
//     --mem-peers N       peers for the memory-store measurement (default 1000000; 0 skips it)
//     --mem-swarms N      swarms for it (default 100000)
//     --no-build          do not run `npm run build` first (sta runs from dist/)
// Modes: http-close (Connection: close, as clients announce once per interval), http-keepalive,
// udp (a connect before every announce, as real clients do: intervals outlive connection ids),
// udp-reuse (one connect, then announces reusing the connection id).
// Quick run: --duration 3 --mem-peers 100000 --mem-swarms 10000
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os, { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { decode, isDict } from '../../src/bencode/index.js';
import { type Child, cpuSeconds, freePort, rssBytes, startChild, tcpOpen } from './procs.js';
import type { UdpWorkerParams, UdpWorkerResult } from './udp-load-worker.js';
import { allInfoHashes, infoHash, peerId, percentEncode, wrkLuaScript } from './workload.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const work = join(root, 'bench/.work/tracker');

// ---------- options ----------
const argv = process.argv.slice(2);
function opt(name: string, def: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
}
const flag = (name: string): boolean => argv.includes(`--${name}`);
const durationS = Number(opt('duration', '10'));
const ALL_TARGETS = [
  'opentracker',
  'bittorrent-tracker',
  'fixed-reply',
  'sta-memory',
  'sta-redis',
  'sta-stub',
  'fixed-reply-2t',
  'sta-memory-1t',
  'sta-memory-dgram',
  'sta-memory-2t',
  'sta-memory-httpnode',
] as const;
type TargetName = (typeof ALL_TARGETS)[number];
/** sta-stub (sta's servers over a store that keeps nothing) and fixed-reply-2t (fixed-reply
 *  with UDP served by two threads on one fd) are asked for by name. */
const DEFAULT_TARGETS = ALL_TARGETS.filter((t) => t !== 'sta-stub' && t !== 'fixed-reply-2t' && t !== 'sta-memory-1t' && t !== 'sta-memory-dgram' && t !== 'sta-memory-2t' && t !== 'sta-memory-httpnode');
const targets = opt('targets', DEFAULT_TARGETS.join(',')).split(',') as TargetName[];
const MODES = ['http-close', 'http-keepalive', 'udp', 'udp-reuse'] as const;
type Mode = (typeof MODES)[number];
const modes = opt('modes', MODES.join(',')).split(',') as Mode[];
const wrkThreads = Number(opt('wrk-threads', '2'));
const wrkConnections = Number(opt('wrk-connections', '64'));
const udpWorkers = Number(opt('udp-workers', '2'));
const udpInFlight = Number(opt('udp-inflight', '64'));
const udpGen = opt('udp-gen', spawnSync('cc', ['--version']).status === 0 ? 'native' : 'node');
if (udpGen !== 'native' && udpGen !== 'node') throw new Error('--udp-gen must be native or node');
const repeat = Math.max(1, Math.min(10, Number(opt('repeat', '1'))));
const memPeers = Number(opt('mem-peers', '1000000'));
const memSwarms = Number(opt('mem-swarms', '100000'));
for (const t of targets) if (!ALL_TARGETS.includes(t)) throw new Error(`unknown target ${t}`);
for (const m of modes) if (!MODES.includes(m)) throw new Error(`unknown mode ${m}`);
if (!(durationS > 0 && durationS <= 300)) throw new Error('--duration must be 1..300');

// ---------- targets ----------
interface Running {
  port: number;
  /** The target's output so far (for a post-mortem when it dies under load). */
  output?: () => string;
  pids: number[]; // processes whose CPU and RSS count (the server, then redis-server for sta-redis)
  stop: () => Promise<void>;
}

async function startOpentracker(): Promise<Running> {
  const port = await freePort();
  // Debian's build is whitelist-only and drops root to `nobody`, chrooted into DIR.
  const dir = mkdtempSync(join(tmpdir(), 'sta-bench-ot-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'wl.txt'), allInfoHashes().map((h) => h.toString('hex')).join('\n') + '\n', { mode: 0o644 });
  const args = ['-i', '127.0.0.1', '-p', String(port), '-P', String(port), '-d', dir, '-w', '/wl.txt'];
  if (process.getuid?.() === 0) args.push('-u', 'nobody');
  const c = await startChild('opentracker', args, { ready: () => tcpOpen(port) });
  // It loads the whitelist asynchronously; wait (bounded) until our hash is accepted.
  for (let i = 0; i < 100 && !(await httpAnnounceOk(port)).ok; i++) await sleep(100);
  return {
    port,
    pids: [c.pid],
    stop: async () => {
      await c.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startNodeScript(script: string, readyLine: RegExp): Promise<Running> {
  const port = await freePort();
  const c = await startChild(process.execPath, ['--import', 'tsx', join(here, script), String(port)], { readyLine, cwd: root });
  return { port, pids: [c.pid], stop: c.stop };
}

/** fixed-reply-threads.ts; on stop it prints how many datagrams each of its threads answered. */
async function startTwoThreadFixedReply(): Promise<Running> {
  const port = await freePort();
  const c = await startChild(process.execPath, ['--import', 'tsx', join(here, 'fixed-reply-threads.ts'), String(port)], {
    readyLine: /listening/,
    cwd: root,
  });
  return {
    port,
    pids: [c.pid],
    stop: async () => {
      await c.stop();
      const line = /main thread \d+ datagrams, worker \d+/.exec(c.output());
      console.log(`fixed-reply-2t      ${line ? line[0] : 'per-thread counts not reported'}`);
    },
  };
}

async function startRedis(): Promise<Child & { port: number }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sta-bench-redis-'));
  const c = await startChild(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { readyLine: /Ready to accept connections/ },
  );
  return {
    ...c,
    port,
    stop: async () => {
      await c.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startSta(store: 'memory' | 'redis', extra: string[] = []): Promise<Running> {
  const port = await freePort();
  const redis = store === 'redis' ? await startRedis() : null;
  const storeArg = redis ? `redis://127.0.0.1:${redis.port}` : 'memory';
  try {
    const c = await startChild(
      process.execPath,
      [join(root, 'bin/sta'), 'tracker', '--host', '127.0.0.1', '--port', String(port), '--store', storeArg, ...extra],
      { readyLine: /tracker listening on/, cwd: root },
    );
    return {
      port,
      output: c.output,
      pids: redis ? [c.pid, redis.pid] : [c.pid],
      stop: async () => {
        await c.stop();
        await redis?.stop();
      },
    };
  } catch (e) {
    await redis?.stop();
    throw e;
  }
}

function startTarget(t: TargetName): Promise<Running> {
  switch (t) {
    case 'opentracker':
      return startOpentracker();
    case 'bittorrent-tracker':
      return startNodeScript('bt-tracker.ts', /listening/);
    case 'fixed-reply':
      return startNodeScript('fixed-reply.ts', /listening/);
    case 'sta-stub':
      return startNodeScript('sta-stub.ts', /listening/);
    case 'fixed-reply-2t':
      return startTwoThreadFixedReply();
    case 'sta-memory':
      return startSta('memory');
    case 'sta-redis':
      return startSta('redis');
    case 'sta-memory-1t':
      return startSta('memory', ['--udp-threads', '1']);
    case 'sta-memory-dgram':
      return startSta('memory', ['--udp-io', 'dgram']);
    case 'sta-memory-2t':
      return startSta('memory', ['--udp-threads', '2']);
    case 'sta-memory-httpnode':
      return startSta('memory', ['--http-io', 'node']);
  }
}

// ---------- sanity checks: a target must answer a real announce before it is measured ----------
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function httpAnnounceOk(port: number): Promise<{ ok: boolean; detail: string }> {
  const q =
    `info_hash=${percentEncode(infoHash(0))}&peer_id=${percentEncode(peerId(9999))}` +
    `&port=19999&uploaded=0&downloaded=0&left=1000&compact=1&numwant=50&key=1`;
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: `/announce?${q}`, timeout: 3000, agent: false, headers: { Connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          const d = decode(Buffer.concat(chunks));
          if (!isDict(d)) return resolve({ ok: false, detail: 'not a dict' });
          if (d['failure reason'] !== undefined)
            return resolve({ ok: false, detail: `failure: ${Buffer.from(d['failure reason'] as Uint8Array).toString()}` });
          resolve({ ok: d.interval !== undefined, detail: 'ok' });
        } catch (e) {
          resolve({ ok: false, detail: String(e) });
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ ok: false, detail: e.message }));
  });
}

function udpAnnounceOk(port: number): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => end(false, 'timeout'), 3000);
    const end = (ok: boolean, detail: string): void => {
      clearTimeout(timer);
      s.close();
      resolve({ ok, detail });
    };
    s.on('message', (m) => {
      const action = m.readUInt32BE(0);
      if (action === 0) {
        const a = Buffer.alloc(98);
        m.copy(a, 0, 8, 16);
        a.writeUInt32BE(1, 8);
        a.writeUInt32BE(2, 12);
        infoHash(0).copy(a, 16);
        peerId(9998).copy(a, 36);
        a.writeBigUInt64BE(1000n, 64);
        a.writeInt32BE(50, 92);
        a.writeUInt16BE(19998, 96);
        s.send(a, port, '127.0.0.1');
      } else if (action === 1) end(true, 'ok');
      else end(false, `action ${action}: ${m.subarray(8).toString()}`);
    });
    const c = Buffer.alloc(16);
    c.writeBigUInt64BE(0x41727101980n, 0);
    c.writeUInt32BE(1, 12);
    s.send(c, port, '127.0.0.1');
  });
}

// ---------- load ----------
interface Measure {
  perS: number;
  detail: string;
  cpuS: number;
  /** CPU seconds per process of the target (sta and redis-server for sta-redis). */
  cpuSplit: number[];
  wallS: number;
}

async function runWrk(port: number, keepAlive: boolean): Promise<{ perS: number; detail: string }> {
  const script = join(work, keepAlive ? 'announce-keepalive.lua' : 'announce-close.lua');
  const args = ['-t', String(wrkThreads), '-c', String(wrkConnections), '-d', `${durationS}s`, '-s', script, `http://127.0.0.1:${port}/`];
  const p = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const kill = setTimeout(() => p.kill('SIGKILL'), (durationS + 20) * 1000);
  await new Promise((r) => p.once('exit', r));
  clearTimeout(kill);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!rps) throw new Error(`wrk failed: ${out.slice(0, 400)}`);
  const notes: string[] = [];
  const errs = /Socket errors: (.*)/.exec(out);
  if (errs) notes.push(`socket errors ${errs[1]}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) notes.push(`non-2xx ${non2xx[1]}`);
  return { perS: Number(rps[1]), detail: notes.join('; ') };
}

/** bench/tracker/udp-load.c built into the work dir (once per run), and the hashes file it reads. */
let nativeGen: { exe: string; hashes: string } | null = null;
function buildNativeGen(): { exe: string; hashes: string } {
  if (nativeGen) return nativeGen;
  const exe = join(work, 'udp-load');
  const b = spawnSync('cc', ['-O2', '-pthread', '-o', exe, join(here, 'udp-load.c')], { encoding: 'utf8', timeout: 60_000 });
  if (b.status !== 0) throw new Error(`cc udp-load.c failed: ${b.stderr || String(b.error)}`);
  const hashes = join(work, 'hashes.txt');
  writeFileSync(hashes, allInfoHashes().map((h) => h.toString('hex')).join('\n') + '\n');
  return (nativeGen = { exe, hashes });
}

function runUdpNative(port: number, udpReuse: boolean): Promise<UdpWorkerResult> {
  const g = buildNativeGen();
  const args = ['127.0.0.1', String(port), String(udpWorkers), String(udpInFlight), String(durationS * 1000), udpReuse ? '1' : '0', g.hashes];
  return new Promise((resolve, reject) => {
    const c = spawn(g.exe, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: (durationS + 20) * 1000 });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('error', reject);
    c.on('close', (code) => {
      if (code !== 0) return reject(new Error(`udp-load exited ${code}: ${err.trim()}`));
      try {
        resolve(JSON.parse(out) as UdpWorkerResult);
      } catch {
        reject(new Error(`udp-load printed ${JSON.stringify(out)}`));
      }
    });
  });
}

async function runUdp(port: number, udpReuse: boolean): Promise<{ perS: number; detail: string }> {
  if (udpGen === 'native') {
    const r = await runUdpNative(port, udpReuse);
    const notes = [`avg peers/reply ${(r.peersReturned / Math.max(1, r.announces)).toFixed(1)}`];
    if (r.lost) notes.push(`lost ${r.lost}`);
    if (r.errors) notes.push(`error replies ${r.errors}`);
    return { perS: r.announces / (r.elapsedMs / 1000), detail: notes.join('; ') };
  }
  const workerUrl = new URL('./udp-load-worker.mjs', import.meta.url);
  const params: UdpWorkerParams = {
    host: '127.0.0.1',
    port,
    inFlight: udpInFlight,
    durationMs: durationS * 1000,
    maxAnnounces: 50_000_000,
    timeoutMs: 1000,
    reuseConnection: udpReuse,
  };
  const results = await Promise.all(
    Array.from({ length: udpWorkers }, () => {
      const w = new Worker(workerUrl, { workerData: params });
      return new Promise<UdpWorkerResult>((resolve, reject) => {
        const kill = setTimeout(() => void w.terminate().then(() => reject(new Error('udp worker hung'))), (durationS + 20) * 1000);
        w.once('message', (r: UdpWorkerResult) => {
          clearTimeout(kill);
          void w.terminate();
          resolve(r);
        });
        w.once('error', (e) => {
          clearTimeout(kill);
          reject(e);
        });
      });
    }),
  );
  let perS = 0;
  let lost = 0;
  let errors = 0;
  let announces = 0;
  let peers = 0;
  for (const r of results) {
    perS += r.announces / (r.elapsedMs / 1000);
    lost += r.lost;
    errors += r.errors;
    announces += r.announces;
    peers += r.peersReturned;
  }
  const notes = [`avg peers/reply ${(peers / Math.max(1, announces)).toFixed(1)}`];
  if (lost) notes.push(`lost ${lost}`);
  if (errors) notes.push(`error replies ${errors}`);
  return { perS, detail: notes.join('; ') };
}

/** Sockets in TIME_WAIT (IPv4 and IPv6), from /proc/net/sockstat{,6}. */
function timeWaitCount(): number {
  let n = 0;
  for (const f of ['/proc/net/sockstat', '/proc/net/sockstat6']) {
    try {
      const m = /TCP: .*?\btw (\d+)/.exec(readFileSync(f, 'latin1'));
      if (m) n += Number(m[1]);
    } catch {
      // not Linux: nothing to wait for
    }
  }
  return n;
}

/**
 * Connection: close runs leave tens of thousands of loopback sockets in TIME_WAIT (60 s),
 * and wrk's next connect()s then search a crowded port range: the next close run measures
 * the kernel's port search, not the target. So each close run starts once TIME_WAIT has
 * drained below TIME_WAIT_OK (bounded by 70 s).
 */
const TIME_WAIT_OK = 5000;
async function drainTimeWait(): Promise<void> {
  const t0 = Date.now();
  while (timeWaitCount() > TIME_WAIT_OK && Date.now() - t0 < 70_000) await sleep(1000);
  const waited = (Date.now() - t0) / 1000;
  if (waited >= 1) console.log(`# waited ${waited.toFixed(0)} s for TIME_WAIT sockets to drain (${timeWaitCount()} left)`);
}

async function measure(run: Running, mode: Mode): Promise<Measure> {
  if (mode === 'http-close') await drainTimeWait();
  const cpu0 = run.pids.map((p) => cpuSeconds(p));
  const t0 = performance.now();
  const r = mode.startsWith('udp') ? await runUdp(run.port, mode === 'udp-reuse') : await runWrk(run.port, mode === 'http-keepalive');
  const wallS = (performance.now() - t0) / 1000;
  for (const pid of run.pids) {
    try {
      process.kill(pid, 0);
    } catch {
      throw new Error(`target process ${pid} died during ${mode}: ${(run.output?.() ?? '').slice(-1500)}`);
    }
  }
  const cpuSplit = run.pids.map((p, i) => cpuSeconds(p) - cpu0[i]!);
  return { ...r, cpuS: cpuSplit.reduce((a, b) => a + b, 0), cpuSplit, wallS };
}

// ---------- memory of the memory store ----------
async function measureMemoryStore(): Promise<string> {
  const script = join(here, 'mem-store.ts');
  if (!existsSync(script)) return 'skipped (bench/tracker/mem-store.ts missing)';
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, String(memPeers), String(memSwarms)], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0) return `failed: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' | ')}`;
  return r.stdout.trim();
}

// ---------- main ----------
function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

async function main(): Promise<void> {
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'announce-close.lua'), wrkLuaScript(false));
  writeFileSync(join(work, 'announce-keepalive.lua'), wrkLuaScript(true));
  if (targets.some((t) => t.startsWith('sta')) && !flag('no-build')) {
    // The TypeScript and the native UDP addon (scripts/build-native.mjs).
    const b = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit', timeout: 180_000 });
    if (b.status !== 0) console.log('# build failed; sta rows use whatever dist/ holds');
  }
  console.log(
    `# bench/tracker: ${durationS}s per measurement; wrk -t${wrkThreads} -c${wrkConnections}; ` +
      `UDP ${udpGen} generator, ${udpWorkers} thread(s) x ${udpInFlight} in flight; best of ${repeat}; ` +
      `1000 torrents x 10,000 peers, numwant 50; all on 127.0.0.1 (${os.cpus().length} CPUs shared by load and server; ` +
      `load average ${os.loadavg()[0]!.toFixed(1)} at start: other work on the box skews every row)`,
  );
  const table = new Map<TargetName, Partial<Record<Mode, Measure>> & { rss?: number; error?: string }>();
  for (const t of targets) {
    const row: Partial<Record<Mode, Measure>> & { rss?: number; error?: string } = {};
    table.set(t, row);
    let run: Running | null = null;
    try {
      run = await startTarget(t);
      const h = await httpAnnounceOk(run.port);
      const u = await udpAnnounceOk(run.port);
      if (!h.ok) throw new Error(`HTTP announce check failed: ${h.detail}`);
      if (!u.ok) throw new Error(`UDP announce check failed: ${u.detail}`);
      for (const m of modes) {
        let r = await measure(run, m);
        for (let i = 1; i < repeat; i++) {
          const again = await measure(run, m);
          if (again.perS > r.perS) r = again;
        }
        row[m] = r;
        console.log(
          `${t.padEnd(19)} ${m.padEnd(15)} ${fmt(r.perS).padStart(8)} announces/s  server CPU ${((100 * r.cpuS) / r.wallS).toFixed(0)}%` +
            (r.cpuSplit.length > 1 ? ` (${r.cpuSplit.map((c) => ((100 * c) / r.wallS).toFixed(0) + '%').join(' + ')})` : '') +
            (r.detail ? `  (${r.detail})` : ''),
        );
      }
      row.rss = run.pids.reduce((a, p) => a + rssBytes(p), 0);
      console.log(`${t.padEnd(19)} RSS after load   ${(row.rss / 1e6).toFixed(0)} MB`);
    } catch (e) {
      row.error = e instanceof Error ? e.message : String(e);
      console.log(`${t.padEnd(19)} not measured: ${row.error}`);
    } finally {
      await run?.stop();
    }
  }

  // Summary: announces/s per mode, then sta's ratios to each reference.
  console.log('\n## announces/s (server CPU %)');
  console.log(`| target | ${modes.join(' | ')} | RSS MB |`);
  console.log(`|---|${modes.map(() => '---:').join('|')}|---:|`);
  for (const [t, row] of table) {
    const cells = modes.map((m) => {
      const r = row[m];
      return r ? `${fmt(r.perS)} (${((100 * r.cpuS) / r.wallS).toFixed(0)}%)` : '-';
    });
    console.log(`| ${t} | ${cells.join(' | ')} | ${row.rss ? (row.rss / 1e6).toFixed(0) : '-'} |`);
  }
  // Server CPU per announce: what a target costs, independent of which side of a shared box
  // was the bottleneck (the generator, wrk, or other work).
  console.log('\n## server CPU microseconds per announce (lower is better)');
  console.log(`| target | ${modes.join(' | ')} |`);
  console.log(`|---|${modes.map(() => '---:').join('|')}|`);
  for (const [t, row] of table) {
    const cells = modes.map((m) => {
      const r = row[m];
      return r && r.perS > 0 ? ((1e6 * r.cpuS) / (r.perS * r.wallS)).toFixed(0) : '-';
    });
    console.log(`| ${t} | ${cells.join(' | ')} |`);
  }
  const refs: TargetName[] = ['opentracker', 'bittorrent-tracker', 'fixed-reply'];
  // Rates (sta's over ref's), then the same ratios in server CPU per announce (ref's cost over
  // sta's: above 1 means sta is cheaper), which hold whichever side of the shared box was the
  // bottleneck.
  const usPer = (r: Measure | undefined): number | undefined => (r && r.perS > 0 ? (1e6 * r.cpuS) / (r.perS * r.wallS) : undefined);
  const ratioLines = (label: (sta: string, ref: string) => string, ratio: (s: Measure | undefined, r: Measure | undefined) => number | undefined): void => {
    for (const sta of ['sta-memory', 'sta-memory-httpnode', 'sta-memory-1t', 'sta-memory-2t', 'sta-memory-dgram', 'sta-redis', 'sta-stub'] as const) {
      const srow = table.get(sta);
      if (!srow) continue;
      for (const ref of refs) {
        const rrow = table.get(ref);
        if (!rrow) continue;
        const parts = modes.map((m) => {
          const x = ratio(srow[m], rrow[m]);
          return `${m} ${x !== undefined && Number.isFinite(x) && x > 0 ? x.toFixed(2) + 'x' : '-'}`;
        });
        console.log(`${label(sta, ref)}: ${parts.join(', ')}`);
      }
    }
  };
  ratioLines((sta, ref) => `${sta} / ${ref}`, (a, b) => (a?.perS && b?.perS ? a.perS / b.perS : undefined));
  ratioLines(
    (sta, ref) => `${sta} vs ${ref}, CPU per announce (${ref}'s / sta's)`,
    (a, b) => {
      const x = usPer(a);
      const y = usPer(b);
      return x && y ? y / x : undefined;
    },
  );
  if (memPeers > 0) {
    console.log(`\n## memory store: ${fmt(memPeers)} peers in ${fmt(memSwarms)} swarms`);
    console.log(await measureMemoryStore());
  }
}

await main();
