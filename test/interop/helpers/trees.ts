// Byte-for-byte comparison of two files or folder trees, streaming (bounded memory for
// any size). Transmission does not create 0-byte files, hence `ignoreEmptyFiles`.
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface CompareOptions {
  /** Treat a missing 0-byte file as equal to an empty one (Transmission skips them). */
  ignoreEmptyFiles?: boolean;
  /** Files (relative '/'-paths) to leave out, e.g. /\.aria2$/ control files. */
  ignore?: RegExp;
}

export interface CompareResult {
  equal: boolean;
  /** One line per difference, e.g. `only in b: x`, `size differs: x (3 vs 4)`. */
  differences: string[];
  /** Files compared byte for byte and found equal. */
  filesCompared: number;
  bytesCompared: number;
}

/** Regular files under `root` as relative '/'-paths -> size; a file root maps '' to it. */
async function listFiles(root: string, ignore?: RegExp): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const st = await stat(root);
  if (st.isFile()) {
    out.set('', st.size);
    return out;
  }
  const walk = async (dir: string, rel: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      // Ignored paths are never visited: a live client's temp files (resume data being
      // replaced) may vanish between readdir and stat.
      if (ignore?.test(r)) continue;
      if (e.isDirectory()) await walk(join(dir, e.name), r);
      else if (e.isFile()) out.set(r, (await stat(join(dir, e.name))).size);
      else out.set(r, -1); // symlink or special: never expected in a download
    }
  };
  await walk(root, '');
  return out;
}

const CHUNK = 1 << 20;

/** Offset of the first differing byte of two files of equal size, or -1. */
async function firstDifference(a: string, b: string, size: number): Promise<number> {
  const fa = await open(a, 'r');
  const fb = await open(b, 'r');
  try {
    const ba = Buffer.allocUnsafe(CHUNK);
    const bb = Buffer.allocUnsafe(CHUNK);
    for (let pos = 0; pos < size; pos += CHUNK) {
      const n = Math.min(CHUNK, size - pos);
      const [ra, rb] = await Promise.all([fa.read(ba, 0, n, pos), fb.read(bb, 0, n, pos)]);
      if (ra.bytesRead !== n || rb.bytesRead !== n) return pos;
      if (!ba.subarray(0, n).equals(bb.subarray(0, n))) {
        for (let i = 0; i < n; i++) if (ba[i] !== bb[i]) return pos + i;
      }
    }
    return -1;
  } finally {
    await fa.close();
    await fb.close();
  }
}

/** Compares the files under `a` and `b` (or two files) byte for byte. */
export async function compareTrees(a: string, b: string, o: CompareOptions = {}): Promise<CompareResult> {
  const [fa, fb] = await Promise.all([listFiles(a, o.ignore), listFiles(b, o.ignore)]);
  const differences: string[] = [];
  let filesCompared = 0;
  let bytesCompared = 0;
  const names = [...new Set([...fa.keys(), ...fb.keys()])].sort();
  for (const name of names) {
    if (o.ignore?.test(name)) continue;
    const sa = fa.get(name);
    const sb = fb.get(name);
    const shown = name || '(file)';
    if (sa === undefined || sb === undefined) {
      const size = sa ?? sb;
      if (o.ignoreEmptyFiles && size === 0) continue;
      differences.push(`only in ${sa === undefined ? 'b' : 'a'}: ${shown} (${size} bytes)`);
      continue;
    }
    if (sa < 0 || sb < 0) {
      differences.push(`not a regular file: ${shown}`);
      continue;
    }
    if (sa !== sb) {
      differences.push(`size differs: ${shown} (${sa} vs ${sb})`);
      continue;
    }
    const pa = name ? join(a, ...name.split('/')) : a;
    const pb = name ? join(b, ...name.split('/')) : b;
    const at = await firstDifference(pa, pb, sa);
    if (at >= 0) differences.push(`content differs: ${shown} at byte ${at}`);
    else {
      filesCompared++;
      bytesCompared += sa;
    }
  }
  return { equal: differences.length === 0, differences, filesCompared, bytesCompared };
}

/** Throws (listing the differences) unless the trees are byte-identical. */
export async function assertSameTree(expected: string, actual: string, o: CompareOptions = {}): Promise<CompareResult> {
  const r = await compareTrees(expected, actual, o);
  if (!r.equal) {
    const list = r.differences.slice(0, 20).join('\n  ');
    throw new Error(`trees differ (a=${expected}, b=${actual}):\n  ${list}`);
  }
  if (r.filesCompared === 0) throw new Error(`nothing compared under ${expected} and ${actual}`);
  return r;
}
