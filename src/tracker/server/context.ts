// What the HTTP and UDP front ends share: resolved options, the store, the whitelist, the
// UDP connection ids and the counters the stats and status page show.
import type { PeerStore } from '../store/index.js';
import type { ResolvedOptions } from './options.js';
import type { RateMeter } from './rates.js';
import type { ConnectionIds } from './udp-connection-id.js';

export interface TrackerContext {
  readonly opts: ResolvedOptions;
  readonly store: PeerStore;
  /** Private mode: tracked info hashes as 20-byte latin1 strings. */
  readonly whitelist: ReadonlySet<string> | undefined;
  readonly connectionIds: ConnectionIds;
  readonly httpAnnounces: RateMeter;
  readonly udpAnnounces: RateMeter;
  readonly startedMs: number;
  counters: { scrapes: number; errors: number };
  /** False when the tracker serves HTTP only. */
  udpServed: boolean;
  /** How UDP datagrams move: batches through the native addon, or node:dgram. */
  udpIo?: 'batch' | 'dgram';
  /** The main thread's batch reader's counters (batched I/O only). */
  udpBatchStats?: () => BatchReaderStats;
  /** How HTTP connections are accepted and read: the native addon, or node (net.Server). */
  httpIo?: 'batch' | 'node';
  /** The native HTTP server's counters (batch path only). */
  httpBatchStats?: () => HttpBatchStats;
  /** Set when more than one thread reads the UDP port (udp-threads.ts). */
  udpThreads?: { count: number; forwarded(): number; dropped(): number };
}

/** What a batch reader (udp-batch.ts) counted: datagrams, replies, drops, wakeups. */
export interface BatchReaderStats {
  received: number;
  sent: number;
  /** Replies the kernel did not take (full send buffer). */
  sendDropped: number;
  /** Datagrams longer than an input slot, dropped unread. */
  truncated: number;
  wakeups: number;
  batches: number;
}

/** What the native HTTP server (http-native.ts) counted. */
export interface HttpBatchStats {
  accepted: number;
  /** Request heads handed to JavaScript (announces, scrapes and hand-overs). */
  requests: number;
  /** Connections handed over to the lean front / node:http (API, status page, ...). */
  handedOver: number;
  /** Connections closed idle or for a request not whole in time (408). */
  timeouts: number;
  /** Connections closed at accept: over the limit. */
  refused: number;
  wakeups: number;
  batches: number;
  /** Connections the addon holds now. */
  open: number;
}

export interface TrackerStats {
  torrents: number;
  seeders: number;
  leechers: number;
  peers: number;
  announcesPerSecond: { http: number; udp: number };
  announces: { http: number; udp: number };
  scrapes: number;
  errors: number;
  /** Threads reading the UDP port; packets the extra threads queued to the store's thread,
   *  and those dropped because it fell behind. */
  udp: {
    threads: number;
    forwarded: number;
    dropped: number;
    /** How datagrams move; with 'batch', what the main thread's batch reader counted. */
    io: 'batch' | 'dgram' | 'none';
    batch?: BatchReaderStats;
  };
  /** How HTTP connections are accepted and read; with 'batch', the addon's counters. */
  http: { io: 'batch' | 'node' | 'none'; batch?: HttpBatchStats };
  catalogue: number;
  store: string;
  uptimeS: number;
}

export const NOT_TRACKED = 'torrent not tracked here (private tracker)';
