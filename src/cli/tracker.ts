// `sta tracker`: HTTP and UDP (BEP 15) tracker on one port number, JSON API, catalogue and
// status page (../../docs/tracker.md). Prints `tracker listening on ...` once both sockets
// are bound; SIGINT/SIGTERM close it cleanly (sockets, then the store).
import type { Command } from 'commander';
import { StaError } from '../util/index.js';
import { action } from './run.js';

interface TrackerFlags {
  host: string;
  port: string;
  store: string;
  interval: string;
  dataDir?: string;
  whitelist?: string;
  trustedProxy: string[];
  maxPeersPerSwarm?: string;
  maxSwarms?: string;
  maxPeers?: string;
  maxNumwant?: string;
  http: boolean;
  udp: boolean;
  udpThreads?: string;
  udpIo?: string;
  httpIo?: string;
}

const collect = (v: string, all: string[]): string[] => [...all, v];

function int(v: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new StaError('BAD_FLAG', `${flag} must be an integer ${min}..${max}, got "${v}"`);
  return Number(v);
}

export function register(program: Command): Command {
  return program
    .command('tracker')
    .description('run a BitTorrent tracker: HTTP and UDP on one port, JSON API, catalogue, status page')
    .option('--host <addr>', 'address to listen on', '0.0.0.0')
    .option('--port <n>', 'port number for HTTP and UDP (0 picks a free one)', '8000')
    .option('--store <spec>', 'where swarms live: memory | redis://HOST:PORT[/DB]', 'memory')
    .option('--interval <seconds>', 'announce interval handed to peers (peers expire after 2x)', '1800')
    .option('--data-dir <dir>', 'where the memory store keeps the catalogue (default: in memory only)')
    .option('--whitelist <file>', 'private mode: only these info hashes (40 hex, one a line) are tracked')
    .option('--trusted-proxy <ip>', 'believe X-Forwarded-For and the ip parameter from this address (repeatable; loopback always)', collect, [])
    .option('--max-peers-per-swarm <n>', 'peers kept per torrent (default 100000)')
    .option('--max-swarms <n>', 'torrents kept (default 1000000)')
    .option('--max-peers <n>', 'peers kept in total (default 4000000)')
    .option('--max-numwant <n>', 'most peers handed out in one reply (default 200)')
    .option('--no-http', 'serve UDP only')
    .option('--no-udp', 'serve HTTP only')
    .option('--udp-threads <n>', 'threads reading the UDP port, memory store only (default: 1 with batched UDP I/O, else 2 on a machine with 2+ cores)')
    .option('--udp-io <how>', 'how UDP datagrams move: batch (native recvmmsg/sendmmsg addon), dgram (node:dgram), auto (batch when built)', 'auto')
    .option('--http-io <how>', 'how HTTP connections are accepted and read: batch (native addon, memory store), node (net.Server), auto (batch when built and the store is memory)', 'auto')
    .action(
      action(async (flags: TrackerFlags) => {
        const { startTracker } = await import('../tracker/server/index.js');
        const limits: Record<string, number> = {};
        const pps = int(flags.maxPeersPerSwarm, '--max-peers-per-swarm', 1, 10_000_000);
        const ms = int(flags.maxSwarms, '--max-swarms', 1, 100_000_000);
        const mp = int(flags.maxPeers, '--max-peers', 1, 1_000_000_000);
        if (pps !== undefined) limits.maxPeersPerSwarm = pps;
        if (ms !== undefined) limits.maxSwarms = ms;
        if (mp !== undefined) limits.maxPeers = mp;
        if (!flags.http && !flags.udp) throw new StaError('BAD_FLAG', '--no-http and --no-udp leave nothing to serve');
        const tracker = await startTracker({
          host: flags.host,
          port: int(flags.port, '--port', 0, 65535)!,
          store: flags.store,
          intervalS: int(flags.interval, '--interval', 1, 7 * 86_400)!,
          ...(flags.dataDir !== undefined ? { dataDir: flags.dataDir } : {}),
          ...(flags.whitelist !== undefined ? { whitelist: flags.whitelist } : {}),
          trustedProxies: flags.trustedProxy,
          limits,
          ...(flags.maxNumwant !== undefined ? { maxNumwant: int(flags.maxNumwant, '--max-numwant', 1, 10_000)! } : {}),
          http: flags.http,
          udp: flags.udp,
          udpIo: udpIoFlag(flags.udpIo),
          httpIo: httpIoFlag(flags.httpIo),
          udpThreads: int(flags.udpThreads, '--udp-threads', 1, 8) ?? 'auto',
        });
        const where = [flags.http ? `http://${flags.host}:${tracker.port}/announce` : '', flags.udp ? `udp://${flags.host}:${tracker.port}` : '']
          .filter(Boolean)
          .join(' and ');
        // Handlers first, then the ready line: a supervisor may signal as soon as it reads it.
        const stopped = new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            tracker.close().then(resolve, (e: unknown) => {
              process.stderr.write(`sta: error while closing: ${(e as Error).message}\n`);
              resolve();
            });
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        process.stdout.write(`tracker listening on ${where} (store ${tracker.store.kind}, interval ${flags.interval}s)\n`);
        await stopped;
      }),
    );
}

function udpIoFlag(v: string | undefined): 'auto' | 'batch' | 'dgram' {
  if (v === undefined || v === 'auto' || v === 'batch' || v === 'dgram') return v ?? 'auto';
  throw new StaError('BAD_FLAG', `--udp-io must be auto, batch or dgram, got ${v}`);
}

function httpIoFlag(v: string | undefined): 'auto' | 'batch' | 'node' {
  if (v === undefined || v === 'auto' || v === 'batch' || v === 'node') return v ?? 'auto';
  throw new StaError('BAD_FLAG', `--http-io must be auto, batch or node, got ${v}`);
}
