// Piece hashing for `sta create`, shared by the main thread and the worker threads: every
// hasher claims the next batch of pieces from one shared atomic counter (no messages per
// batch, no data through the main thread), reads its own byte ranges with positional reads
// into one reused buffer, and writes each 20-byte SHA-1 straight into shared memory.
// Imports only node built-ins: a hashing thread loads this file and create-worker.ts alone.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

/** Bytes read per positional read: small enough that the bytes are still in the CPU cache
 *  when SHA-1 runs over them, big enough that syscalls cost nothing. */
export const READ_CHUNK = 1 << 20;
/** Bytes a hasher claims at once: an atomic add per batch costs nothing, and small batches
 *  keep the threads' finishing times within ~1 ms of each other. */
export const BATCH_BYTES = 2 << 20;

/** Slots of the shared control array. */
export const NEXT_BATCH = 0;
export const BATCHES_DONE = 1;
export const ABORT = 2;

export interface HashJob {
  /** Absolute paths of the files in torrent order, with their lengths and data offsets. */
  paths: string[];
  lengths: number[];
  offsets: number[];
  pieceLength: number;
  totalLength: number;
  piecesPerBatch: number;
  batchCount: number;
  /** Int32Array over it: NEXT_BATCH, BATCHES_DONE, ABORT. */
  control: SharedArrayBuffer;
  /** pieceCount * 20 bytes of SHA-1 digests. */
  hashes: SharedArrayBuffer;
}

/** The job for files in torrent order: data offsets, batch count, and the shared control
 *  words and digest buffer every thread works on. */
export function makeHashJob(paths: string[], lengths: number[], pieceLength: number, piecesPerBatch: number): HashJob {
  const offsets: number[] = [];
  let totalLength = 0;
  for (const n of lengths) {
    offsets.push(totalLength);
    totalLength += n;
  }
  const pieceCount = Math.ceil(totalLength / pieceLength);
  return {
    paths,
    lengths,
    offsets,
    pieceLength,
    totalLength,
    piecesPerBatch,
    batchCount: Math.ceil(pieceCount / piecesPerBatch),
    control: new SharedArrayBuffer(12),
    hashes: new SharedArrayBuffer(pieceCount * 20),
  };
}

/** Code of the error thrown when a file got shorter while it was hashed (create.ts turns it
 *  into a TorrentError with exit code 1: the work failed, the input was fine). */
export const FILE_CHANGED = 'TORRENT_FILE_CHANGED';

function fileChanged(message: string): Error {
  return Object.assign(new Error(message), { code: FILE_CHANGED });
}

export class PieceHasher {
  private readonly ctrl: Int32Array;
  private readonly out: Uint8Array;
  private readonly buf: Buffer;
  private fd = -1;
  private fdIndex = -1;
  private fileIndex = 0;

  constructor(private readonly job: HashJob) {
    this.ctrl = new Int32Array(job.control);
    this.out = new Uint8Array(job.hashes);
    const chunk = job.pieceLength <= READ_CHUNK ? Math.floor(READ_CHUNK / job.pieceLength) * job.pieceLength : READ_CHUNK;
    this.buf = Buffer.allocUnsafe(Math.min(chunk, Math.max(job.totalLength, 1)));
  }

  /** Hashes batches until none is left; `afterBatch` runs after each (progress). */
  run(afterBatch?: () => void): void {
    try {
      for (;;) {
        if (Atomics.load(this.ctrl, ABORT) !== 0) return;
        const b = Atomics.add(this.ctrl, NEXT_BATCH, 1);
        if (b >= this.job.batchCount) return;
        this.hashBatch(b);
        Atomics.add(this.ctrl, BATCHES_DONE, 1);
        afterBatch?.();
      }
    } catch (e) {
      Atomics.store(this.ctrl, ABORT, 1);
      throw e;
    } finally {
      this.closeFile();
    }
  }

  private hashBatch(b: number): void {
    const { pieceLength, totalLength, piecesPerBatch } = this.job;
    const pieceCount = this.out.length / 20;
    const first = b * piecesPerBatch;
    const last = Math.min(pieceCount, first + piecesPerBatch);
    if (pieceLength <= this.buf.length) {
      // Whole pieces per read.
      const perRead = Math.floor(this.buf.length / pieceLength);
      for (let p = first; p < last; p += perRead) {
        const start = p * pieceLength;
        const end = Math.min(totalLength, Math.min(last, p + perRead) * pieceLength);
        this.read(start, end);
        for (let off = 0; off < end - start; off += pieceLength) {
          const piece = this.buf.subarray(off, Math.min(end - start, off + pieceLength));
          this.out.set(createHash('sha1').update(piece).digest(), (p + off / pieceLength) * 20);
        }
      }
    } else {
      // Pieces bigger than the buffer: feed each piece's hash chunk by chunk.
      for (let p = first; p < last; p++) {
        const h = createHash('sha1');
        const end = Math.min(totalLength, (p + 1) * pieceLength);
        for (let pos = p * pieceLength; pos < end; ) {
          const n = Math.min(this.buf.length, end - pos);
          this.read(pos, pos + n);
          h.update(this.buf.subarray(0, n));
          pos += n;
        }
        this.out.set(h.digest(), p * 20);
      }
    }
  }

  /** Fills buf[0, end-start) with the torrent's bytes [start, end). */
  private read(start: number, end: number): void {
    const { offsets, lengths } = this.job;
    let i = this.findFile(start);
    let pos = start;
    while (pos < end) {
      while (offsets[i]! + lengths[i]! <= pos) i++;
      const fileEnd = offsets[i]! + lengths[i]!;
      const n = Math.min(fileEnd, end) - pos;
      const fd = this.open(i);
      let done = 0;
      while (done < n) {
        const r = readSync(fd, this.buf, pos - start + done, n - done, pos - offsets[i]! + done);
        if (r === 0) throw fileChanged(`${this.job.paths[i]} is shorter than when the torrent was started (file changed?)`);
        done += r;
      }
      pos += n;
    }
    this.fileIndex = i;
  }

  /** Index of the non-empty file holding byte `pos` (binary search from the last hit). */
  private findFile(pos: number): number {
    const { offsets, lengths } = this.job;
    const i = this.fileIndex;
    if (offsets[i]! <= pos && pos < offsets[i]! + lengths[i]!) return i;
    let lo = 0;
    let hi = offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (offsets[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    // Several files may start at pos (empty ones first): step back to the first of them.
    while (lo > 0 && offsets[lo - 1] === offsets[lo]) lo--;
    return lo;
  }

  private open(i: number): number {
    if (this.fdIndex === i) return this.fd;
    this.closeFile();
    this.fd = openSync(this.job.paths[i]!, 'r');
    this.fdIndex = i;
    return this.fd;
  }

  private closeFile(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.fdIndex = -1;
  }
}
