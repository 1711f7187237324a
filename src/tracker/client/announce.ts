// announce() and scrape(): one request to one tracker URL, over HTTP(S) or UDP by scheme.
import { EVENT_COMPLETED, EVENT_NONE, EVENT_STARTED, EVENT_STOPPED, type AnnounceRequest, type ScrapeCounts } from '../protocol/index.js';
import { TrackerClientError } from './errors.js';
import { httpAnnounce, httpScrape } from './http.js';
import { DEFAULT_NUMWANT, DEFAULT_TIMEOUT_MS } from './limits.js';
import type { AnnounceOptions, AnnounceParams, AnnounceResult, RequestOptions } from './types.js';
import { udpAnnounce, udpScrape } from './udp.js';

const EVENTS = { started: EVENT_STARTED, completed: EVENT_COMPLETED, stopped: EVENT_STOPPED } as const;

function requestOptions(opts: AnnounceOptions | undefined): RequestOptions {
  const timeoutMs = opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new TrackerClientError('TRACKER_BAD_PARAMS', `timeout must be positive, got ${timeoutMs}`);
  const r: RequestOptions = { timeoutMs };
  if (opts?.signal) r.signal = opts.signal;
  if (opts?.udpRetransmitMs !== undefined) r.udpRetransmitMs = opts.udpRetransmitMs;
  return r;
}

function toRequest(p: AnnounceParams): AnnounceRequest {
  if (p.infoHash.length !== 20) throw new TrackerClientError('TRACKER_BAD_PARAMS', 'info hash must be 20 bytes');
  if (p.peerId.length !== 20) throw new TrackerClientError('TRACKER_BAD_PARAMS', 'peer id must be 20 bytes');
  const req: AnnounceRequest = {
    infoHash: p.infoHash,
    peerId: p.peerId,
    port: p.port,
    uploaded: Math.max(0, Math.floor(p.uploaded)),
    downloaded: Math.max(0, Math.floor(p.downloaded)),
    left: Math.max(0, Math.floor(p.left)),
    event: p.event ? EVENTS[p.event] : EVENT_NONE,
    numwant: p.event === 'stopped' ? 0 : Math.max(0, Math.floor(p.numwant ?? DEFAULT_NUMWANT)),
    compact: true,
    noPeerId: true,
    // HTTP sends the key as 8 hex digits (as libtorrent does); the UDP encoder takes a
    // decimal key as the 32-bit number itself.
    key: String(p.key >>> 0),
  };
  if (p.trackerId !== undefined) req.trackerId = p.trackerId;
  return req;
}

function scheme(url: string): 'http' | 'udp' {
  if (/^https?:\/\//i.test(url)) return 'http';
  if (/^udp:\/\//i.test(url)) return 'udp';
  throw new TrackerClientError('TRACKER_BAD_URL', `unsupported tracker URL (http, https or udp): ${url.slice(0, 200)}`);
}

/** Announces once to one tracker. Rejects with TrackerClientError (code says why). */
export async function announce(url: string, p: AnnounceParams, opts?: AnnounceOptions): Promise<AnnounceResult> {
  const kind = scheme(url);
  const o = requestOptions(opts);
  const req = toRequest(p);
  if (kind === 'http') {
    req.key = (p.key >>> 0).toString(16).padStart(8, '0');
    return httpAnnounce(url, req, o);
  }
  return udpAnnounce(url, req, o);
}

/** Scrapes one tracker for the given info hashes (BEP 48 over HTTP, BEP 15 over UDP); the
 *  map is keyed by lowercase hex info hash and holds what the tracker reported. */
export async function scrape(
  url: string,
  infoHashes: Buffer[],
  opts?: AnnounceOptions,
): Promise<Map<string, { complete: number; downloaded: number; incomplete: number }>> {
  const kind = scheme(url);
  const o = requestOptions(opts);
  if (infoHashes.some((h) => h.length !== 20)) throw new TrackerClientError('TRACKER_BAD_PARAMS', 'info hashes must be 20 bytes');
  if (infoHashes.length === 0) return new Map<string, ScrapeCounts>();
  return kind === 'http' ? httpScrape(url, infoHashes, o) : udpScrape(url, infoHashes, o);
}
