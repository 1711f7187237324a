// Where a torrent's bytes live: the mapping from piece ranges to (file, offset) spans,
// and each file's absolute path, checked to stay inside the download folder.
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Metainfo } from '../torrent/index.js';
import { StorageError } from './errors.js';

/** One contiguous run of a torrent range inside one file. */
export interface Span {
  file: number;
  /** Offset inside the file. */
  fileOffset: number;
  length: number;
  /** Offset inside the buffer that holds the whole requested range. */
  bufOffset: number;
}

/** Why `c` cannot be one path component (the same rule src/torrent applies), or undefined. */
export function unsafeComponent(c: string): string | undefined {
  if (c.length === 0) return 'an empty path component';
  if (c === '.' || c === '..') return `a "${c}" path component`;
  if (c.includes('/') || c.includes('\\')) return 'a path separator inside a component';
  if (c.includes('\0')) return 'a NUL byte';
  if (/^[A-Za-z]:/.test(c)) return 'a drive letter';
  return undefined;
}

/** True when `p` is `root` itself or below it (both absolute, normalized). */
export function isInside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

/** Resolves path components under `root`; throws STORAGE_UNSAFE_PATH if any component is
 *  unsafe or the result is not strictly inside `root`. This is the second barrier:
 *  src/torrent already refuses such names. */
export function resolveInside(root: string, components: readonly string[]): string {
  for (const c of components) {
    const why = unsafeComponent(c);
    if (why) throw new StorageError('STORAGE_UNSAFE_PATH', `refusing file path ${JSON.stringify(components.join('/').slice(0, 200))}: ${why}`, 2);
  }
  const p = resolve(root, ...components);
  if (p === root || !isInside(root, p)) {
    throw new StorageError('STORAGE_UNSAFE_PATH', `refusing file path ${JSON.stringify(components.join('/').slice(0, 200))}: outside ${root}`, 2);
  }
  return p;
}

/** Throws STORAGE_BAD_METAINFO unless files, length, piece count and hashes add up. */
export function validateMeta(meta: Metainfo): void {
  const bad = (why: string): never => {
    throw new StorageError('STORAGE_BAD_METAINFO', `metainfo does not add up: ${why}`, 2);
  };
  if (!Number.isSafeInteger(meta.pieceLength) || meta.pieceLength < 1) bad(`piece length ${meta.pieceLength}`);
  if (!Number.isSafeInteger(meta.length) || meta.length < 0) bad(`length ${meta.length}`);
  if (meta.pieceCount !== Math.ceil(meta.length / meta.pieceLength)) bad(`${meta.pieceCount} pieces for ${meta.length} bytes`);
  if (meta.pieces.length !== meta.pieceCount * 20) bad(`${meta.pieces.length} bytes of piece hashes for ${meta.pieceCount} pieces`);
  if (meta.files.length === 0) bad('no files');
  let off = 0;
  for (const f of meta.files) {
    if (!Number.isSafeInteger(f.length) || f.length < 0) bad(`file length ${f.length}`);
    if (f.offset !== off) bad(`file ${f.pathString} at offset ${f.offset}, expected ${off}`);
    if (f.path.length === 0) bad('a file without a path');
    off += f.length;
  }
  if (off !== meta.length) bad(`files total ${off}, length says ${meta.length}`);
  if (!meta.multiFile && meta.files.length !== 1) bad('single-file torrent with several files');
}

export class Layout {
  readonly meta: Metainfo;
  /** Absolute path of each file; pad files too (they are never created). */
  readonly paths: string[];
  /** Offsets and indexes of the files that hold bytes (length > 0), in torrent order. */
  private readonly starts: number[] = [];
  private readonly indexes: number[] = [];
  /** fileOf's last answer: file lastFile holds torrent bytes [lastStart, lastEnd). */
  private lastFile = -1;
  private lastStart = 0;
  private lastEnd = 0;

  constructor(meta: Metainfo, root: string) {
    validateMeta(meta);
    this.meta = meta;
    const seen = new Set<string>();
    this.paths = meta.files.map((f) => {
      const comps = meta.multiFile ? [meta.name, ...f.path] : f.path;
      const p = resolveInside(root, comps);
      if (!f.pad) {
        if (seen.has(p)) throw new StorageError('STORAGE_PATH_CONFLICT', `two files at ${JSON.stringify(f.pathString)}`, 2);
        seen.add(p);
      }
      return p;
    });
    // A file that is also a folder of another file (a, a/b) cannot exist on disk.
    for (const p of seen) {
      let d = p;
      for (let i = 0; i < 4096; i++) {
        const up = resolve(d, '..');
        if (up === d || up === root) break;
        if (seen.has(up)) throw new StorageError('STORAGE_PATH_CONFLICT', `${up} is both a file and a folder`, 2);
        d = up;
      }
    }
    meta.files.forEach((f, i) => {
      if (f.length > 0) {
        this.starts.push(f.offset);
        this.indexes.push(i);
      }
    });
  }

  pieceLength(index: number): number {
    const m = this.meta;
    if (!Number.isInteger(index) || index < 0 || index >= m.pieceCount) {
      throw new StorageError('STORAGE_BAD_PIECE', `piece ${index} outside 0..${m.pieceCount - 1}`);
    }
    return index === m.pieceCount - 1 ? m.length - index * m.pieceLength : m.pieceLength;
  }

  /** The file spans of torrent bytes [start, start+length), in order. */
  spans(start: number, length: number): Span[] {
    const out: Span[] = [];
    if (length <= 0) return out;
    // Last file whose start <= start.
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid]! <= start) lo = mid;
      else hi = mid - 1;
    }
    const end = start + length;
    let pos = start;
    for (let k = lo; k < this.indexes.length && pos < end; k++) {
      const fi = this.indexes[k]!;
      const f = this.meta.files[fi]!;
      const fEnd = f.offset + f.length;
      if (fEnd <= pos) continue;
      const n = Math.min(end, fEnd) - pos;
      out.push({ file: fi, fileOffset: pos - f.offset, length: n, bufOffset: pos - start });
      pos += n;
    }
    return out;
  }

  /** The file holding all of torrent bytes [start, start+length) (length > 0), or -1 when
   *  they span several files. For the per-piece path: the last answer is kept, so the
   *  pieces of one file after another cost two comparisons and allocate nothing. */
  fileOf(start: number, length: number): number {
    if (start >= this.lastStart && start + length <= this.lastEnd) return this.lastFile;
    const sp = this.spans(start, length);
    if (sp.length !== 1) return -1;
    const f = this.meta.files[sp[0]!.file]!;
    this.lastFile = sp[0]!.file;
    this.lastStart = f.offset;
    this.lastEnd = f.offset + f.length;
    return this.lastFile;
  }

  /** Pieces holding at least one byte of file `i`: [first, last], or undefined for an empty file. */
  piecesOfFile(i: number): [number, number] | undefined {
    const f = this.meta.files[i];
    if (!f || f.length === 0) return undefined;
    return [Math.floor(f.offset / this.meta.pieceLength), Math.floor((f.offset + f.length - 1) / this.meta.pieceLength)];
  }

  /** Indexes of the files holding bytes of piece `index`. */
  filesOfPiece(index: number): number[] {
    return this.spans(index * this.meta.pieceLength, this.pieceLength(index)).map((s) => s.file);
  }
}
