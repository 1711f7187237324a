// One torrent's data on disk: opening (layout, path checks, creating wanted files),
// checking what is already verified (resume data first, hashing only what is unknown),
// writing verified pieces, serving blocks of them, and keeping resume data.
// Crash-safety reasoning: docs/storage.md.
import { close as fsClose, constants, open as fsOpen, writev as fsWritev, writeSync } from 'node:fs';
import { mkdir, realpath, type FileHandle } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { dirname, resolve } from 'node:path';
import type { Metainfo } from '../torrent/index.js';
import { Bitfield } from '../util/index.js';
import {
  CHECK_BATCH_BYTES,
  CHECK_READ_AHEAD_BYTES,
  DEFAULT_MAX_OPEN_FILES,
  MAX_OPEN_FILES_LIMIT,
  RACY_MTIME_WINDOW_NS,
  RESUME_SAVE_INTERVAL_MS,
  SLOW_SYNC_WRITE_MS,
  POOL_AFTER_SLOW_WRITE_MS,
  WRITE_CHUNK_BYTES,
  DIRECT_MIN_PIECE_BYTES,
  DIRECT_WRITES_AT_ONCE,
  DIRECT_BATCH_PIECES,
} from './config.js';
import { DIRECT_ALIGN } from './aligned-pool.js';
import { StorageError, ioError } from './errors.js';
import { FileCache } from './file-cache.js';
import { assertRealInside, createFile, statFile, type DiskStat } from './files.js';
import { defaultHashPool, type HashPool } from './hash-pool.js';
import { Layout, isInside, resolveInside, type Span } from './layout.js';
import {
  Kept,
  encodeResume,
  parseResume,
  readBounded,
  removeStaleTemps,
  resumeSizeBound,
  writeFileAtomic,
  type FileStamp,
  type ParsedResume,
} from './resume.js';

export interface StorageOptions {
  /** Download folder; nothing is ever written outside it (except at `resumePath` if
   *  the caller puts that elsewhere). Created if missing. */
  dir: string;
  /** Per Metainfo.files index; default: all wanted. */
  wantedFiles?: boolean[];
  /** Default `<dir>/.sta/<infohashhex>.resume`. */
  resumePath?: string;
  /** Zero-fill new files instead of sparse ones (default false). */
  preallocate?: boolean;
  /** Open file handles cached (default 64). */
  maxOpenFiles?: number;
  /** Create the wanted files at open (default true). `sta seed` may pass false so a
   *  folder with missing files is only read; files are then made on first write. */
  createFiles?: boolean;
  /** Hash pool (default: the process-wide defaultHashPool()). */
  hashPool?: HashPool;
  /** How piece data is written: 'sync' (default) in WRITE_CHUNK_BYTES calls on this
   *  thread, falling back to 'pool' for a while after a slow one; 'pool' on the libuv
   *  thread pool, one positional writev per file span. See WRITE_CHUNK_BYTES. */
  writeMode?: 'sync' | 'pool';
  /** A synchronous write run slower than this sends writes to the pool for a while
   *  (default SLOW_SYNC_WRITE_MS; tests pass -1 to take the fall-back at once). */
  slowSyncWriteMs?: number;
  /** Allow writePieceDirect (unbuffered, O_DIRECT writes of whole pieces; default false).
   *  See directPiece. */
  directWrites?: boolean;
  /** Pieces shorter than this are not offered the direct path (default
   *  DIRECT_MIN_PIECE_BYTES; tests pass smaller ones). */
  directMinPieceBytes?: number;
  /** Called when a background resume save fails (the next save retries). */
  onResumeError?: (e: StorageError) => void;
}

export interface CheckOptions {
  /** Called as pieces are decided: (pieces decided so far, meta.pieceCount). Pieces
   *  settled from resume data count at once. */
  onProgress?: (checkedPieces: number, totalPieces: number) => void;
  signal?: AbortSignal;
}

export interface CheckResult {
  /** Resume data was valid for this torrent and used. */
  fromResume: boolean;
  havePieces: number;
  rehashedPieces: number;
}

/** Files stat'ed at once when opening: enough to hide syscall latency, few enough not to
 *  flood libuv's 4-thread pool that reads and writes also use. */
const OPEN_STAT_CONCURRENCY = 16;

/** Index used for the part file in the handle cache. */
const PART_KEY = -1;
/** Direct-write handles kept open (a second descriptor per file written directly). */
const MAX_DIRECT_HANDLES = 8;

interface FileState {
  /** Where this file's bytes live now. */
  kept: Kept;
  wanted: boolean;
  /** On disk before open() touched anything. */
  pre: DiskStat | undefined;
  /** Larger than the torrent says: truncated before our first write into it. */
  oversize: boolean;
  /** Written since the last resume snapshot: fdatasync and stamp again at the next. */
  written: boolean;
  stamp: FileStamp | undefined;
}

type Status = 'trusted' | 'changed' | 'absent' | 'none';

export class Storage {
  readonly meta: Metainfo;
  /** Verified pieces. Read it; only Storage changes it. */
  readonly have: Bitfield;
  /** Pieces holding bytes of at least one wanted file. */
  readonly wantedPieces: Bitfield;
  readonly dir: string;
  readonly resumePath: string;
  readonly partPath: string;

  private readonly layout: Layout;
  private readonly files: FileState[];
  private readonly cache: FileCache;
  private readonly pool: HashPool;
  private readonly opts: StorageOptions;
  /** Until then piece writes go to the thread pool (a synchronous one was slow). */
  private poolWritesUntil = 0;
  private partPre: DiskStat | undefined;
  private partWritten = false;
  private partStamp: FileStamp | undefined;
  private resumeAtOpen: ParsedResume | undefined;
  private checkedOnce = false;
  /** A check is running, or the last one stopped early: some pieces are unknown, so no
   *  resume data may be saved (it would record them as missing, on trusted stamps). */
  private checking = false;
  private checkIncomplete = false;
  private wantedLeft = 0;
  private readonly writing = new Map<number, Promise<void>>();
  /** The file the last writeBlockSync wrote into, and its torrent byte range. */
  private lastFile = 0;
  private lastFileStart = 0;
  private lastFileEnd = 0;
  /** writeBlock calls running. */
  private readonly blockWrites = new Set<Promise<void>>();
  private inflightWrites = 0;
  private writesDrained: (() => void)[] = [];
  private gate: Promise<void> | undefined;
  private saveChain: Promise<void> = Promise.resolve();
  private saveTimer: NodeJS.Timeout | undefined;
  private lastSaveAt = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Direct (O_DIRECT) write handles by file, LRU order; false once the file system refused
   *  one (then no piece is offered the direct path again). */
  private directOk: boolean;
  private readonly directFds = new Map<number, DirectFd>();
  /** Direct writes waiting for one of the DIRECT_WRITES_AT_ONCE running ones. */
  private readonly directQueue: DirectJob[] = [];
  private directRunning = 0;
  /** Direct writes started (each a thread-pool trip, of one piece or a run of them). */
  directWriteCalls = 0;
  /** The file last moved to the end of directFds (its LRU order is not touched again). */
  private lastDirectFile = -1;

  private constructor(meta: Metainfo, layout: Layout, dir: string, resumePath: string, partPath: string, files: FileState[], opts: StorageOptions) {
    this.meta = meta;
    this.layout = layout;
    this.dir = dir;
    this.resumePath = resumePath;
    this.partPath = partPath;
    this.files = files;
    this.opts = opts;
    this.directOk = opts.directWrites === true && constants.O_DIRECT !== undefined;
    this.cache = new FileCache(opts.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES);
    this.pool = opts.hashPool ?? defaultHashPool();
    this.have = new Bitfield(meta.pieceCount);
    this.wantedPieces = new Bitfield(meta.pieceCount);
    files.forEach((f, i) => {
      if (!f.wanted || meta.files[i]!.pad) return;
      const r = layout.piecesOfFile(i);
      if (r) for (let p = r[0]; p <= r[1]; p++) this.wantedPieces.set(p);
    });
    for (const p of this.wantedPieces.indexes()) this.wantedLeft += layout.pieceLength(p);
  }

  /** Maps the torrent onto `opts.dir`: checks every path, creates the wanted files
   *  (0-byte ones too) and reads resume data. Call check() next to learn what is there. */
  static async open(meta: Metainfo, opts: StorageOptions): Promise<Storage> {
    const max = opts.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES;
    if (!Number.isInteger(max) || max < 1 || max > MAX_OPEN_FILES_LIMIT) {
      throw new StorageError('STORAGE_BAD_OPTIONS', `maxOpenFiles ${max} outside 1..${MAX_OPEN_FILES_LIMIT}`, 2);
    }
    if (opts.wantedFiles && opts.wantedFiles.length !== meta.files.length) {
      throw new StorageError('STORAGE_BAD_OPTIONS', `wantedFiles has ${opts.wantedFiles.length} entries for ${meta.files.length} files`, 2);
    }
    const given = resolve(opts.dir);
    try {
      await mkdir(given, { recursive: true });
    } catch (e) {
      throw ioError('cannot create folder', given, e);
    }
    const root = await realpath(given).catch((e: unknown) => {
      throw ioError('cannot resolve', given, e);
    });
    const layout = new Layout(meta, root);
    const resumePath = opts.resumePath ? resolve(opts.resumePath) : resolveInside(root, ['.sta', `${meta.infoHashHex}.resume`]);
    const partPath = resolveInside(root, ['.sta', `${meta.infoHashHex}.parts`]);
    const staDir = resolveInside(root, ['.sta']);
    for (const p of layout.paths) {
      if (p === resumePath || p === partPath || isInside(staDir, p)) {
        throw new StorageError('STORAGE_PATH_CONFLICT', `a torrent file would take the place of sta's own ${p}`, 2);
      }
    }

    // Stat every file (a bounded number at once: a torrent may hold 100k files).
    const okDirs = new Set<string>();
    const pres = await mapBounded(meta.files, OPEN_STAT_CONCURRENCY, (f, i) => (f.pad ? Promise.resolve(undefined) : statFile(root, layout.paths[i]!, okDirs)));
    const files: FileState[] = meta.files.map((f, i) => {
      const wanted = opts.wantedFiles ? opts.wantedFiles[i] === true : true;
      const pre = pres[i];
      let kept: Kept;
      if (f.pad || f.length === 0) kept = Kept.None;
      else if (pre || wanted) kept = Kept.File;
      else kept = Kept.Part;
      return { kept, wanted, pre, oversize: pre !== undefined && pre.size > f.length, written: false, stamp: undefined };
    });
    const partPre = await statFile(root, partPath);

    // Create what is wanted and missing (0-byte files included), extend short files.
    const madeDirs = new Map<string, Promise<void>>();
    await mapBounded(meta.files, OPEN_STAT_CONCURRENCY, async (f, i) => {
      const s = files[i]!;
      if (f.pad || !s.wanted || (s.pre && s.pre.size >= f.length) || opts.createFiles === false) return;
      await createFile(root, layout.paths[i]!, f.length, { preallocate: opts.preallocate === true, existingSize: s.pre?.size, madeDirs });
    });

    const st = new Storage(meta, layout, root, resumePath, partPath, files, opts);
    st.partPre = partPre;
    const buf = await readBounded(resumePath, resumeSizeBound(meta.pieceCount, meta.files.length));
    if (buf) {
      st.resumeAtOpen = parseResume(buf, {
        infoHash: meta.infoHash,
        pieceLength: meta.pieceLength,
        pieceCount: meta.pieceCount,
        fileCount: meta.files.length,
      });
    }
    await removeStaleTemps(resumePath);
    return st;
  }

  /** Why the resume file was not used, if there was one and it was refused. */
  get resumeProblem(): string | undefined {
    const r = this.resumeAtOpen;
    return r && !r.ok ? r.why : undefined;
  }

  pieceLength(index: number): number {
    return this.layout.pieceLength(index);
  }

  /** Absolute path of file `i` (Metainfo.files index). */
  filePath(i: number): string {
    const p = this.layout.paths[i];
    if (p === undefined) throw new StorageError('STORAGE_BAD_OPTIONS', `no file ${i}`);
    return p;
  }

  /** Open file handles right now (bounded by maxOpenFiles except while all are busy). */
  get openHandles(): number {
    return this.cache.openCount;
  }

  isComplete(): boolean {
    return this.wantedLeft === 0;
  }

  bytesLeft(): number {
    return this.wantedLeft;
  }

  /** Decides which pieces are verified. First call: resume data is trusted for the files
   *  whose size and mtime match it; pieces touching other existing files are rehashed;
   *  pieces touching missing bytes are not had. Later calls rehash everything there. */
  async check(opts: CheckOptions = {}): Promise<CheckResult> {
    this.assertOpen();
    if (this.checking) throw new StorageError('STORAGE_BAD_OPTIONS', 'check() is already running');
    this.checking = true;
    let r: CheckResult & { saveNeeded: boolean };
    try {
      r = await this.runCheck(opts);
    } catch (e) {
      this.checkIncomplete = true;
      throw e;
    } finally {
      this.checking = false;
    }
    this.checkIncomplete = false;
    // Record the outcome so the next start is fast (and racy stamps get refreshed).
    if (r.saveNeeded) await this.saveResume();
    return { fromResume: r.fromResume, havePieces: this.have.cardinality(), rehashedPieces: r.rehashedPieces };
  }

  private async runCheck(opts: CheckOptions): Promise<CheckResult & { saveNeeded: boolean }> {
    const first = !this.checkedOnce;
    this.checkedOnce = true;
    const resume = first && this.resumeAtOpen?.ok ? this.resumeAtOpen.data : undefined;
    const partTrusted = resume?.part !== undefined && this.partPre !== undefined && sameStamp(resume.part, this.partPre);
    // Files now wanted whose boundary bytes were kept in the trusted part file: those
    // bytes move into the new file instead of being fetched again.
    const migrating = new Set<number>();
    const status = this.files.map((s, i): Status => {
      if (s.kept === Kept.None) return 'none';
      if (!first) return 'changed'; // a later check rehashes whatever is there
      const r = resume?.files[i];
      if (s.kept === Kept.Part) {
        if (!this.partPre) return 'absent';
        return partTrusted && r?.kept === Kept.Part ? 'trusted' : 'changed';
      }
      if (!s.pre && partTrusted && r?.kept === Kept.Part) {
        migrating.add(i);
        return 'trusted';
      }
      if (!s.pre) return 'absent';
      return r?.kept === Kept.File && r.stamp && sameStamp(r.stamp, s.pre) ? 'trusted' : 'changed';
    });
    const resumeHave = resume ? new Bitfield(this.meta.pieceCount, resume.have) : undefined;

    const total = this.meta.pieceCount;
    const rehash: number[] = [];
    const moves: { piece: number; span: Span }[] = [];
    let decided = 0;
    for (let p = 0; p < total; p++) {
      let verdict: 'have' | 'not' | 'hash' = 'have';
      const spans = this.layout.spans(p * this.meta.pieceLength, this.layout.pieceLength(p));
      for (const sp of spans) {
        const s = this.files[sp.file]!;
        const st = status[sp.file]!;
        // Bytes past the end of what was on disk at open are missing (not hashed).
        let short = false;
        if (first && s.kept === Kept.File && !migrating.has(sp.file)) short = sp.fileOffset + sp.length > (s.pre?.size ?? 0);
        if (first && s.kept === Kept.Part) short = this.meta.files[sp.file]!.offset + sp.fileOffset + sp.length > (this.partPre?.size ?? 0);
        if (st === 'absent' || short) {
          verdict = 'not';
          break;
        }
        if (st === 'changed') verdict = 'hash';
      }
      if (verdict === 'have' && !resumeHave?.has(p)) verdict = resumeHave ? 'not' : 'hash';
      if (verdict === 'have') for (const sp of spans) if (migrating.has(sp.file)) moves.push({ piece: p, span: sp });
      if (verdict === 'hash') rehash.push(p);
      else {
        decided++;
        if (verdict === 'have') this.markHave(p);
        else this.unmarkHave(p);
      }
    }
    if (moves.length > 0) await this.moveFromPart(moves);
    opts.onProgress?.(decided, total);

    const hashed = await this.rehash(rehash, (n) => {
      decided += n;
      opts.onProgress?.(decided, total);
    }, opts.signal);
    return {
      fromResume: resume !== undefined,
      havePieces: this.have.cardinality(),
      rehashedPieces: hashed,
      saveNeeded: !resume || hashed > 0 || moves.length > 0,
    };
  }

  /** SHA-1 of `data` (in a worker) against the torrent's hash of piece `index`. */
  async verifyPiece(index: number, data: Buffer): Promise<boolean> {
    const len = this.layout.pieceLength(index);
    if (data.length !== len) throw new StorageError('STORAGE_BAD_PIECE', `piece ${index} is ${len} bytes, got ${data.length}`);
    const digest = await this.pool.hash(data);
    return digest.equals(this.expectedHash(index));
  }

  /** Writes a piece the caller has verified, then marks it had and schedules a resume
   *  save. A piece already verified is not written again. */
  async writePiece(index: number, data: Buffer): Promise<void> {
    return this.writePieces(index, [data]);
  }

  /**
   * Writes verified pieces `first`, `first + 1`, ... (one buffer each, in order) with one
   * positional writev per file they touch instead of one write per piece, then marks them
   * had. Pieces already verified or being written are skipped (the run is split around
   * them). Resolves when every piece of the run is written.
   */
  async writePieces(first: number, pieces: readonly Buffer[]): Promise<void> {
    this.assertOpen();
    for (let k = 0; k < pieces.length; k++) {
      const len = this.layout.pieceLength(first + k);
      if (pieces[k]!.length !== len) throw new StorageError('STORAGE_BAD_PIECE', `piece ${first + k} is ${len} bytes, got ${pieces[k]!.length}`);
    }
    const waits: Promise<void>[] = [];
    let runStart = -1;
    const flush = (end: number) => {
      if (runStart < 0) return;
      const from = runStart;
      const w = this.doWrite(from, pieces.slice(from - first, end - first)).finally(() => {
        for (let i = from; i < end; i++) if (this.writing.get(i) === w) this.writing.delete(i);
      });
      for (let i = from; i < end; i++) this.writing.set(i, w);
      waits.push(w);
      runStart = -1;
    };
    for (let k = 0; k < pieces.length; k++) {
      const i = first + k;
      const running = this.writing.get(i);
      if (this.have.has(i) || running) {
        flush(i);
        if (running) waits.push(running);
      } else if (runStart < 0) {
        runStart = i;
      }
    }
    flush(first + pieces.length);
    if (waits.length === 1) return waits[0];
    const results = await Promise.allSettled(waits);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  }

  /**
   * Writes bytes [begin, begin + data.length) of piece `index` now, on this thread, if that
   * needs no waiting: straight from the caller's buffer (a socket's read buffer) into the
   * page cache, so the caller may reuse the buffer as soon as this returns. Returns false,
   * having written nothing or only part, when it cannot: a file whose handle is not open
   * yet, bytes of an unwanted file (part file), an oversize file not yet truncated, writes
   * sent to the thread pool (writeMode 'pool', or for a while after a slow synchronous
   * write), a failed write. The caller then uses writeBlock. Nothing is marked had: once
   * every byte of the piece is written and verified, the caller calls markWritten.
   */
  writeBlockSync(index: number, begin: number, data: Buffer): boolean {
    if (this.closed || this.opts.writeMode === 'pool') return false;
    const t0 = performance.now();
    if (t0 < this.poolWritesUntil) return false;
    const start = index * this.meta.pieceLength + begin;
    try {
      if (start >= this.lastFileStart && start + data.length <= this.lastFileEnd) {
        // Inside the file the last block went to (the usual case): no span list.
        const s = this.files[this.lastFile]!;
        const fd = this.cache.openFd(this.lastFile);
        if (s.kept !== Kept.File || s.oversize || fd < 0) return false;
        s.written = true;
        writeRangeSync(fd, data, 0, data.length, start - this.lastFileStart);
      } else if (!this.writeSpansSync(start, data)) {
        return false;
      }
    } catch {
      return false; // writeBlock does it again and reports the error
    }
    const ms = performance.now() - t0;
    if (ms > (this.opts.slowSyncWriteMs ?? SLOW_SYNC_WRITE_MS)) this.poolWritesUntil = t0 + ms + POOL_AFTER_SLOW_WRITE_MS;
    return true;
  }

  /** writeBlockSync across files or into another file than the last block (a method of
   *  its own so the per-block path stays small for the JIT). */
  private writeSpansSync(start: number, data: Buffer): boolean {
    const spans = this.layout.spans(start, data.length);
    const fds: number[] = [];
    for (const sp of spans) {
      const s = this.files[sp.file]!;
      const fd = s.kept === Kept.None ? -1 : this.cache.openFd(sp.file);
      if (s.kept !== Kept.None && (s.kept !== Kept.File || s.oversize || fd < 0)) return false;
      fds.push(fd);
    }
    spans.forEach((sp, k) => {
      if (fds[k]! < 0) return; // a pad file: nothing to write
      this.files[sp.file]!.written = true;
      writeRangeSync(fds[k]!, data, sp.bufOffset, sp.length, sp.fileOffset);
    });
    if (spans.length === 1 && fds[0]! >= 0) {
      const f = this.meta.files[spans[0]!.file]!;
      this.lastFile = spans[0]!.file;
      this.lastFileStart = f.offset;
      this.lastFileEnd = f.offset + f.length;
    }
    return true;
  }

  /** Writes bytes [begin, begin + data.length) of piece `index` (any file kind; on the
   *  thread pool when writes go there). Keep `data` unchanged until it resolves. As with
   *  writeBlockSync, nothing is marked had. */
  async writeBlock(index: number, begin: number, data: Buffer): Promise<void> {
    this.assertOpen();
    this.checkRange(index, begin, data.length);
    const w = this.writeRange(index * this.meta.pieceLength + begin, [data], `cannot write piece ${index} to`);
    this.blockWrites.add(w);
    try {
      await w;
    } finally {
      this.blockWrites.delete(w);
    }
  }

  /**
   * Whether piece `index` may be written with writePieceDirect: direct writes allowed
   * (`directWrites`) and not refused by the file system so far; the piece at least
   * DIRECT_MIN_PIECE_BYTES long (1 MiB: smaller direct writes cost more than they save),
   * inside one wanted file, at an offset and of a length that are multiples of
   * DIRECT_ALIGN, in a file already open for writing here (created and checked by an
   * earlier write). A single-file torrent's pieces of 1 MiB and more qualify, except a
   * short last one; in a multi-file torrent those inside a file at aligned offsets.
   */
  directPiece(index: number): boolean {
    if (!this.directOk || this.closed) return false;
    const len = this.layout.pieceLength(index);
    if (len % DIRECT_ALIGN !== 0 || len < (this.opts.directMinPieceBytes ?? DIRECT_MIN_PIECE_BYTES)) return false;
    const start = index * this.meta.pieceLength;
    const file = this.layout.fileOf(start, len);
    if (file < 0) return false;
    const s = this.files[file]!;
    return s.kept === Kept.File && !s.oversize && (start - this.meta.files[file]!.offset) % DIRECT_ALIGN === 0 && this.cache.openFd(file) >= 0;
  }

  /**
   * Writes a whole piece (one that directPiece allowed) from `data`, a buffer at an
   * aligned address (AlignedPool), with O_DIRECT on the thread pool: the kernel takes the
   * bytes from `data`'s pages to the device, with no copy into the page cache (on this
   * project's VM that copy, into freshly allocated page-cache memory, cost more CPU than
   * anything else a leecher does). Keep `data` unchanged until it resolves. Rejects when
   * the write fails; a file system that refuses O_DIRECT turns direct writes off for
   * this storage. Then write the piece another way (writeBlock). As with writeBlockSync,
   * nothing is marked had.
   */
  writePieceDirect(index: number, data: Buffer): Promise<void> {
    // Not an async function: this and the write's callbacks run once per piece, and an
    // async function with awaits costs several times more to run and to compile (see
    // DirectFd).
    let file: number;
    let position: number;
    try {
      this.assertOpen();
      this.checkRange(index, 0, data.length);
      const start = index * this.meta.pieceLength;
      file = this.layout.fileOf(start, data.length);
      position = file < 0 ? -1 : start - this.meta.files[file]!.offset;
      if (data.length !== this.layout.pieceLength(index) || file < 0 || data.length % DIRECT_ALIGN !== 0 || position % DIRECT_ALIGN !== 0) {
        throw new StorageError('STORAGE_BAD_PIECE', `piece ${index} cannot be written directly`);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.gate) return this.directAfterGate(index, data, file, position);
    return this.directWrite(index, data, file, position);
  }

  /** writePieceDirect while a resume snapshot is being taken: after it. */
  private async directAfterGate(index: number, data: Buffer, file: number, position: number): Promise<void> {
    while (this.gate) await this.gate;
    this.assertOpen();
    return this.directWrite(index, data, file, position);
  }

  private directWrite(index: number, data: Buffer, file: number, position: number): Promise<void> {
    this.inflightWrites++;
    return new Promise<void>((resolve, reject) => {
      this.directQueue.push({ index, data, file, position, resolve, reject });
      if (this.directRunning < DIRECT_WRITES_AT_ONCE) this.pumpDirect();
    });
  }

  /** Starts queued direct writes, DIRECT_WRITES_AT_ONCE at most; pieces queued for the same
   *  file back to back go in one positional writev (one thread-pool trip for several). */
  private pumpDirect(): void {
    const q = this.directQueue;
    while (this.directRunning < DIRECT_WRITES_AT_ONCE && q.length > 0) {
      const first = q.shift()!;
      const batch = [first];
      let end = first.position + first.data.length;
      for (let k = 0; k < q.length && batch.length < DIRECT_BATCH_PIECES; ) {
        const j = q[k]!;
        if (j.file === first.file && j.position === end) {
          batch.push(j);
          end += j.data.length;
          q.splice(k, 1);
          k = 0; // the next one may be earlier in the queue
        } else {
          k++;
        }
      }
      this.directRunning++;
      const file = first.file;
      const e = this.directFd(file);
      e.refs++;
      const done = (err: NodeJS.ErrnoException | null): void => {
        e.refs--;
        this.directRunning--;
        if (err && this.directFds.get(file) === e && e.refs === 0) {
          this.directFds.delete(file); // a failed descriptor is not reused
          closeFd(e);
        }
        this.evictDirect();
        if (err && (err.code === 'EINVAL' || err.code === 'EOPNOTSUPP')) this.directOk = false;
        for (const j of batch) {
          if (err) j.reject(ioError(`cannot write piece ${j.index} to`, this.layout.paths[file]!, err));
          else j.resolve();
        }
        this.inflightWrites -= batch.length;
        if (this.inflightWrites === 0) for (const f of this.writesDrained.splice(0)) f();
        if (q.length > 0) this.pumpDirect();
      };
      const write = (fd: number): void => {
        this.files[file]!.written = true;
        this.directWriteCalls++;
        pwritevAll(fd, batch.map((j) => j.data), first.position, done);
      };
      if (e.fd >= 0) write(e.fd);
      else e.opening.then(write, done);
    }
  }

  /** The direct (O_DIRECT) descriptor of `file`, opening it if needed; most recently used
   *  last in directFds. */
  private directFd(file: number): DirectFd {
    let e = this.directFds.get(file);
    if (e) {
      if (file !== this.lastDirectFile) {
        this.directFds.delete(file); // re-insert: Map order is the LRU order
        this.directFds.set(file, e);
      }
    } else {
      const entry: DirectFd = { fd: -1, opening: Promise.resolve(-1), refs: 0 };
      entry.opening = new Promise<number>((resolve, reject) => {
        // O_NOFOLLOW and no O_CREAT: the file is the one the cache opened (directPiece).
        fsOpen(this.layout.paths[file]!, constants.O_WRONLY | constants.O_DIRECT | constants.O_NOFOLLOW, (err, fd) => {
          if (err) {
            if (this.directFds.get(file) === entry) this.directFds.delete(file);
            reject(err);
          } else {
            entry.fd = fd;
            resolve(fd);
          }
        });
      });
      entry.opening.catch(() => undefined);
      this.directFds.set(file, (e = entry));
    }
    this.lastDirectFile = file;
    return e;
  }

  /** At most MAX_DIRECT_HANDLES direct descriptors stay open; unused ones close first. */
  private evictDirect(): void {
    if (this.directFds.size <= MAX_DIRECT_HANDLES) return;
    for (const [file, e] of this.directFds) {
      if (this.directFds.size <= MAX_DIRECT_HANDLES) break;
      if (e.refs > 0) continue;
      this.directFds.delete(file);
      if (file === this.lastDirectFile) this.lastDirectFile = -1;
      closeFd(e);
    }
  }

  /** Piece `index` was written whole (writeBlockSync / writeBlock, all settled) and the
   *  caller verified it: it is had from now on. */
  markWritten(index: number): void {
    this.assertOpen();
    const len = this.layout.pieceLength(index);
    if (this.have.has(index)) return;
    // Its bytes may have been written before a resume snapshot reset the files' written
    // mark: set it again, so the next snapshot syncs them before recording the piece.
    const one = this.layout.fileOf(index * this.meta.pieceLength, len);
    if (one >= 0) this.markFileWritten(one);
    else for (const sp of this.layout.spans(index * this.meta.pieceLength, len)) this.markFileWritten(sp.file);
    this.markHave(index);
    this.scheduleSave();
  }

  private markFileWritten(file: number): void {
    const s = this.files[file]!;
    if (s.kept === Kept.File) s.written = true;
    else if (s.kept === Kept.Part) this.partWritten = true;
  }

  /** Reads bytes [begin, begin + into.length) of piece `index` whether verified or not (a
   *  piece being assembled on disk). False if any of its bytes is missing from disk. */
  async readUnverified(index: number, begin: number, into: Buffer): Promise<boolean> {
    this.assertOpen();
    this.checkRange(index, begin, into.length);
    return this.readRange(index * this.meta.pieceLength + begin, into);
  }

  private checkRange(index: number, begin: number, length: number): void {
    const len = this.layout.pieceLength(index);
    if (!Number.isInteger(begin) || !Number.isInteger(length) || begin < 0 || length < 1 || begin + length > len) {
      throw new StorageError('STORAGE_BAD_PIECE', `block ${begin}+${length} outside piece ${index} of ${len} bytes`);
    }
  }

  /** Bytes [begin, begin+length) of a verified piece. */
  async readBlock(index: number, begin: number, length: number): Promise<Buffer> {
    this.assertOpen();
    this.checkRange(index, begin, length);
    if (!this.have.has(index)) throw new StorageError('STORAGE_NOT_VERIFIED', `piece ${index} is not verified`);
    const buf = Buffer.allocUnsafe(length);
    const complete = await this.readRange(index * this.meta.pieceLength + begin, buf);
    if (!complete) {
      this.unmarkHave(index);
      this.scheduleSave();
      throw new StorageError('STORAGE_DATA_MISSING', `piece ${index} is no longer on disk`);
    }
    return buf;
  }

  /** Writes resume data now (atomically; see docs/storage.md for the order of steps). */
  saveResume(): Promise<void> {
    const next = this.saveChain.then(() => this.snapshotAndSave(this.closed));
    this.saveChain = next.catch(() => undefined);
    return next;
  }

  /** Stops writes, saves resume data, closes file handles. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      if (this.saveTimer) clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
      await Promise.allSettled([...this.writing.values(), ...this.blockWrites]);
      // Direct writes are counted, not kept (cheaper per piece): wait for the last one.
      if (this.inflightWrites > 0) await new Promise<void>((r) => this.writesDrained.push(r));
      try {
        await this.saveResume();
      } finally {
        const direct = [...this.directFds.values()];
        this.directFds.clear();
        await Promise.allSettled(direct.map((e) => e.opening.then((fd) => new Promise<void>((r) => fsClose(fd, () => r())))));
        await this.cache.closeAll();
      }
    })();
    return this.closing;
  }

  // ---- internals -------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new StorageError('STORAGE_CLOSED', 'storage is closed');
  }

  private expectedHash(index: number): Buffer {
    return this.meta.pieces.subarray(index * 20, index * 20 + 20);
  }

  private markHave(p: number): void {
    if (this.have.has(p)) return;
    this.have.set(p);
    if (this.wantedPieces.has(p)) this.wantedLeft -= this.layout.pieceLength(p);
  }

  private unmarkHave(p: number): void {
    if (!this.have.has(p)) return;
    this.have.clear(p);
    if (this.wantedPieces.has(p)) this.wantedLeft += this.layout.pieceLength(p);
  }

  /** Writes the consecutive pieces `pieces` (starting at piece `index`) and marks them had. */
  private async doWrite(index: number, pieces: readonly Buffer[]): Promise<void> {
    const last = index + pieces.length - 1;
    await this.writeRange(index * this.meta.pieceLength, pieces, index === last ? `cannot write piece ${index} to` : `cannot write pieces ${index}..${last} to`);
    for (let i = index; i <= last; i++) this.markHave(i);
    this.scheduleSave();
  }

  /** Writes `bufs` back to back at torrent offset `start` (after a resume snapshot, if one
   *  is being taken), into the files, the part file, or nowhere (pad files). */
  private async writeRange(start: number, bufs: readonly Buffer[], what: string): Promise<void> {
    while (this.gate) await this.gate; // a resume snapshot is being taken
    this.assertOpen();
    this.inflightWrites++;
    try {
      let total = 0;
      for (const p of bufs) total += p.length;
      // allSettled: no write of these bytes may still run once they count as done or failed.
      const results = await Promise.allSettled(
        this.layout.spans(start, total).map((sp) => {
          const s = this.files[sp.file]!;
          if (s.kept === Kept.None) return undefined;
          const chunks = slices(bufs, sp.bufOffset, sp.length);
          if (s.kept === Kept.Part) {
            this.partWritten = true;
            const writePart = () => this.cache.use(PART_KEY, this.partPath, { write: true, create: true }, (fh) => this.writeChunks(fh, chunks, start + sp.bufOffset));
            return writePart().catch(async (e: unknown) => {
              if (!(e instanceof StorageError && e.code === 'STORAGE_DATA_MISSING')) throw e;
              // The .sta folder does not exist yet (resume data kept elsewhere).
              const dir = dirname(this.partPath);
              await assertRealInside(this.dir, dir);
              await mkdir(dir, { recursive: true });
              await writePart();
            });
          }
          s.written = true;
          const write = () =>
            this.cache.use(sp.file, this.layout.paths[sp.file]!, { write: true, create: true }, async (fh) => {
              if (s.oversize) {
                s.oversize = false;
                await fh.truncate(this.meta.files[sp.file]!.length);
              }
              await this.writeChunks(fh, chunks, sp.fileOffset);
            });
          // Missing with its folder (not created at open, or deleted since): make it, once.
          return write().catch(async (e: unknown) => {
            if (!(e instanceof StorageError && e.code === 'STORAGE_DATA_MISSING')) throw e;
            const f = this.meta.files[sp.file]!;
            await createFile(this.dir, this.layout.paths[sp.file]!, f.length, { preallocate: this.opts.preallocate === true });
            await write();
          });
        }),
      );
      for (const r of results) if (r.status === 'rejected') throw r.reason;
    } catch (e) {
      if (e instanceof StorageError) throw e;
      throw ioError(what, this.dir, e);
    } finally {
      if (--this.inflightWrites === 0) for (const f of this.writesDrained.splice(0)) f();
    }
  }

  /** Piece data to disk (see WRITE_CHUNK_BYTES): synchronous block-sized writes here, or
   *  one writev on the thread pool. A synchronous run that took longer than
   *  SLOW_SYNC_WRITE_MS (the kernel throttling a writer that outruns its disk) sends the
   *  writes of the next POOL_AFTER_SLOW_WRITE_MS to the pool, so a slow disk stalls a pool
   *  thread, not the event loop, and the downloader's backpressure takes over. */
  private async writeChunks(fh: FileHandle, chunks: Buffer[], position: number): Promise<void> {
    if (this.opts.writeMode === 'pool' || performance.now() < this.poolWritesUntil) return writevAll(fh, chunks, position);
    const t0 = performance.now();
    writeChunksSync(fh.fd, chunks, position, WRITE_CHUNK_BYTES);
    const ms = performance.now() - t0;
    if (ms > (this.opts.slowSyncWriteMs ?? SLOW_SYNC_WRITE_MS)) this.poolWritesUntil = t0 + ms + POOL_AFTER_SLOW_WRITE_MS;
  }

  /** Reads torrent bytes [start, start+buf.length) into `buf`. Pad files and holes past a
   *  short file's end read as zeros; returns false if any file byte was missing. */
  private async readRange(start: number, buf: Buffer): Promise<boolean> {
    let complete = true;
    let covered = 0;
    const spans: Span[] = this.layout.spans(start, buf.length);
    await Promise.all(
      spans.map(async (sp) => {
        covered += sp.length;
        const s = this.files[sp.file]!;
        const into = buf.subarray(sp.bufOffset, sp.bufOffset + sp.length);
        if (s.kept === Kept.None) {
          into.fill(0);
          return;
        }
        const part = s.kept === Kept.Part;
        try {
          const n = await this.cache.use(part ? PART_KEY : sp.file, part ? this.partPath : this.layout.paths[sp.file]!, { write: false }, (fh) =>
            readAll(fh, into, part ? start + sp.bufOffset : sp.fileOffset),
          );
          if (n < sp.length) {
            into.fill(0, n);
            complete = false;
          }
        } catch (e) {
          if (e instanceof StorageError && e.code === 'STORAGE_DATA_MISSING') {
            into.fill(0);
            complete = false;
            return;
          }
          throw e;
        }
      }),
    );
    if (covered < buf.length) buf.fill(0, covered); // cannot happen with a validated layout
    return complete;
  }

  /** Hashes `pieces` (ascending) in batches of whole pieces, reading ahead a bounded number
   *  of bytes; sets have for each piece that matches. Returns how many were hashed. */
  private async rehash(pieces: number[], progress: (n: number) => void, signal: AbortSignal | undefined): Promise<number> {
    const pl = this.meta.pieceLength;
    const batchPieces = Math.max(1, Math.floor(CHECK_BATCH_BYTES / pl));
    // Pieces over 16 MiB (rare; the parser allows 256 MiB) go one at a time: memory first.
    const budget = Math.max(CHECK_READ_AHEAD_BYTES, pl);
    const inflight = new Set<Promise<void>>();
    // Batch buffers go to a worker and come back: reused, never faulted in afresh.
    const batchBytes = batchPieces * pl;
    const spare: Buffer[] = [];
    let inflightBytes = 0;
    let failure: unknown;
    let hashed = 0;
    let i = 0;
    while (i < pieces.length && failure === undefined) {
      if (signal?.aborted) break;
      if (this.closed) break;
      // A batch: consecutive pieces only, so it is one contiguous torrent range.
      const first = pieces[i]!;
      let n = 1;
      while (n < batchPieces && i + n < pieces.length && pieces[i + n] === first + n) n++;
      i += n;
      const start = first * pl;
      const bytes = (first + n - 1) * pl + this.layout.pieceLength(first + n - 1) - start;
      while (inflight.size > 0 && inflightBytes + bytes > budget) await Promise.race(inflight);
      inflightBytes += bytes;
      const task = (async () => {
        // allocUnsafeSlow: a buffer owning its ArrayBuffer, so it can be moved to the worker.
        const buf = spare.pop() ?? Buffer.allocUnsafeSlow(batchBytes);
        await this.readRange(start, buf.subarray(0, bytes));
        const { digests, data } = await this.pool.hashReusable(buf, bytes, pl);
        if (data.length === batchBytes) spare.push(data);
        for (let k = 0; k < n; k++) {
          const p = first + k;
          if (digests.subarray(k * 20, k * 20 + 20).equals(this.expectedHash(p))) this.markHave(p);
          else this.unmarkHave(p);
        }
        hashed += n;
        progress(n);
      })()
        .catch((e: unknown) => {
          failure ??= e;
        })
        .finally(() => {
          inflightBytes -= bytes;
          inflight.delete(task);
        });
      inflight.add(task);
    }
    await Promise.all(inflight);
    // Closed under us: reads may have failed in any way; say what happened.
    if (this.closed) throw new StorageError('STORAGE_CLOSED', 'storage closed during check');
    if (failure !== undefined) throw failure;
    if (signal?.aborted) throw new StorageError('STORAGE_CHECK_ABORTED', 'check aborted');
    return hashed;
  }

  /** Copies verified pieces' bytes of newly wanted files out of the part file into the
   *  files; a piece whose copy fails is no longer had (it will be fetched again). */
  private async moveFromPart(moves: { piece: number; span: Span }[]): Promise<void> {
    for (const { piece, span } of moves) {
      const f = this.meta.files[span.file]!;
      const buf = Buffer.allocUnsafe(span.length);
      try {
        const n = await this.cache.use(PART_KEY, this.partPath, { write: false }, (fh) => readAll(fh, buf, f.offset + span.fileOffset));
        if (n < span.length) throw new StorageError('STORAGE_DATA_MISSING', 'part file too short');
        this.files[span.file]!.written = true;
        await this.cache.use(span.file, this.layout.paths[span.file]!, { write: true, create: true }, (fh) => writeAll(fh, buf, span.fileOffset));
      } catch {
        this.unmarkHave(piece);
      }
    }
  }

  private scheduleSave(): void {
    if (this.saveTimer || this.closed) return;
    const delay = Math.max(0, this.lastSaveAt + RESUME_SAVE_INTERVAL_MS - Date.now());
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.saveResume().catch((e: unknown) => {
        const err = e instanceof StorageError ? e : ioError('cannot save resume data to', this.resumePath, e);
        this.opts.onResumeError?.(err);
      });
    }, delay);
    this.saveTimer.unref();
  }

  /** The snapshot protocol (docs/storage.md): hold new writes and wait for running ones,
   *  copy the bitfield and stamp the files written since the last snapshot, let writes
   *  go on, fdatasync those files, then replace the resume file atomically. */
  private async snapshotAndSave(final: boolean): Promise<void> {
    // Pieces not yet checked would be recorded as missing: keep the old resume data.
    if (this.checking || this.checkIncomplete) return;
    this.lastSaveAt = Date.now();
    let release!: () => void;
    this.gate = new Promise<void>((r) => (release = r));
    const synced: number[] = [];
    let syncPart = false;
    let have: Uint8Array;
    try {
      if (this.inflightWrites > 0) await new Promise<void>((r) => this.writesDrained.push(r));
      have = Uint8Array.from(this.have.bytes);
      const nowNs = BigInt(Date.now()) * 1_000_000n;
      const stampOf = (st: DiskStat | undefined): FileStamp | undefined =>
        st && {
          size: st.size,
          mtimeNs: st.mtimeNs,
          // A future mtime (set by someone else) is not racy: our next write would move it back.
          racy: !final && st.mtimeNs > nowNs - RACY_MTIME_WINDOW_NS && st.mtimeNs < nowNs + RACY_MTIME_WINDOW_NS,
        };
      const restamp: number[] = [];
      for (let i = 0; i < this.files.length; i++) {
        const s = this.files[i]!;
        if (s.kept !== Kept.File || !(s.written || !s.stamp || s.stamp.racy)) continue;
        if (s.written) synced.push(i);
        s.written = false;
        restamp.push(i);
      }
      try {
        const okDirs = new Set<string>();
        const stats = await mapBounded(restamp, OPEN_STAT_CONCURRENCY, (i) => statFile(this.dir, this.layout.paths[i]!, okDirs));
        restamp.forEach((i, k) => (this.files[i]!.stamp = stampOf(stats[k])));
        if (this.partWritten || !this.partStamp || this.partStamp.racy) {
          syncPart = this.partWritten;
          this.partWritten = false;
          this.partStamp = stampOf(await statFile(this.dir, this.partPath));
        }
      } catch (e) {
        // Stamp and sync them all again next time; an old stamp must not survive.
        for (const i of restamp) this.files[i]!.stamp = undefined;
        for (const i of synced) this.files[i]!.written = true;
        if (syncPart) this.partWritten = true;
        this.partStamp = undefined;
        throw e;
      }
    } finally {
      this.gate = undefined;
      release();
    }
    try {
      // Data before bookkeeping: the pieces the new resume data claims must be on disk.
      // One at a time while running: an fdatasync of a big dirty file can hold a libuv
      // thread for seconds, and the pool has only four for every read and write.
      await mapBounded(synced, final ? OPEN_STAT_CONCURRENCY : 1, async (i) => {
        if (this.files[i]!.stamp) await this.cache.datasync(i, this.layout.paths[i]!).catch(() => undefined);
      });
      if (syncPart && this.partStamp) await this.cache.datasync(PART_KEY, this.partPath).catch(() => undefined);
      const data = encodeResume({
        infoHash: this.meta.infoHash,
        pieceLength: this.meta.pieceLength,
        pieceCount: this.meta.pieceCount,
        have,
        files: this.files.map((s) => ({ kept: s.kept === Kept.File && !s.stamp ? Kept.Absent : s.kept, stamp: s.kept === Kept.File ? s.stamp : undefined })),
        part: this.partStamp,
      });
      await writeFileAtomic(this.resumePath, data);
    } catch (e) {
      // Not saved: sync and stamp these files again next time.
      for (const i of synced) this.files[i]!.written = true;
      if (syncPart) this.partWritten = true;
      if (!final) this.scheduleSave();
      throw e;
    }
    // Racy stamps are never trusted; stamp those files again once the window has passed,
    // so a long seed after the last write does not leave them racy until close.
    if (!final && (this.partStamp?.racy || this.files.some((s) => s.stamp?.racy))) this.scheduleSave();
  }
}

/** Runs `fn` over `items` with at most `limit` promises pending; results in order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function sameStamp(a: FileStamp, b: DiskStat | FileStamp): boolean {
  return !a.racy && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

async function writeAll(fh: FileHandle, data: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await fh.write(data, off, data.length - off, position + off);
    if (bytesWritten <= 0) throw new Error('short write');
    off += bytesWritten;
  }
}

/** A descriptor for direct (O_DIRECT) piece writes: a raw fd with callbacks rather than a
 *  FileHandle, whose promise-based write runs several async functions per call (the
 *  per-piece path ran ~0.06 s per GiB of JavaScript and compiled ~30 ms of TurboFan code
 *  for it). */
interface DirectFd {
  /** -1 until open. */
  fd: number;
  opening: Promise<number>;
  /** Writes running on it: it is not closed while any does. */
  refs: number;
}

interface DirectJob {
  index: number;
  data: Buffer;
  file: number;
  position: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

function closeFd(e: DirectFd): void {
  e.opening.then(
    (fd) => fsClose(fd, () => undefined),
    () => undefined,
  );
}

/** Positional writev of `bufs` (at most IOV_MAX) at `position` on the thread pool (short
 *  writes continued), then `cb`. */
function pwritevAll(fd: number, bufs: Buffer[], position: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
  let rest = bufs;
  const step = (err: NodeJS.ErrnoException | null, n: number): void => {
    if (err) return cb(err);
    if (n <= 0) return cb(Object.assign(new Error('short write'), { code: 'EIO' }));
    position += n;
    while (rest.length > 0 && n >= rest[0]!.length) {
      n -= rest[0]!.length;
      rest = rest.slice(1);
    }
    if (rest.length === 0) return cb(null);
    if (n > 0) rest = [rest[0]!.subarray(n), ...rest.slice(1)];
    fsWritev(fd, rest, position, step);
  };
  fsWritev(fd, rest, position, step);
}

/** Writes bytes [off, off+len) of `buf` at `position` of `fd` (short writes continued). */
function writeRangeSync(fd: number, buf: Buffer, off: number, len: number, position: number): void {
  while (len > 0) {
    const n = writeSync(fd, buf, off, len, position);
    if (n <= 0) throw new Error('short write');
    off += n;
    len -= n;
    position += n;
  }
}

/** Writes `bufs` back to back at `position` of `fd`, `chunk` bytes per call. */
function writeChunksSync(fd: number, bufs: Buffer[], position: number, chunk: number): void {
  for (const b of bufs) {
    let off = 0;
    while (off < b.length) {
      const n = writeSync(fd, b, off, Math.min(chunk, b.length - off), position);
      if (n <= 0) throw new Error('short write');
      off += n;
      position += n;
    }
  }
}

/** Views of bytes [off, off+len) of the concatenation of `bufs` (no copy). */
function slices(bufs: readonly Buffer[], off: number, len: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of bufs) {
    if (len <= 0) break;
    if (off >= b.length) {
      off -= b.length;
      continue;
    }
    const take = Math.min(b.length - off, len);
    out.push(off === 0 && take === b.length ? b : b.subarray(off, off + take));
    len -= take;
    off = 0;
  }
  return out;
}

/** Positional writev of `bufs` at `position` (one buffer: a plain write), short writes
 *  continued. At most IOV_MAX (1024) buffers go into one call. */
async function writevAll(fh: FileHandle, bufs: Buffer[], position: number): Promise<void> {
  if (bufs.length === 1) return writeAll(fh, bufs[0]!, position);
  let rest = bufs;
  while (rest.length > 0) {
    const batch = rest.length > 1024 ? rest.slice(0, 1024) : rest;
    let want = 0;
    for (const b of batch) want += b.length;
    const { bytesWritten } = await fh.writev(batch, position);
    if (bytesWritten <= 0) throw new Error('short write');
    position += bytesWritten;
    let left = bytesWritten;
    const after: Buffer[] = [];
    for (const b of batch) {
      if (left >= b.length) left -= b.length;
      else if (left > 0) {
        after.push(b.subarray(left));
        left = 0;
      } else after.push(b);
    }
    rest = bytesWritten === want ? rest.slice(batch.length) : [...after, ...rest.slice(batch.length)];
  }
}

/** Reads until `into` is full or end of file; returns the bytes read. */
async function readAll(fh: FileHandle, into: Buffer, position: number): Promise<number> {
  let off = 0;
  while (off < into.length) {
    const { bytesRead } = await fh.read(into, off, into.length - off, position + off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return off;
}
