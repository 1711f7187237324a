// A bounded LRU cache of open file handles for positional I/O. A handle in use is never
// closed under its user: eviction skips busy entries (the cache may briefly hold more
// than its bound) and closes them once released.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { StorageError, ioError } from './errors.js';

interface Entry {
  key: number;
  path: string;
  opening: Promise<FileHandle>;
  fh: FileHandle | undefined;
  refs: number;
  writable: boolean;
}

export class FileCache {
  private readonly entries = new Map<number, Entry>();
  private closed = false;
  /** The key last moved to the end of the LRU order (openFd skips moving it again). */
  private mru = NaN;
  constructor(readonly maxOpen: number) {}

  get openCount(): number {
    return this.entries.size;
  }

  /** Runs `fn` with an open handle for `path` (cached under `key`). `write` asks for a
   *  writable handle; `create` creates the file if missing (mode 0666 & ~umask). */
  async use<T>(key: number, path: string, opts: { write: boolean; create?: boolean }, fn: (fh: FileHandle) => Promise<T>): Promise<T> {
    if (this.closed) throw new StorageError('STORAGE_CLOSED', 'storage is closed');
    let e = this.entries.get(key);
    if (e && !e.writable && opts.write) {
      // Reopen read-write (the file may have become writable, or needs creating).
      if (e.refs === 0) {
        this.entries.delete(key);
        void this.closeEntry(e);
        e = undefined;
      } else {
        throw new StorageError('STORAGE_READ_ONLY', `${path} is open read-only`);
      }
    }
    this.mru = key;
    if (e) {
      this.entries.delete(key); // re-insert: Map order is the LRU order
      this.entries.set(key, e);
      e.refs++;
    } else {
      const entry: Entry = { key, path, opening: Promise.resolve(undefined as unknown as FileHandle), fh: undefined, refs: 1, writable: true };
      entry.opening = this.openHandle(entry, opts).then(
        (fh) => {
          entry.fh = fh;
          return fh;
        },
        (err: unknown) => {
          if (this.entries.get(key) === entry) this.entries.delete(key);
          throw err;
        },
      );
      this.entries.set(key, entry);
      e = entry;
      this.evict();
    }
    try {
      const fh = await e.opening;
      if (opts.write && !e.writable) throw new StorageError('STORAGE_READ_ONLY', `${path} can only be opened read-only`);
      return await fn(fh);
    } finally {
      e.refs--;
      if (e.refs === 0) this.evict();
    }
  }

  /** The descriptor of `key`'s handle if it is open and writable right now (-1 if not),
   *  for a synchronous write that cannot be interrupted by an eviction; marks it recently
   *  used. */
  openFd(key: number): number {
    const e = this.entries.get(key);
    if (!e || !e.fh || !e.writable || this.closed) return -1;
    if (key !== this.mru) {
      this.entries.delete(key);
      this.entries.set(key, e);
      this.mru = key;
    }
    return e.fh.fd;
  }

  /** fdatasync the file. fsync works on the inode, so a handle opened after the writing
   *  one was evicted still flushes those writes. */
  async datasync(key: number, path: string): Promise<void> {
    await this.use(key, path, { write: false }, async (fh) => {
      await fh.datasync();
    });
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => this.closeEntry(e)));
  }

  private async openHandle(e: Entry, opts: { write: boolean; create?: boolean }): Promise<FileHandle> {
    // O_NOFOLLOW: data files are never symlinks (see files.ts).
    const rw = constants.O_RDWR | constants.O_NOFOLLOW | (opts.create ? constants.O_CREAT : 0);
    try {
      return await open(e.path, rw, 0o666);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (!opts.write && (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')) {
        // Seeding data we may not write: read-only is enough.
        e.writable = false;
        try {
          return await open(e.path, constants.O_RDONLY | constants.O_NOFOLLOW);
        } catch (err2) {
          throw ioError('cannot open', e.path, err2);
        }
      }
      if (opts.write && (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')) {
        throw new StorageError('STORAGE_READ_ONLY', `cannot write ${e.path}: ${code}`, 1, { cause: err });
      }
      if (code === 'ELOOP') throw new StorageError('STORAGE_UNSAFE_PATH', `refusing ${e.path}: it is a symlink`, 2, { cause: err });
      if (code === 'ENOENT') throw new StorageError('STORAGE_DATA_MISSING', `${e.path} is missing`, 1, { cause: err });
      throw ioError('cannot open', e.path, err);
    }
  }

  private evict(): void {
    if (this.entries.size <= this.maxOpen) return;
    for (const e of this.entries.values()) {
      if (this.entries.size <= this.maxOpen) break;
      if (e.refs > 0) continue;
      this.entries.delete(e.key);
      void this.closeEntry(e);
    }
  }

  private async closeEntry(e: Entry): Promise<void> {
    try {
      const fh = await e.opening;
      await fh.close();
    } catch {
      // An open that failed has nothing to close; a failed close loses nothing we wrote
      // (writes completed before), and there is no one to tell.
    }
  }
}
