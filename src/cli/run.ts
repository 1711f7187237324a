// How every command ends: typed errors become one line on stderr and their exit code
// (2 bad input, 1 the work failed); anything else is a bug, shown with its stack only
// under --verbose.
import { isStaError } from '../util/index.js';

export function verbose(): boolean {
  return process.argv.includes('--verbose') || process.env.STA_VERBOSE === '1';
}

export function fail(e: unknown): never {
  if (isStaError(e)) {
    process.stderr.write(`sta: ${e.message}\n`);
    if (verbose() && e.stack) process.stderr.write(`${e.stack}\n`);
    process.exit(e.exitCode);
  }
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err === 'object' && typeof err.code === 'string' && err.message) {
    // System errors (ENOENT, EACCES, EADDRINUSE, ...) are the user's input or environment.
    process.stderr.write(`sta: ${err.message}\n`);
    if (verbose() && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exit(err.code === 'EADDRINUSE' || err.code === 'ECONNREFUSED' ? 1 : 2);
  }
  process.stderr.write(`sta: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  if (verbose() && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
}

/** Wraps a command's action so a rejection or throw ends the process the contract's way. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      fail(e);
    }
  };
}
