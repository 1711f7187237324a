// A `sta create` hashing thread: waits for the job, hashes batches until none is left,
// then says so (or reports the error) and lets the thread end.
import { parentPort } from 'node:worker_threads';
import { PieceHasher, type HashJob } from './create-hash.js';

const port = parentPort!;
port.once('message', (job: HashJob) => {
  try {
    new PieceHasher(job).run();
    port.postMessage({ ok: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    port.postMessage({ ok: false, message: err.message, code: err.code });
  }
  port.close();
});
