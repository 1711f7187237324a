// aria2c (1.36) as a seeder or a leecher on loopback, with the flags that keep it there
// (see ../shared/INTEROP.md and test/interop/README.md).
import { freePort } from './proc.js';
import type { ExitInfo, Proc } from './proc.js';
import type { Workspace } from './workspace.js';

/** No DHT, LPD or PEX (peers only from the tracker), IPv4 only, no preallocation, quiet. */
export const ARIA2_LOOPBACK_FLAGS: readonly string[] = [
  '--no-conf=true',
  '--enable-dht=false',
  '--enable-dht6=false',
  '--bt-enable-lpd=false',
  '--enable-peer-exchange=false',
  '--disable-ipv6=true',
  '--file-allocation=none',
  '--summary-interval=0',
  '--console-log-level=notice',
  '--allow-overwrite=true',
  '--auto-file-renaming=false',
  '--max-overall-upload-limit=0',
  '--max-overall-download-limit=0',
  // dies with the test runner even if cleanup never runs
  `--stop-with-process=${process.pid}`,
];

export interface Aria2Options {
  torrent: string;
  /** Data folder: the torrent's name is created (or found) inside it. */
  dir: string;
  port?: number;
  /** Overrides the tracker's announce interval (aria2's --bt-tracker-interval), seconds. */
  trackerIntervalS?: number;
  args?: string[];
  /** Command prefix, e.g. ['/usr/bin/time', '-f', ...] for a bench. */
  prefix?: string[];
  name?: string;
}

export interface Aria2Handle {
  proc: Proc;
  port: number;
  /** Resolves when aria2c exits 0 within `timeoutMs` (a leecher exits once complete). */
  done(timeoutMs: number): Promise<void>;
  kill(): Promise<ExitInfo>;
}

function start(ws: Workspace, o: Aria2Options, role: string[], port: number, defaultName: string): Aria2Handle {
  const args = [...ARIA2_LOOPBACK_FLAGS, ...role, '-d', o.dir, `--listen-port=${port}`];
  if (o.trackerIntervalS !== undefined) args.push(`--bt-tracker-interval=${o.trackerIntervalS}`);
  // STA_INTEROP_ARIA2_ARGS='--log=- --log-level=info' shows aria2's protocol log on failure
  const envArgs = (process.env.STA_INTEROP_ARIA2_ARGS ?? '').split(' ').filter(Boolean);
  args.push(...(o.args ?? []), ...envArgs, o.torrent);
  const cmd = o.prefix?.length ? [...o.prefix, 'aria2c', ...args] : ['aria2c', ...args];
  const proc = ws.spawn(cmd[0]!, cmd.slice(1), { name: o.name ?? defaultName });
  return { proc, port, done: (ms) => proc.succeeds(ms), kill: () => proc.kill() };
}

/**
 * aria2c seeding the data under `dir`: checks it first (-V), then seeds for `seedTimeMin`
 * minutes (aria2's --seed-time is in minutes). It announces to the torrent's trackers but
 * does not dial the leechers it learns: leechers must dial it.
 */
export async function aria2Seed(ws: Workspace, o: Aria2Options & { seedTimeMin?: number }): Promise<Aria2Handle> {
  const port = o.port ?? (await freePort());
  const role = ['-V', '--seed-ratio=0.0', `--seed-time=${o.seedTimeMin ?? 30}`, '--bt-seed-unverified=false'];
  return start(ws, o, role, port, 'aria2-seed');
}

/** aria2c downloading into `dir`; exits 0 once complete (--seed-time=0). */
export async function aria2Download(ws: Workspace, o: Aria2Options): Promise<Aria2Handle> {
  const port = o.port ?? (await freePort());
  return start(ws, o, ['--seed-time=0'], port, 'aria2-download');
}
