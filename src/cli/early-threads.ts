// `sta create`'s hashing threads, started before the CLI loads anything else: main.ts
// imports this file first, so a thread's start-up (~25 ms of the other core) overlaps the
// CLI's own loading (~35 ms: commander, the torrent code) instead of delaying the hashing.
// Imports only node built-ins, so it runs a few milliseconds after Node starts.
//
// The threads run THREAD_BOOT of src/torrent/create.ts (the same lines, copied because
// importing the torrent code here would load it all first): they wait, unref'ed, for the
// job that createTorrent({ threads }) sends them.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const THREAD_BOOT = `const { parentPort } = require('node:worker_threads');
import('node:crypto');
parentPort.once('message', async ({ module, data, loader }) => {
  if (loader) (await import(loader)).register();
  (await import(module)).run(data);
});`;

let threads: Worker[] = [];

const args = process.argv.slice(2);
if (args[0] === 'create' && !args.includes('--help') && !args.includes('-h')) {
  const n = Math.max(1, availableParallelism() - 1);
  threads = Array.from({ length: n }, () => new Worker(THREAD_BOOT, { eval: true }));
  for (const w of threads) w.unref(); // a command that fails before hashing must still exit
}

/** The threads started for this process (once: later calls get none). */
export function takeEarlyThreads(): Worker[] {
  const t = threads;
  threads = [];
  return t;
}
