// One connected peer as the torrent sees it: the connection plus our bookkeeping for it
// (requests we sent, requests we serve, what it counted for in the picker's availability).
// It is the picker's view of the peer too (PickerPeer).
import type { PeerConnection } from '../peer/index.js';
import { OutstandingRequests, type PickerPeer } from '../peer/download/index.js';
import { UploadQueue } from '../peer/upload/index.js';
import { Bitfield } from '../util/index.js';

const NO_PIECES = new Bitfield(0);

export class Peer implements PickerPeer {
  /** Pieces this peer counts for in the picker's availability. */
  counted: Bitfield | null = null;
  readonly outstanding: OutstandingRequests;
  readonly uploads = new UploadQueue();
  readsInFlight = 0;
  snubbed = false;
  /** Pipeline depth computed at the last refill (0: none yet; see Downloader.fill). */
  depth = 0;
  /** When we last unchoked it (or when it connected). */
  unchokedSinceMs: number;
  /** Pieces we told this peer it may request while choked (BEP 6 allowed fast). */
  readonly allowedFastOut = new Set<number>();
  /** Metadata pieces asked from this peer (magnet links). */
  metadataAsked = 0;
  closed = false;

  constructor(
    readonly id: number,
    readonly conn: PeerConnection,
    /** ip:port: the dialled address, or the remote address of an incoming peer. */
    readonly address: string,
    /** What bans and smart-ban bookkeeping key on (see docs/peer-engine.md). */
    readonly banKey: string,
    nowMs: number,
  ) {
    this.outstanding = new OutstandingRequests(nowMs);
    this.unchokedSinceMs = nowMs;
  }

  get has(): Bitfield {
    return this.conn.peerBitfield ?? NO_PIECES;
  }

  get choking(): boolean {
    return this.conn.peerChoking;
  }

  get allowedFast(): ReadonlySet<number> {
    return this.conn.peerAllowedFast;
  }

  get isSeed(): boolean {
    const bf = this.conn.peerBitfield;
    return bf !== null && bf.isFull();
  }

  get client(): string | undefined {
    return this.conn.peerExtensions?.v;
  }

  get reqq(): number | undefined {
    return this.conn.peerExtensions?.reqq;
  }
}

/** The key bans use: the IP address, except on loopback and private test networks where
 *  every peer shares one address, so ip:port (the peer's listen port when it told us). */
export function banKeyFor(ip: string, port: number): string {
  const v4 = ip.replace(/^::ffff:/i, '');
  if (/^127\./.test(v4) || v4 === '::1') return `${v4}:${port}`;
  return v4;
}
