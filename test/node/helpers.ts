// Shared by the node-level tests: a temp dir removed afterwards, and waiting for a torrent
// to complete (rejecting with its progress when it does not in time).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Torrent } from '../../src/node/index.js';

/** Files of a node's own under a download dir (resume data), left out of tree comparisons. */
export const IGNORE = /^\.sta(\/|$)/;

export async function withTmp(prefix: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Resolves once `t` is complete (at once if seeding), rejects after `ms`. */
export function complete(t: Torrent, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (t.state === 'seeding') return resolve();
    const timer = setTimeout(() => reject(new Error(`not complete in ${ms} ms: ${JSON.stringify(t.progress())}`)), ms);
    t.once('complete', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
