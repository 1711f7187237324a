// tracker/protocol: pure codecs for the HTTP (BEP 3, 23, 7, 48) and UDP (BEP 15) tracker
// protocols, both directions, so the tracker server and the tracker client share them.
export { TrackerProtocolError } from './errors.js';
export * from './limits.js';
export {
  EVENT_NONE,
  EVENT_COMPLETED,
  EVENT_STARTED,
  EVENT_STOPPED,
  EVENT_NAMES,
  type AnnounceEvent,
  type AnnounceRequest,
  type PeerAddress,
  type ScrapeCounts,
} from './types.js';
export { parseAnnounceQuery, parseScrapeQuery, percentEncodeBytes, buildAnnounceQuery, buildScrapeQuery, scrapeUrlFor } from './http-query.js';
export {
  encodeAnnounceReply,
  encodeAnnounceReplyDict,
  encodeFailure,
  encodeScrapeReply,
  decodeAnnounceReply,
  decodeScrapeReply,
  type AnnounceReplyCounts,
  type AnnounceReply,
} from './http-response.js';
export { compactPeer, compactIpText, decodeCompactPeers, writeIPv4, writeIPv6 } from './peers.js';
export * from './udp.js';
