// The tracker client's public shapes (the peer engine codes against exactly these names).

export interface AnnounceParams {
  /** 20 bytes. */
  infoHash: Buffer;
  /** 20 bytes. */
  peerId: Buffer;
  /** The port we accept peers on. */
  port: number;
  uploaded: number;
  downloaded: number;
  /** Bytes still missing; 0 announces us as a seeder. */
  left: number;
  event?: 'started' | 'completed' | 'stopped';
  /** Peers wanted (default DEFAULT_NUMWANT). */
  numwant?: number;
  /** A random 32-bit number kept for the session, so a tracker knows us across address
   *  changes (BEP 3 `key`; UDP sends it as is, HTTP as 8 hex digits). */
  key: number;
  /** BEP 3 `trackerid` a tracker gave in an earlier reply (HTTP only). */
  trackerId?: string;
}

export interface TrackerPeer {
  ip: string;
  port: number;
}

export interface AnnounceResult {
  intervalS: number;
  minIntervalS?: number;
  /** Seeders. */
  complete?: number;
  /** Leechers. */
  incomplete?: number;
  peers: TrackerPeer[];
  warning?: string;
  /** BEP 3 `tracker id` (HTTP), to send back with later announces. */
  trackerId?: string;
}

export interface AnnounceOptions {
  /** Give up after this long (default DEFAULT_TIMEOUT_MS). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** UDP: first retransmission after this long, doubling (BEP 15: 15 s; capped by timeoutMs,
   *  default min(15 s, timeoutMs / 3)). */
  udpRetransmitMs?: number;
}

/** AnnounceOptions with the defaults applied. */
export interface RequestOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  udpRetransmitMs?: number;
}
