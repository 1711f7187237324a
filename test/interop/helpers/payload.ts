// Deterministic test payloads shared by every part's tests and benches: a multi-file tree
// with the awkward cases (nested folders, 0-byte and 1-byte files, spaces and non-ASCII
// names, odd sizes) and single files of any size with seeded pseudo-random content.
// Content comes from AES-256-CTR over zeros keyed by the seed: fast (GB/s), the same bytes
// on every run and machine, and written in bounded chunks so big files stream.
import { createCipheriv, createHash } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Bytes generated and written per step: memory stays bounded for any file size. */
const CHUNK = 1 << 20;

export interface PayloadFile {
  /** Path relative to the tree's root, '/'-separated (NFC). */
  path: string;
  length: number;
  seed: string;
}

/** The files of the shared multi-file tree, in byte order of their paths. */
export const PAYLOAD_FILES: readonly PayloadFile[] = [
  { path: 'a.bin', length: 100_003, seed: 'a' },
  { path: 'dir one/nested/deep file.dat', length: 262_147, seed: 'deep' },
  { path: 'dir one/Ünïcødé ñame – ok.txt', length: 33_333, seed: 'unicode' },
  { path: 'empty.txt', length: 0, seed: 'empty' },
  { path: 'one.txt', length: 1, seed: 'one' },
  { path: 'sub/b.bin', length: 1_048_583, seed: 'b' },
  { path: 'sub/zz/c.bin', length: 65_537, seed: 'c' },
];

/** Total bytes of PAYLOAD_FILES. */
export const PAYLOAD_TOTAL = PAYLOAD_FILES.reduce((n, f) => n + f.length, 0);

function keystream(seed: string) {
  const key = createHash('sha256').update(`sta-payload:${seed}`).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
}

/** The deterministic content `makeFile` writes, in memory (for small sizes in tests). */
export function payloadBytes(size: number, seed: string | number): Buffer {
  if (size === 0) return Buffer.alloc(0);
  return keystream(String(seed)).update(Buffer.alloc(size));
}

/** Writes `size` deterministic pseudo-random bytes to `path` (parents made), streaming. */
export async function makeFile(path: string, size: number, seed: string | number = 0): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const fh = await open(path, 'w');
  try {
    const cipher = keystream(String(seed));
    const zeros = Buffer.alloc(Math.min(CHUNK, Math.max(size, 1)));
    let written = 0;
    while (written < size) {
      const n = Math.min(CHUNK, size - written);
      const block = cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n));
      let off = 0;
      while (off < block.length) {
        const { bytesWritten } = await fh.write(block, off, block.length - off, written + off);
        off += bytesWritten;
      }
      written += n;
    }
  } finally {
    await fh.close();
  }
}

/** Creates the shared multi-file tree inside `dir` (made if missing); returns its files. */
export async function makePayloadTree(dir: string): Promise<PayloadFile[]> {
  for (const f of PAYLOAD_FILES) await makeFile(join(dir, ...f.path.split('/')), f.length, f.seed);
  return PAYLOAD_FILES.map((f) => ({ ...f }));
}
