// The UDP face of the tracker (BEP 15) on the HTTP port's number, independent of how the
// datagrams move (node:dgram, or batches through the native addon, udp-batch.ts): a
// datagram comes in as bytes and the source's compact address (IP bytes, port), and a
// reply that is ready at once is written into a buffer the caller gives; one that needs a
// store round trip (Redis) goes out later through the path's `sendLater`. Garbage is
// dropped without a reply; a packet whose connection id does not verify (an unverified,
// maybe spoofed source) gets at most a reply as small as a connect reply, so the tracker
// never amplifies; replies fit one Ethernet frame.
import type { RemoteInfo, Socket } from 'node:dgram';
import {
  ACTION_ANNOUNCE,
  ACTION_CONNECT,
  ACTION_SCRAPE,
  ANNOUNCE_REPLY_HEADER_SIZE,
  ANNOUNCE_REQUEST_SIZE,
  CONNECT_REPLY_SIZE,
  MAX_REQUEST_SIZE,
  PROTOCOL_ID_HI,
  PROTOCOL_ID_LO,
  compactIpText,
  compactPeer,
  decodeUdpRequest,
  encodeUdpAnnounceReply,
  encodeUdpError,
  encodeUdpScrapeReply,
  writeUdpAnnounceReply,
  writeUdpError,
  type ScrapeCounts,
  EVENT_STOPPED,
  type AnnounceEvent,
  type UdpScrapeRequest,
} from '../protocol/index.js';
import { FAMILY_V4, FAMILY_V6, type AnnounceInput, type AnnounceOutput } from '../store/index.js';
import { isTrusted } from './client-address.js';
import { NOT_TRACKED, type TrackerContext } from './context.js';
import type { ConnectionIds } from './udp-connection-id.js';
import { MAX_UDP_PEERS_V4, MAX_UDP_PEERS_V6 } from './options.js';

/** The error an unverified source gets: 8-byte header + 7 bytes, under CONNECT_REPLY_SIZE. */
const BAD_CONNECTION_ID = 'expired';

/** Longest datagram the gate reads (a full scrape with room for BEP 41 options); longer
 *  ones are dropped unread. */
export const MAX_UDP_DATAGRAM = MAX_REQUEST_SIZE + 1024;

/** Longest reply: an announce reply with the most IPv4 peers (one Ethernet frame). */
export const MAX_UDP_REPLY = ANNOUNCE_REPLY_HEADER_SIZE + 6 * MAX_UDP_PEERS_V4;

/** udpGate's result for a verified announce or scrape: on to the store. */
export const GATE_VERIFIED = -1;

/** Sends a reply that was not ready while its datagram was handled to the compact address
 *  `src` (a copy the reply owns). */
export type UdpSendLater = (reply: Buffer, src: Buffer) => void;

/**
 * What every UDP thread does before the swarm store, for the datagram msg[0, len) from the
 * compact address `src`: drops garbage (returns 0, no reply), answers a connect, refuses a
 * packet whose connection id does not verify (a reply no larger than a connect reply);
 * those replies are written to out[off..] and their length returned. GATE_VERIFIED when
 * the packet is a verified announce or scrape for the store's thread.
 */
export function udpGate(connectionIds: ConnectionIds, nowMs: number, msg: Buffer, len: number, src: Buffer, out: Buffer, off: number): number {
  // Too short, too long or not ours: dropped, no reply at all.
  if (len < 16 || len > MAX_UDP_DATAGRAM) return 0;
  const action = msg.readUInt32BE(8);
  if (action > ACTION_SCRAPE) return 0;
  const tid = msg.readUInt32BE(12);
  if (action === ACTION_CONNECT) {
    if (msg.readUInt32BE(0) !== PROTOCOL_ID_HI || msg.readUInt32BE(4) !== PROTOCOL_ID_LO) return 0;
    out.writeUInt32BE(ACTION_CONNECT, off);
    out.writeUInt32BE(tid, off + 4);
    // The id is a MAC of the source's compact address (IP, port) and the time window.
    connectionIds.issueFor(src, 0, src.length, nowMs, out, off + 8);
    return CONNECT_REPLY_SIZE;
  }
  if (action === ACTION_ANNOUNCE && len < ANNOUNCE_REQUEST_SIZE) return 0;
  if (!connectionIds.verifyFor(msg, 0, src, 0, src.length, nowMs)) {
    return writeUdpError(out, off, tid, BAD_CONNECTION_ID, CONNECT_REPLY_SIZE);
  }
  return GATE_VERIFIED;
}

/** The UDP side of a tracker over one I/O path. */
export interface UdpCore {
  /** Answers the datagram msg[0, len) from the compact address `src` (6 or 18 bytes): a
   *  reply ready now is written to out[off..] (room for MAX_UDP_REPLY) and its length
   *  returned; 0 when there is none now (dropped, or it goes out later). `src` may be
   *  changed. Never throws. */
  serve(msg: Buffer, len: number, src: Buffer, out: Buffer, off: number): number;
  /** serve()'s store half alone, for packets another thread's gate passed (udp-threads.ts). */
  verified(msg: Buffer, len: number, src: Buffer, out: Buffer, off: number): number;
}

export function createUdpCore(ctx: TrackerContext, sendLater: UdpSendLater): UdpCore {
  const { opts, store, connectionIds } = ctx;

  /** An announce read straight from the packet's fixed offsets (BEP 15): no request object,
   *  no fields the tracker does not use. */
  function announce(msg: Buffer, src: Buffer, out: Buffer, off: number): number {
    const tid = msg.readUInt32BE(12);
    const event = msg.readUInt32BE(80);
    const port = msg.readUInt16BE(96);
    if (event > EVENT_STOPPED || port === 0) {
      // The source is verified: it may learn what was wrong.
      ctx.counters.errors++;
      return writeUdpError(out, off, tid, port === 0 ? 'invalid port 0' : 'unknown event');
    }
    // Views of the packet: valid for this call (the store copies what it keeps).
    const infoHash = msg.subarray(16, 36);
    if (ctx.whitelist && !ctx.whitelist.has(infoHash.toString('latin1'))) return writeUdpError(out, off, tid, NOT_TRACKED);
    const v6 = src.length === 18;
    let addr: Buffer | undefined;
    // The packet's IP field is believed only from a trusted source (loopback, a proxy).
    if (msg.readUInt32BE(84) !== 0 && isTrusted(compactIpText(src, 0, v6 ? 18 : 6), opts.trustedProxies)) {
      addr = compactPeer(`${msg[84]}.${msg[85]}.${msg[86]}.${msg[87]}`, port);
      if (!addr) return 0;
    } else {
      // The source's address with the port the peer listens on (a copy: the store may
      // keep it past this call, and `src` is where a later reply goes).
      addr = Buffer.allocUnsafe(src.length);
      src.copy(addr, 0);
      addr.writeUInt16BE(port, addr.length - 2);
    }
    ctx.udpAnnounces.count++;
    const cap = v6 ? MAX_UDP_PEERS_V6 : MAX_UDP_PEERS_V4;
    const max = opts.maxNumwant < cap ? opts.maxNumwant : cap;
    const numwant = msg.readInt32BE(92);
    const input: AnnounceInput = {
      infoHash,
      peerId: msg.subarray(36, 56),
      addr,
      seeder: msg.readUInt32BE(64) === 0 && msg.readUInt32BE(68) === 0,
      event: event as AnnounceEvent,
      numwant: numwant < 0 ? Math.min(opts.defaultNumwant, max) : numwant > max ? max : numwant,
      families: v6 ? FAMILY_V6 : FAMILY_V4,
      withPeerIds: false,
      nowMs: opts.now(),
    };
    const res = store.announce(input);
    if (res instanceof Promise) {
      const to = Buffer.from(src);
      res.then(
        (o: AnnounceOutput) => sendLater(encodeUdpAnnounceReply(tid, opts.intervalS, o.incomplete, o.complete, v6 ? o.peers6 : o.peers4), to),
        () => {
          ctx.counters.errors++;
          sendLater(encodeUdpError(tid, 'tracker store error'), to);
        },
      );
      return 0;
    }
    return writeUdpAnnounceReply(out, off, tid, opts.intervalS, res.incomplete, res.complete, v6 ? res.peers6 : res.peers4);
  }

  function scrape(req: UdpScrapeRequest, src: Buffer): number | ScrapeCounts[] {
    const wl = ctx.whitelist;
    const hashes = req.infoHashes;
    ctx.counters.scrapes++;
    // Unlisted torrents in private mode read as empty: the reply keeps the request's order.
    const shown = (counts: ScrapeCounts[]): ScrapeCounts[] =>
      wl ? counts.map((c, i) => (wl.has(hashes[i]!.toString('latin1')) ? c : { complete: 0, downloaded: 0, incomplete: 0 })) : counts;
    const r = store.scrape(hashes);
    if (!(r instanceof Promise)) return shown(r);
    const to = Buffer.from(src);
    r.then(
      (counts) => sendLater(encodeUdpScrapeReply(req.transactionId, shown(counts)), to),
      () => sendLater(encodeUdpError(req.transactionId, 'tracker store error'), to),
    );
    return 0;
  }

  function verified(msg: Buffer, len: number, src: Buffer, out: Buffer, off: number): number {
    try {
      // BEP 41 options after an announce are ignored.
      if (msg.readUInt32BE(8) === ACTION_ANNOUNCE) return announce(msg, src, out, off);
      let req;
      try {
        req = decodeUdpRequest(len === msg.length ? msg : msg.subarray(0, len));
      } catch (e) {
        // The source is verified: it may learn what was wrong (an oversized scrape, say).
        ctx.counters.errors++;
        return writeUdpError(out, off, msg.readUInt32BE(12), (e as Error).message);
      }
      if (req.action !== ACTION_SCRAPE) return 0;
      const counts = scrape(req, src);
      if (typeof counts === 'number') return counts;
      const reply = encodeUdpScrapeReply(req.transactionId, counts);
      reply.copy(out, off);
      return reply.length;
    } catch {
      ctx.counters.errors++;
      return 0;
    }
  }

  return {
    serve(msg, len, src, out, off) {
      try {
        const n = udpGate(connectionIds, opts.now(), msg, len, src, out, off);
        return n === GATE_VERIFIED ? verified(msg, len, src, out, off) : n;
      } catch {
        ctx.counters.errors++;
        return 0;
      }
    },
    verified,
  };
}

/** Text of a compact address for node:dgram's send on a socket of `type` (an IPv4 peer
 *  of a dual-stack udp6 socket in the IPv4-mapped form). */
export function dgramAddress(src: Buffer, type: 'udp4' | 'udp6'): string {
  const text = compactIpText(src, 0, src.length === 18 ? 18 : 6);
  return src.length === 6 && type === 'udp6' ? `::ffff:${text}` : text;
}

/** The node:dgram path: one 'message' callback per datagram, one send per reply. */
export interface DgramUdpHandler {
  (msg: Buffer, rinfo: RemoteInfo): void;
  readonly core: UdpCore;
}

export function createDgramUdpHandler(ctx: TrackerContext, socket: Socket, type: 'udp4' | 'udp6'): DgramUdpHandler {
  // No callback: Node then sends synchronously when it can, without a completion round
  // through the event loop; a send error surfaces as the socket's 'error' event (counted).
  // The socket's lookup answers IP literals synchronously (udp-lookup.ts), so there is no
  // dns.lookup tick per reply either.
  const core = createUdpCore(ctx, (reply, src) => socket.send(reply, src.readUInt16BE(src.length - 2), dgramAddress(src, type)));
  // Replies are written here, then copied into a buffer of their own: a send the kernel
  // cannot take at once is queued by libuv with a pointer to the bytes, so the scratch
  // buffer could be overwritten before it leaves.
  const scratch = Buffer.allocUnsafe(MAX_UDP_REPLY);
  const handler = ((msg: Buffer, rinfo: RemoteInfo): void => {
    // The source's compact address (IP, port): what its connection id is a MAC of.
    const src = compactPeer(rinfo.address, rinfo.port);
    if (!src) return;
    const n = core.serve(msg, msg.length, src, scratch, 0);
    if (n > 0) socket.send(Buffer.from(scratch.subarray(0, n)), rinfo.port, rinfo.address);
  }) as DgramUdpHandler & { core: UdpCore };
  handler.core = core;
  return handler;
}
