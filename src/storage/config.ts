// Storage defaults and limits in one place, each with the reason for its number.

/** Open file handles kept per Storage. Linux's default soft limit is 1024 descriptors per
 *  process; a node with many torrents plus hundreds of sockets must stay well under it. */
export const DEFAULT_MAX_OPEN_FILES = 64;
/** Upper bound accepted for maxOpenFiles, for the same reason. */
export const MAX_OPEN_FILES_LIMIT = 512;

/** Resume data is saved at most this often while pieces arrive (and always on close):
 *  a crash loses at most this much bookkeeping, and those pieces are found again by the
 *  rehash of the files written since (see docs/storage.md). */
export const RESUME_SAVE_INTERVAL_MS = 2000;

/** A file whose mtime is this close to (or after) the moment its resume snapshot was
 *  taken may have been written again within the same timestamp tick, which its mtime
 *  cannot show ("racy" in git's sense). 2 s covers the coarsest common file systems
 *  (FAT: 2 s; ext3: 1 s; ext4/xfs/tmpfs: one kernel tick). Racy files are rehashed after a
 *  crash; a clean close writes no racy marks because no write can follow it. */
export const RACY_MTIME_WINDOW_NS = 2_000_000_000n;

/** check() hashes in jobs of about this many bytes (whole pieces), so one message to a
 *  worker carries many small pieces and the per-message cost stays negligible. 1 MiB
 *  rather than 4: the bytes just read are more likely still in cache when hashed
 *  (measured ~15% faster here). The job buffers are reused, never faulted in afresh. */
export const CHECK_BATCH_BYTES = 1 * 1024 * 1024;
/** Bytes read ahead of the hash workers during check(): enough to keep both cores busy
 *  while the next reads are in flight, small enough to stay out of the way. */
export const CHECK_READ_AHEAD_BYTES = 32 * 1024 * 1024;

/** Size bound for reading a resume file: it holds the bitfield plus a few integers per
 *  file, so anything much larger is not ours. Computed per torrent from these parts. */
export const RESUME_FIXED_BYTES = 4096;
export const RESUME_BYTES_PER_FILE = 96;

/** Piece data is written in calls of this many bytes (a BitTorrent block, as aria2 and
 *  Transmission write), synchronously on the event loop (Storage.writeChunks): a thread-pool
 *  round trip per 16 KiB would cost more than the write itself. Measured on this VM
 *  (Linux 6.18, ext4, 1 GiB written, sys CPU): 16 KiB writes 0.5-0.9 s, 64-256 KiB
 *  1.5-1.9 s, 1 MiB 1.7-3.3 s. The kernel backs larger writes with large page-cache folios,
 *  taken from big free blocks that the VM has handed back to its host (free page
 *  reporting), so every page of them faults in the host first; 16 KiB folios come from
 *  memory in use. Where memory is not reported back, larger calls cost slightly less
 *  (fewer syscalls): ~0.1 s per GiB for 65,536 calls. */
export const WRITE_CHUNK_BYTES = 16 * 1024;
/** A synchronous write of a run of pieces (at most 4 MiB) takes 1-8 ms here when its page
 *  cache memory is warm, 10-70 ms when the host must fault it in. Longer than this means
 *  the kernel is throttling us (dirty pages past its limit: the disk is slower than the
 *  network). Writes then go to the thread pool for POOL_AFTER_SLOW_WRITE_MS, so the disk
 *  holds up a pool thread and the downloader's backpressure, not the event loop. */
export const SLOW_SYNC_WRITE_MS = 250;
export const POOL_AFTER_SLOW_WRITE_MS = 10_000;

/** Smallest piece written with O_DIRECT (writePieceDirect): each direct write costs a
 *  thread-pool round trip and ~0.2 ms of a pool thread (pinning pages, a device request),
 *  so it pays off only for large pieces. Measured here (1 GiB, sta seeding, interleaved):
 *  1 MiB pieces 2.63-2.81 -> 2.15-2.25 CPU s per GiB; 256 KiB pieces 3.48-3.98 ->
 *  3.94-4.41 (pool threads 0.5 -> 1.3-1.5 s). Smaller pieces go through the page cache. */
export const DIRECT_MIN_PIECE_BYTES = 1024 * 1024;

/** Direct piece writes running at once, one thread-pool thread each (libuv has four, shared
 *  with every other file operation: two stay free for reads while seeding). Pieces arriving
 *  while that many run wait in a queue, and those of one file that follow each other on
 *  disk then go in one pwritev of up to DIRECT_BATCH_PIECES pieces: one thread-pool trip
 *  (a futex wake-up, an eventfd write and read) instead of one per piece, and a larger
 *  request for the device. 1 GiB sta -> sta download (1 MiB pieces), 7 interleaved rounds:
 *  2 at once ~550 trips for 1023 pieces, 4 at once ~650-750; leecher CPU median 2.37 and
 *  2.36 s, sys 0.69 and 0.73 s (unmerged, one trip per piece: 2.67 s, sys 0.86 s). 1023
 *  direct writes with 16 outstanding: 204 ms CPU (2 at once), 239 ms (4), 403 ms
 *  (unmerged), same wall time. */
export const DIRECT_WRITES_AT_ONCE = 2;
export const DIRECT_BATCH_PIECES = 8;

/** Zero-fill chunk when preallocating files (preallocate: true). */
export const PREALLOCATE_CHUNK_BYTES = 1024 * 1024;

/** Bounds for --only patterns: they are user input, matched against every file name. */
export const MAX_GLOB_LENGTH = 1024;
export const MAX_GLOBS = 256;
