// The typed event stream a torrent emits: the only way the engine talks to the CLI, the
// JSON API and the UI (libtorrent's alerts, in spirit).

export interface ProgressInfo {
  infoHash: string;
  name: string;
  /** Verified bytes of wanted pieces, and their total. */
  verifiedBytes: number;
  wantedBytes: number;
  /** 0..1 of wanted data verified. */
  fraction: number;
  piecesHave: number;
  pieceCount: number;
  /** Payload bytes received / sent this session. */
  downloaded: number;
  uploaded: number;
  downloadRateBps: number;
  uploadRateBps: number;
  peers: number;
  seeds: number;
  /** Seconds to completion at the current rate, or null when unknown. */
  etaS: number | null;
  state: TorrentState;
}

export type TorrentState = 'metadata' | 'checking' | 'downloading' | 'seeding' | 'stopped';

export interface PeerInfo {
  address: string;
  client?: string;
  incoming: boolean;
}

/** One connected peer, for the API and UI. */
export interface PeerStatus {
  address: string;
  client?: string;
  incoming: boolean;
  /** Bytes/s it sends us / we send it. */
  downloadRateBps: number;
  uploadRateBps: number;
  /** 0..1 of the torrent it has. */
  progress: number;
  amChoking: boolean;
  amInterested: boolean;
  peerChoking: boolean;
  peerInterested: boolean;
  snubbed: boolean;
  requestsOut: number;
  requestsIn: number;
}

export interface TorrentEventMap {
  metadata: [{ infoHash: string; name: string; pieceCount: number; length: number }];
  ready: [{ piecesHave: number; pieceCount: number }];
  progress: [ProgressInfo];
  piece: [{ index: number; from: string[] }];
  'peer-connected': [PeerInfo];
  'peer-closed': [{ address: string; reason: string }];
  banned: [{ address: string; reason: string }];
  'hash-failed': [{ index: number }];
  'tracker-error': [{ url: string; message: string }];
  complete: [];
  /** Not fatal: a disk or tracker problem the torrent works around. */
  error: [Error];
  /** Fatal: the torrent cannot go on (bad metadata from a magnet, storage refused). */
  failed: [Error];
}
