// Splits a peer's byte stream (after the handshake) into wire messages. Socket chunks are
// kept in a list and a message that lies inside one chunk is returned as views of it (no
// copy); only a message spanning chunks is gathered into one buffer. Every length is checked
// against its message type as soon as the 5-byte header is in, so a hostile length can never
// make us buffer more than one legitimate message.
import { WireError, type WireErrorCode } from './errors.js';
import { bitfieldByteLength, isValidBlock, pieceSize, type TorrentGeometry } from './geometry.js';
import { Bitfield } from '../../util/index.js';
import { MAX_BITFIELD_BYTES, MAX_BLOCK_LENGTH, MAX_EXTENDED_LENGTH, MAX_UNKNOWN_LENGTH } from './limits.js';
import { MessageId, type WireMessage } from './messages.js';

export interface FrameParserOptions {
  /** When known, messages are checked against the torrent (indexes, block ranges, the
   *  bitfield's exact size). Can be set later with setGeometry (magnet links). */
  geometry?: TorrentGeometry;
}

const EMPTY = Buffer.alloc(0);
/** Size of each of a parser's two scratch buffers, which release() copies what is left of
 *  a borrowed read into (usually part of one block) instead of a fresh allocation. */
const SCRATCH_BYTES = 2 * (13 + MAX_BLOCK_LENGTH);

/** Big-endian u32 at `off` (in bounds). */
function u32(b: Buffer, off: number): number {
  return b[off]! * 0x1000000 + ((b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!);
}
const KEEP_ALIVE: WireMessage = Object.freeze({ type: 'keep-alive' });
const CHOKE: WireMessage = Object.freeze({ type: 'choke' });
const UNCHOKE: WireMessage = Object.freeze({ type: 'unchoke' });
const INTERESTED: WireMessage = Object.freeze({ type: 'interested' });
const NOT_INTERESTED: WireMessage = Object.freeze({ type: 'not-interested' });
const HAVE_ALL: WireMessage = Object.freeze({ type: 'have-all' });
const HAVE_NONE: WireMessage = Object.freeze({ type: 'have-none' });

/** What nextOrPiece returns for a piece message: the piece is in the parser's pieceIndex,
 *  pieceBegin and pieceBlock (no message object per 16 KiB block). */
export const PIECE_READY: unique symbol = Symbol('piece');

export class FrameParser {
  private chunks: Buffer[] = [];
  /** Index of the first live chunk in `chunks` (consumed ones are dropped in batches). */
  private first = 0;
  /** Offset of the next unread byte in chunks[first]. */
  private head = 0;
  private buffered = 0;
  private failed: WireError | null = null;
  private geometry: TorrentGeometry | undefined;
  /** The largest frame (length prefix value) any message may have right now. */
  private maxLength: number;
  private bitfieldBytes = -1;
  /** The chunk pushed with pushBorrowed (its memory is reused by the caller afterwards),
   *  until release() copies what is left of it. */
  private borrowed: Buffer | null = null;
  /** Messages with ids we do not know, skipped (BEP 3). */
  unknownMessages = 0;
  /** The piece message nextOrPiece last returned PIECE_READY for (the block is a view of the
   *  received bytes, valid as long as a piece from next() would be). */
  pieceIndex = 0;
  pieceBegin = 0;
  pieceBlock: Buffer = EMPTY;
  /** nextOrPiece only: the rest of the block when it arrived in two chunks (pieceBlock
   *  then pieceTail are the block's bytes, each a view like pieceBlock); else empty. */
  pieceTail: Buffer = EMPTY;
  /** release()'s two scratch buffers (made when first needed), used in turn: the one
   *  holding what the last release() kept is never the one the next release() writes. */
  private scratch0: Buffer | null = null;
  private scratch1: Buffer | null = null;
  private scratchTurn = 0;
  /** The view of a scratch buffer the last release() made (the only one chunks can hold). */
  private kept: Buffer | null = null;

  constructor(opts: FrameParserOptions = {}) {
    this.geometry = undefined;
    this.maxLength = 0;
    this.setGeometry(opts.geometry);
  }

  setGeometry(g: TorrentGeometry | undefined): void {
    this.geometry = g;
    this.bitfieldBytes = g ? bitfieldByteLength(g.pieceCount) : -1;
    const bitfield = g ? this.bitfieldBytes : MAX_BITFIELD_BYTES;
    this.maxLength = Math.max(9 + MAX_BLOCK_LENGTH, 1 + bitfield, MAX_EXTENDED_LENGTH, MAX_UNKNOWN_LENGTH);
  }

  /** Bytes received and not yet returned as messages (bounded by one message plus a chunk). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Adds bytes from the socket. The parser keeps a reference to `chunk`, not a copy. */
  push(chunk: Buffer): void {
    if (this.failed || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * Adds bytes whose memory the caller reuses once it calls release() (a socket's shared
   * read buffer): no allocation per read. Until then, piece messages carry views of
   * `chunk` (valid only until release(), so their consumer must use the block at once:
   * write it out or copy it);
   * every other payload is copied. Call release() before reusing the memory.
   */
  pushBorrowed(chunk: Buffer): void {
    if (this.failed || chunk.length === 0) return;
    if (this.borrowed) this.release();
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.borrowed = chunk;
  }

  /** Copies the not yet returned bytes of the borrowed chunk (a partial message, or
   *  messages left while reading is paused) into memory the parser owns. */
  release(): void {
    const b = this.borrowed;
    if (!b) return;
    this.borrowed = null;
    if (this.buffered === 0 || this.chunks[this.chunks.length - 1] !== b) return;
    let own: Buffer;
    if (this.buffered <= SCRATCH_BYTES) {
      // Messages other than pieces are copied out of scratch memory as they are returned.
      this.scratchTurn ^= 1;
      const s = this.scratchTurn === 0 ? (this.scratch0 ??= Buffer.allocUnsafeSlow(SCRATCH_BYTES)) : (this.scratch1 ??= Buffer.allocUnsafeSlow(SCRATCH_BYTES));
      own = this.gatherInto(s, 0, this.buffered);
      this.kept = own;
    } else {
      own = this.gather(0, this.buffered);
      this.kept = null;
    }
    this.chunks = [own];
    this.first = 0;
    this.head = 0;
  }

  /**
   * The next complete message, or null when more bytes are needed. Throws WireError on a
   * protocol violation; the parser then stays failed (every later call throws the same
   * error), since the stream can no longer be trusted to be in sync.
   */
  next(): WireMessage | null {
    const m = this.nextOrPiece();
    if (m !== PIECE_READY) return m;
    const t = this.pieceTail;
    const block = t.length === 0 ? this.pieceBlock : Buffer.concat([this.pieceBlock, t]);
    return { type: 'piece', index: this.pieceIndex, begin: this.pieceBegin, block };
  }

  /** next() for the hot path: a piece message comes back as PIECE_READY, its fields in
   *  pieceIndex, pieceBegin and pieceBlock (and pieceTail: a block split between two
   *  chunks is not gathered into one buffer). */
  nextOrPiece(): WireMessage | typeof PIECE_READY | null {
    if (this.failed) throw this.failed;
    // The common case on its own: a whole piece message inside the first chunk. Small, so
    // the JIT compiles it once; everything else (and every check failing) goes to nextAny.
    const c0 = this.chunks[this.first];
    if (c0 !== undefined) {
      const h = this.head;
      if (c0.length - h >= 13 && c0[h + 4] === MessageId.piece) {
        const len = u32(c0, h);
        if (len >= 10 && len <= 9 + MAX_BLOCK_LENGTH && c0.length - h >= 4 + len) {
          const index = u32(c0, h + 5);
          const begin = u32(c0, h + 9);
          const g = this.geometry;
          if (!g || (index < g.pieceCount && begin + len - 9 <= pieceSize(g, index))) {
            this.pieceIndex = index;
            this.pieceBegin = begin;
            this.pieceBlock = c0.subarray(h + 13, h + 4 + len);
            this.pieceTail = EMPTY;
            this.consume(4 + len);
            return PIECE_READY;
          }
        }
      }
    }
    return this.nextAny();
  }

  private nextAny(): WireMessage | typeof PIECE_READY | null {
    for (;;) {
      if (this.buffered < 4) return null;
      const c0 = this.chunks[this.first]!;
      const h = this.head;
      let len: number;
      let id = -1;
      if (c0.length - h >= 5) {
        len = c0.readUInt32BE(h);
        id = c0[h + 4]!;
      } else {
        len = (this.peekByte(0) * 0x1000000) + ((this.peekByte(1) << 16) | (this.peekByte(2) << 8) | this.peekByte(3));
        if (this.buffered >= 5) id = this.peekByte(4);
      }
      if (len === 0) {
        this.consume(4);
        return KEEP_ALIVE;
      }
      if (len > this.maxLength) this.fail('WIRE_MESSAGE_TOO_LONG', `message of ${len} bytes (limit ${this.maxLength})`);
      if (id < 0) return null;
      this.checkLength(id, len);
      if (this.buffered < 4 + len) return null;
      // A piece whose header is in the first chunk: its block as views (the only views
      // made), whole or, split between two chunks (the end of one read, the start of the
      // next), head and tail: no gathering copy. Three or more chunks are gathered below.
      const inFirst = c0.length - h;
      if (id === MessageId.piece && inFirst >= 13 && (inFirst >= 4 + len || this.chunks[this.first + 1]!.length >= 4 + len - inFirst)) {
        const index = c0.readUInt32BE(h + 5);
        const begin = c0.readUInt32BE(h + 9);
        const g = this.geometry;
        if (g && (index >= g.pieceCount || begin + len - 9 > pieceSize(g, index))) {
          this.fail('WIRE_BAD_PIECE', `piece (${index}, ${begin}, ${len - 9} bytes) outside the torrent`);
        }
        this.pieceIndex = index;
        this.pieceBegin = begin;
        if (inFirst >= 4 + len) {
          this.pieceBlock = c0.subarray(h + 13, h + 4 + len);
          this.pieceTail = EMPTY;
        } else {
          const tail = this.chunks[this.first + 1]!.subarray(0, 4 + len - inFirst);
          this.pieceBlock = inFirst === 13 ? tail : c0.subarray(h + 13);
          this.pieceTail = inFirst === 13 ? EMPTY : tail;
        }
        this.consume(4 + len);
        return PIECE_READY;
      }
      let payload: Buffer;
      if (inFirst >= 4 + len) {
        payload = c0.subarray(h + 5, h + 4 + len);
        if ((c0 === this.borrowed || c0 === this.kept) && id !== MessageId.piece) payload = Buffer.from(payload);
      } else {
        payload = this.gather(5, len - 1);
      }
      this.consume(4 + len);
      const m = this.decode(id, payload);
      if (m) return m;
      this.unknownMessages++;
    }
  }

  private fail(code: WireErrorCode, message: string): never {
    this.failed = new WireError(code, message);
    this.borrowed = null;
    this.chunks = [];
    this.first = 0;
    this.head = 0;
    this.buffered = 0;
    throw this.failed;
  }

  private peekByte(i: number): number {
    let k = this.first;
    let off = this.head + i;
    for (;;) {
      const c = this.chunks[k]!;
      if (off < c.length) return c[off]!;
      off -= c.length;
      k++;
    }
  }

  /** Copies `n` bytes starting `skip` bytes into the buffered data (a message spanning chunks). */
  private gather(skip: number, n: number): Buffer {
    if (n === 0) return EMPTY;
    return this.gatherInto(Buffer.allocUnsafe(n), skip, n);
  }

  /** gather into `into` (at least `n` bytes long); returns the view of what was copied. */
  private gatherInto(into: Buffer, skip: number, n: number): Buffer {
    const out = into.length === n ? into : into.subarray(0, n);
    let k = this.first;
    let off = this.head + skip;
    while (off >= this.chunks[k]!.length) {
      off -= this.chunks[k]!.length;
      k++;
    }
    let w = 0;
    while (w < n) {
      const c = this.chunks[k]!;
      const take = Math.min(c.length - off, n - w);
      c.copy(out, w, off, off + take);
      w += take;
      off = 0;
      k++;
    }
    return out;
  }

  private consume(n: number): void {
    this.buffered -= n;
    let off = this.head + n;
    while (this.first < this.chunks.length && off >= this.chunks[this.first]!.length) {
      off -= this.chunks[this.first]!.length;
      this.first++;
    }
    this.head = off;
    if (this.first === this.chunks.length) {
      this.chunks.length = 0;
      this.first = 0;
    } else if (this.first > 32) {
      this.chunks.splice(0, this.first);
      this.first = 0;
    }
  }

  /** The length a message of type `id` must (or may at most) have. */
  private checkLength(id: number, len: number): void {
    switch (id) {
      case MessageId.choke:
      case MessageId.unchoke:
      case MessageId.interested:
      case MessageId.notInterested:
      case MessageId.haveAll:
      case MessageId.haveNone:
        if (len !== 1) this.fail('WIRE_BAD_LENGTH', `message ${id} of ${len} bytes, expected 1`);
        return;
      case MessageId.have:
      case MessageId.suggest:
      case MessageId.allowedFast:
        if (len !== 5) this.fail('WIRE_BAD_LENGTH', `message ${id} of ${len} bytes, expected 5`);
        return;
      case MessageId.request:
      case MessageId.cancel:
      case MessageId.reject:
        if (len !== 13) this.fail('WIRE_BAD_LENGTH', `message ${id} of ${len} bytes, expected 13`);
        return;
      case MessageId.port:
        if (len !== 3) this.fail('WIRE_BAD_LENGTH', `port message of ${len} bytes, expected 3`);
        return;
      case MessageId.piece:
        if (len < 10) this.fail('WIRE_BAD_LENGTH', `piece message of ${len} bytes carries no block`);
        if (len > 9 + MAX_BLOCK_LENGTH) this.fail('WIRE_MESSAGE_TOO_LONG', `piece message with a block of ${len - 9} bytes (limit ${MAX_BLOCK_LENGTH})`);
        return;
      case MessageId.bitfield:
        if (this.bitfieldBytes >= 0) {
          if (len - 1 !== this.bitfieldBytes) this.fail('WIRE_BAD_BITFIELD', `bitfield of ${len - 1} bytes, expected ${this.bitfieldBytes}`);
        } else if (len - 1 > MAX_BITFIELD_BYTES) {
          this.fail('WIRE_MESSAGE_TOO_LONG', `bitfield of ${len - 1} bytes (limit ${MAX_BITFIELD_BYTES})`);
        }
        return;
      case MessageId.extended:
        if (len < 2) this.fail('WIRE_BAD_LENGTH', 'extended message without an extension id');
        if (len > MAX_EXTENDED_LENGTH) this.fail('WIRE_MESSAGE_TOO_LONG', `extended message of ${len} bytes (limit ${MAX_EXTENDED_LENGTH})`);
        return;
      default:
        if (len > MAX_UNKNOWN_LENGTH) this.fail('WIRE_MESSAGE_TOO_LONG', `unknown message ${id} of ${len} bytes (limit ${MAX_UNKNOWN_LENGTH})`);
    }
  }

  /** Builds the message from its payload (the bytes after the id); null for unknown ids. */
  private decode(id: number, p: Buffer): WireMessage | typeof PIECE_READY | null {
    const g = this.geometry;
    switch (id) {
      case MessageId.choke:
        return CHOKE;
      case MessageId.unchoke:
        return UNCHOKE;
      case MessageId.interested:
        return INTERESTED;
      case MessageId.notInterested:
        return NOT_INTERESTED;
      case MessageId.haveAll:
        return HAVE_ALL;
      case MessageId.haveNone:
        return HAVE_NONE;
      case MessageId.have:
      case MessageId.suggest:
      case MessageId.allowedFast: {
        const index = p.readUInt32BE(0);
        if (g && index >= g.pieceCount) this.fail('WIRE_BAD_INDEX', `piece index ${index} in message ${id} outside 0..${g.pieceCount - 1}`);
        if (id === MessageId.have) return { type: 'have', index };
        if (id === MessageId.suggest) return { type: 'suggest', index };
        return { type: 'allowed-fast', index };
      }
      case MessageId.bitfield:
        if (g && !Bitfield.spareBitsClear(g.pieceCount, p)) this.fail('WIRE_BAD_BITFIELD', 'bitfield with spare bits set');
        return { type: 'bitfield', bytes: p };
      case MessageId.request:
      case MessageId.cancel:
      case MessageId.reject: {
        const index = p.readUInt32BE(0);
        const begin = p.readUInt32BE(4);
        const length = p.readUInt32BE(8);
        if (g && !isValidBlock(g, index, begin, length)) {
          this.fail('WIRE_BAD_REQUEST', `${id === MessageId.request ? 'request' : id === MessageId.cancel ? 'cancel' : 'reject'} (${index}, ${begin}, ${length}) is not a block of the torrent`);
        }
        if (id === MessageId.request) return { type: 'request', index, begin, length };
        if (id === MessageId.cancel) return { type: 'cancel', index, begin, length };
        return { type: 'reject', index, begin, length };
      }
      case MessageId.piece: {
        const index = p.readUInt32BE(0);
        const begin = p.readUInt32BE(4);
        const block = p.subarray(8);
        if (g && (index >= g.pieceCount || begin + block.length > pieceSize(g, index))) {
          this.fail('WIRE_BAD_PIECE', `piece (${index}, ${begin}, ${block.length} bytes) outside the torrent`);
        }
        this.pieceIndex = index;
        this.pieceBegin = begin;
        this.pieceBlock = block;
        this.pieceTail = EMPTY;
        return PIECE_READY;
      }
      case MessageId.port:
        return { type: 'port', port: p.readUInt16BE(0) };
      case MessageId.extended:
        return { type: 'extended', id: p[0]!, payload: p.subarray(1) };
      default:
        return null;
    }
  }
}
