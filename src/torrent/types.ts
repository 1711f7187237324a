// The shapes every part uses for a torrent: validated metainfo (BEP 3, 12, 19, 27) and
// magnet links (BEP 9).
import type { BDict } from '../bencode/index.js';

export interface TorrentFile {
  /** Path components relative to the torrent's root, already made safe (see
   *  docs/torrent.md). Single-file torrent: one component, the name. */
  path: string[];
  /** `path` joined with '/', as `sta info --json` prints it. */
  pathString: string;
  length: number;
  /** Offset of the file's first byte in the torrent's concatenated data. */
  offset: number;
  /** BEP 47 padding file ('p' in attr): not written to disk. */
  pad: boolean;
}

export interface Metainfo {
  /** SHA-1 of the original bytes of the info dictionary. */
  infoHash: Buffer;
  infoHashHex: string;
  /** The torrent's name, made safe to use as one path component. */
  name: string;
  pieceLength: number;
  pieceCount: number;
  /** The piece hashes: 20 bytes each, concatenated. */
  pieces: Buffer;
  /** Total length of all files. */
  length: number;
  files: TorrentFile[];
  /** Multi-file torrents put their files under a folder named `name`. */
  multiFile: boolean;
  private: boolean;
  /** Trackers by tier (BEP 12); `announce` alone becomes one tier of one. */
  announce: string[][];
  /** BEP 19 web seeds. */
  urlList: string[];
  comment?: string;
  createdBy?: string;
  creationDate?: number;
  /** The decoded info dictionary, unknown keys kept. */
  info: BDict;
  /** The original bytes of the info dictionary (what BEP 9 sends as metadata). */
  infoBytes: Buffer;
}

export interface MagnetLink {
  infoHash: Buffer;
  infoHashHex: string;
  /** dn */
  name?: string;
  /** tr, in order */
  trackers: string[];
  /** x.pe: host:port strings */
  peers: string[];
  /** ws */
  webSeeds: string[];
}
