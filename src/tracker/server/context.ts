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
  /** Set when more than one thread reads the UDP port (udp-threads.ts). */
  udpThreads?: { count: number; forwarded(): number; dropped(): number };
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
  udp: { threads: number; forwarded: number; dropped: number; io: 'batch' | 'dgram' | 'none' };
  catalogue: number;
  store: string;
  uptimeS: number;
}

export const NOT_TRACKED = 'torrent not tracked here (private tracker)';
