// tracker/server: `sta tracker` as a library. HTTP (announce, scrape, JSON API, catalogue,
// status page) and UDP (BEP 15) on one port number, over any PeerStore.
export { startTracker, type TrackerServer } from './tracker.js';
export type { TrackerStats } from './context.js';
export { TrackerServerError } from './errors.js';
export {
  DEFAULT_PORT,
  DEFAULT_NUMWANT,
  MAX_NUMWANT,
  MAX_TORRENT_UPLOAD_BYTES,
  UDP_CONNECTION_WINDOW_MS,
  type TrackerOptions,
} from './options.js';
export { loadWhitelist, parseWhitelist } from './whitelist.js';
export { resolvePeerIp, isTrusted } from './client-address.js';
export { ConnectionIds } from './udp-connection-id.js';
export { loadUdpBatch, type UdpBatchAddon, type UdpBatchLoad } from './udp-native.js';
export { startBatchReader, type BatchReader, type BatchServe } from './udp-batch.js';
export { loadHttpBatch, startHttpBatch, type HttpBatchAddon, type HttpBatchLoad } from './http-native.js';
