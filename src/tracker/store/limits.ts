// Default store bounds and the reason for each number.
import type { StoreLimits } from './types.js';

/** Default announce interval handed to peers (CONTRACT.md: 1800 s). */
export const DEFAULT_INTERVAL_S = 1800;

export const DEFAULT_STORE_LIMITS: StoreLimits = {
  // BEP 3 gives no rule; 2 x interval lets one announce get lost without dropping the peer.
  peerTtlS: 2 * DEFAULT_INTERVAL_S,
  // A swarm this big is already larger than any reply (numwant <= 200) needs to sample from;
  // keeps one hot torrent from taking all memory.
  maxPeersPerSwarm: 100_000,
  // ~200 bytes a swarm when empty: 1M swarms ~ 200 MB at most.
  maxSwarms: 1_000_000,
  // ~210 bytes a peer in the memory store (measured at 1M peers): 4M peers ~ 850 MB, the most one box should hold.
  maxPeers: 4_000_000,
};

/** Catalogue caps: torrents registered, and files kept per entry for search. */
export const MAX_CATALOGUE_TORRENTS = 100_000;
export const MAX_CATALOGUE_FILES = 1000;
/** Total .torrent bytes kept in memory when the catalogue has no directory to persist in. */
export const MAX_CATALOGUE_MEMORY_BYTES = 256 * 1024 * 1024;
