// The hash worker: SHA-1 of consecutive chunks of a transferred buffer. One job message
// may carry many pieces (check()) or one (verifyPiece); the digests go back concatenated.
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

export interface HashJob {
  id: number;
  buf: ArrayBuffer;
  offset: number;
  length: number;
  /** Hash each `chunk` bytes separately (the last chunk may be shorter). */
  chunk: number;
  /** Send `buf` back with the result, so the caller can reuse it. */
  giveBack: boolean;
}

export interface HashResult {
  id: number;
  digests?: ArrayBuffer;
  buf?: ArrayBuffer;
  error?: string;
}

const port = parentPort;
if (port) {
  port.on('message', (job: HashJob) => {
    try {
      const n = job.length === 0 ? 1 : Math.ceil(job.length / job.chunk);
      const out = new Uint8Array(n * 20);
      const view = new Uint8Array(job.buf, job.offset, job.length);
      for (let i = 0; i < n; i++) {
        const start = i * job.chunk;
        const d = createHash('sha1').update(view.subarray(start, Math.min(start + job.chunk, job.length))).digest();
        out.set(d, i * 20);
      }
      if (job.giveBack) {
        const res: HashResult = { id: job.id, digests: out.buffer, buf: job.buf };
        port.postMessage(res, [out.buffer, job.buf]);
      } else {
        const res: HashResult = { id: job.id, digests: out.buffer };
        port.postMessage(res, [out.buffer]);
      }
    } catch (e) {
      const res: HashResult = { id: job.id, error: e instanceof Error ? e.message : String(e) };
      port.postMessage(res);
    }
  });
}
