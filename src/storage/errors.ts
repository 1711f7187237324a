// The typed error of the storage part: every failure to map a torrent onto files, read,
// write, hash or keep resume data. Codes are stable; callers branch on them.
import { StaError, type ExitCode } from '../util/index.js';

/** Stable codes:
 *  STORAGE_BAD_METAINFO    the Metainfo's files/pieces do not add up
 *  STORAGE_BAD_OPTIONS     wantedFiles of the wrong length, bad maxOpenFiles, ...
 *  STORAGE_UNSAFE_PATH     a file would resolve outside the download folder (or through a symlink out of it)
 *  STORAGE_PATH_CONFLICT   two files, or a file and the resume data, share a path
 *  STORAGE_BAD_PIECE       piece index, data length or block range out of bounds
 *  STORAGE_NOT_VERIFIED    readBlock of a piece that is not verified
 *  STORAGE_DATA_MISSING    a verified piece's bytes are gone from disk (file shrunk)
 *  STORAGE_READ_ONLY       a write to a file that could only be opened read-only
 *  STORAGE_IO              any other file-system failure (the cause is kept)
 *  STORAGE_CLOSED          the Storage was closed
 *  STORAGE_CHECK_ABORTED   check() stopped by its AbortSignal
 *  STORAGE_HASH_POOL_CLOSED / STORAGE_HASH_WORKER_FAILED  the hash pool cannot hash
 *  STORAGE_BAD_GLOB        an --only pattern that is empty or too long */
export class StorageError extends StaError {
  constructor(code: string, message: string, exitCode: ExitCode = 1, options?: { cause?: unknown }) {
    super(code, message, exitCode, options);
  }
}

/** Wraps a Node fs error with the storage code and the path it concerns. */
export function ioError(what: string, path: string, cause: unknown): StorageError {
  const sys = cause as NodeJS.ErrnoException | undefined;
  const why = sys?.code ?? (cause instanceof Error ? cause.message : String(cause));
  return new StorageError('STORAGE_IO', `${what} ${path}: ${why}`, 1, { cause });
}
