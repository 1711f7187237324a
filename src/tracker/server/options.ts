// The tracker's settings in one typed table: defaults, bounds and the reason for each.
import type { PeerStore, StoreLimits } from '../store/index.js';
import { DEFAULT_INTERVAL_S } from '../store/index.js';

export interface TrackerOptions {
  /** Address to bind, HTTP and UDP both (default 0.0.0.0). */
  host?: string;
  /** Port number for HTTP and UDP both; 0 picks a free one (default 8000). */
  port?: number;
  /** A store instance (not closed by the tracker), or a `--store` spec: `memory` or
   *  `redis://HOST:PORT[/DB]` (default memory). */
  store?: PeerStore | string;
  /** Announce interval handed to peers, seconds (default 1800). Peers expire after 2x. */
  intervalS?: number;
  /** `min interval` handed to peers (default interval / 2, at least 1). */
  minIntervalS?: number;
  /** Where the memory store's catalogue persists. */
  dataDir?: string;
  /** Private mode: only these info hashes are tracked. A file path (hex, one a line, `#`
   *  comments) or the hashes themselves (hex). */
  whitelist?: string | Iterable<string>;
  /** Addresses (exact IPs) whose `X-Forwarded-For` and `ip` parameter are believed, besides
   *  loopback. */
  trustedProxies?: readonly string[];
  /** Store caps (peers per swarm, swarms, peers in total). */
  limits?: Partial<StoreLimits>;
  /** Peers handed out when the client gives no numwant (default 50). */
  defaultNumwant?: number;
  /** Most peers handed out in one reply (default 200). */
  maxNumwant?: number;
  /** Clock (tests drive it). */
  now?: () => number;
  /** Threads reading the UDP port, the main thread included (default 1; at most 8). More
   *  than one needs a synchronous store (memory); the extra threads answer connects and
   *  queue verified announces to the main thread (udp-threads.ts). With more than one, the
   *  UDP port is released only when the process exits, and the extra threads issue and
   *  check connection ids by the real clock, not `now`. 'auto': 1 with batched UDP I/O (one
   *  thread with batches costs less CPU per announce than two: measured in
   *  docs/bench-tracker.md), else 2 on a machine with 2+ cores. */
  udpThreads?: number | 'auto';
  /** How UDP datagrams move (default 'auto'): 'batch' through the native addon
   *  (recvmmsg/sendmmsg, udp-batch.ts; an error when it is not built), 'dgram' through
   *  node:dgram, 'auto' the addon when it loads, else dgram. */
  udpIo?: 'auto' | 'batch' | 'dgram';
  /** How HTTP connections are accepted and read (default 'auto'): 'batch' through the
   *  native addon (http-native.ts; an error when it is not built or the store is
   *  asynchronous), 'node' through a net.Server (http-front.ts), 'auto' the addon when it
   *  loads, the host is an IP address and the store is synchronous (memory), else node. */
  httpIo?: 'auto' | 'batch' | 'node';
  /** Key of the UDP connection-id MAC (default: random per process). */
  udpSecret?: Uint8Array;
  /** HTTP idle keep-alive and whole-request timeouts, ms (defaults HTTP_KEEPALIVE_MS and
   *  HTTP_REQUEST_TIMEOUT_MS; tests shorten them). */
  httpKeepAliveMs?: number;
  httpRequestTimeoutMs?: number;
  /** Serve HTTP / UDP (both by default). */
  http?: boolean;
  udp?: boolean;
}

export interface ResolvedOptions {
  host: string;
  port: number;
  intervalS: number;
  minIntervalS: number;
  defaultNumwant: number;
  maxNumwant: number;
  trustedProxies: ReadonlySet<string>;
  httpKeepAliveMs: number;
  httpRequestTimeoutMs: number;
  now: () => number;
}

export const DEFAULT_PORT = 8000;
export const DEFAULT_NUMWANT = 50;
/** libtorrent asks at most 200; more only costs bytes. */
export const MAX_NUMWANT = 200;
/** UDP replies stay within one 1500-byte Ethernet frame (IP + UDP headers: 28 bytes v4,
 *  48 v6), so they are never fragmented: (1472 - 20) / 6 and (1452 - 20) / 18 peers. */
export const MAX_UDP_PEERS_V4 = 242;
export const MAX_UDP_PEERS_V6 = 79;
/** BEP 15 suggests connection ids valid ~1-2 minutes. */
export const UDP_CONNECTION_WINDOW_MS = 120_000;
/** The .torrent a catalogue accepts (the cap): far above any real metainfo file
 *  for public content, small enough to buffer. */
export const MAX_TORRENT_UPLOAD_BYTES = 10 * 1024 * 1024;
/** Peers /api/peers lists at most. */
export const MAX_API_PEERS = 1000;
/** Catalogue search results at most. */
export const MAX_SEARCH_RESULTS = 100;
/** Whitelist entries at most (a file larger than this is refused). */
export const MAX_WHITELIST_ENTRIES = 1_000_000;
/** HTTP: idle keep-alive connections are closed after this (clients reconnect each
 *  interval anyway). */
export const HTTP_KEEPALIVE_MS = 5000;
/** HTTP: a request must arrive whole within this (slowloris). */
export const HTTP_REQUEST_TIMEOUT_MS = 15_000;
/** HTTP: connections at once; more are refused by the kernel backlog / closed. */
export const HTTP_MAX_CONNECTIONS = 20_000;

function positiveInt(v: number | undefined, dflt: number, name: string, max: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < 0 || v > max) throw new RangeError(`${name} must be an integer 0..${max}, got ${v}`);
  return v;
}

export function resolveOptions(o: TrackerOptions): ResolvedOptions {
  const intervalS = positiveInt(o.intervalS, DEFAULT_INTERVAL_S, 'interval', 86_400 * 7) || 1;
  const maxNumwant = positiveInt(o.maxNumwant, MAX_NUMWANT, 'maxNumwant', 10_000);
  return {
    host: o.host ?? '0.0.0.0',
    port: positiveInt(o.port, DEFAULT_PORT, 'port', 65535),
    intervalS,
    minIntervalS: positiveInt(o.minIntervalS, Math.max(1, Math.floor(intervalS / 2)), 'minInterval', intervalS),
    defaultNumwant: Math.min(positiveInt(o.defaultNumwant, DEFAULT_NUMWANT, 'defaultNumwant', 10_000), maxNumwant),
    maxNumwant,
    trustedProxies: new Set((o.trustedProxies ?? []).map(normalizeIp)),
    httpKeepAliveMs: positiveInt(o.httpKeepAliveMs, HTTP_KEEPALIVE_MS, 'httpKeepAliveMs', 3_600_000) || HTTP_KEEPALIVE_MS,
    httpRequestTimeoutMs: positiveInt(o.httpRequestTimeoutMs, HTTP_REQUEST_TIMEOUT_MS, 'httpRequestTimeoutMs', 3_600_000) || HTTP_REQUEST_TIMEOUT_MS,
    now: o.now ?? Date.now,
  };
}

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) is `1.2.3.4`. */
export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.indexOf('.') > 0 ? ip.slice(7) : ip;
}
