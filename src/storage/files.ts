// The file-system side of opening a torrent's files: what is already there (without
// following symlinks out of the download folder), and creating what is wanted (sparse,
// or zero-filled when preallocating), never through a symlink.
import { constants } from 'node:fs';
import { lstat, mkdir, open, realpath } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PREALLOCATE_CHUNK_BYTES } from './config.js';
import { StorageError, ioError } from './errors.js';
import { isInside } from './layout.js';

export interface DiskStat {
  size: number;
  mtimeNs: bigint;
}

/** The deepest existing ancestor of `p` (or `p`) must really be inside `root`: a symlinked
 *  folder must not lead a write out of the download folder. */
export async function assertRealInside(root: string, p: string): Promise<void> {
  let q = p;
  for (let i = 0; i < 4096; i++) {
    try {
      const r = await realpath(q);
      if (!isInside(root, r)) throw new StorageError('STORAGE_UNSAFE_PATH', `refusing ${p}: ${q} leads outside ${root} (symlink)`, 2);
      return;
    } catch (e) {
      if (e instanceof StorageError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw ioError('cannot resolve', q, e);
      const up = dirname(q);
      if (up === q) break;
      q = up;
    }
  }
}

/** Size and mtime of a regular file, undefined if missing. Refuses symlinks and anything
 *  that is not a regular file where the torrent puts one. */
export async function statFile(root: string, p: string, okDirs?: Set<string>): Promise<DiskStat | undefined> {
  let st;
  try {
    st = await lstat(p, { bigint: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw ioError('cannot stat', p, e);
  }
  if (st.isSymbolicLink()) throw new StorageError('STORAGE_UNSAFE_PATH', `refusing ${p}: it is a symlink`, 2);
  if (!st.isFile()) throw new StorageError('STORAGE_PATH_CONFLICT', `${p} exists and is not a regular file`, 2);
  const dir = dirname(p);
  if (!okDirs?.has(dir)) {
    await assertRealInside(root, dir);
    okDirs?.add(dir);
  }
  return { size: Number(st.size), mtimeNs: st.mtimeNs };
}

/** Creates (or extends) a file to `length` bytes: sparse by default, zero-filled with
 *  `preallocate`. Parent folders are made first, checked to stay inside `root`. */
export async function createFile(
  root: string,
  p: string,
  length: number,
  opts: { preallocate: boolean; existingSize?: number; madeDirs?: Map<string, Promise<void>> },
): Promise<void> {
  const dir = dirname(p);
  // Each folder is made and checked once per open (files of one folder share the work).
  let made = opts.madeDirs?.get(dir);
  if (!made) {
    made = (async () => {
      await assertRealInside(root, dir);
      try {
        await mkdir(dir, { recursive: true });
      } catch (e) {
        throw ioError('cannot create folder', dir, e);
      }
      await assertRealInside(root, dir);
    })();
    opts.madeDirs?.set(dir, made);
  }
  await made;
  let fh;
  try {
    // O_NOFOLLOW: a dangling symlink put there must not make us create its target.
    fh = await open(p, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o666);
  } catch (e) {
    throw ioError('cannot create', p, e);
  }
  try {
    const from = opts.existingSize ?? 0;
    if (opts.preallocate && length > from) {
      const zeros = Buffer.alloc(Math.min(PREALLOCATE_CHUNK_BYTES, length - from));
      for (let pos = from; pos < length; ) {
        const n = Math.min(zeros.length, length - pos);
        const { bytesWritten } = await fh.write(zeros, 0, n, pos);
        pos += bytesWritten;
      }
    } else if (length > from) {
      // Sparse: the length without the bytes.
      await fh.truncate(length);
    }
  } catch (e) {
    throw ioError('cannot size', p, e);
  } finally {
    await fh.close();
  }
}
