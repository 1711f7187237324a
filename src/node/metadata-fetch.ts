// BEP 9: assembling the info dictionary of a magnet link from peers' ut_metadata pieces.
// Pieces are requested from whichever peers offer ut_metadata; the whole is accepted
// only when its SHA-1 equals the info hash, then parsed like a .torrent's info dict.
import { createHash } from 'node:crypto';
import {
  METADATA_PIECE_LENGTH,
  MAX_METADATA_SIZE,
  UT_METADATA,
  decodeMetadataMessage,
  encodeMetadataMessage,
  metadataPieceCount,
  metadataPieceLength,
} from '../peer/wire/index.js';
import type { Peer } from './peer.js';

/** A metadata piece asked from a peer and not answered in this long is asked elsewhere. */
export const METADATA_REQUEST_TIMEOUT_MS = 10_000;

/** Metadata sizes disagreeing with the first one we saw are ignored; after this many
 *  wrong hashes we start over with whichever size comes next. */
const MAX_HASH_FAILURES = 8;

export class MetadataAssembler {
  private size = 0;
  private buf: Buffer | null = null;
  private got: Uint8Array = new Uint8Array(0);
  /** piece -> { peer id, when asked } */
  private asked = new Map<number, { peer: number; atMs: number }>();
  private hashFailures = 0;

  constructor(readonly infoHash: Buffer) {}

  get metadataSize(): number {
    return this.size;
  }

  /** A peer told us the metadata size in its BEP 10 handshake. */
  offerSize(size: number): boolean {
    if (!Number.isInteger(size) || size <= 0 || size > MAX_METADATA_SIZE) return false;
    if (this.buf) return size === this.size;
    this.size = size;
    this.buf = Buffer.alloc(size);
    this.got = new Uint8Array(metadataPieceCount(size));
    return true;
  }

  /** Pieces to ask `peer` for now (at most `max`). */
  nextRequests(peer: number, nowMs: number, max = 4): number[] {
    if (!this.buf) return [];
    const out: number[] = [];
    for (let i = 0; i < this.got.length && out.length < max; i++) {
      if (this.got[i]) continue;
      const a = this.asked.get(i);
      if (a && nowMs - a.atMs < METADATA_REQUEST_TIMEOUT_MS) continue;
      this.asked.set(i, { peer, atMs: nowMs });
      out.push(i);
    }
    return out;
  }

  /** The peer rejected or went away: its pieces may be asked elsewhere. */
  release(peer: number): void {
    for (const [i, a] of this.asked) if (a.peer === peer) this.asked.delete(i);
  }

  /** A data message arrived. Returns the verified info dictionary bytes when complete;
   *  'bad' when the assembled bytes did not hash to the info hash (start over). */
  receive(peer: number, piece: number, totalSize: number, data: Uint8Array): Buffer | 'bad' | null {
    if (!this.buf || totalSize !== this.size || piece < 0 || piece >= this.got.length) return null;
    // Only the peer we asked for this piece may fill it: an unasked piece could overwrite
    // good data and make the whole dictionary fail its hash, again and again.
    if (this.asked.get(piece)?.peer !== peer) return null;
    if (data.length !== metadataPieceLength(this.size, piece)) return null;
    this.buf.set(data, piece * METADATA_PIECE_LENGTH);
    this.got[piece] = 1;
    this.asked.delete(piece);
    if (!this.got.every((g) => g === 1)) return null;
    const digest = createHash('sha1').update(this.buf).digest();
    if (digest.equals(this.infoHash)) return this.buf;
    this.hashFailures++;
    this.got.fill(0);
    if (this.hashFailures >= MAX_HASH_FAILURES) {
      this.buf = null;
      this.size = 0;
      this.hashFailures = 0;
    }
    return 'bad';
  }
}

/** How often a peer may ask for each metadata piece over one connection (retries after a
 *  timeout included) before it is treated as flooding. */
const MAX_METADATA_REQUESTS_PER_PIECE = 4;

/** Serving and fetching ut_metadata over a torrent's connections. */
export class MetadataExchange {
  readonly assembler: MetadataAssembler;

  constructor(
    infoHash: Buffer,
    /** The info dictionary bytes once known (we serve them to others). */
    private readonly infoBytes: () => Buffer | null,
    /** Called once with verified info dictionary bytes. */
    private readonly onComplete: (infoBytes: Buffer) => void,
  ) {
    this.assembler = new MetadataAssembler(infoHash);
  }

  /** The peer's BEP 10 handshake arrived: if we lack metadata and it has some, ask. */
  onExtendedHandshake(peer: Peer, nowMs: number): void {
    if (this.infoBytes()) return;
    const size = peer.conn.peerExtensions?.metadataSize;
    if (!peer.conn.peerSupports(UT_METADATA) || size === undefined) return;
    if (!this.assembler.offerSize(size)) return;
    this.ask(peer, nowMs);
  }

  ask(peer: Peer, nowMs: number): void {
    if (this.infoBytes() || peer.closed || !peer.conn.peerSupports(UT_METADATA)) return;
    for (const piece of this.assembler.nextRequests(peer.id, nowMs)) {
      peer.conn.sendExtensionMessage(UT_METADATA, encodeMetadataMessage({ type: 'request', piece }));
    }
  }

  /** A ut_metadata message from the peer. Returns a reason to close it, if it broke BEP 9. */
  onMessage(peer: Peer, payload: Buffer, nowMs: number): string | undefined {
    let m;
    try {
      m = decodeMetadataMessage(payload);
    } catch (e) {
      return (e as Error).message;
    }
    if (!m) return undefined;
    if (m.type === 'request') {
      const info = this.infoBytes();
      const start = m.piece * METADATA_PIECE_LENGTH;
      // Each answer is up to 16 KiB for a 30-byte request: a peer that asks on without
      // reading would make us buffer without end. A real one asks each piece about once.
      peer.metadataAsked++;
      if (info && peer.metadataAsked > MAX_METADATA_REQUESTS_PER_PIECE * Math.ceil(info.length / METADATA_PIECE_LENGTH) + 8) {
        return `more than ${MAX_METADATA_REQUESTS_PER_PIECE} metadata requests per piece`;
      }
      if (peer.conn.needsDrain) {
        peer.conn.sendExtensionMessage(UT_METADATA, encodeMetadataMessage({ type: 'reject', piece: m.piece }));
        return undefined;
      }
      if (!info || start >= info.length) {
        peer.conn.sendExtensionMessage(UT_METADATA, encodeMetadataMessage({ type: 'reject', piece: m.piece }));
      } else {
        const data = info.subarray(start, Math.min(info.length, start + METADATA_PIECE_LENGTH));
        peer.conn.sendExtensionMessage(UT_METADATA, encodeMetadataMessage({ type: 'data', piece: m.piece, totalSize: info.length, data }));
      }
      return undefined;
    }
    if (m.type === 'reject') {
      this.assembler.release(peer.id);
      return undefined;
    }
    if (this.infoBytes()) return undefined;
    const done = this.assembler.receive(peer.id, m.piece, m.totalSize, m.data);
    if (done instanceof Buffer) {
      this.onComplete(Buffer.from(done));
      return undefined;
    }
    this.ask(peer, nowMs);
    return undefined;
  }

  onClose(peer: Peer): void {
    this.assembler.release(peer.id);
  }
}
