// tracker/store: where swarm state lives. The PeerStore contract (types.ts), the memory
// store (default, one process) and the Redis store (several trackers sharing one swarm).
import { createMemoryStore, type MemoryStoreOptions } from './memory.js';
import { StoreError } from './errors.js';
import type { PeerStore, StoreLimits } from './types.js';

export * from './types.js';
export { StoreError } from './errors.js';
export { DEFAULT_INTERVAL_S, DEFAULT_STORE_LIMITS, MAX_CATALOGUE_FILES, MAX_CATALOGUE_TORRENTS } from './limits.js';
export { MemoryStore, createMemoryStore, type MemoryStoreOptions } from './memory.js';
export { FileCatalogue, createFileCatalogue } from './catalogue-file.js';

export interface OpenStoreOptions {
  limits?: Partial<StoreLimits>;
  /** Memory store: where the catalogue persists. */
  dataDir?: string;
  /** Memory store: sweep timer period (0 disables). */
  sweepIntervalMs?: number;
}

/** Opens the store a `--store` value names: `memory` (default) or `redis://HOST:PORT[/DB]`. */
export async function openStore(spec: string | undefined, opts: OpenStoreOptions = {}): Promise<PeerStore> {
  if (spec === undefined || spec === '' || spec === 'memory') {
    const o: MemoryStoreOptions = {};
    if (opts.limits) o.limits = opts.limits;
    if (opts.dataDir !== undefined) o.dataDir = opts.dataDir;
    if (opts.sweepIntervalMs !== undefined) o.sweepIntervalMs = opts.sweepIntervalMs;
    return createMemoryStore(o);
  }
  if (/^rediss?:\/\//.test(spec)) {
    // Loaded only when a redis:// store is asked for: the memory-only path never loads ioredis.
    const { createRedisStore } = await import('./redis.js');
    return createRedisStore(spec, opts);
  }
  throw new StoreError('BAD_STORE', `unknown store "${spec}": use memory or redis://HOST:PORT[/DB]`, 2);
}
