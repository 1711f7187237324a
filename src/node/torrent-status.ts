// Snapshots of a torrent for the CLI, the JSON API and the UI: overall progress and the
// connected peers.
import type { PeerStatus, ProgressInfo, TorrentState } from './events.js';
import type { Peer } from './peer.js';
import type { TorrentContext } from './context.js';

export function progressOf(
  t: TorrentContext & { state: TorrentState },
  wantedBytes: number,
  downloaded: number,
  uploaded: number,
  fallbackName: string,
): ProgressInfo {
  let down = 0;
  let up = 0;
  let seeds = 0;
  for (const p of t.peers.values()) {
    down += p.conn.downloadRate();
    up += p.conn.uploadRate();
    if (p.isSeed) seeds++;
  }
  const st = t.storage;
  const left = st ? st.bytesLeft() : null;
  const verified = st ? wantedBytes - st.bytesLeft() : 0;
  return {
    infoHash: t.infoHashHex,
    name: t.meta?.name ?? fallbackName,
    verifiedBytes: verified,
    wantedBytes,
    fraction: wantedBytes > 0 ? verified / wantedBytes : st ? 1 : 0,
    piecesHave: st?.have.cardinality() ?? 0,
    pieceCount: t.meta?.pieceCount ?? 0,
    downloaded,
    uploaded,
    downloadRateBps: down,
    uploadRateBps: up,
    peers: t.peers.size,
    seeds,
    etaS: left === null ? null : left === 0 ? 0 : down > 0 ? left / down : null,
    state: t.state,
  };
}

export function peerStatus(p: Peer): PeerStatus {
  const bf = p.conn.peerBitfield;
  return {
    address: p.address,
    ...(p.client ? { client: p.client } : {}),
    incoming: p.conn.incoming,
    downloadRateBps: p.conn.downloadRate(),
    uploadRateBps: p.conn.uploadRate(),
    progress: bf && bf.length > 0 ? bf.cardinality() / bf.length : 0,
    amChoking: p.conn.amChoking,
    amInterested: p.conn.amInterested,
    peerChoking: p.conn.peerChoking,
    peerInterested: p.conn.peerInterested,
    snubbed: p.snubbed,
    requestsOut: p.outstanding.size,
    requestsIn: p.uploads.size,
  };
}
