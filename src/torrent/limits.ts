// Bounds for metainfo from outside (parse) and for torrents we make (create), each with
// the reason for its number. Parsing is wider than creating: we read what other clients
// make, but never anything that would make storage or the wire misbehave.

/** BitTorrent moves 16 KiB blocks; a smaller piece only wastes hashes. */
export const MIN_CREATE_PIECE_LENGTH = 16 * 1024;
/** libtorrent and Transmission cap what they make at 16 MiB; bigger pieces hurt swarms. */
export const MAX_CREATE_PIECE_LENGTH = 16 * 1024 * 1024;
/** Parse: pieces up to 256 MiB are still hashed in memory one at a time by storage;
 *  past that a hostile torrent could ask for a huge buffer. */
export const MAX_PARSE_PIECE_LENGTH = 256 * 1024 * 1024;
/** Parse: files per torrent. Each file is ~6 bencode items, and bencode stops at 2M items
 *  anyway; this names the bound in the metainfo's own terms. */
export const MAX_FILES = 1_000_000;
/** Parse: components per file path (a deeper tree is not a real torrent). */
export const MAX_PATH_DEPTH = 256;
/** Parse: bytes of one file's joined path, Linux PATH_MAX. */
export const MAX_PATH_BYTES = 4096;
/** Parse: trackers across all tiers, and web seeds; more is abuse, not redundancy. */
export const MAX_TRACKERS = 1000;
export const MAX_WEB_SEEDS = 1000;
/** Lengths must stay exact in a JavaScript number. */
export const MAX_LENGTH = Number.MAX_SAFE_INTEGER;
/** Magnet URIs: bounded text and parameter count. */
export const MAX_MAGNET_LENGTH = 64 * 1024;
export const MAX_MAGNET_PARAMS = 1000;
/** create: the target piece count when the piece length is chosen (about 1000-2000). */
export const TARGET_MAX_PIECES = 2000;
