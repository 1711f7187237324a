// Download-side constants: block size, pipeline bounds, timeouts, smart-ban thresholds.
// Each number says why it is that number; the session reads them from here.

/** BEP 3: requests are 16 KiB; every client serves that size and many refuse larger. */
export const BLOCK_SIZE = 16 * 1024;

/** Pipeline depth before a peer's rate is known: enough to keep a loopback link busy
 *  during the first second (128 x 16 KiB = 2 MiB in flight) without flooding a slow peer. */
export const INITIAL_PIPELINE = 128;

/** Never fewer requests in flight than this to an unchoked, unsnubbed peer: even a slow
 *  peer needs a few to hide one round trip. */
export const MIN_PIPELINE = 8;

/** Upper bound of requests in flight to one peer: 500 x 16 KiB = 8 MiB, which covers
 *  300+ MB/s at loopback latencies while bounding what one peer can owe us. */
export const MAX_PIPELINE = 500;

/** How much data (in seconds at the peer's measured rate) we keep requested ahead,
 *  like libtorrent's request_queue_time (3 s). */
export const PIPELINE_TARGET_S = 3;

/** What a peer accepts when its BEP 10 handshake gives no `reqq`: libtorrent's and
 *  uTorrent's historical default queue is 250. */
export const DEFAULT_PEER_REQQ = 250;

/** A request unanswered this long is given up and handed to another peer. Slow links
 *  (and a 500-deep pipeline on a 1 MB/s peer) need a generous bound. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** A peer that has sent no block for this long while we had requests out is snubbed:
 *  its pipeline drops to one request until it sends again (libtorrent: 60 s). */
export const SNUB_AFTER_MS = 60_000;

/** In endgame, at most this many peers hold a request for the same block: more only
 *  wastes upload of others without getting the last piece faster. */
export const ENDGAME_MAX_REQUESTERS = 3;

/** Smart-ban trust points (libtorrent's values): +1 per passed piece an address sent
 *  part of, capped so a long-honest peer that turns bad is still caught within a few
 *  failures; -2 per failed one; banned at -7 or below. A liar that only ever sends bad
 *  blocks is banned after its 4th shared failure; an honest peer needs more failed than
 *  passed pieces to get there. A peer that is the sole source of a failed piece, or is
 *  proven by block comparison to have sent bad data, is banned at once. */
export const TRUST_ON_PASS = 1;
export const TRUST_ON_FAIL = 2;
export const TRUST_MAX = 8;
export const TRUST_BAN_AT = -7;
