// A pool of worker threads computing SHA-1 off the event loop (piece verification and
// check()). Workers start on demand, are unref'd whenever idle so the pool never keeps
// the process alive, and are replaced if one dies. Results come back in any order.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../util/worker.js';
import { StorageError } from './errors.js';
import type { HashJob, HashResult } from './hash-worker.js';

/** Jobs handed to one worker at once: two, so it starts the next as soon as it posts a
 *  result instead of waiting a round trip for more work. */
const JOBS_PER_WORKER = 2;

interface Pending {
  job: HashJob;
  resolve: (digests: Buffer, buf: ArrayBuffer | undefined) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  inflight: Map<number, Pending>;
}

function startWorker(): Worker {
  return startModuleWorker(import.meta.url, 'hash-worker');
}

export class HashPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  get isClosed(): boolean {
    return this.closed;
  }

  constructor(size?: number) {
    const n = size ?? availableParallelism();
    if (!Number.isInteger(n) || n < 1 || n > 256) throw new StorageError('STORAGE_BAD_OPTIONS', `hash pool size ${n} outside 1..256`, 2);
    this.size = n;
  }

  /** SHA-1 of `data` (copied, so the caller keeps its buffer). */
  async hash(data: Uint8Array): Promise<Buffer> {
    return this.hashChunks(data, Math.max(1, data.length));
  }

  /** SHA-1 of each `chunkLength` bytes of `data`, digests concatenated (20 bytes each).
   *  With `transfer`, a buffer that owns its whole ArrayBuffer is moved to the worker
   *  instead of copied: the caller must not touch it afterwards. */
  hashChunks(data: Uint8Array, chunkLength: number, opts: { transfer?: boolean } = {}): Promise<Buffer> {
    if (this.closed) return Promise.reject(new StorageError('STORAGE_HASH_POOL_CLOSED', 'hash pool is closed'));
    if (!Number.isInteger(chunkLength) || chunkLength < 1) throw new RangeError(`bad chunk length ${chunkLength}`);
    let buf: ArrayBuffer;
    if (opts.transfer && ownsWholeBuffer(data)) {
      buf = data.buffer as ArrayBuffer;
    } else {
      // One memcpy: far cheaper than SHA-1 of the same bytes, and the caller keeps its data.
      const copy = new Uint8Array(data.length);
      copy.set(data);
      buf = copy.buffer;
    }
    const job: HashJob = { id: this.nextId++, buf, offset: 0, length: data.length, chunk: chunkLength, giveBack: false };
    return new Promise<Buffer>((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.pump();
    });
  }

  /** Like hashChunks with transfer, for a caller that recycles its buffers: hashes the
   *  first `length` bytes of `data` (which must own its whole ArrayBuffer, e.g. from
   *  Buffer.allocUnsafeSlow) and hands the buffer back with the digests, so no fresh
   *  memory is faulted in for every batch. */
  hashReusable(data: Buffer, length: number, chunkLength: number): Promise<{ digests: Buffer; data: Buffer }> {
    if (this.closed) return Promise.reject(new StorageError('STORAGE_HASH_POOL_CLOSED', 'hash pool is closed'));
    if (!ownsWholeBuffer(data)) throw new RangeError('hashReusable needs a buffer that owns its ArrayBuffer');
    if (!Number.isInteger(length) || length < 0 || length > data.length) throw new RangeError(`bad length ${length}`);
    if (!Number.isInteger(chunkLength) || chunkLength < 1) throw new RangeError(`bad chunk length ${chunkLength}`);
    const job: HashJob = { id: this.nextId++, buf: data.buffer as ArrayBuffer, offset: 0, length, chunk: chunkLength, giveBack: true };
    return new Promise((resolve, reject) => {
      this.queue.push({
        job,
        resolve: (digests, buf) => resolve({ digests, data: Buffer.from(buf ?? new ArrayBuffer(0)) }),
        reject,
      });
      this.pump();
    });
  }

  /** Terminates the workers; queued and running jobs fail with STORAGE_HASH_POOL_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new StorageError('STORAGE_HASH_POOL_CLOSED', 'hash pool is closed');
    for (const p of this.queue.splice(0)) p.reject(err);
    const slots = this.slots.splice(0);
    for (const s of slots) {
      for (const p of s.inflight.values()) p.reject(err);
      s.inflight.clear();
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let best: Slot | undefined;
      for (const s of this.slots) if (!best || s.inflight.size < best.inflight.size) best = s;
      if (!best || (best.inflight.size > 0 && this.slots.length < this.size)) best = this.spawn();
      if (best.inflight.size >= JOBS_PER_WORKER) return;
      const p = this.queue.shift()!;
      best.inflight.set(p.job.id, p);
      if (best.inflight.size === 1) best.worker.ref();
      best.worker.postMessage(p.job, [p.job.buf]);
    }
  }

  private spawn(): Slot {
    const worker = startWorker();
    const slot: Slot = { worker, inflight: new Map() };
    worker.unref();
    worker.on('message', (res: HashResult) => {
      const p = slot.inflight.get(res.id);
      if (!p) return;
      slot.inflight.delete(res.id);
      if (slot.inflight.size === 0) worker.unref();
      if (res.digests) p.resolve(Buffer.from(res.digests), res.buf);
      else p.reject(new StorageError('STORAGE_HASH_WORKER_FAILED', `hash worker: ${res.error ?? 'no result'}`));
      this.pump();
    });
    const fail = (why: string) => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      this.slots.splice(i, 1);
      const err = new StorageError('STORAGE_HASH_WORKER_FAILED', `hash worker ${why}`);
      for (const p of slot.inflight.values()) p.reject(err);
      slot.inflight.clear();
      if (!this.closed) this.pump();
    };
    worker.on('error', (e) => fail(`failed: ${e.message}`));
    worker.on('exit', (code) => fail(`exited with code ${code}`));
    this.slots.push(slot);
    return slot;
  }
}

function ownsWholeBuffer(data: Uint8Array): boolean {
  return data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
}

let shared: HashPool | undefined;

/** The process-wide pool (one worker per core), created on first use. Its workers are
 *  unref'd while idle, so it never keeps the process alive. */
export function defaultHashPool(): HashPool {
  if (!shared || shared.isClosed) shared = new HashPool();
  return shared;
}
