// Starting a worker thread whose entry is a module next to the caller, from the built
// JavaScript (dist/) or from the TypeScript source under tsx (tests, benches). On Node 20
// a thread does not get tsx's loader from `--import tsx`, so from source the thread
// registers tsx itself before importing the entry. Not re-exported from util/index.ts, so
// the pure layers that import util never load worker_threads.
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** Node flags a file worker cannot take (`--input-type` is for --eval/stdin only). */
const workerExecArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));

/** Starts `<name>.js` (or `<name>.ts` when `callerUrl` is a .ts file) from the folder of
 *  `callerUrl` (the caller's import.meta.url). */
export function startModuleWorker(callerUrl: string, name: string, options: Omit<WorkerOptions, 'eval' | 'execArgv'> = {}): Worker {
  if (callerUrl.endsWith('.ts')) {
    const href = new URL(`./${name}.ts`, callerUrl).href;
    return new Worker(`import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(href)}); })`, {
      ...options,
      eval: true,
      execArgv: workerExecArgv,
    });
  }
  return new Worker(new URL(`./${name}.js`, callerUrl), { ...options, execArgv: workerExecArgv });
}
