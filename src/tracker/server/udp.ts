// The UDP face of the tracker (BEP 15) on the HTTP port's number. Garbage is dropped
// without a reply; a packet whose connection id does not verify (an unverified, maybe
// spoofed source) gets at most a reply as small as a connect reply, so the tracker never
// amplifies; replies fit one Ethernet frame.
import type { RemoteInfo, Socket } from 'node:dgram';
import {
  ACTION_ANNOUNCE,
  ACTION_CONNECT,
  ACTION_SCRAPE,
  ANNOUNCE_REQUEST_SIZE,
  CONNECT_REPLY_SIZE,
  MAX_REQUEST_SIZE,
  PROTOCOL_ID_HI,
  PROTOCOL_ID_LO,
  compactPeer,
  decodeUdpRequest,
  encodeUdpAnnounceReply,
  encodeUdpError,
  encodeUdpScrapeReply,
  type ScrapeCounts,
  EVENT_STOPPED,
  type AnnounceEvent,
  type UdpScrapeRequest,
} from '../protocol/index.js';
import { FAMILY_V4, FAMILY_V6, type AnnounceInput } from '../store/index.js';
import { isTrusted } from './client-address.js';
import { NOT_TRACKED, type TrackerContext } from './context.js';
import type { ConnectionIds } from './udp-connection-id.js';
import { MAX_UDP_PEERS_V4, MAX_UDP_PEERS_V6, normalizeIp } from './options.js';

/** The error an unverified source gets: 8-byte header + 7 bytes, under CONNECT_REPLY_SIZE. */
const BAD_CONNECTION_ID = 'expired';

/** Sends a reply to address:port from the tracker's UDP socket. */
export type UdpSend = (buf: Buffer, port: number, address: string) => void;

/**
 * What every UDP thread does before the swarm store: drops garbage (no reply), answers a
 * connect, refuses a packet whose connection id does not verify (a reply no larger than a
 * connect reply). Returns the source's compact address (IP, port) when the packet is a
 * verified announce or scrape for the store's thread, else undefined.
 */
export function udpGate(
  connectionIds: ConnectionIds,
  nowMs: number,
  msg: Buffer,
  address: string,
  port: number,
  send: UdpSend,
): Buffer | undefined {
  // Too short, too long or not ours: dropped, no reply at all.
  if (msg.length < 16 || msg.length > MAX_REQUEST_SIZE + 1024) return undefined;
  const action = msg.readUInt32BE(8);
  if (action > ACTION_SCRAPE) return undefined;
  // The source's compact address (IP, port): what its connection id is a MAC of.
  const src = compactPeer(address, port);
  if (!src) return undefined;
  if (action === ACTION_CONNECT) {
    if (msg.readUInt32BE(0) !== PROTOCOL_ID_HI || msg.readUInt32BE(4) !== PROTOCOL_ID_LO) return undefined;
    const reply = Buffer.allocUnsafe(CONNECT_REPLY_SIZE);
    reply.writeUInt32BE(ACTION_CONNECT, 0);
    reply.writeUInt32BE(msg.readUInt32BE(12), 4);
    connectionIds.issueFor(src, 0, src.length, nowMs, reply, 8);
    send(reply, port, address);
    return undefined;
  }
  if (action === ACTION_ANNOUNCE && msg.length < ANNOUNCE_REQUEST_SIZE) return undefined;
  if (!connectionIds.verifyFor(msg, 0, src, 0, src.length, nowMs)) {
    send(encodeUdpError(msg.readUInt32BE(12), BAD_CONNECTION_ID, CONNECT_REPLY_SIZE), port, address);
    return undefined;
  }
  return src;
}

/** The UDP side of a tracker on one socket: the gate, then the store. `verified` is the
 *  store's half alone, for packets another thread's gate passed (udp-threads.ts). */
export interface UdpHandler {
  (msg: Buffer, rinfo: RemoteInfo): void;
  verified(msg: Buffer, address: string, port: number, src: Buffer): void;
}

export function createUdpHandler(ctx: TrackerContext, socket: Socket): UdpHandler {
  const { opts, store, connectionIds } = ctx;
  // No callback: Node then sends synchronously when it can, without a completion round
  // through the event loop; a send error surfaces as the socket's 'error' event (counted).
  // The socket's lookup answers IP literals synchronously (udp-lookup.ts), so there is no
  // dns.lookup tick per reply either. Every reply is a fresh buffer: a send the kernel
  // cannot take at once is queued by libuv with a pointer to the bytes, so a reused
  // scratch buffer could be overwritten before it leaves.
  const send: UdpSend = (buf, port, address) => socket.send(buf, port, address);

  /** An announce read straight from the packet's fixed offsets (BEP 15): no request object,
   *  no fields the tracker does not use. `src` is the source's compact address. */
  function announce(msg: Buffer, address: string, srcPort: number, src: Buffer): void {
    const tid = msg.readUInt32BE(12);
    const event = msg.readUInt32BE(80);
    const port = msg.readUInt16BE(96);
    if (event > EVENT_STOPPED || port === 0) {
      // The source is verified: it may learn what was wrong.
      ctx.counters.errors++;
      send(encodeUdpError(tid, port === 0 ? 'invalid port 0' : 'unknown event'), srcPort, address);
      return;
    }
    // Views of the packet: valid for this call (the store copies what it keeps).
    const infoHash = msg.subarray(16, 36);
    if (ctx.whitelist && !ctx.whitelist.has(infoHash.toString('latin1'))) {
      send(encodeUdpError(tid, NOT_TRACKED), srcPort, address);
      return;
    }
    const v6 = src.length === 18;
    let addr: Buffer | undefined;
    // The packet's IP field is believed only from a trusted source (loopback, a proxy).
    if (msg.readUInt32BE(84) !== 0 && isTrusted(normalizeIp(address), opts.trustedProxies)) {
      addr = compactPeer(`${msg[84]}.${msg[85]}.${msg[86]}.${msg[87]}`, port);
    } else {
      // The source's address with the port the peer listens on (the store copies it).
      addr = src;
      addr.writeUInt16BE(port, addr.length - 2);
    }
    if (!addr) return;
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
    const out = store.announce(input);
    if (out instanceof Promise) {
      out.then(
        (o) => send(encodeUdpAnnounceReply(tid, opts.intervalS, o.incomplete, o.complete, v6 ? o.peers6 : o.peers4), srcPort, address),
        () => {
          ctx.counters.errors++;
          send(encodeUdpError(tid, 'tracker store error'), srcPort, address);
        },
      );
    } else {
      send(encodeUdpAnnounceReply(tid, opts.intervalS, out.incomplete, out.complete, v6 ? out.peers6 : out.peers4), srcPort, address);
    }
  }

  function scrape(req: UdpScrapeRequest, address: string, port: number): void {
    const wl = ctx.whitelist;
    const hashes = req.infoHashes;
    ctx.counters.scrapes++;
    const done = (counts: ScrapeCounts[]): void => {
      // Unlisted torrents in private mode read as empty: the reply keeps the request's order.
      const shown = wl ? counts.map((c, i) => (wl.has(hashes[i]!.toString('latin1')) ? c : { complete: 0, downloaded: 0, incomplete: 0 })) : counts;
      send(encodeUdpScrapeReply(req.transactionId, shown), port, address);
    };
    const r = store.scrape(hashes);
    if (r instanceof Promise) r.then(done, () => send(encodeUdpError(req.transactionId, 'tracker store error'), port, address));
    else done(r);
  }

  function verified(msg: Buffer, address: string, port: number, src: Buffer): void {
    try {
      // BEP 41 options after an announce are ignored.
      if (msg.readUInt32BE(8) === ACTION_ANNOUNCE) {
        announce(msg, address, port, src);
        return;
      }
      let req;
      try {
        req = decodeUdpRequest(msg);
      } catch (e) {
        // The source is verified: it may learn what was wrong (an oversized scrape, say).
        ctx.counters.errors++;
        send(encodeUdpError(msg.readUInt32BE(12), (e as Error).message), port, address);
        return;
      }
      if (req.action === ACTION_SCRAPE) scrape(req, address, port);
    } catch {
      ctx.counters.errors++;
    }
  }

  const handler = ((msg: Buffer, rinfo: RemoteInfo): void => {
    try {
      const src = udpGate(connectionIds, opts.now(), msg, rinfo.address, rinfo.port, send);
      if (src) verified(msg, rinfo.address, rinfo.port, src);
    } catch {
      ctx.counters.errors++;
    }
  }) as UdpHandler;
  handler.verified = verified;
  return handler;
}
