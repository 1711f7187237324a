// The running node: torrents (storage + trackers + peers + engines), the listen socket,
// our identity, the typed event stream, and resolving what the user asked to download.
export { StaNode, type NodeOptions } from './session.js';
export { Torrent, type TorrentOptions, type TorrentHost } from './torrent.js';
export type { ProgressInfo, TorrentEventMap, TorrentState, PeerInfo, PeerStatus } from './events.js';
export { resolveSource, apiBases, type Source } from './resolve-source.js';
export { NodeError, type NodeErrorCode } from './errors.js';
export { generatePeerId, CLIENT_PREFIX, CLIENT_VERSION } from './peer-id.js';
export { parseHostPort } from './peer-manager.js';
export * as nodeConfig from './config.js';
