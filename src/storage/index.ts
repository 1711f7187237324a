// Storage: a torrent's pieces <-> files on disk, SHA-1 in worker threads, resume data.
// See docs/storage.md.
export { Storage, type StorageOptions, type CheckOptions, type CheckResult } from './storage.js';
export { HashPool, defaultHashPool } from './hash-pool.js';
export { AlignedPool, DIRECT_ALIGN, sharedAlignedPool } from './aligned-pool.js';
export { StorageError } from './errors.js';
export { wantedFilesFromGlobs, compileGlob } from './glob.js';
export { DEFAULT_MAX_OPEN_FILES, RESUME_SAVE_INTERVAL_MS, WRITE_CHUNK_BYTES } from './config.js';
