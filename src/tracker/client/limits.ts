// The tracker client's bounds and defaults, with the reason for each.

/** Default wait for one tracker's answer. libtorrent waits 20 s for HTTP; BEP 15's first
 *  retransmission is at 15 s. A dead tracker in a tier costs at most this. */
export const DEFAULT_TIMEOUT_MS = 15_000;
/** An HTTP announce reply of 2000 peers (MAX_DECODED_PEERS) in dictionary form is ~150 KB;
 *  1 MB leaves room and keeps a hostile tracker from filling memory. */
export const MAX_HTTP_REPLY_BYTES = 1024 * 1024;
/** BEP 15: the first retransmission after 15 s, doubling. The client caps every wait by the
 *  caller's timeout, so a short timeout (tests) retransmits sooner. */
export const UDP_BASE_RETRANSMIT_MS = 15_000;
/** BEP 15: a connection id may be used for one minute after it was received. */
export const UDP_CONNECTION_ID_TTL_MS = 60_000;
/** Connection ids cached (one per tracker address): bounded against a torrent with
 *  thousands of tracker URLs. */
export const UDP_CONNECTION_CACHE_MAX = 1024;
/** A UDP reply larger than this is not a tracker's (an announce of 2000 IPv6 peers is
 *  ~36 KB; a datagram cannot exceed 64 KB). */
export const MAX_UDP_REPLY_BYTES = 65_536;
/** numwant when the caller gives none (BEP 3 suggests 50). */
export const DEFAULT_NUMWANT = 50;
/** Re-announce interval bounds: a hostile or broken tracker cannot make us announce more
 *  often than every MIN_INTERVAL_S, nor silence us for more than MAX_INTERVAL_S. 1 s as the
 *  floor because tests run trackers with 1-2 s intervals; real trackers send 1800. */
export const MIN_INTERVAL_S = 1;
export const MAX_INTERVAL_S = 6 * 3600;
/** Retry after a round where every tracker failed: RETRY_BASE_MS doubling up to
 *  RETRY_MAX_MS (libtorrent: 5 s doubling to ~1 h; we cap at 30 min, the usual interval). */
export const RETRY_BASE_MS = 15_000;
export const RETRY_MAX_MS = 30 * 60_000;
/** stop() waits this long for the `stopped` announce, then gives up (the tracker expires
 *  the peer anyway). */
export const STOP_TIMEOUT_MS = 3000;
/** Trackers kept from a torrent's tiers (announce-list can be long and hostile). */
export const MAX_TRACKERS = 200;
