// Resume data: which pieces are verified, and the size and mtime of every file when that
// was true, so a restart trusts it only for files nobody touched since. Stored as one
// small bencoded dictionary, written atomically (temp file, fsync, rename, fsync folder),
// read with a size bound and validated like any outside input.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { decode, encode, isBytes, isDict, type BValue } from '../bencode/index.js';
import { RESUME_BYTES_PER_FILE, RESUME_FIXED_BYTES } from './config.js';
import { ioError } from './errors.js';

export const RESUME_VERSION = 1;

/** Where a file's bytes were kept when the snapshot was taken. */
export const Kept = {
  /** Not on disk (unwanted and never created, or missing). */
  Absent: 0,
  /** In its own file. */
  File: 1,
  /** In the part file (unwanted file, bytes of pieces shared with wanted files). */
  Part: 2,
  /** No bytes to keep: a pad file or a 0-byte file. */
  None: 3,
} as const;
export type Kept = (typeof Kept)[keyof typeof Kept];

export interface FileStamp {
  size: number;
  mtimeNs: bigint;
  /** Written within the racy window before the snapshot: its mtime cannot be trusted. */
  racy: boolean;
}

export interface ResumeData {
  infoHash: Buffer;
  pieceLength: number;
  pieceCount: number;
  /** Verified pieces, BEP 3 bitfield bytes. */
  have: Uint8Array;
  files: { kept: Kept; stamp: FileStamp | undefined }[];
  /** The part file's stamp, when it exists. */
  part: FileStamp | undefined;
}

export function encodeResume(r: ResumeData): Buffer {
  const stampList = (s: FileStamp) => [s.size, s.mtimeNs, s.racy ? 1 : 0];
  return encode({
    'sta-resume': RESUME_VERSION,
    'info-hash': r.infoHash,
    'piece-length': r.pieceLength,
    'piece-count': r.pieceCount,
    have: r.have,
    files: r.files.map((f) => (f.stamp ? [f.kept, ...stampList(f.stamp)] : [f.kept])),
    part: r.part ? stampList(r.part) : undefined,
  });
}

/** The most bytes a valid resume file for this torrent can have. */
export function resumeSizeBound(pieceCount: number, fileCount: number): number {
  return RESUME_FIXED_BYTES + Math.ceil(pieceCount / 8) + fileCount * RESUME_BYTES_PER_FILE;
}

export type ParsedResume = { ok: true; data: ResumeData } | { ok: false; why: string };

/** Parses and validates resume bytes against the torrent's shape. Never throws: a bad
 *  resume file only means the data gets checked the slow way. */
export function parseResume(buf: Uint8Array, expect: { infoHash: Buffer; pieceLength: number; pieceCount: number; fileCount: number }): ParsedResume {
  const no = (why: string): ParsedResume => ({ ok: false, why });
  if (buf.length > resumeSizeBound(expect.pieceCount, expect.fileCount)) return no('too large');
  let v: BValue;
  try {
    v = decode(buf, { strict: true, maxDepth: 4, maxItems: 64 + expect.fileCount * 6 });
  } catch (e) {
    return no(`not bencode (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isDict(v)) return no('not a dictionary');
  if (v['sta-resume'] !== RESUME_VERSION) return no('unknown version');
  const ih = v['info-hash'];
  if (!isBytes(ih) || !expect.infoHash.equals(ih)) return no('another torrent');
  if (v['piece-length'] !== expect.pieceLength || v['piece-count'] !== expect.pieceCount) return no('another piece layout');
  const have = v.have;
  if (!isBytes(have) || have.length !== Math.ceil(expect.pieceCount / 8)) return no('bitfield of the wrong size');
  const files = v.files;
  if (!Array.isArray(files) || files.length !== expect.fileCount) return no('another file count');
  const out: ResumeData['files'] = [];
  for (const f of files) {
    if (!Array.isArray(f) || f.length < 1) return no('bad file entry');
    const kept = f[0];
    if (kept !== Kept.Absent && kept !== Kept.File && kept !== Kept.Part && kept !== Kept.None) return no('bad file kind');
    let stamp: FileStamp | undefined;
    if (f.length > 1) {
      stamp = parseStamp(f.slice(1));
      if (!stamp) return no('bad file stamp');
    }
    if (kept === Kept.File && !stamp) return no('file without a stamp');
    out.push({ kept, stamp });
  }
  let part: FileStamp | undefined;
  if (v.part !== undefined) {
    part = parseStamp(v.part);
    if (!part) return no('bad part-file stamp');
  }
  return {
    ok: true,
    data: { infoHash: Buffer.from(ih), pieceLength: expect.pieceLength, pieceCount: expect.pieceCount, have: Uint8Array.from(have), files: out, part },
  };
}

function parseStamp(v: BValue): FileStamp | undefined {
  if (!Array.isArray(v) || v.length !== 3) return undefined;
  const [size, mtime, racy] = v;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return undefined;
  if (typeof mtime !== 'number' && typeof mtime !== 'bigint') return undefined;
  if (racy !== 0 && racy !== 1) return undefined;
  return { size, mtimeNs: BigInt(mtime), racy: racy === 1 };
}

/** Reads at most `maxBytes + 1` bytes; undefined when the file does not exist. */
export async function readBounded(path: string, maxBytes: number): Promise<Buffer | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('cannot read', path, e);
  }
  try {
    const buf = Buffer.allocUnsafe(maxBytes + 1);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    return buf.subarray(0, n);
  } catch (e) {
    throw ioError('cannot read', path, e);
  } finally {
    await fh.close();
  }
}

/** Replaces `path` with `data` so that a crash at any moment leaves either the old or the
 *  new content: write a temp file beside it, fsync it, rename over, fsync the folder. */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw ioError('cannot save resume data to', path, e);
  }
  // The rename is durable only once the folder's entry is on disk.
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Some file systems refuse fsync on a folder (EINVAL); the rename still happened.
  }
}

/** Removes temp files a crash left beside `path`. */
export async function removeStaleTemps(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = basename(path) + '.';
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(
    names.filter((n) => n.startsWith(prefix) && n.endsWith('.tmp')).map((n) => unlink(join(dir, n)).catch(() => undefined)),
  );
}
