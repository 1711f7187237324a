// `sta create` as a library call: walk a file or folder (stable order, symlinks and special
// files skipped with a warning), choose the piece length, hash pieces with SHA-1 on every
// core, and write BEP 3 metainfo. The only torrent file (with create-*) that touches disk.
//
// Speed: the hashing threads start as soon as the size is known, or earlier by the caller
// (`threads`: the CLI starts them before it loads); the main thread hashes too; every
// hasher claims batches from one atomic counter and reads its own ranges with positional
// reads into one reused buffer, so no file data crosses threads and memory is a few MiB
// whatever the size.
import { availableParallelism } from 'node:os';
import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { encode, type BDict, type Encodable } from '../bencode/index.js';
import { ABORT, BATCH_BYTES, BATCHES_DONE, FILE_CHANGED, makeHashJob, PieceHasher, type HashJob } from './create-hash.js';
import type { HashThreadResult } from './create-worker.js';
import { TorrentError } from './errors.js';
import { MAX_FILES } from './limits.js';
import { encodeTorrent, parseTorrent } from './metainfo.js';
import { assertSafePath, unsafeReason } from './paths.js';
import { choosePieceLength, isValidCreatePieceLength } from './piece-length.js';
import type { Metainfo } from './types.js';

/**
 * How a hashing thread starts: a few lines of plain JavaScript (`eval`, no file to find),
 * so the thread is up in ~25 ms. It warms the module loader, then waits for one message
 * `{ module, data, loader? }`: registers `loader` when given (tsx's, when sta runs from
 * source), imports `module` and calls its `run(data)`. A caller may start such threads
 * before it even loads this file and pass them as `threads` (src/cli/early-threads.ts
 * holds the same lines): their start-up then overlaps the caller's own.
 */
export const THREAD_BOOT = `const { parentPort } = require('node:worker_threads');
import('node:crypto');
parentPort.once('message', async ({ module, data, loader }) => {
  if (loader) (await import(loader)).register();
  (await import(module)).run(data);
});`;

/** A file got shorter while it was hashed: the work failed (exit 1), the input was fine. */
export class FileChangedError extends TorrentError {
  constructor(message: string) {
    super(FILE_CHANGED, message, 1);
  }
}

export interface CreateOptions {
  /** A file or a folder. */
  path: string;
  /** First is `announce`; all go in `announce-list`, one tier each (BEP 12). */
  trackers?: string[];
  /** Power of two, 16 KiB..16 MiB; default chosen from the size. */
  pieceLength?: number;
  private?: boolean;
  comment?: string;
  /** Torrent name; default the file or folder's own name. */
  name?: string;
  /** BEP 19 url-list. */
  webSeeds?: string[];
  /** Default `sta/<version>`. */
  createdBy?: string;
  /** Seconds since 1970; default now; null leaves it out (reproducible output). */
  creationDate?: number | null;
  /** Hashing threads besides the main thread; default cores - 1 (at least 1). */
  workers?: number;
  /** Threads already started with THREAD_BOOT (and `unref`ed), used instead of starting
   *  `workers` new ones; createTorrent ends them in every case. */
  threads?: Worker[];
  onProgress?: (hashedBytes: number, totalBytes: number) => void;
  /** Called for each skipped entry (symlink, special file); default: collected only. */
  onWarning?: (message: string) => void;
}

export interface CreateResult {
  torrent: Buffer;
  meta: Metainfo;
  /** One line per skipped entry (symlink, socket, FIFO, device). */
  warnings: string[];
}

interface WalkedFile {
  abs: string;
  components: string[];
  length: number;
}

/** Under this size hashing takes a few ms: starting threads would cost more. */
const SMALL_FOR_THREADS = 16 << 20;
const PROGRESS_INTERVAL_MS = 100;

/** Names in byte order of their UTF-8 (what `LC_ALL=C sort` gives): the same everywhere. */
function sortedByBytes(names: string[]): string[] {
  return names
    .map((name) => ({ name, key: Buffer.from(name) }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map((e) => e.name);
}

function checkName(name: string, abs: string): void {
  const why = unsafeReason(name);
  if (why) throw new TorrentError('TORRENT_UNSAFE_PATH', `cannot put ${abs} in a torrent: ${why}`);
}

/** Depth-first, entries in byte order: files keep the order of their path components. */
function walk(root: string, warn: (m: string) => void): WalkedFile[] {
  const out: WalkedFile[] = [];
  const visit = (dir: string, prefix: string[]): void => {
    const names = sortedByBytes(readdirSync(dir));
    for (const name of names) {
      const abs = join(dir, name);
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) {
        warn(`skipped symlink ${abs}`);
      } else if (st.isDirectory()) {
        checkName(name, abs);
        visit(abs, [...prefix, name]);
      } else if (st.isFile()) {
        const components = [...prefix, name];
        assertSafePath(components, abs);
        if (out.length >= MAX_FILES) throw new TorrentError('TORRENT_TOO_MANY_FILES', `more than ${MAX_FILES} files under ${root}`);
        out.push({ abs, components, length: st.size });
      } else {
        warn(`skipped special file ${abs}`);
      }
    }
  };
  visit(root, []);
  return out;
}

/** Under tsx (tests) a thread does not inherit `--import tsx` (Node 20): the thread
 *  registers tsx's loader before it imports the TypeScript worker. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_MODULE = new URL(FROM_SOURCE ? './create-worker.ts' : './create-worker.js', import.meta.url).href;

function startThread(): Worker {
  const w = new Worker(THREAD_BOOT, { eval: true });
  w.unref();
  return w;
}

function runThread(w: Worker, job: HashJob): Promise<void> {
  const done = new Promise<void>((resolvePromise, reject) => {
    w.once('message', (m: HashThreadResult) => {
      if (m.ok) resolvePromise();
      else reject(m.code === FILE_CHANGED ? new FileChangedError(m.message ?? 'file changed') : Object.assign(new Error(m.message), { code: m.code }));
    });
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`hashing thread exited early (code ${code})`)));
  });
  w.ref(); // the result must keep the process alive
  w.postMessage({ module: WORKER_MODULE, data: job, loader: FROM_SOURCE ? import.meta.resolve('tsx/esm/api') : undefined });
  return done;
}

/** The main thread's share: same hasher, its file-changed error typed for the exit code. */
function hashHere(job: HashJob, afterBatch?: () => void): void {
  try {
    new PieceHasher(job).run(afterBatch);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw err.code === FILE_CHANGED ? new FileChangedError(err.message) : e;
  }
}

export async function createTorrent(opts: CreateOptions): Promise<CreateResult> {
  try {
    return await create(opts);
  } finally {
    for (const w of opts.threads ?? []) void w.terminate();
  }
}

async function create(opts: CreateOptions): Promise<CreateResult> {
  if (opts.pieceLength !== undefined && !isValidCreatePieceLength(opts.pieceLength)) {
    throw new TorrentError('TORRENT_BAD_PIECE_LENGTH', `piece length must be a power of two from 16384 (16 KiB) to 16777216 (16 MiB), not ${opts.pieceLength}`);
  }
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
    opts.onWarning?.(m);
  };
  const root = resolve(opts.path);
  let top: Stats;
  try {
    top = statSync(root); // follows a symlink the user named on purpose
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file or folder' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new TorrentError('TORRENT_NOT_FOUND', `cannot read ${opts.path}: ${why}`);
  }

  // Start the hashing threads as soon as the size is known (for a file: now, before
  // anything else), so they boot while the main thread starts hashing.
  const wanted = opts.workers ?? Math.max(1, availableParallelism() - 1);
  const given = opts.threads ?? [];
  let workers: Worker[] = [];
  const startWorkers = (totalBytes: number): void => {
    if (workers.length > 0 || totalBytes < SMALL_FOR_THREADS) return;
    workers = given.length > 0 ? given : Array.from({ length: wanted }, startThread);
  };
  if (top.isFile()) startWorkers(top.size);
  try {
    let files: WalkedFile[];
    const name = opts.name ?? basename(root);
    checkName(name, root);
    if (top.isDirectory()) {
      files = walk(root, warn);
    } else if (top.isFile()) {
      files = [{ abs: root, components: [name], length: top.size }];
    } else {
      throw new TorrentError('TORRENT_BAD_INPUT', `${opts.path} is not a regular file or a folder`);
    }
    const totalLength = files.reduce((n, f) => n + f.length, 0);
    if (totalLength === 0) throw new TorrentError('TORRENT_EMPTY', `nothing to share: ${opts.path} holds no data`);
    startWorkers(totalLength);
    const pieceLength = opts.pieceLength ?? choosePieceLength(totalLength);
    const piecesPerBatch = Math.max(1, Math.floor(BATCH_BYTES / pieceLength));
    const job = makeHashJob(
      files.map((f) => f.abs),
      files.map((f) => f.length),
      pieceLength,
      piecesPerBatch,
    );
    const ctrl = new Int32Array(job.control);
    const progress = (): void => opts.onProgress?.(Math.min(totalLength, Atomics.load(ctrl, BATCHES_DONE) * piecesPerBatch * pieceLength), totalLength);
    const done = workers.map((w) => runThread(w, job));
    for (const d of done) d.catch(() => {}); // awaited below, unless the main thread fails first
    // The main thread hashes too; if it fails, the threads stop at their next batch.
    hashHere(job, opts.onProgress ? progress : undefined);
    const timer = opts.onProgress ? setInterval(progress, PROGRESS_INTERVAL_MS) : undefined;
    try {
      await Promise.all(done);
    } catch (e) {
      Atomics.store(ctrl, ABORT, 1);
      throw e;
    } finally {
      if (timer) clearInterval(timer);
    }
    opts.onProgress?.(totalLength, totalLength);

    const info: Record<string, Encodable> = { name, 'piece length': pieceLength, pieces: new Uint8Array(job.hashes) };
    if (top.isDirectory()) info.files = files.map((f) => ({ length: f.length, path: f.components }));
    else info.length = totalLength;
    if (opts.private) info.private = 1;
    const infoBytes = encode(info as BDict, job.hashes.byteLength + 1024);
    const torrent = encodeTorrent(infoBytes, {
      announce: (opts.trackers ?? []).map((t) => [t]),
      urlList: opts.webSeeds ?? [],
      comment: opts.comment,
      createdBy: opts.createdBy ?? 'sta/0.1.0',
      creationDate: opts.creationDate === null ? undefined : (opts.creationDate ?? Math.floor(Date.now() / 1000)),
    });
    return { torrent, meta: parseTorrent(torrent), warnings };
  } finally {
    for (const w of workers) void w.terminate();
  }
}
