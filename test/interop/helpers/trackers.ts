// Trackers for interop tests and benches besides `sta tracker` (see sta.ts): opentracker
// as the reference, and a BEP 48 scrape client to wait until a swarm has formed.
import { writeFile } from 'node:fs/promises';
import { decode, isDict } from '../../../src/bencode/index.js';
import { freePort, waitFor } from './proc.js';
import type { Proc } from './proc.js';
import type { Workspace } from './workspace.js';

export interface SwarmCounts {
  complete: number;
  incomplete: number;
  downloaded: number;
}

/** The scrape URL of an HTTP announce URL (BEP 48 convention: last `announce` -> `scrape`). */
export function scrapeUrlOf(announceUrl: string): string {
  const i = announceUrl.lastIndexOf('/announce');
  if (i < 0) throw new Error(`cannot scrape ${announceUrl}: no /announce in it`);
  return `${announceUrl.slice(0, i)}/scrape${announceUrl.slice(i + '/announce'.length)}`;
}

function percentEncodeBytes(b: Buffer): string {
  return [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('');
}

/** Scrapes one info hash over HTTP; zero counts when the tracker does not know it. */
export async function scrape(announceUrl: string, infoHashHex: string): Promise<SwarmCounts> {
  const hash = Buffer.from(infoHashHex, 'hex');
  const url = `${scrapeUrlOf(announceUrl)}${announceUrl.includes('?') ? '&' : '?'}info_hash=${percentEncodeBytes(hash)}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  const body = Buffer.from(await res.arrayBuffer());
  const v = decode(body);
  if (!isDict(v)) throw new Error(`scrape ${url}: not a dictionary`);
  const reason = v['failure reason'];
  if (reason instanceof Uint8Array) throw new Error(`scrape ${url}: ${Buffer.from(reason).toString()}`);
  const files = v.files;
  const entry = isDict(files) ? files[hash.toString('latin1')] : undefined;
  if (!isDict(entry)) return { complete: 0, incomplete: 0, downloaded: 0 };
  const n = (k: string) => (typeof entry[k] === 'number' ? (entry[k] as number) : 0);
  return { complete: n('complete'), incomplete: n('incomplete'), downloaded: n('downloaded') };
}

/**
 * Waits until the tracker reports at least `seeders` complete and `leechers` incomplete
 * peers for the hash (so a peer started next is sure to be handed them).
 */
export async function waitForSwarm(
  announceUrl: string,
  infoHashHex: string,
  want: { seeders?: number; leechers?: number },
  timeoutMs: number,
): Promise<SwarmCounts> {
  let last: SwarmCounts | undefined;
  try {
    return await waitFor(
      async () => {
        last = await scrape(announceUrl, infoHashHex);
        return last.complete >= (want.seeders ?? 0) && last.incomplete >= (want.leechers ?? 0) ? last : undefined;
      },
      timeoutMs,
      `swarm ${infoHashHex.slice(0, 8)} at ${announceUrl} to have ${JSON.stringify(want)}`,
      200,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; last scrape ${JSON.stringify(last)}`);
  }
}

export interface RefTracker {
  proc: Proc;
  port: number;
  announceUrl: string;
  kill(): Promise<unknown>;
}

/**
 * Debian's opentracker (whitelist build; refuses to keep root): chrooted in a folder of
 * the workspace readable by `nobody`, tracking only `infoHashes`. HTTP and UDP on `port`.
 */
export async function startOpentracker(ws: Workspace, infoHashes: readonly string[], o: { port?: number; timeoutMs?: number } = {}): Promise<RefTracker> {
  const port = o.port ?? (await freePort());
  const dir = await ws.mkdir(`opentracker-${port}`);
  await writeFile(`${dir}/wl.txt`, infoHashes.map((h) => `${h.toLowerCase()}\n`).join(''), { mode: 0o644 });
  const proc = ws.spawn('opentracker', ['-i', '127.0.0.1', '-p', String(port), '-P', String(port), '-d', dir, '-w', '/wl.txt', '-u', 'nobody'], {
    name: 'opentracker',
  });
  const announceUrl = `http://127.0.0.1:${port}/announce`;
  await waitFor(
    async () => {
      if (!proc.running) throw new Error(`opentracker exited\n${proc.tail()}`);
      if (infoHashes[0]) await scrape(announceUrl, infoHashes[0]);
      else await fetch(`http://127.0.0.1:${port}/stats`, { signal: AbortSignal.timeout(1000) });
      return true;
    },
    o.timeoutMs ?? 10_000,
    'opentracker to answer',
  );
  return { proc, port, announceUrl, kill: () => proc.kill() };
}
