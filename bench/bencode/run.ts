// bench/bencode: decode and encode of one large metainfo (100,000 files, ~10 MB), sta's
// bencode against the npm `bencode` package (what JavaScript torrent code uses), in one run.
// Prints MB/s for each and sta's ratio (> 1: sta faster). Also sta's full parseTorrent
// (strict decode, info-span scan, validation, info hash) for scale.
//
//   node --import tsx bench/bencode/run.ts [--files N] [--rounds N]
import { createHash } from 'node:crypto';
import { importBenchPackage } from '../lib/deps.js';
import { decode, decodeWithSpans, encode, type Encodable } from '../../src/bencode/index.js';
import { parseTorrent } from '../../src/torrent/index.js';

// The npm package, installed on demand into bench/.deps (not a project dependency).
const { default: bencodeNpm } = await importBenchPackage<{ default: { decode(b: Uint8Array): unknown; encode(v: unknown): Uint8Array } }>('bencode', '4');

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const FILES = opt('files', 100_000);
const ROUNDS = opt('rounds', 7);

/** A realistic big multi-file torrent: nested folders, long names, sizes up to 20 MB. */
function bigTorrent(files: number): Buffer {
  const list: Encodable[] = [];
  let total = 0;
  let x = 12345;
  for (let i = 0; i < files; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    const length = x % 20_000_000;
    total += length;
    list.push({ length, path: [`Season ${(i % 40) + 1}`, `Disc ${(i % 7) + 1}`, `Episode ${i} (1080p).mkv`] });
  }
  const pieceLength = 16 * 1024 * 1024;
  const pieceCount = Math.ceil(total / pieceLength);
  const pieces = Buffer.alloc(pieceCount * 20);
  for (let p = 0; p < pieceCount; p++) createHash('sha1').update(String(p)).digest().copy(pieces, p * 20);
  return encode({
    announce: 'http://tracker.example/announce',
    'created by': 'bench',
    info: { files: list, name: 'Big Series', 'piece length': pieceLength, pieces },
  });
}

/** Best (minimum) milliseconds of `rounds` runs of fn, after one warm-up. */
function best(fn: () => unknown, rounds = ROUNDS): number {
  fn();
  let min = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

const buf = bigTorrent(FILES);
const mb = buf.length / 1e6;
console.log(`metainfo: ${FILES} files, ${mb.toFixed(1)} MB; best of ${ROUNDS} runs each (node ${process.version})`);

const staValue = decode(buf, { strict: true });
const npmValue = bencodeNpm.decode(buf);
if (!encode(staValue).equals(buf)) throw new Error('sta round trip differs');
if (!Buffer.from(bencodeNpm.encode(npmValue)).equals(buf)) throw new Error('npm bencode round trip differs');

const rows: [string, number, number][] = [];
const staDecode = best(() => decode(buf, { strict: true }));
const npmDecode = best(() => bencodeNpm.decode(buf));
rows.push(['decode', staDecode, npmDecode]);
const staSpans = best(() => decodeWithSpans(buf, { strict: true }));
rows.push(['decode with spans (sta) vs decode (npm)', staSpans, npmDecode]);
const staEncode = best(() => encode(staValue));
const npmEncode = best(() => bencodeNpm.encode(npmValue));
rows.push(['encode', staEncode, npmEncode]);
const parse = best(() => parseTorrent(buf));

const pad = (s: string, n: number) => s.padEnd(n);
console.log(`${pad('operation', 42)} ${pad('sta ms', 9)} ${pad('sta MB/s', 9)} ${pad('npm ms', 9)} ${pad('npm MB/s', 9)} ratio (npm time / sta time)`);
for (const [name, s, n] of rows) {
  console.log(`${pad(name, 42)} ${pad(s.toFixed(1), 9)} ${pad((mb / (s / 1000)).toFixed(0), 9)} ${pad(n.toFixed(1), 9)} ${pad((mb / (n / 1000)).toFixed(0), 9)} ${(n / s).toFixed(2)}x`);
}
console.log(`${pad('parseTorrent (decode+validate+info hash)', 42)} ${pad(parse.toFixed(1), 9)} ${pad((mb / (parse / 1000)).toFixed(0), 9)}`);
