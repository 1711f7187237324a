// sta's own commands as child processes, per the CLI contract (../shared/CONTRACT.md):
// `sta tracker`, `sta seed`, `sta download`. They run the built CLI (dist/, via bin/sta).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from './proc.js';
import type { ExitInfo, Proc } from './proc.js';
import type { Workspace } from './workspace.js';

/** The repository root (three levels above this file). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const STA_BIN = `${REPO_ROOT}bin/sta`;

/** argv to run sta: node + bin/sta (no reliance on the shebang or PATH). */
export function staCommand(): [string, ...string[]] {
  return [process.execPath, STA_BIN];
}

/** Throws a clear error when the CLI has not been built (`npx tsc -p tsconfig.build.json`). */
export function assertStaBuilt(): void {
  if (!existsSync(`${REPO_ROOT}dist/bundle/main.js`)) {
    throw new Error('sta is not built: run `npm run build` (npm test does it first)');
  }
}

function staSpawn(ws: Workspace, name: string, args: readonly string[], prefix: readonly string[] = []): Proc {
  assertStaBuilt();
  const [node, ...pre] = staCommand();
  const [cmd, ...rest] = prefix.length ? [...prefix, node, ...pre, ...args] : [node, ...pre, ...args];
  return ws.spawn(cmd!, rest, { name, cwd: REPO_ROOT });
}

export interface StaTracker {
  proc: Proc;
  port: number;
  /** http://127.0.0.1:PORT/announce */
  announceUrl: string;
  /** udp://127.0.0.1:PORT (BEP 15, same port number) */
  udpUrl: string;
  baseUrl: string;
  kill(): Promise<ExitInfo>;
}

/** Starts `sta tracker --host 127.0.0.1 --port P` and waits for `tracker listening on`. */
export async function startStaTracker(
  ws: Workspace,
  o: { port?: number; args?: string[]; timeoutMs?: number } = {},
): Promise<StaTracker> {
  const port = o.port ?? (await freePort());
  const proc = staSpawn(ws, 'sta-tracker', ['tracker', '--host', '127.0.0.1', '--port', String(port), ...(o.args ?? [])]);
  await proc.waitForOutput(/tracker listening on/, o.timeoutMs ?? 15_000);
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    proc,
    port,
    baseUrl,
    announceUrl: `${baseUrl}/announce`,
    udpUrl: `udp://127.0.0.1:${port}`,
    kill: () => proc.kill(),
  };
}

export interface StaPeerOptions {
  torrent: string;
  dir: string;
  /** Listen port (default: a free one chosen here, so the caller knows it). */
  port?: number;
  trackers?: string[];
  /** HOST:PORT peers to dial. */
  peers?: string[];
  noTracker?: boolean;
  args?: string[];
  /** Command prefix, e.g. ['/usr/bin/time', '-f', ...] for a bench. */
  prefix?: string[];
  name?: string;
}

function peerArgs(o: StaPeerOptions, port: number): string[] {
  const args = [o.torrent, '--dir', o.dir, '--port', String(port)];
  for (const t of o.trackers ?? []) args.push('--tracker', t);
  for (const p of o.peers ?? []) args.push('--peer', p);
  if (o.noTracker) args.push('--no-tracker');
  // STA_INTEROP_STA_ARGS='--verbose' (say) adds flags to every sta seed/download
  const envArgs = (process.env.STA_INTEROP_STA_ARGS ?? '').split(' ').filter(Boolean);
  return [...args, ...(o.args ?? []), ...envArgs];
}

export interface StaSeeder {
  proc: Proc;
  port: number;
  infoHash: string;
  kill(): Promise<ExitInfo>;
}

/** Starts `sta seed` and waits for `seeding <infohash> on port N` (verification included). */
export async function staSeed(ws: Workspace, o: StaPeerOptions & { timeoutMs?: number }): Promise<StaSeeder> {
  const port = o.port ?? (await freePort());
  const proc = staSpawn(ws, o.name ?? 'sta-seed', ['seed', ...peerArgs(o, port)], o.prefix);
  const m = await proc.waitForOutput(/seeding ([0-9a-f]{40}) on port (\d+)/, o.timeoutMs ?? 60_000);
  return { proc, port: Number(m[2]), infoHash: m[1]!, kill: () => proc.kill() };
}

export interface StaDownloader {
  proc: Proc;
  port: number;
  /** Resolves when `sta download` exits 0 within `timeoutMs`; rejects with its output otherwise. */
  done(timeoutMs: number): Promise<void>;
  /** The `--json` events printed so far. */
  events(): Record<string, unknown>[];
  kill(): Promise<ExitInfo>;
}

/** Starts `sta download --json` (exits 0 once complete and verified). */
export async function staDownload(ws: Workspace, o: StaPeerOptions & { timeoutS?: number }): Promise<StaDownloader> {
  const port = o.port ?? (await freePort());
  const args = ['download', ...peerArgs(o, port), '--json'];
  if (o.timeoutS) args.push('--timeout', String(o.timeoutS));
  const proc = staSpawn(ws, o.name ?? 'sta-download', args, o.prefix);
  return {
    proc,
    port,
    done: (timeoutMs) => proc.succeeds(timeoutMs),
    events: () => proc.jsonLines(),
    kill: () => proc.kill(),
  };
}
