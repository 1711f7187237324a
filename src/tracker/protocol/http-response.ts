// HTTP tracker replies (BEP 3, compact BEP 23, IPv6 BEP 7, scrape BEP 48): encoding on the
// tracker side, written by hand into one buffer (the announce reply is the hot path), and
// bounded decoding on the client side.
import { decode, encode, isBytes, isDict, type BDict, type BValue } from '../../bencode/index.js';
import { TrackerProtocolError } from './errors.js';
import { MAX_DECODED_PEERS, MAX_MESSAGE_LENGTH } from './limits.js';
import { decodeCompactPeers } from './peers.js';
import type { PeerAddress, ScrapeCounts } from './types.js';

export interface AnnounceReplyCounts {
  intervalS: number;
  minIntervalS: number;
  /** Seeders. */
  complete: number;
  /** Leechers. */
  incomplete: number;
  trackerId?: string;
  warning?: string;
}

function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

function writeInt(buf: Buffer, pos: number, key: string, n: number): number {
  pos += buf.write(key, pos, 'latin1');
  buf[pos++] = 0x69; // i
  pos += buf.write(String(n), pos, 'latin1');
  buf[pos++] = 0x65; // e
  return pos;
}

function writeBytes(buf: Buffer, pos: number, key: string, b: Uint8Array): number {
  pos += buf.write(key, pos, 'latin1');
  pos += buf.write(String(b.length), pos, 'latin1');
  buf[pos++] = 0x3a;
  buf.set(b, pos);
  return pos + b.length;
}

function intSize(key: string, n: number): number {
  return key.length + digits(n) + 2;
}

function bytesSize(key: string, len: number): number {
  return key.length + digits(len) + 1 + len;
}

/** The compact announce reply (BEP 23; `peers6` BEP 7): keys in byte order as bencode
 *  requires. `peers4` is 6 bytes a peer, `peers6` 18 bytes a peer; an empty `peers6` is
 *  left out. Text fields are UTF-8. */
export function encodeAnnounceReply(c: AnnounceReplyCounts, peers4: Uint8Array, peers6: Uint8Array): Buffer {
  const tid = c.trackerId === undefined ? undefined : Buffer.from(c.trackerId, 'utf8');
  const warn = c.warning === undefined ? undefined : Buffer.from(c.warning, 'utf8');
  const size =
    2 +
    intSize('8:complete', c.complete) +
    intSize('10:incomplete', c.incomplete) +
    intSize('8:interval', c.intervalS) +
    intSize('12:min interval', c.minIntervalS) +
    bytesSize('5:peers', peers4.length) +
    (peers6.length ? bytesSize('6:peers6', peers6.length) : 0) +
    (tid ? bytesSize('10:tracker id', tid.length) : 0) +
    (warn ? bytesSize('15:warning message', warn.length) : 0);
  const buf = Buffer.allocUnsafe(size);
  buf[0] = 0x64; // d
  let pos = writeInt(buf, 1, '8:complete', c.complete);
  pos = writeInt(buf, pos, '10:incomplete', c.incomplete);
  pos = writeInt(buf, pos, '8:interval', c.intervalS);
  pos = writeInt(buf, pos, '12:min interval', c.minIntervalS);
  pos = writeBytes(buf, pos, '5:peers', peers4);
  if (peers6.length) pos = writeBytes(buf, pos, '6:peers6', peers6);
  if (tid) pos = writeBytes(buf, pos, '10:tracker id', tid);
  if (warn) pos = writeBytes(buf, pos, '15:warning message', warn);
  buf[pos++] = 0x65; // e
  return pos === size ? buf : buf.subarray(0, pos);
}

/** The original dictionary-form announce reply (BEP 3): `peers` is a list of
 *  {ip, peer id, port}; peer ids are left out when the client asked `no_peer_id`. */
export function encodeAnnounceReplyDict(c: AnnounceReplyCounts, peers: readonly PeerAddress[], withPeerIds: boolean): Buffer {
  const list = peers.map((p) => {
    const d: Record<string, BValue | string> = { ip: p.ip, port: p.port };
    if (withPeerIds && p.peerId) d['peer id'] = p.peerId;
    return d;
  });
  const reply: Record<string, unknown> = {
    complete: c.complete,
    incomplete: c.incomplete,
    interval: c.intervalS,
    'min interval': c.minIntervalS,
    peers: list,
  };
  if (c.trackerId !== undefined) reply['tracker id'] = c.trackerId;
  if (c.warning !== undefined) reply['warning message'] = c.warning;
  return encode(reply as never);
}

/** `d14:failure reason<len>:<text>e`, what clients expect (with HTTP status 200) for any
 *  refusal. `retryInMin` adds BEP 31's `retry in`. */
export function encodeFailure(reason: string, retryInMin?: number): Buffer {
  const r: Record<string, unknown> = { 'failure reason': reason.slice(0, MAX_MESSAGE_LENGTH) };
  if (retryInMin !== undefined) r['retry in'] = retryInMin;
  return encode(r as never);
}

/** A scrape reply (BEP 48): `files` keyed by the raw 20-byte info hashes. */
export function encodeScrapeReply(entries: readonly { infoHash: Uint8Array; counts: ScrapeCounts }[]): Buffer {
  const files = new Map<Uint8Array, Record<string, number>>();
  for (const e of entries) {
    files.set(e.infoHash, { complete: e.counts.complete, downloaded: e.counts.downloaded, incomplete: e.counts.incomplete });
  }
  return encode({ files });
}

// ---- client side ----

/** What a client takes from an announce reply. */
export interface AnnounceReply {
  /** Set when the tracker refused; the other fields are then defaults. */
  failure?: string;
  warning?: string;
  intervalS: number;
  minIntervalS?: number;
  complete?: number;
  incomplete?: number;
  trackerId?: string;
  /** IPv4 and IPv6 peers, compact or dictionary form, at most MAX_DECODED_PEERS. */
  peers: PeerAddress[];
}

function text(v: BValue | undefined): string | undefined {
  return isBytes(v) ? Buffer.from(v.buffer, v.byteOffset, Math.min(v.length, MAX_MESSAGE_LENGTH)).toString('utf8') : undefined;
}

function int(v: BValue | undefined): number | undefined {
  return typeof v === 'number' && v >= 0 ? v : undefined;
}

function decodeReplyDict(buf: Uint8Array): BDict {
  let v: BValue;
  try {
    v = decode(buf, { maxDepth: 8, maxItems: 4 * MAX_DECODED_PEERS + 64 });
  } catch (e) {
    throw new TrackerProtocolError('BAD_REPLY', `tracker reply is not bencode: ${(e as Error).message}`);
  }
  if (!isDict(v)) throw new TrackerProtocolError('BAD_REPLY', 'tracker reply is not a dictionary');
  return v;
}

/** Decodes an HTTP announce reply. Throws TrackerProtocolError when it is malformed; a
 *  refusal is returned as `failure`. */
export function decodeAnnounceReply(buf: Uint8Array): AnnounceReply {
  const d = decodeReplyDict(buf);
  const failure = text(d['failure reason']);
  if (failure !== undefined) return { failure, intervalS: int(d['interval']) ?? 0, peers: [] };
  const intervalS = int(d['interval']);
  if (intervalS === undefined) throw new TrackerProtocolError('BAD_REPLY', 'tracker reply has no interval');
  const peers: PeerAddress[] = [];
  const p = d['peers'];
  if (isBytes(p)) {
    decodeCompactPeers(p, 6, peers, MAX_DECODED_PEERS);
  } else if (Array.isArray(p)) {
    for (const e of p) {
      if (peers.length >= MAX_DECODED_PEERS) break;
      if (!isDict(e)) continue;
      const ip = text(e['ip']);
      const port = int(e['port']);
      if (ip === undefined || port === undefined || port === 0 || port > 65535 || ip.length > 64) continue;
      const peer: PeerAddress = { ip, port };
      const id = e['peer id'];
      if (isBytes(id) && id.length === 20) peer.peerId = Buffer.from(id);
      peers.push(peer);
    }
  } else if (p !== undefined) {
    throw new TrackerProtocolError('BAD_REPLY', 'tracker reply peers is neither a string nor a list');
  }
  const p6 = d['peers6'];
  if (isBytes(p6)) decodeCompactPeers(p6, 18, peers, MAX_DECODED_PEERS);
  const reply: AnnounceReply = { intervalS, peers };
  const minIntervalS = int(d['min interval']);
  if (minIntervalS !== undefined) reply.minIntervalS = minIntervalS;
  const complete = int(d['complete']);
  if (complete !== undefined) reply.complete = complete;
  const incomplete = int(d['incomplete']);
  if (incomplete !== undefined) reply.incomplete = incomplete;
  const trackerId = text(d['tracker id']);
  if (trackerId !== undefined) reply.trackerId = trackerId;
  const warning = text(d['warning message']);
  if (warning !== undefined) reply.warning = warning;
  return reply;
}

/** Decodes an HTTP scrape reply into counts keyed by lowercase hex info hash. A refusal
 *  throws TrackerProtocolError with code TRACKER_FAILURE and the tracker's reason. */
export function decodeScrapeReply(buf: Uint8Array): Map<string, ScrapeCounts> {
  const d = decodeReplyDict(buf);
  const failure = text(d['failure reason']);
  if (failure !== undefined) throw new TrackerProtocolError('TRACKER_FAILURE', failure);
  const files = d['files'];
  if (!isDict(files)) throw new TrackerProtocolError('BAD_REPLY', 'scrape reply has no files dictionary');
  const out = new Map<string, ScrapeCounts>();
  for (const k of Object.keys(files)) {
    const v = files[k];
    if (k.length !== 20 || !isDict(v)) continue;
    out.set(Buffer.from(k, 'latin1').toString('hex'), {
      complete: int(v['complete']) ?? 0,
      downloaded: int(v['downloaded']) ?? 0,
      incomplete: int(v['incomplete']) ?? 0,
    });
  }
  return out;
}
