// The node's limits and timings in one typed table, each with its reason. The CLI, the
// daemon and the tests read these; options may override a few per session.

/** Peers connected per torrent: enough for a healthy swarm (libtorrent: 200 per torrent,
 *  Transmission: 50) while keeping memory per torrent bounded (each peer may hold up to
 *  MAX_PIPELINE requests in flight plus its send queue). */
export const MAX_PEERS_PER_TORRENT = 50;

/** Peers connected across all torrents: stays far below the default 1024 file
 *  descriptors per process, leaving room for files and the API. */
export const MAX_PEERS_GLOBAL = 300;

/** Outgoing connection attempts in flight per torrent: a tracker reply of 50 peers
 *  should not open 50 sockets at once (half of them time out anyway). */
export const MAX_DIALS_IN_FLIGHT = 10;

/** A TCP connect plus handshake that takes longer than this is given up. */
export const DIAL_TIMEOUT_MS = 10_000;

/** Candidate addresses remembered per torrent (from trackers, --peer, incoming): bounds
 *  what a hostile tracker reply can make us keep. */
export const MAX_KNOWN_PEERS = 2000;

/** A failed address is retried after this long, doubled per failure up to 8 times. */
export const REDIAL_BACKOFF_MS = 15_000;

/** Housekeeping tick: rates, request timeouts, refills, progress events. */
export const TICK_MS = 1000;

/** Bytes of pieces being assembled per torrent (the picker starts no new piece past
 *  max(4, this / pieceLength) in progress): bounds RSS whatever the number of peers and
 *  their pipelines, while leaving room for 500-deep pipelines to several fast peers. */
export const MAX_ASSEMBLY_BYTES = 64 * 1024 * 1024;

/** Blocks read from disk and waiting to be sent, per peer. The socket's own send queue
 *  bounds the rest (see peer/connection). */
export const MAX_READS_IN_FLIGHT_PER_PEER = 32;

/** How often resume data is saved while downloading (storage saves on close too). */
export const RESUME_SAVE_INTERVAL_MS = 5000;

/** Default listen port (CONTRACT: --port defaults to 6881). */
export const DEFAULT_PORT = 6881;

/** Peers asked from a tracker per announce. */
export const NUMWANT = 80;

export interface NodeLimits {
  maxPeersPerTorrent: number;
  maxPeersGlobal: number;
  maxDialsInFlight: number;
  /** Choker slots (regular unchokes). */
  uploadSlots: number;
  /** Upload rate limit per torrent, bytes/s of piece data; 0: none. */
  maxUploadRateBps: number;
}

export const DEFAULT_LIMITS: NodeLimits = {
  maxPeersPerTorrent: MAX_PEERS_PER_TORRENT,
  maxPeersGlobal: MAX_PEERS_GLOBAL,
  maxDialsInFlight: MAX_DIALS_IN_FLIGHT,
  uploadSlots: 4,
  maxUploadRateBps: 0,
};
