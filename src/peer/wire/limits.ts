// Every bound the wire layer enforces, with the reason for each number. Anything read from
// a peer is hostile until checked against these.

/** BEP 3: the block size every client requests; "clients close connections which request
 *  more than 16 KiB". We neither send nor accept larger blocks. */
export const BLOCK_LENGTH = 16 * 1024;
export const MAX_BLOCK_LENGTH = BLOCK_LENGTH;

/** Length prefix (4) + id (1) + index (4) + begin (4). */
export const PIECE_HEADER_LENGTH = 13;

/** A bitfield before the torrent's size is known (magnet links, before BEP 9 metadata):
 *  1 MiB covers 8 Mi pieces, past any real torrent. */
export const MAX_BITFIELD_BYTES = 1024 * 1024;

/** BEP 10 messages: the extension handshake of real clients is a few hundred bytes; PEX and
 *  ut_metadata messages are under 20 KiB. 1 MiB bounds what a peer can make us buffer. */
export const MAX_EXTENDED_LENGTH = 1024 * 1024;

/** Messages with ids we do not know are skipped, but only if small (BEP 3 says ignore
 *  unknown messages; nothing legitimate we did not negotiate is bigger than a block). */
export const MAX_UNKNOWN_LENGTH = BLOCK_LENGTH + 16;

/** BEP 9: metadata travels in 16 KiB pieces. */
export const METADATA_PIECE_LENGTH = 16 * 1024;
/** The info dictionary we accept from peers: 16 MiB is ~800k pieces' hashes, bigger than any
 *  real torrent, and bounds the buffer a magnet download allocates. */
export const MAX_METADATA_SIZE = 16 * 1024 * 1024;

/** BEP 10 handshake fields: names and ids in `m` (ids are one byte), client version. */
export const MAX_EXTENSION_NAMES = 64;
export const MAX_EXTENSION_NAME_LENGTH = 64;
export const MAX_CLIENT_VERSION_LENGTH = 128;
/** reqq values above this are clamped: a pipeline deeper than this gains nothing. */
export const MAX_REQQ = 65536;

/** BEP 6 allowed-fast set size libtorrent and the BEP's example use. */
export const ALLOWED_FAST_SET_SIZE = 10;
