// UDP tracker client (BEP 15): one socket per address family for the whole process (so the
// source address, which a tracker's connection id is bound to, stays the same), replies
// matched by transaction id and source, connection ids cached for a minute, retransmission
// 15 s x 2^n per BEP 15 but never past the caller's deadline.
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import {
  ACTION_ANNOUNCE,
  ACTION_CONNECT,
  ACTION_ERROR,
  ACTION_SCRAPE,
  decodeUdpReply,
  encodeUdpAnnounceRequest,
  encodeUdpConnectRequest,
  encodeUdpScrapeRequest,
  MAX_SCRAPE_HASHES,
  type AnnounceRequest,
  type ScrapeCounts,
  type UdpReply,
} from '../protocol/index.js';
import { TrackerClientError } from './errors.js';
import { MAX_UDP_REPLY_BYTES, UDP_BASE_RETRANSMIT_MS, UDP_CONNECTION_CACHE_MAX, UDP_CONNECTION_ID_TTL_MS } from './limits.js';
import type { AnnounceResult, RequestOptions } from './types.js';

interface Target {
  host: string;
  address: string;
  port: number;
  family: 4 | 6;
}

interface Pending {
  target: Target;
  resolve: (r: UdpReply) => void;
}

/** One unref'd socket per family, created on first use; it never keeps the process alive. */
class UdpTransport {
  private socket: dgram.Socket | undefined;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly family: 4 | 6) {}

  private sock(): dgram.Socket {
    if (this.socket) return this.socket;
    const s = dgram.createSocket({ type: this.family === 4 ? 'udp4' : 'udp6' });
    s.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    s.on('error', () => {
      // A send error (e.g. ICMP unreachable surfaced as ECONNREFUSED) only costs that
      // request its answer; the deadline reports it.
    });
    s.bind();
    s.unref();
    this.socket = s;
    return s;
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < 8 || msg.length > MAX_UDP_REPLY_BYTES) return;
    const tid = msg.readUInt32BE(4);
    const p = this.pending.get(tid);
    // Only the tracker we asked may answer (a spoofed reply from elsewhere is dropped).
    if (!p || rinfo.port !== p.target.port || !sameAddress(rinfo.address, p.target.address)) return;
    let reply: UdpReply;
    try {
      reply = decodeUdpReply(msg, this.family === 6 ? 18 : 6);
    } catch {
      return; // garbage: keep waiting for a real answer until the deadline
    }
    this.pending.delete(tid);
    p.resolve(reply);
  }

  /** Sends `make(tid)` and waits for the reply with that transaction id, retransmitting at
   *  base, base x 2, ... until `deadline` (ms since epoch). */
  async exchange(target: Target, make: (tid: number) => Buffer, opts: RequestOptions, deadline: number): Promise<UdpReply> {
    const s = this.sock();
    let tid = randomInt(0x1_0000_0000);
    while (this.pending.has(tid)) tid = randomInt(0x1_0000_0000);
    const packet = make(tid);
    const base = opts.udpRetransmitMs ?? Math.max(50, Math.min(UDP_BASE_RETRANSMIT_MS, opts.timeoutMs / 3));
    return new Promise<UdpReply>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let attempt = 0;
      const done = (): void => {
        clearTimeout(timer);
        this.pending.delete(tid);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        done();
        reject(new TrackerClientError('TRACKER_ABORTED', `announce to ${target.host} aborted`));
      };
      const send = (): void => {
        const now = Date.now();
        if (now >= deadline) {
          done();
          reject(new TrackerClientError('TRACKER_TIMEOUT', `no reply from udp://${target.host}:${target.port} within ${opts.timeoutMs} ms`));
          return;
        }
        s.send(packet, target.port, target.address);
        timer = setTimeout(send, Math.min(base * 2 ** attempt++, deadline - now));
      };
      this.pending.set(tid, {
        target,
        resolve: (r) => {
          done();
          resolve(r);
        },
      });
      if (opts.signal) {
        if (opts.signal.aborted) return onAbort();
        opts.signal.addEventListener('abort', onAbort, { once: true });
      }
      send();
    });
  }
}

function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  // An IPv6 socket may report IPv4-mapped addresses.
  return a.replace(/^::ffff:/, '') === b.replace(/^::ffff:/, '');
}

const transports = { 4: new UdpTransport(4), 6: new UdpTransport(6) };

/** Connection ids by "address:port", each with the time it was received. */
const connectionIds = new Map<string, { id: Buffer; atMs: number }>();

function parseUdpUrl(url: string): { host: string; port: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TrackerClientError('TRACKER_BAD_URL', `not a URL: ${url}`);
  }
  const port = Number(u.port);
  if (u.protocol !== 'udp:' || !u.hostname || !(port >= 1 && port <= 65535)) {
    throw new TrackerClientError('TRACKER_BAD_URL', `not a udp://host:port URL: ${url}`);
  }
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

async function resolveTarget(url: string): Promise<Target> {
  const { host, port } = parseUdpUrl(url);
  const ipFamily = net.isIP(host);
  if (ipFamily === 4 || ipFamily === 6) return { host, address: host, port, family: ipFamily };
  try {
    const a = await lookup(host);
    return { host, address: a.address, port, family: a.family === 6 ? 6 : 4 };
  } catch (e) {
    throw new TrackerClientError('TRACKER_UNREACHABLE', `cannot resolve ${host}: ${(e as Error).message}`, { cause: e });
  }
}

/** A connection id for the target: the cached one when younger than a minute, else a
 *  connect exchange. */
async function connectionId(target: Target, opts: RequestOptions, deadline: number, fresh: boolean): Promise<Buffer> {
  const key = `${target.address}:${target.port}`;
  const cached = connectionIds.get(key);
  if (!fresh && cached && Date.now() - cached.atMs < UDP_CONNECTION_ID_TTL_MS) return cached.id;
  const reply = await transports[target.family].exchange(target, (tid) => encodeUdpConnectRequest(tid), opts, deadline);
  if (reply.action === ACTION_ERROR) throw new TrackerClientError('TRACKER_FAILURE', `udp://${target.host}:${target.port}: ${reply.message}`);
  if (reply.action !== ACTION_CONNECT) throw new TrackerClientError('TRACKER_BAD_REPLY', `udp://${target.host}:${target.port}: expected a connect reply, got action ${reply.action}`);
  if (connectionIds.size >= UDP_CONNECTION_CACHE_MAX) {
    const oldest = connectionIds.keys().next().value;
    if (oldest !== undefined) connectionIds.delete(oldest);
  }
  connectionIds.delete(key);
  connectionIds.set(key, { id: reply.connectionId, atMs: Date.now() });
  return reply.connectionId;
}

/** Runs one request that needs a connection id; when a cached id draws an error (the tracker
 *  may have restarted or the id expired early), retries once with a fresh connect. */
async function withConnection<T>(target: Target, opts: RequestOptions, run: (id: Buffer, deadline: number) => Promise<T>): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  const key = `${target.address}:${target.port}`;
  const hadCached = connectionIds.has(key);
  const id = await connectionId(target, opts, deadline, false);
  try {
    return await run(id, deadline);
  } catch (e) {
    if (!hadCached || !(e instanceof TrackerClientError) || e.code !== 'TRACKER_FAILURE') throw e;
    connectionIds.delete(key);
    return run(await connectionId(target, opts, deadline, true), deadline);
  }
}

export async function udpAnnounce(url: string, req: AnnounceRequest, opts: RequestOptions): Promise<AnnounceResult> {
  const target = await resolveTarget(url);
  const name = `udp://${target.host}:${target.port}`;
  return withConnection(target, opts, async (id, deadline) => {
    const reply = await transports[target.family].exchange(target, (tid) => encodeUdpAnnounceRequest(id, tid, req), opts, deadline);
    if (reply.action === ACTION_ERROR) throw new TrackerClientError('TRACKER_FAILURE', `${name}: ${reply.message}`);
    if (reply.action !== ACTION_ANNOUNCE) throw new TrackerClientError('TRACKER_BAD_REPLY', `${name}: expected an announce reply, got action ${reply.action}`);
    return {
      intervalS: reply.intervalS,
      complete: reply.seeders,
      incomplete: reply.leechers,
      peers: reply.peers.map((p) => ({ ip: p.ip, port: p.port })),
    };
  });
}

export async function udpScrape(url: string, infoHashes: readonly Buffer[], opts: RequestOptions): Promise<Map<string, ScrapeCounts>> {
  const target = await resolveTarget(url);
  const name = `udp://${target.host}:${target.port}`;
  const out = new Map<string, ScrapeCounts>();
  for (let i = 0; i < infoHashes.length; i += MAX_SCRAPE_HASHES) {
    const chunk = infoHashes.slice(i, i + MAX_SCRAPE_HASHES);
    const counts = await withConnection(target, opts, async (id, deadline) => {
      const reply = await transports[target.family].exchange(target, (tid) => encodeUdpScrapeRequest(id, tid, chunk), opts, deadline);
      if (reply.action === ACTION_ERROR) throw new TrackerClientError('TRACKER_FAILURE', `${name}: ${reply.message}`);
      if (reply.action !== ACTION_SCRAPE) throw new TrackerClientError('TRACKER_BAD_REPLY', `${name}: expected a scrape reply, got action ${reply.action}`);
      if (reply.counts.length < chunk.length) throw new TrackerClientError('TRACKER_BAD_REPLY', `${name}: scrape reply has ${reply.counts.length} of ${chunk.length} entries`);
      return reply.counts;
    });
    chunk.forEach((h, j) => out.set(h.toString('hex'), counts[j]!));
  }
  return out;
}

/** Forgets cached connection ids (tests; a network change). */
export function clearUdpConnectionCache(): void {
  connectionIds.clear();
}
