// bench/create: make a .torrent of the same page-cached 1 GiB file with the same piece
// length (1 MiB), timing whole processes in one run: `mktorrent -t 2` (C, two hashing
// threads), `transmission-create`, create-torrent (the npm package's CLI) and `sta create`.
// Prints MB/s for each, sta's ratios (reference time / sta time: > 1 means sta is faster),
// the targets, and sta's peak memory. Rounds are interleaved and the best of each is kept
// (other work on the machine only ever adds time); the median is shown too. Wall time is
// taken with this process's clock around each run (0.1 ms, where /usr/bin/time's is 10 ms);
// /usr/bin/time gives peak memory and CPU.
//
// NODE_EXTRA_CA_CERTS: Node 20 reads that CA file when it starts, before any JavaScript
// runs (~40 ms here, where the environment sets it). It is about TLS, not about making
// torrents, so the Node tools (sta, create-torrent) run without it; when it is set, sta is
// also timed with it, as its own row ("sta create, env as is").
//
//   node --import tsx bench/create/run.ts [--size BYTES] [--rounds N] [--no-build]
import { spawnSync } from 'node:child_process';
import { ensureBenchPackage } from '../lib/deps.js';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTorrent } from '../../src/torrent/index.js';
import { makeFile } from '../../test/interop/helpers/payload.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORK = join(ROOT, 'bench', '.work', 'create');
const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SIZE = opt('size', 1 << 30);
const ROUNDS = opt('rounds', 5);
const PIECE = 1 << 20;
const TIME = '/usr/bin/time';

interface Tool {
  name: string;
  program: string;
  args: (out: string, input: string) => string[];
  /** Environment of the process (default: this one's). */
  env?: NodeJS.ProcessEnv;
  /** Runs per round (the slow JavaScript reference gets fewer). */
  everyRound: boolean;
  times: number[];
  rssKb: number[];
  cpuS: number[];
  out: string;
}

const input = join(WORK, `payload-${SIZE}.bin`);
const CA_VAR = 'NODE_EXTRA_CA_CERTS';
const caSet = process.env[CA_VAR] !== undefined;
const nodeEnv: NodeJS.ProcessEnv = { ...process.env };
delete nodeEnv[CA_VAR];
type ToolSpec = Pick<Tool, 'name' | 'program' | 'args' | 'env'> & { everyRound?: boolean };
const staArgs = (o: string, i: string): string[] => [join(ROOT, 'bin', 'sta'), 'create', i, '--piece-length', String(PIECE), '-o', o];
const specs: ToolSpec[] = [
  { name: 'mktorrent -t 2', program: 'mktorrent', args: (o, i) => ['-t', '2', '-l', String(Math.log2(PIECE)), '-o', o, i] },
  { name: 'transmission-create', program: 'transmission-create', args: (o, i) => ['-s', String(PIECE / 1024), '-o', o, i] },
  {
    name: 'create-torrent (npm)',
    program: process.execPath,
    args: (o, i) => [join(ensureBenchPackage('create-torrent'), 'bin', 'cmd.js'), '--pieceLength', String(PIECE), '--announce', 'http://127.0.0.1:1/announce', '-o', o, i],
    env: nodeEnv,
    everyRound: false,
  },
  { name: 'sta create', program: process.execPath, args: staArgs, env: nodeEnv },
  ...(caSet ? [{ name: 'sta create, env as is', program: process.execPath, args: staArgs }] : []),
];
const tools: Tool[] = specs.map((t, i) => ({ everyRound: true, ...t, times: [], rssKb: [], cpuS: [], out: join(WORK, `${i}-${t.name.split(' ')[0]}.torrent`) }));

function have(program: string): boolean {
  return program.startsWith('/') ? existsSync(program) : spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
}

/** Wall seconds (this process's clock), peak RSS (KB) and CPU seconds (/usr/bin/time) of
 *  one whole process. */
function timed(t: Tool): void {
  rmSync(t.out, { force: true }); // mktorrent refuses to overwrite
  const started = performance.now();
  const r = spawnSync(TIME, ['-f', 'BENCH %e %M %U %S', t.program, ...t.args(t.out, input)], { encoding: 'utf8', timeout: 120_000, cwd: WORK, env: t.env ?? process.env });
  const wall = (performance.now() - started) / 1000;
  const m = /BENCH ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${t.name} failed (exit ${r.status}): ${r.stderr.slice(-500)}`);
  t.times.push(wall);
  t.rssKb.push(Number(m[2]));
  t.cpuS.push(Number(m[3]) + Number(m[4]));
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

mkdirSync(WORK, { recursive: true });
if (!have(TIME)) throw new Error('needs /usr/bin/time (apt-get install time) to measure whole processes and peak memory');
if (!args.includes('--no-build')) spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'ignore' });
if (!existsSync(input) || statSync(input).size !== SIZE) {
  console.log(`generating ${input} (${SIZE} bytes)...`);
  await makeFile(input, SIZE, 'bench-create');
}
spawnSync('sh', ['-c', 'cat "$0" > /dev/null', input]); // page-cache it: every tool then reads from memory
const active = tools.filter((t) => {
  if (have(t.program)) return true;
  console.log(`skipping ${t.name}: ${t.program} not installed`);
  return false;
});
console.log(`${(SIZE / 2 ** 20).toFixed(0)} MiB file, piece length ${PIECE}, ${ROUNDS} rounds (create-torrent: 2), ${spawnSync('nproc').stdout.toString().trim()} cores`);
if (caSet) console.log(`${CA_VAR} is set here: Node tools run without it (it costs every Node start ~40 ms); "sta create, env as is" keeps it`);
for (let r = 0; r < ROUNDS; r++) {
  for (const t of active) if (t.everyRound || r < 2) timed(t);
}

const stas = active.filter((t) => t.name.startsWith('sta create'));
const refs = active.filter((t) => !stas.includes(t));
const hashes = new Map(active.map((t) => [t.name, parseTorrent(readFileSync(t.out)).infoHashHex]));
const pad = (s: string, n: number) => s.padEnd(n);
console.log(`\n${pad('tool', 24)} ${pad('best s', 8)} ${pad('median s', 9)} ${pad('MB/s', 7)} ${pad('peak RSS', 9)} ${pad('CPU s', 6)} info hash`);
for (const t of active) {
  const best = Math.min(...t.times);
  console.log(
    `${pad(t.name, 24)} ${pad(best.toFixed(3), 8)} ${pad(median(t.times).toFixed(3), 9)} ${pad((SIZE / 1e6 / best).toFixed(0), 7)} ${pad(`${(Math.max(...t.rssKb) / 1024).toFixed(0)} MB`, 9)} ${pad(Math.min(...t.cpuS).toFixed(2), 6)} ${hashes.get(t.name)}`,
  );
}
const targets: Record<string, number> = { 'mktorrent -t 2': 0.9, 'transmission-create': 2, 'create-torrent (npm)': 5 };
for (const sta of stas) {
  const staBest = Math.min(...sta.times);
  console.log(`\n${sta.name}: ratios (reference time / sta time, best of rounds):`);
  for (const t of refs) {
    const ratio = Math.min(...t.times) / staBest;
    const ratioMed = median(t.times) / median(sta.times);
    const target = targets[t.name];
    console.log(`  vs ${pad(t.name, 22)} ${ratio.toFixed(2)}x (medians ${ratioMed.toFixed(2)}x)${target ? `  target >= ${target}x: ${ratio >= target ? 'met' : 'NOT met'}` : ''}`);
  }
  const peakMb = Math.max(...sta.rssKb) / 1024;
  console.log(`  sta peak memory ${peakMb.toFixed(0)} MB (target < 100 MB: ${peakMb < 100 ? 'met' : 'NOT met'})`);
  const mk = hashes.get('mktorrent -t 2');
  if (mk && mk !== hashes.get(sta.name)) console.log('  WARNING: sta and mktorrent info hashes differ');
}
