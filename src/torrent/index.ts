// torrent: metainfo (BEP 3/12/19/27/47) parse + validate, magnet links (BEP 9), piece
// length choice, and torrent creation (the only part here that reads files).
export { parseTorrent, parseInfoDict, encodeTorrent, type TorrentExtras } from './metainfo.js';
export { parseMagnet, makeMagnet } from './magnet.js';
export { choosePieceLength, isValidCreatePieceLength } from './piece-length.js';
export { createTorrent, type CreateOptions, type CreateResult } from './create.js';
export { TorrentError } from './errors.js';
export { unsafeReason } from './paths.js';
export * as torrentLimits from './limits.js';
export type { Metainfo, TorrentFile, MagnetLink } from './types.js';
