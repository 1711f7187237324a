// HTTP announce (BEP 3) and scrape (BEP 48) query strings: parsing on the tracker side
// straight from the raw query text with offsets (info_hash and peer_id are 20 raw bytes,
// percent-encoded), and building them on the client side.
import { TrackerProtocolError } from './errors.js';
import { MAX_NUMBER_DIGITS, MAX_QUERY_LENGTH, MAX_SCRAPE_HASHES, MAX_TOKEN_LENGTH } from './limits.js';
import {
  EVENT_COMPLETED,
  EVENT_NAMES,
  EVENT_NONE,
  EVENT_STARTED,
  EVENT_STOPPED,
  type AnnounceEvent,
  type AnnounceRequest,
} from './types.js';

const PERCENT = 0x25;
const PLUS = 0x2b;
const EQ = 0x3d;

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** Percent-decodes q[start, end) into exactly 20 bytes, or throws. `+` is a space, as in
 *  application/x-www-form-urlencoded. */
function decodeHash20(q: string, start: number, end: number, name: string): Buffer {
  const out = Buffer.allocUnsafe(20);
  let n = 0;
  let i = start;
  while (i < end) {
    if (n === 20) throw new TrackerProtocolError('BAD_HASH_LENGTH', `${name} is longer than 20 bytes`);
    let c = q.charCodeAt(i);
    if (c === PERCENT) {
      if (i + 2 >= end) throw new TrackerProtocolError('BAD_ESCAPE', `bad percent escape in ${name}`);
      const hi = hexVal(q.charCodeAt(i + 1));
      const lo = hexVal(q.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) throw new TrackerProtocolError('BAD_ESCAPE', `bad percent escape in ${name}`);
      c = (hi << 4) | lo;
      i += 3;
    } else {
      if (c > 0x7f) throw new TrackerProtocolError('BAD_ESCAPE', `unescaped non-ASCII character in ${name}`);
      if (c === PLUS) c = 0x20;
      i++;
    }
    out[n++] = c;
  }
  if (n !== 20) throw new TrackerProtocolError('BAD_HASH_LENGTH', `${name} must be 20 bytes, got ${n}`);
  return out;
}

/** Percent-decodes a short text token (key, trackerid, ip) as latin1, cut to MAX_TOKEN_LENGTH. */
function decodeToken(q: string, start: number, end: number): string {
  let s = '';
  let i = start;
  while (i < end && s.length < MAX_TOKEN_LENGTH) {
    const c = q.charCodeAt(i);
    if (c === PERCENT && i + 2 < end) {
      const hi = hexVal(q.charCodeAt(i + 1));
      const lo = hexVal(q.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        s += String.fromCharCode((hi << 4) | lo);
        i += 3;
        continue;
      }
    }
    s += c === PLUS ? ' ' : String.fromCharCode(c);
    i++;
  }
  return s;
}

/** A non-negative decimal integer; values past 2^53 are clamped (byte counts that large are
 *  meaningless to a tracker, not an attack). */
function decodeNumber(q: string, start: number, end: number, name: string): number {
  const len = end - start;
  if (len === 0 || len > MAX_NUMBER_DIGITS) throw new TrackerProtocolError('BAD_NUMBER', `${name} is not a number`);
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = q.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) throw new TrackerProtocolError('BAD_NUMBER', `${name} is not a number`);
    v = v * 10 + d;
  }
  return v > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : v;
}

/** Signed numwant: some clients send -1 for "default". */
function decodeNumwant(q: string, start: number, end: number): number {
  if (end > start && q.charCodeAt(start) === 0x2d) {
    decodeNumber(q, start + 1, end, 'numwant');
    return -1;
  }
  return decodeNumber(q, start, end, 'numwant');
}

function keyIs(q: string, start: number, end: number, key: string): boolean {
  if (end - start !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (q.charCodeAt(start + i) !== key.charCodeAt(i)) return false;
  return true;
}

function decodeEvent(q: string, start: number, end: number): AnnounceEvent {
  if (start === end || keyIs(q, start, end, 'empty') || keyIs(q, start, end, 'paused')) return EVENT_NONE;
  if (keyIs(q, start, end, 'started')) return EVENT_STARTED;
  if (keyIs(q, start, end, 'completed')) return EVENT_COMPLETED;
  if (keyIs(q, start, end, 'stopped')) return EVENT_STOPPED;
  throw new TrackerProtocolError('BAD_EVENT', 'unknown event');
}

/** Parses the query string of `GET /announce` (the text after `?`, without `#`). Throws
 *  TrackerProtocolError with a message fit for a `failure reason`. Unknown parameters
 *  (BEP 41 url-data, supportcrypto, corrupt, ...) are ignored. */
export function parseAnnounceQuery(q: string): AnnounceRequest {
  if (q.length > MAX_QUERY_LENGTH) throw new TrackerProtocolError('QUERY_TOO_LONG', 'query string too long');
  let infoHash: Buffer | undefined;
  let peerId: Buffer | undefined;
  let port = -1;
  let uploaded = 0;
  let downloaded = 0;
  let left = -1;
  let event: AnnounceEvent = EVENT_NONE;
  let numwant = -1;
  let compact = true;
  let noPeerId = false;
  let key: string | undefined;
  let trackerId: string | undefined;
  let ip: string | undefined;

  const len = q.length;
  let i = 0;
  while (i < len) {
    let amp = q.indexOf('&', i);
    if (amp < 0) amp = len;
    let eq = i;
    while (eq < amp && q.charCodeAt(eq) !== EQ) eq++;
    const vs = eq < amp ? eq + 1 : amp;
    // Dispatch on the key's first character, then compare in full.
    switch (q.charCodeAt(i)) {
      case 0x69: // i
        if (keyIs(q, i, eq, 'info_hash')) infoHash = decodeHash20(q, vs, amp, 'info_hash');
        else if (keyIs(q, i, eq, 'ip')) ip = decodeToken(q, vs, amp);
        break;
      case 0x70: // p
        if (keyIs(q, i, eq, 'peer_id')) peerId = decodeHash20(q, vs, amp, 'peer_id');
        else if (keyIs(q, i, eq, 'port')) port = decodeNumber(q, vs, amp, 'port');
        break;
      case 0x75: // u
        if (keyIs(q, i, eq, 'uploaded')) uploaded = decodeNumber(q, vs, amp, 'uploaded');
        break;
      case 0x64: // d
        if (keyIs(q, i, eq, 'downloaded')) downloaded = decodeNumber(q, vs, amp, 'downloaded');
        break;
      case 0x6c: // l
        if (keyIs(q, i, eq, 'left')) left = decodeNumber(q, vs, amp, 'left');
        break;
      case 0x65: // e
        if (keyIs(q, i, eq, 'event')) event = decodeEvent(q, vs, amp);
        break;
      case 0x63: // c
        if (keyIs(q, i, eq, 'compact')) compact = !(amp - vs === 1 && q.charCodeAt(vs) === 0x30);
        break;
      case 0x6e: // n
        if (keyIs(q, i, eq, 'numwant')) numwant = decodeNumwant(q, vs, amp);
        else if (keyIs(q, i, eq, 'no_peer_id')) noPeerId = !(amp - vs === 1 && q.charCodeAt(vs) === 0x30);
        break;
      case 0x6b: // k
        if (keyIs(q, i, eq, 'key')) key = decodeToken(q, vs, amp);
        break;
      case 0x74: // t
        if (keyIs(q, i, eq, 'trackerid')) trackerId = decodeToken(q, vs, amp);
        break;
    }
    i = amp + 1;
  }
  if (!infoHash) throw new TrackerProtocolError('MISSING_INFO_HASH', 'missing info_hash');
  if (!peerId) throw new TrackerProtocolError('MISSING_PEER_ID', 'missing peer_id');
  if (port < 0) throw new TrackerProtocolError('MISSING_PORT', 'missing port');
  if (port === 0 || port > 65535) throw new TrackerProtocolError('BAD_PORT', `invalid port ${port}`);
  // A missing `left` is not a seeder: clients always send it; absence counts as a leecher.
  const req: AnnounceRequest = { infoHash, peerId, port, uploaded, downloaded, left: left < 0 ? 1 : left, event, numwant, compact, noPeerId };
  if (key !== undefined) req.key = key;
  if (trackerId !== undefined) req.trackerId = trackerId;
  if (ip !== undefined) req.ip = ip;
  return req;
}

/** Parses the query string of `GET /scrape`: every `info_hash` (BEP 48). An empty list
 *  means "all torrents", which this tracker refuses (the caller decides). */
export function parseScrapeQuery(q: string, maxHashes = MAX_SCRAPE_HASHES): Buffer[] {
  if (q.length > MAX_QUERY_LENGTH) throw new TrackerProtocolError('QUERY_TOO_LONG', 'query string too long');
  const out: Buffer[] = [];
  const len = q.length;
  let i = 0;
  while (i < len) {
    let amp = q.indexOf('&', i);
    if (amp < 0) amp = len;
    let eq = i;
    while (eq < amp && q.charCodeAt(eq) !== EQ) eq++;
    if (keyIs(q, i, eq, 'info_hash')) {
      if (out.length === maxHashes) throw new TrackerProtocolError('TOO_MANY_HASHES', `at most ${maxHashes} info_hash per scrape`);
      out.push(decodeHash20(q, eq < amp ? eq + 1 : amp, amp, 'info_hash'));
    }
    i = amp + 1;
  }
  return out;
}

const UNRESERVED = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') UNRESERVED[c.charCodeAt(0)] = 1;
const HEX = '0123456789ABCDEF';

/** Percent-encodes raw bytes for a query string (RFC 3986 unreserved characters kept). */
export function percentEncodeBytes(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c < 128 && UNRESERVED[c] === 1) s += String.fromCharCode(c);
    else s += '%' + HEX[c >> 4]! + HEX[c & 15]!;
  }
  return s;
}

function encodeToken(s: string): string {
  return percentEncodeBytes(Buffer.from(s, 'utf8'));
}

/** Builds an announce query string (without `?`). The client appends it to the announce URL
 *  with `?` or `&` as the URL already has a query or not. */
export function buildAnnounceQuery(req: AnnounceRequest): string {
  let s =
    `info_hash=${percentEncodeBytes(req.infoHash)}&peer_id=${percentEncodeBytes(req.peerId)}` +
    `&port=${req.port}&uploaded=${req.uploaded}&downloaded=${req.downloaded}&left=${req.left}` +
    `&compact=${req.compact ? 1 : 0}`;
  if (req.noPeerId) s += '&no_peer_id=1';
  if (req.event !== EVENT_NONE) s += `&event=${EVENT_NAMES[req.event]}`;
  if (req.numwant >= 0) s += `&numwant=${req.numwant}`;
  if (req.key !== undefined) s += `&key=${encodeToken(req.key)}`;
  if (req.trackerId !== undefined) s += `&trackerid=${encodeToken(req.trackerId)}`;
  if (req.ip !== undefined) s += `&ip=${encodeToken(req.ip)}`;
  return s;
}

/** Builds a scrape query string (without `?`) for one or more info hashes. */
export function buildScrapeQuery(infoHashes: readonly Uint8Array[]): string {
  return infoHashes.map((h) => `info_hash=${percentEncodeBytes(h)}`).join('&');
}

/** The scrape URL for an announce URL, by BEP 48's rule: the last path segment must start
 *  with `announce`, which becomes `scrape`; otherwise scrape is not supported (undefined). */
export function scrapeUrlFor(announceUrl: string): string | undefined {
  const q = announceUrl.indexOf('?');
  const path = q < 0 ? announceUrl : announceUrl.slice(0, q);
  const slash = path.lastIndexOf('/');
  if (slash < 0 || !path.startsWith('announce', slash + 1)) return undefined;
  return path.slice(0, slash + 1) + 'scrape' + path.slice(slash + 1 + 'announce'.length) + (q < 0 ? '' : announceUrl.slice(q));
}
