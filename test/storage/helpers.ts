// Test helpers: hand-built Metainfo (so tests can also build hostile ones) and temp dirs.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metainfo, TorrentFile } from '../../src/torrent/index.js';

export interface FileSpec {
  path: string[];
  length: number;
  pad?: boolean;
}

/** A Metainfo over `files` whose content is `payload` (random if not given). */
export function makeMeta(opts: { name: string; files: FileSpec[]; pieceLength: number; multiFile?: boolean; payload?: Buffer }): { meta: Metainfo; payload: Buffer } {
  const total = opts.files.reduce((a, f) => a + f.length, 0);
  const payload = opts.payload ?? randomBytes(total);
  // Pad files hold zeros (BEP 47).
  let off = 0;
  const files: TorrentFile[] = opts.files.map((f) => {
    if (f.pad) payload.fill(0, off, off + f.length);
    const tf: TorrentFile = { path: f.path, pathString: f.path.join('/'), length: f.length, offset: off, pad: f.pad === true };
    off += f.length;
    return tf;
  });
  const pieceCount = Math.ceil(total / opts.pieceLength);
  const pieces = Buffer.alloc(pieceCount * 20);
  for (let i = 0; i < pieceCount; i++) {
    createHash('sha1')
      .update(payload.subarray(i * opts.pieceLength, Math.min(total, (i + 1) * opts.pieceLength)))
      .digest()
      .copy(pieces, i * 20);
  }
  const infoHash = createHash('sha1').update(pieces).update(opts.name).digest();
  const meta: Metainfo = {
    infoHash,
    infoHashHex: infoHash.toString('hex'),
    name: opts.name,
    pieceLength: opts.pieceLength,
    pieceCount,
    pieces,
    length: total,
    files,
    multiFile: opts.multiFile ?? opts.files.length > 1,
    private: false,
    announce: [],
    urlList: [],
    info: {},
    infoBytes: Buffer.alloc(0),
  };
  return { meta, payload };
}

export function piece(meta: Metainfo, payload: Buffer, i: number): Buffer {
  return payload.subarray(i * meta.pieceLength, Math.min(meta.length, (i + 1) * meta.pieceLength));
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sta-storage-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Deterministic bytes (so two processes build the same torrent). */
export function detPayload(n: number, seed = 'sta'): Buffer {
  const out = Buffer.alloc(n);
  let block = createHash('sha256').update(seed).digest();
  for (let off = 0; off < n; off += 32) {
    block.copy(out, off, 0, Math.min(32, n - off));
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** The torrent of the crash test: 4 files (one 0-byte), 16 KiB pieces, 131 pieces. */
export function crashMeta(): { meta: Metainfo; payload: Buffer } {
  const files: FileSpec[] = [
    { path: ['a.bin'], length: 700_001 },
    { path: ['empty'], length: 0 },
    { path: ['sub', 'b.bin'], length: 1_000_000 },
    { path: ['c.bin'], length: 444_444 },
  ];
  const total = files.reduce((a, f) => a + f.length, 0);
  return makeMeta({ name: 'crash', files, pieceLength: 16384, payload: detPayload(total) });
}
