// BEP 15 UDP tracker packets: connect, announce (IPv4 and IPv6 reply formats), scrape and
// error, each way. Decoders take untrusted bytes and throw TrackerProtocolError; BEP 41
// options after an announce request are ignored.
import { TrackerProtocolError } from './errors.js';
import { MAX_DECODED_PEERS, MAX_MESSAGE_LENGTH, MAX_SCRAPE_HASHES } from './limits.js';
import { compactPeer, decodeCompactPeers } from './peers.js';
import { EVENT_STOPPED, type AnnounceEvent, type AnnounceRequest, type PeerAddress, type ScrapeCounts } from './types.js';

export const ACTION_CONNECT = 0;
export const ACTION_ANNOUNCE = 1;
export const ACTION_SCRAPE = 2;
export const ACTION_ERROR = 3;

/** The magic constant of a connect request, 0x41727101980, as two 32-bit halves. */
export const PROTOCOL_ID_HI = 0x417;
export const PROTOCOL_ID_LO = 0x27101980;

export const CONNECT_REQUEST_SIZE = 16;
export const CONNECT_REPLY_SIZE = 16;
export const ANNOUNCE_REQUEST_SIZE = 98;
export const ANNOUNCE_REPLY_HEADER_SIZE = 20;
export const SCRAPE_REQUEST_HEADER_SIZE = 16;
/** Biggest request we read: a scrape of MAX_SCRAPE_HASHES hashes; announce with BEP 41
 *  options is smaller in practice. */
export const MAX_REQUEST_SIZE = SCRAPE_REQUEST_HEADER_SIZE + 20 * MAX_SCRAPE_HASHES;

export interface UdpConnectRequest {
  action: typeof ACTION_CONNECT;
  transactionId: number;
}
export interface UdpAnnounceRequest {
  action: typeof ACTION_ANNOUNCE;
  /** 8 bytes, a view of the packet. */
  connectionId: Buffer;
  transactionId: number;
  /** `compact` is true, `noPeerId` false; `key` is the 32-bit key in decimal; `ip` is set
   *  only when the packet's IPv4 field is non-zero. */
  announce: AnnounceRequest;
}
export interface UdpScrapeRequest {
  action: typeof ACTION_SCRAPE;
  connectionId: Buffer;
  transactionId: number;
  /** Views of the packet, 20 bytes each, 1..MAX_SCRAPE_HASHES. */
  infoHashes: Buffer[];
}
export type UdpRequest = UdpConnectRequest | UdpAnnounceRequest | UdpScrapeRequest;

function u64(b: Buffer, off: number): number {
  const v = b.readUInt32BE(off) * 0x1_0000_0000 + b.readUInt32BE(off + 4);
  return v > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : v;
}

function writeU64(b: Buffer, off: number, v: number): void {
  const n = Math.max(0, Math.min(Math.floor(v), Number.MAX_SAFE_INTEGER));
  b.writeUInt32BE(Math.floor(n / 0x1_0000_0000), off);
  b.writeUInt32BE(n >>> 0, off + 4);
}

/** The action field of a packet (request or reply), or -1 when too short to have one. */
export function udpAction(b: Buffer): number {
  if (b.length >= 16 && b.readUInt32BE(0) === PROTOCOL_ID_HI && b.readUInt32BE(4) === PROTOCOL_ID_LO) return b.readUInt32BE(8);
  return b.length >= 12 ? b.readUInt32BE(8) : -1;
}

/** Decodes a request sent to a tracker. Throws TrackerProtocolError for anything not BEP 15. */
export function decodeUdpRequest(b: Buffer): UdpRequest {
  if (b.length < 16) throw new TrackerProtocolError('UDP_TRUNCATED', 'packet too short');
  if (b.length > MAX_REQUEST_SIZE) throw new TrackerProtocolError('UDP_TOO_LONG', 'packet too long');
  const action = b.readUInt32BE(8);
  const transactionId = b.readUInt32BE(12);
  if (action === ACTION_CONNECT) {
    if (b.readUInt32BE(0) !== PROTOCOL_ID_HI || b.readUInt32BE(4) !== PROTOCOL_ID_LO) {
      throw new TrackerProtocolError('UDP_BAD_MAGIC', 'connect without the protocol id');
    }
    return { action: ACTION_CONNECT, transactionId };
  }
  const connectionId = b.subarray(0, 8);
  if (action === ACTION_ANNOUNCE) {
    if (b.length < ANNOUNCE_REQUEST_SIZE) throw new TrackerProtocolError('UDP_TRUNCATED', 'announce too short');
    const event = b.readUInt32BE(80);
    if (event > EVENT_STOPPED) throw new TrackerProtocolError('BAD_EVENT', 'unknown event');
    const port = b.readUInt16BE(96);
    if (port === 0) throw new TrackerProtocolError('BAD_PORT', 'invalid port 0');
    const numwant = b.readInt32BE(92);
    const announce: AnnounceRequest = {
      infoHash: b.subarray(16, 36),
      peerId: b.subarray(36, 56),
      downloaded: u64(b, 56),
      left: u64(b, 64),
      uploaded: u64(b, 72),
      event: event as AnnounceEvent,
      key: String(b.readUInt32BE(88)),
      numwant: numwant < 0 ? -1 : numwant,
      port,
      compact: true,
      noPeerId: false,
    };
    const ip = b.readUInt32BE(84);
    if (ip !== 0) announce.ip = `${b[84]}.${b[85]}.${b[86]}.${b[87]}`;
    return { action: ACTION_ANNOUNCE, connectionId, transactionId, announce };
  }
  if (action === ACTION_SCRAPE) {
    const n = (b.length - SCRAPE_REQUEST_HEADER_SIZE) / 20;
    if (n < 1 || !Number.isInteger(n)) throw new TrackerProtocolError('UDP_TRUNCATED', 'scrape is not a whole number of info hashes');
    const infoHashes: Buffer[] = [];
    for (let i = 0; i < n; i++) infoHashes.push(b.subarray(16 + 20 * i, 36 + 20 * i));
    return { action: ACTION_SCRAPE, connectionId, transactionId, infoHashes };
  }
  throw new TrackerProtocolError('UDP_BAD_ACTION', `unknown action ${action}`);
}

// ---- requests (client side) ----

export function encodeUdpConnectRequest(transactionId: number): Buffer {
  const b = Buffer.allocUnsafe(CONNECT_REQUEST_SIZE);
  b.writeUInt32BE(PROTOCOL_ID_HI, 0);
  b.writeUInt32BE(PROTOCOL_ID_LO, 4);
  b.writeUInt32BE(ACTION_CONNECT, 8);
  b.writeUInt32BE(transactionId >>> 0, 12);
  return b;
}

/** `req.key` is sent as a 32-bit number (a decimal key is used as is, anything else hashed);
 *  `req.ip` only when it is IPv4 text. */
export function encodeUdpAnnounceRequest(connectionId: Uint8Array, transactionId: number, req: AnnounceRequest): Buffer {
  const b = Buffer.alloc(ANNOUNCE_REQUEST_SIZE);
  b.set(connectionId.subarray(0, 8), 0);
  b.writeUInt32BE(ACTION_ANNOUNCE, 8);
  b.writeUInt32BE(transactionId >>> 0, 12);
  b.set(req.infoHash.subarray(0, 20), 16);
  b.set(req.peerId.subarray(0, 20), 36);
  writeU64(b, 56, req.downloaded);
  writeU64(b, 64, req.left);
  writeU64(b, 72, req.uploaded);
  b.writeUInt32BE(req.event, 80);
  if (req.ip !== undefined) {
    const c = compactPeer(req.ip, 0);
    if (c && c.length === 6) b.set(c.subarray(0, 4), 84);
  }
  b.writeUInt32BE(keyNumber(req.key), 88);
  b.writeInt32BE(req.numwant < 0 ? -1 : Math.min(req.numwant, 0x7fffffff), 92);
  b.writeUInt16BE(req.port, 96);
  return b;
}

function keyNumber(key: string | undefined): number {
  if (key === undefined) return 0;
  if (/^\d{1,10}$/.test(key) && Number(key) <= 0xffffffff) return Number(key);
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function encodeUdpScrapeRequest(connectionId: Uint8Array, transactionId: number, infoHashes: readonly Uint8Array[]): Buffer {
  if (infoHashes.length < 1 || infoHashes.length > MAX_SCRAPE_HASHES) {
    throw new TrackerProtocolError('TOO_MANY_HASHES', `a UDP scrape takes 1..${MAX_SCRAPE_HASHES} info hashes`);
  }
  const b = Buffer.allocUnsafe(SCRAPE_REQUEST_HEADER_SIZE + 20 * infoHashes.length);
  b.set(connectionId.subarray(0, 8), 0);
  b.writeUInt32BE(ACTION_SCRAPE, 8);
  b.writeUInt32BE(transactionId >>> 0, 12);
  infoHashes.forEach((h, i) => b.set(h.subarray(0, 20), 16 + 20 * i));
  return b;
}

// ---- replies (tracker side) ----

export function encodeUdpConnectReply(transactionId: number, connectionId: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(CONNECT_REPLY_SIZE);
  b.writeUInt32BE(ACTION_CONNECT, 0);
  b.writeUInt32BE(transactionId >>> 0, 4);
  b.set(connectionId.subarray(0, 8), 8);
  return b;
}

/** `peers` is compact: 6 bytes a peer in the IPv4 format, 18 in the IPv6 one (BEP 15: the
 *  format follows the address family the request came over). */
export function encodeUdpAnnounceReply(transactionId: number, intervalS: number, leechers: number, seeders: number, peers: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(ANNOUNCE_REPLY_HEADER_SIZE + peers.length);
  writeUdpAnnounceReply(b, 0, transactionId, intervalS, leechers, seeders, peers);
  return b;
}

/** encodeUdpAnnounceReply into b[off..]; returns the reply's length. Throws RangeError
 *  (writing nothing past b) when it does not fit. */
export function writeUdpAnnounceReply(b: Buffer, off: number, transactionId: number, intervalS: number, leechers: number, seeders: number, peers: Uint8Array): number {
  const len = ANNOUNCE_REPLY_HEADER_SIZE + peers.length;
  if (off + len > b.length) throw new RangeError('announce reply does not fit');
  b.writeUInt32BE(ACTION_ANNOUNCE, off);
  b.writeUInt32BE(transactionId >>> 0, off + 4);
  b.writeUInt32BE(intervalS >>> 0, off + 8);
  b.writeUInt32BE(Math.min(leechers, 0xffffffff) >>> 0, off + 12);
  b.writeUInt32BE(Math.min(seeders, 0xffffffff) >>> 0, off + 16);
  b.set(peers, off + ANNOUNCE_REPLY_HEADER_SIZE);
  return len;
}

/** Counts in request order (seeders, completed, leechers per BEP 15). */
export function encodeUdpScrapeReply(transactionId: number, counts: readonly ScrapeCounts[]): Buffer {
  const b = Buffer.allocUnsafe(8 + 12 * counts.length);
  b.writeUInt32BE(ACTION_SCRAPE, 0);
  b.writeUInt32BE(transactionId >>> 0, 4);
  counts.forEach((c, i) => {
    b.writeUInt32BE(Math.min(c.complete, 0xffffffff) >>> 0, 8 + 12 * i);
    b.writeUInt32BE(Math.min(c.downloaded, 0xffffffff) >>> 0, 12 + 12 * i);
    b.writeUInt32BE(Math.min(c.incomplete, 0xffffffff) >>> 0, 16 + 12 * i);
  });
  return b;
}

/** An error packet; `maxSize` bounds it (the tracker passes CONNECT_REPLY_SIZE when the
 *  source is unverified, so it never amplifies). */
export function encodeUdpError(transactionId: number, message: string, maxSize = 8 + MAX_MESSAGE_LENGTH): Buffer {
  const msg = Buffer.from(message, 'utf8');
  const len = Math.max(0, Math.min(msg.length, maxSize - 8));
  const b = Buffer.allocUnsafe(8 + len);
  b.writeUInt32BE(ACTION_ERROR, 0);
  b.writeUInt32BE(transactionId >>> 0, 4);
  msg.copy(b, 8, 0, len);
  return b;
}

/** encodeUdpError into b[off..] (at most maxSize bytes, and no further than b's end);
 *  returns the reply's length. The message is cut at a byte, as encodeUdpError does. */
export function writeUdpError(b: Buffer, off: number, transactionId: number, message: string, maxSize = 8 + MAX_MESSAGE_LENGTH): number {
  const room = Math.min(maxSize, b.length - off) - 8;
  if (room < 0) throw new RangeError('error reply does not fit');
  b.writeUInt32BE(ACTION_ERROR, off);
  b.writeUInt32BE(transactionId >>> 0, off + 4);
  // latin1 text is one byte a character; anything else is encoded first.
  const n = /^[\x20-\x7e]*$/.test(message) ? b.write(message, off + 8, Math.min(room, message.length), 'latin1') : Buffer.from(message, 'utf8').copy(b, off + 8, 0, room);
  return 8 + n;
}

// ---- replies (client side) ----

export interface UdpConnectReply {
  action: typeof ACTION_CONNECT;
  transactionId: number;
  /** 8 bytes (a copy). */
  connectionId: Buffer;
}
export interface UdpAnnounceReply {
  action: typeof ACTION_ANNOUNCE;
  transactionId: number;
  intervalS: number;
  leechers: number;
  seeders: number;
  peers: PeerAddress[];
}
export interface UdpScrapeReply {
  action: typeof ACTION_SCRAPE;
  transactionId: number;
  counts: ScrapeCounts[];
}
export interface UdpErrorReply {
  action: typeof ACTION_ERROR;
  transactionId: number;
  message: string;
}
export type UdpReply = UdpConnectReply | UdpAnnounceReply | UdpScrapeReply | UdpErrorReply;

/** Decodes a tracker's reply. `peerSize` is 6 when the request went over IPv4, 18 over
 *  IPv6. Throws TrackerProtocolError when malformed. The caller matches transactionId. */
export function decodeUdpReply(b: Buffer, peerSize: 6 | 18 = 6): UdpReply {
  if (b.length < 8) throw new TrackerProtocolError('UDP_TRUNCATED', 'reply too short');
  const action = b.readUInt32BE(0);
  const transactionId = b.readUInt32BE(4);
  switch (action) {
    case ACTION_CONNECT:
      if (b.length < 16) throw new TrackerProtocolError('UDP_TRUNCATED', 'connect reply too short');
      return { action, transactionId, connectionId: Buffer.from(b.subarray(8, 16)) };
    case ACTION_ANNOUNCE: {
      if (b.length < ANNOUNCE_REPLY_HEADER_SIZE) throw new TrackerProtocolError('UDP_TRUNCATED', 'announce reply too short');
      const peers: PeerAddress[] = [];
      decodeCompactPeers(b.subarray(ANNOUNCE_REPLY_HEADER_SIZE), peerSize, peers, MAX_DECODED_PEERS);
      return { action, transactionId, intervalS: b.readUInt32BE(8), leechers: b.readUInt32BE(12), seeders: b.readUInt32BE(16), peers };
    }
    case ACTION_SCRAPE: {
      const counts: ScrapeCounts[] = [];
      for (let off = 8; off + 12 <= b.length && counts.length < MAX_SCRAPE_HASHES; off += 12) {
        counts.push({ complete: b.readUInt32BE(off), downloaded: b.readUInt32BE(off + 4), incomplete: b.readUInt32BE(off + 8) });
      }
      return { action, transactionId, counts };
    }
    case ACTION_ERROR:
      return { action, transactionId, message: b.subarray(8, 8 + MAX_MESSAGE_LENGTH).toString('utf8') };
    default:
      throw new TrackerProtocolError('UDP_BAD_ACTION', `unknown action ${action} in reply`);
  }
}
