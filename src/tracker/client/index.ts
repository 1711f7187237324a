// tracker/client: announcing to trackers for the peer engine. announce() and scrape() talk
// to one tracker (http://, https://, udp:// by BEP 3/23/7/48 and BEP 15); TrackerClient runs
// a torrent's announces over its BEP 12 tiers. See docs/tracker-client.md.
export { announce, scrape } from './announce.js';
export { TrackerClient, type TrackerClientOptions, type TrackerClientEvents, type AnnounceEvent, type TrackerErrorEvent } from './tracker-client.js';
export { TrackerClientError, type TrackerClientErrorCode } from './errors.js';
export { clearUdpConnectionCache } from './udp.js';
export { httpGet } from './http.js';
export type { AnnounceParams, AnnounceResult, AnnounceOptions, TrackerPeer } from './types.js';
export * from './limits.js';
