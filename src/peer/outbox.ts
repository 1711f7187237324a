// Outgoing bytes of one connection. Small messages are written into a slab; the socket is
// corked on the first write and uncorked in the event loop's check phase (setImmediate), so
// all that the I/O callbacks of one loop iteration send goes out as one writev: a leecher
// answering several received chunks with requests makes one syscall, not one per chunk
// (measured: ~15% less leecher CPU per GiB than uncorking on process.nextTick). A block is
// its 13-byte header in the slab followed by the caller's buffer as its own chunk: never
// copied. Written slab regions are never reused (a new slab is
// taken when one fills), so a pending write can never see its bytes change.
import type { Socket } from 'node:net';
import { MessageId, writeBlockMessage, writeIndexMessage, writePieceHeader } from './wire/index.js';

const SLAB_SIZE = 16 * 1024;
/** Senders are told to wait for 'drain' once this much is queued. The socket's own mark
 *  (16 KiB) would stop an uploader after every block; 1 MiB keeps ~64 blocks queued per
 *  peer so a fast link never starves between disk reads, and still bounds memory per peer. */
export const SEND_BUFFER_LIMIT = 1024 * 1024;

export class Outbox {
  bytesWritten = 0;
  /** More than SEND_BUFFER_LIMIT is queued: wait for the socket's 'drain' (it empties). */
  needDrain = false;
  private slab: Buffer = Buffer.allocUnsafe(SLAB_SIZE);
  private start = 0;
  private pos = 0;
  private flushScheduled = false;
  private closed = false;

  constructor(private readonly socket: Socket) {}

  /** Bytes accepted and not yet handed to the kernel. */
  get pendingBytes(): number {
    return this.socket.writableLength + (this.pos - this.start);
  }

  close(): void {
    this.closed = true;
  }

  keepAlive(): void {
    this.room(4);
    this.slab.writeUInt32BE(0, this.pos);
    this.pos += 4;
  }

  /** A message with no payload (choke, unchoke, interested, ..., have-all, have-none). */
  fixed(id: number): void {
    this.room(5);
    this.slab.writeUInt32BE(1, this.pos);
    this.slab[this.pos + 4] = id;
    this.pos += 5;
  }

  /** have, suggest, allowed-fast. */
  index(id: number, index: number): void {
    this.room(9);
    this.pos = writeIndexMessage(this.slab, this.pos, id, index);
  }

  /** request, cancel, reject. */
  block(id: number, index: number, begin: number, length: number): void {
    this.room(17);
    this.pos = writeBlockMessage(this.slab, this.pos, id, index, begin, length);
  }

  port(port: number): void {
    this.room(7);
    this.slab.writeUInt32BE(3, this.pos);
    this.slab[this.pos + 4] = MessageId.port;
    this.slab.writeUInt16BE(port, this.pos + 5);
    this.pos += 7;
  }

  /** bitfield (prefix -1) or extended (prefix = the extended message id). */
  bytes(id: number, prefix: number, body: Uint8Array): void {
    const extra = prefix >= 0 ? 1 : 0;
    const n = 5 + extra + body.length;
    this.room(n);
    const s = this.slab;
    s.writeUInt32BE(1 + extra + body.length, this.pos);
    s[this.pos + 4] = id;
    if (extra) s[this.pos + 5] = prefix;
    s.set(body, this.pos + 5 + extra);
    this.pos += n;
  }

  piece(index: number, begin: number, block: Uint8Array): void {
    this.room(13);
    this.pos = writePieceHeader(this.slab, this.pos, index, begin, block.length);
    this.flushSlab();
    this.write(block instanceof Buffer ? block : Buffer.from(block.buffer, block.byteOffset, block.length));
  }

  /** Room for `n` more bytes in the slab, and a flush scheduled for this loop iteration. */
  private room(n: number): void {
    if (this.pos + n > this.slab.length) {
      this.flushSlab();
      this.slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, n));
      this.start = this.pos = 0;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.socket.cork();
      setImmediate(this.flush);
    }
  }

  private flushSlab(): void {
    if (this.pos === this.start) return;
    this.write(this.slab.subarray(this.start, this.pos));
    this.start = this.pos;
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.closed) return;
    this.flushSlab();
    this.socket.uncork();
  };

  private write(b: Buffer): void {
    this.bytesWritten += b.length;
    this.socket.write(b);
    if (this.socket.writableLength >= SEND_BUFFER_LIMIT) this.needDrain = true;
  }
}
