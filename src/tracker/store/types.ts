// The PeerStore contract: what the tracker server asks of wherever swarm state lives
// (memory in one process, or Redis shared by several). One call per announce, so a remote
// store can do it in one round trip (a Lua script); methods return `T | Promise<T>` so the
// memory store answers synchronously and the server's hot path awaits nothing.
import type { AnnounceEvent, ScrapeCounts } from '../protocol/index.js';

export type MaybePromise<T> = T | Promise<T>;

/** Bounds every store enforces (see docs/tracker.md for the defaults and why). */
export interface StoreLimits {
  /** A peer not heard from for this long is dropped (the tracker uses 2 x interval). */
  peerTtlS: number;
  /** Peers kept per swarm; announces past it are answered but not stored. */
  maxPeersPerSwarm: number;
  /** Swarms kept in total; announces for new swarms past it are answered, not stored. */
  maxSwarms: number;
  /** Peers kept in total across swarms. */
  maxPeers: number;
}

/** One announce as the store sees it: the server has parsed, validated and resolved the
 *  peer's address already. */
export interface AnnounceInput {
  /** 20 bytes. */
  infoHash: Buffer;
  /** 20 bytes; a swarm's peers are keyed by it. */
  peerId: Buffer;
  /** The peer's compact address: 6 bytes (IPv4 + port) or 18 (IPv6 + port). */
  addr: Buffer;
  /** `left === 0`. */
  seeder: boolean;
  event: AnnounceEvent;
  /** How many peers to hand out, already capped by the server (0 is allowed). */
  numwant: number;
  /** Which address families to hand out: bit 1 IPv4 (FAMILY_V4), bit 2 IPv6 (FAMILY_V6). */
  families: number;
  /** Return the peer ids too (HTTP dictionary form). */
  withPeerIds: boolean;
  /** The clock, passed in so tests drive it. */
  nowMs: number;
}

export const FAMILY_V4 = 1;
export const FAMILY_V6 = 2;

/** The answer to one announce. The asking peer is never among the peers; a seeder is handed
 *  only leechers; the sample is random. Counts include the asking peer (after its event). */
export interface AnnounceOutput {
  /** Seeders. */
  complete: number;
  /** Leechers. */
  incomplete: number;
  /** Compact IPv4 peers, 6 bytes each. */
  peers4: Uint8Array;
  /** Compact IPv6 peers, 18 bytes each. */
  peers6: Uint8Array;
  /** With `withPeerIds`: 20 bytes per peer of peers4, same order. */
  peerIds4?: Uint8Array;
  /** With `withPeerIds`: 20 bytes per peer of peers6, same order. */
  peerIds6?: Uint8Array;
}

/** A swarm's peer as `GET /api/peers` lists it. */
export interface SwarmPeer {
  ip: string;
  port: number;
  seeder: boolean;
  lastSeenMs: number;
  peerIdHex: string;
}

export interface SwarmSummary extends ScrapeCounts {
  infoHashHex: string;
}

export interface StoreStats {
  torrents: number;
  seeders: number;
  leechers: number;
}

/** What the catalogue keeps about a registered .torrent (searchable without reparsing). */
export interface CatalogueEntry {
  infoHashHex: string;
  name: string;
  /** Total bytes. */
  length: number;
  fileCount: number;
  /** File paths ('/'-joined) and lengths, at most MAX_CATALOGUE_FILES of them. */
  files: { path: string; length: number }[];
  addedMs: number;
}

/** The torrent catalogue: .torrent files registered so users find them by name. The server
 *  validates the bytes (src/torrent) before `put`. */
export interface Catalogue {
  /** Stores the torrent; 'exists' when that info hash is already registered (kept as is).
   *  Throws StoreError CATALOGUE_FULL past its caps. */
  put(entry: CatalogueEntry, torrent: Uint8Array): Promise<'added' | 'exists'>;
  /** The .torrent bytes, or undefined. */
  get(infoHashHex: string): Promise<Uint8Array | undefined>;
  entry(infoHashHex: string): Promise<CatalogueEntry | undefined>;
  /** Entries whose name or a file path contains every whitespace-separated word of `q`
   *  (case-insensitive); an empty `q` lists the newest. At most `limit`, newest first. */
  search(q: string, limit: number): Promise<CatalogueEntry[]>;
  count(): Promise<number>;
}

export interface PeerStore {
  readonly kind: 'memory' | 'redis';
  readonly limits: StoreLimits;
  readonly catalogue: Catalogue;
  /** Upserts (or, on `stopped`, removes) the peer and answers with counts and a sample.
   *  The swarm's `downloaded` count goes up by one when a stored leecher announces with
   *  `seeder` (any event, `stopped` included: a lost or folded `completed` still counts), or
   *  when an unknown peer announces `completed`; never for a peer already seeding. */
  announce(a: AnnounceInput): MaybePromise<AnnounceOutput>;
  /** Counts per info hash, in order; unknown hashes are zeros. */
  scrape(infoHashes: readonly Buffer[]): MaybePromise<ScrapeCounts[]>;
  /** Up to `limit` peers of one swarm (for /api/peers). */
  listPeers(infoHash: Buffer, limit: number): MaybePromise<SwarmPeer[]>;
  stats(): MaybePromise<StoreStats>;
  /** The swarms with the most peers, for the status page. */
  topSwarms(limit: number): MaybePromise<SwarmSummary[]>;
  /** Drops peers not heard from within limits.peerTtlS of `nowMs` (and empty swarms);
   *  returns how many peers went. Stores may also expire on their own. */
  expire(nowMs: number): MaybePromise<number>;
  close(): Promise<void>;
}
