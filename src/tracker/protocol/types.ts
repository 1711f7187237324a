// The values the tracker protocols carry, shared by the HTTP (BEP 3/23/7/48) and UDP
// (BEP 15) codecs, the server and the client.

/** Announce events, numbered as BEP 15 numbers them (HTTP uses the names). */
export const EVENT_NONE = 0;
export const EVENT_COMPLETED = 1;
export const EVENT_STARTED = 2;
export const EVENT_STOPPED = 3;
export type AnnounceEvent = typeof EVENT_NONE | typeof EVENT_COMPLETED | typeof EVENT_STARTED | typeof EVENT_STOPPED;

export const EVENT_NAMES: readonly string[] = ['', 'completed', 'started', 'stopped'];

/** An announce request as either transport carries it. */
export interface AnnounceRequest {
  /** 20 bytes. */
  infoHash: Buffer;
  /** 20 bytes. */
  peerId: Buffer;
  /** 1..65535 */
  port: number;
  uploaded: number;
  downloaded: number;
  /** Bytes still missing; 0 means the peer is a seeder. */
  left: number;
  event: AnnounceEvent;
  /** -1 when the client gave none (the tracker's default applies). */
  numwant: number;
  /** HTTP: BEP 23 compact form wanted (the default). UDP: always compact. */
  compact: boolean;
  /** HTTP dictionary form without peer ids. */
  noPeerId: boolean;
  /** HTTP `key` as sent (text), or the UDP key as an unsigned 32-bit number in decimal. */
  key?: string;
  /** HTTP `trackerid`. */
  trackerId?: string;
  /** The `ip` parameter (HTTP) as text, or the UDP IPv4 field when non-zero, dotted. Only
   *  honoured from trusted sources: see docs/tracker.md. */
  ip?: string;
}

/** A peer handed out by a tracker. */
export interface PeerAddress {
  ip: string;
  port: number;
  /** Present only in the dictionary (non-compact) form, when the tracker sent it. */
  peerId?: Buffer;
}

/** Counts for one torrent (BEP 48 scrape; also the announce reply's totals). */
export interface ScrapeCounts {
  /** Seeders. */
  complete: number;
  /** Completed events seen. */
  downloaded: number;
  /** Leechers. */
  incomplete: number;
}
