// Builders of .torrent bytes for tests: a valid torrent from plain fields, with any field
// overridable (or removable with `undefined`), hashes computed from given content.
import { createHash } from 'node:crypto';
import { encode, type Encodable } from '../../src/bencode/index.js';

export function sha1(b: Uint8Array): Buffer {
  return createHash('sha1').update(b).digest();
}

/** Concatenated SHA-1 of each piece of `data`. */
export function piecesOf(data: Uint8Array, pieceLength: number): Buffer {
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; off += pieceLength) out.push(sha1(data.subarray(off, off + pieceLength)));
  return Buffer.concat(out);
}

type Dict = Record<string, Encodable | undefined>;

/** A valid multi-file torrent (files a.txt 5 B, dir/b.txt 3 B; piece length 4). */
export function multiFileInfo(over: Dict = {}): Dict {
  return {
    name: 'multi',
    'piece length': 4,
    pieces: piecesOf(Buffer.from('hellobye'), 4),
    files: [
      { length: 5, path: ['a.txt'] },
      { length: 3, path: ['dir', 'b.txt'] },
    ],
    ...over,
  };
}

/** A valid single-file torrent of `data` (default 10 bytes, piece length 4). */
export function singleFileInfo(over: Dict = {}, data: Uint8Array = Buffer.from('0123456789')): Dict {
  return { name: 'single.bin', 'piece length': 4, pieces: piecesOf(data, 4), length: data.length, ...over };
}

/** A .torrent around `info` plus outer fields; undefined values are left out. */
export function torrentBytes(info: Dict, outer: Dict = {}): Buffer {
  return encode({ announce: 'http://tracker.example/announce', info: info as Encodable, ...outer } as Encodable);
}

/** A multi-file info whose one file has `path` as its components. */
export function infoWithPath(path: string[]): Dict {
  return multiFileInfo({
    files: [
      { length: 5, path },
      { length: 3, path: ['ok.txt'] },
    ],
  });
}
