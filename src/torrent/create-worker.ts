// A `sta create` hashing thread's code. The thread is a plain booted Node thread (see
// THREAD_BOOT in create.ts) that imports this file when it gets its job and calls
// `run(job)`: hash batches until none is left, then say so (or report the error). Only
// node built-ins are loaded (this file and create-hash.ts), so the thread starts hashing
// within a millisecond or two of getting the job.
import { parentPort } from 'node:worker_threads';
import { PieceHasher, type HashJob } from './create-hash.js';

export interface HashThreadResult {
  ok: boolean;
  message?: string;
  code?: string;
}

export function run(job: HashJob): void {
  const port = parentPort!;
  let result: HashThreadResult = { ok: true };
  try {
    new PieceHasher(job).run();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    result = { ok: false, message: err.message, code: err.code };
  }
  port.postMessage(result);
  port.close();
}
