// Routes one connection's events to the engines: availability and blocks to the
// downloader, requests and cancels to the uploader, ut_metadata to the metadata exchange.
import type { CloseInfo } from '../peer/index.js';
import { UT_METADATA } from '../peer/wire/index.js';
import type { Downloader } from './downloader.js';
import type { MetadataExchange } from './metadata-fetch.js';
import type { Peer } from './peer.js';
import type { Uploader } from './uploader.js';

export interface PeerHandlers {
  downloader: Downloader;
  uploader: Uploader;
  metadata: MetadataExchange;
  now: () => number;
  onBitfield: () => void;
  onClose: (info: CloseInfo) => void;
  requestRechoke: () => void;
}

export function attachPeerHandlers(peer: Peer, h: PeerHandlers): void {
  const conn = peer.conn;
  const { downloader: d, uploader: u } = h;
  conn.on('bitfield', () => {
    d.onBitfield(peer);
    h.onBitfield();
  });
  conn.on('have', (i) => d.onHave(peer, i));
  conn.on('unchoke', () => d.onUnchoke(peer));
  conn.on('choke', () => d.onChoke(peer));
  conn.on('allowed-fast', () => {
    if (conn.peerChoking) d.fill(peer, true);
  });
  conn.setPieceHandler((i, begin, head, tail, requested) => d.onBlock(peer, i, begin, head, tail, requested));
  conn.on('reject', (i, begin) => d.onReject(peer, i, begin));
  conn.on('interested', () => u.onInterested(peer));
  conn.on('not-interested', h.requestRechoke);
  conn.on('request', (i, begin, len) => u.onRequest(peer, i, begin, len));
  conn.on('cancel', (i, begin, len) => u.onCancel(peer, i, begin, len));
  conn.on('drain', () => u.pump(peer));
  conn.on('extended-handshake', () => h.metadata.onExtendedHandshake(peer, h.now()));
  conn.on('extended', (_id, payload, name) => {
    if (name !== UT_METADATA) return;
    const bad = h.metadata.onMessage(peer, payload, h.now());
    if (bad) conn.close(`protocol violation: ${bad}`);
  });
  conn.on('close', h.onClose);
}
