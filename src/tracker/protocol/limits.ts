// Bounds on what the tracker codecs accept from the network, with the reason for each.

/** A real announce query is ~250-400 bytes (two 60-byte escaped hashes and a few numbers);
 *  a scrape of MAX_SCRAPE_HASHES escaped hashes is ~64 x 70. Anything longer is refused
 *  before parsing. */
export const MAX_QUERY_LENGTH = 8192;
/** Hashes in one scrape, HTTP or UDP. BEP 15 fits ~74 in a 1500-byte packet; opentracker
 *  allows 64 over HTTP. More is refused, not truncated, so a client learns it asked too much. */
export const MAX_SCRAPE_HASHES = 74;
/** `key`, `trackerid`, `ip` are short tokens; longer ones are cut to this length. */
export const MAX_TOKEN_LENGTH = 128;
/** Decimal digits in a numeric parameter: 2^64 has 20. */
export const MAX_NUMBER_DIGITS = 20;
/** Peers a tracker reply may decode to (client side): 200 is what libtorrent asks at most;
 *  a hostile tracker cannot make the client hold more than this. */
export const MAX_DECODED_PEERS = 2000;
/** A `failure reason` or error packet message longer than this is cut. */
export const MAX_MESSAGE_LENGTH = 1024;
