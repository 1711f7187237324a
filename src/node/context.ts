// What the parts of a running torrent (downloader, uploader, peer manager, metadata
// fetch) share: the torrent's state and a few actions. Torrent implements it; the parts
// take it, so none of them imports another.
import type { EventEmitter } from 'node:events';
import type { Metainfo } from '../torrent/index.js';
import type { Storage } from '../storage/index.js';
import type { PiecePicker, SmartBan } from '../peer/download/index.js';
import type { TorrentEventMap } from './events.js';
import type { Peer } from './peer.js';

export interface TorrentContext {
  readonly infoHash: Buffer;
  readonly infoHashHex: string;
  readonly events: EventEmitter<TorrentEventMap>;
  readonly peers: ReadonlyMap<number, Peer>;
  readonly smartBan: SmartBan;
  meta: Metainfo | null;
  storage: Storage | null;
  picker: PiecePicker | null;
  /** Monotonic milliseconds. */
  now(): number;
  /** Close a peer and keep its address out (the ban reason is kept for the UI). */
  ban(banKey: string, reason: string): void;
  /** Payload bytes received that counted toward pieces (for the tracker's `downloaded`). */
  addDownloaded(bytes: number): void;
  addUploaded(bytes: number): void;
  /** A piece was verified and written. */
  pieceDone(index: number, from: string[]): void;
  /** Asks for a choke round soon (interest changed, peer came or went). */
  requestRechoke(): void;
}
