// `sta download <file.torrent | magnet | info-hash | name>` (CONTRACT.md): fetch into
// --dir, verify every piece, exit 0 when every wanted file is complete (or keep seeding
// with --seed). A progress bar on a terminal, line-delimited JSON events with --json,
// short text lines otherwise. SIGINT/SIGTERM: stopped announce, resume saved, exit.
import { Option, type Command } from 'commander';
import type { SingleBar } from 'cli-progress';
import { StaNode, resolveSource, parseHostPort, NodeError, nodeConfig, type Torrent, type ProgressInfo } from '../node/index.js';
import { StaError } from '../util/index.js';
import { action } from './run.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** Flags shared by `download` and `seed`. */
export function addPeerFlags(cmd: Command): Command {
  return cmd
    .option('--tracker <url>', 'tracker URL (repeatable); for an info hash or name, the tracker to ask', collect, [])
    .option('--no-tracker', 'announce to no tracker (not even the torrent\'s own)')
    .option('--peer <host:port>', 'connect to this peer directly (repeatable)', collect, [])
    .option('--port <n>', `listen port for peers (0 picks a free one)`, String(nodeConfig.DEFAULT_PORT))
    .option('--max-upload-rate <rate>', 'cap piece data sent per torrent, bytes/s with an optional k, M or G suffix (1024-based), e.g. 500k; 0: no cap');
}

const RATE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `--max-upload-rate`: bytes/s, with k/M/G (1024-based, as Transmission and aria2 read
 *  them); undefined when not given; 0 means no cap. */
export function parseRate(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:i?B)?(?:\/s)?$/.exec(s.trim());
  const bps = m ? Math.round(Number(m[1]) * RATE_UNITS[m[2]!.toLowerCase()]!) : NaN;
  if (!Number.isSafeInteger(bps) || bps > 1024 ** 4) {
    throw new StaError('BAD_FLAG', `--max-upload-rate ${s}: expected bytes per second such as 500k or 2M (0 for no cap)`, 2);
  }
  return bps;
}

export function parsePort(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n > 65535) throw new StaError('BAD_FLAG', `--port ${s}: not a port number (0-65535)`, 2);
  return n;
}

export function parsePeers(list: string[]): string[] {
  for (const p of list) if (!parseHostPort(p)) throw new StaError('BAD_FLAG', `--peer ${p}: expected HOST:PORT`, 2);
  return list;
}

/** Trackers from --tracker; commander turns --no-tracker into tracker=false. */
export function trackerFlags(opts: Record<string, unknown>): { trackers: string[]; noTracker: boolean } {
  const t = opts['tracker'];
  if (t === false) return { trackers: [], noTracker: true };
  return { trackers: Array.isArray(t) ? (t as string[]) : [], noTracker: false };
}

/** Listens on the asked port; the default port falls back to the next ones, then any. */
export async function startNode(portFlag: string, explicit: boolean, maxUploadRateBps?: number): Promise<StaNode> {
  const port = parsePort(portFlag);
  const limits = maxUploadRateBps === undefined ? {} : { maxUploadRateBps };
  try {
    return await StaNode.start({ port, limits });
  } catch (e) {
    if (explicit || port === 0 || !(e instanceof NodeError)) throw e;
    for (let p = port + 1; p < port + 9; p++) {
      try {
        return await StaNode.start({ port: p, limits });
      } catch {
        // try the next
      }
    }
    return StaNode.start({ port: 0, limits });
  }
}

/** Ends the process cleanly on SIGINT/SIGTERM: stop torrents (stopped announce, resume
 *  saved), then exit with `code()`. A second signal exits at once. */
export function onSignals(node: StaNode, code: () => number, before?: () => void): void {
  let stopping = false;
  const handler = (): void => {
    if (stopping) process.exit(code());
    stopping = true;
    before?.();
    const hard = setTimeout(() => process.exit(code()), 5000);
    hard.unref();
    void node.close().finally(() => process.exit(code()));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function eta(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '--';
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Writes the torrent's events as JSON lines on stdout. */
export function jsonEvents(t: Torrent, out: (o: Record<string, unknown>) => void): void {
  t.on('metadata', (m) => out({ event: 'metadata', ...m }));
  t.on('ready', (r) => out({ event: 'ready', infoHash: t.infoHashHex, ...r }));
  t.on('progress', (p) => out({ event: 'progress', ...p }));
  t.on('peer-connected', (p) => out({ event: 'peer-connected', ...p }));
  t.on('peer-closed', (p) => out({ event: 'peer-closed', ...p }));
  t.on('banned', (b) => out({ event: 'banned', ...b }));
  t.on('hash-failed', (h) => out({ event: 'hash-failed', ...h }));
  t.on('tracker-error', (e) => out({ event: 'tracker-error', ...e }));
  t.on('error', (e) => out({ event: 'error', message: e.message }));
  t.on('failed', (e) => out({ event: 'failed', message: e.message }));
}

function jsonLine(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

interface DownloadFlags {
  dir?: string;
  tracker: string[] | false;
  peer: string[];
  port: string;
  seed?: boolean;
  timeout?: string;
  json?: boolean;
  only: string[];
  maxUploadRate?: string;
}

export function register(program: Command): Command {
  const cmd = program
    .command('download')
    .description('fetch a torrent (.torrent file, magnet URI, info hash or name) into --dir, verifying every piece')
    .argument('<source>', '.torrent file, magnet URI, 40-hex info hash, or a name in the tracker\'s catalogue')
    .option('--dir <dir>', 'download folder (default: the current folder)');
  addPeerFlags(cmd)
    .option('--seed', 'keep seeding after the download completes')
    .option('--timeout <seconds>', 'give up (exit 1) if not complete by then')
    .option('--json', 'line-delimited JSON events on stdout instead of a progress bar')
    .option('--only <glob>', 'fetch only files matching this glob (repeatable)', collect, [])
    .addOption(new Option('--resume <path>', 'resume data file (default <dir>/.sta/<infohash>.resume)').hideHelp());
  return cmd.action(
    action(async (source: string, flags: DownloadFlags, c: Command) => {
      const { trackers, noTracker } = trackerFlags(flags as unknown as Record<string, unknown>);
      const peers = parsePeers(flags.peer);
      let timeoutS: number | undefined;
      if (flags.timeout !== undefined) {
        timeoutS = Number(flags.timeout);
        if (!(timeoutS > 0)) throw new StaError('BAD_FLAG', `--timeout ${flags.timeout}: expected a number of seconds > 0`, 2);
      }
      parsePort(flags.port);
      const maxUploadRate = parseRate(flags.maxUploadRate);
      const src = await resolveSource(source, trackers);
      const explicitPort = c.getOptionValueSource('port') === 'cli';
      const node = await startNode(flags.port, explicitPort, maxUploadRate);
      const json = !!flags.json;
      const out = json ? jsonLine : () => undefined;
      let done = false;
      let bar: SingleBar | null = null;
      onSignals(node, () => (done ? 0 : 1), () => bar?.stop());

      const t0 = performance.now();
      const torrent = await node.add(src, {
        dir: flags.dir ?? process.cwd(),
        trackers,
        noTracker,
        peers,
        only: flags.only,
        ...((flags as { resume?: string }).resume ? { resumePath: (flags as { resume?: string }).resume } : {}),
      });
      if (json) {
        jsonEvents(torrent, out);
        out({ event: 'ready', port: node.port, ...torrent.progress() });
      } else if (process.stderr.isTTY) {
        // Loaded only for a terminal: its modules cost ~7 ms of start-up otherwise.
        const { default: cliProgress } = await import('cli-progress');
        bar = new cliProgress.SingleBar({
          format: ' {bar} {percentage}% | down {down}/s up {up}/s | {peers} peers | ETA {remaining}',
          hideCursor: true,
          stream: process.stderr,
        });
        bar.start(100, 0, { down: '0.0 MB', up: '0.0 MB', peers: 0, remaining: '--' });
        torrent.on('progress', (p: ProgressInfo) =>
          bar?.update(Math.floor(p.fraction * 1000) / 10, { down: mb(p.downloadRateBps), up: mb(p.uploadRateBps), peers: p.peers, remaining: eta(p.etaS) }),
        );
      } else {
        process.stderr.write(`downloading ${torrent.progress().name} (${torrent.infoHashHex}) on port ${node.port}\n`);
      }
      if (!json) {
        // Without --json, say why nothing happens: each tracker's first error, and bans.
        const warned = new Set<string>();
        torrent.on('tracker-error', (e) => {
          if (warned.has(e.url) || bar) return; // a terminal shows the bar instead
          warned.add(e.url);
          process.stderr.write(`tracker ${e.url}: ${e.message}\n`);
        });
        torrent.on('banned', (b) => process.stderr.write(`banned ${b.address}: ${b.reason}\n`));
      }

      const finished = new Promise<void>((resolve, reject) => {
        if (torrent.state === 'seeding') resolve();
        else torrent.once('complete', () => resolve());
        torrent.once('failed', (e) => {
          bar?.stop();
          reject(e);
        });
      });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        if (timeoutS !== undefined) timer = setTimeout(() => resolve('timeout'), timeoutS * 1000);
      });
      const r = await Promise.race([finished.then(() => 'ok' as const), timedOut]);
      if (timer) clearTimeout(timer);
      bar?.update(r === 'ok' ? 100 : Math.floor(torrent.progress().fraction * 1000) / 10);
      bar?.stop();
      const p = torrent.progress();
      if (r === 'timeout') {
        out({ event: 'timeout', ...p });
        await node.close();
        throw new NodeError(
          'NODE_TIMEOUT',
          `timed out after ${timeoutS} s: ${(p.fraction * 100).toFixed(1)}% verified, ${p.peers} peers`,
          1,
        );
      }
      done = true;
      const secs = (performance.now() - t0) / 1000;
      out({ event: 'complete', ...p, seconds: secs });
      if (!json) {
        process.stderr.write(`complete: ${p.name} (${mb(p.wantedBytes)}) in ${secs.toFixed(1)} s, ${mb(p.downloaded / Math.max(secs, 0.001))}/s\n`);
      }
      if (flags.seed) {
        const line = `seeding ${torrent.infoHashHex} on port ${node.port}`;
        if (json) out({ event: 'seeding', infoHash: torrent.infoHashHex, port: node.port });
        else process.stdout.write(`${line}\n`);
        return; // the listener keeps the process alive until a signal
      }
      await node.close();
      process.exit(0);
    }),
  );
}
