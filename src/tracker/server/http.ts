// The HTTP face of the tracker: `GET /announce` (BEP 3, 23, 7) and `GET /scrape` (BEP 48)
// on the hot path, written to avoid work: one scan of the query string, no JSON, one reply
// buffer. The cores below answer with the bencoded body only, so two transports share
// them: the lean front (http-front.ts, its own HTTP/1.1 parser on a net.Server) and
// node:http (requests the front hands over, e.g. on a connection that also used the API).
// The rest (JSON API, catalogue, status page) is routed to api.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  compactPeer,
  encodeAnnounceReply,
  encodeAnnounceReplyDict,
  encodeFailure,
  encodeScrapeReply,
  parseAnnounceQuery,
  parseScrapeQuery,
  type AnnounceRequest,
  type PeerAddress,
  type ScrapeCounts,
} from '../protocol/index.js';
import { compactIpText } from '../protocol/index.js';
import { FAMILY_V4, FAMILY_V6, type AnnounceInput, type AnnounceOutput } from '../store/index.js';
import { handleApi } from './api.js';
import { isTrusted, resolvePeerIp } from './client-address.js';
import { NOT_TRACKED, type TrackerContext } from './context.js';
import { normalizeIp } from './options.js';

const TEXT_PLAIN = 'text/plain';

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** True when url is `path` exactly or `path?...`. */
export function isPath(url: string, path: string): boolean {
  if (!url.startsWith(path)) return false;
  return url.length === path.length || url.charCodeAt(path.length) === 0x3f;
}

/** The bencoded body of an announce or scrape reply (a `failure reason` included): now, or
 *  once an asynchronous store answered (never rejects). */
export type TrackerBody = Buffer | Promise<Buffer>;

/** An announce: the query string (after `?`), the socket's address, and X-Forwarded-For
 *  (read only when the source is trusted, so the caller may pass it lazily). */
export type AnnounceCore = (query: string, socketIp: string, xff: () => string | undefined) => TrackerBody;
export type ScrapeCore = (query: string) => TrackerBody;

export function createAnnounceCore(ctx: TrackerContext): AnnounceCore {
  const { opts, store } = ctx;
  const both = FAMILY_V4 | FAMILY_V6;

  function reply(a: AnnounceRequest, out: AnnounceOutput): Buffer {
    const counts = { intervalS: opts.intervalS, minIntervalS: opts.minIntervalS, complete: out.complete, incomplete: out.incomplete };
    if (a.compact) return encodeAnnounceReply(counts, out.peers4, out.peers6);
    const peers: PeerAddress[] = [];
    const withIds = !a.noPeerId;
    for (let i = 0; i + 6 <= out.peers4.length; i += 6) {
      const p: PeerAddress = { ip: compactIpText(out.peers4, i, 6), port: (out.peers4[i + 4]! << 8) | out.peers4[i + 5]! };
      if (withIds && out.peerIds4) p.peerId = Buffer.from(out.peerIds4.subarray((i / 6) * 20, (i / 6) * 20 + 20));
      peers.push(p);
    }
    for (let i = 0; i + 18 <= out.peers6.length; i += 18) {
      const p: PeerAddress = { ip: compactIpText(out.peers6, i, 18), port: (out.peers6[i + 16]! << 8) | out.peers6[i + 17]! };
      if (withIds && out.peerIds6) p.peerId = Buffer.from(out.peerIds6.subarray((i / 18) * 20, (i / 18) * 20 + 20));
      peers.push(p);
    }
    return encodeAnnounceReplyDict(counts, peers, withIds);
  }

  return (query, socketIp, xff) => {
    let a: AnnounceRequest;
    try {
      a = parseAnnounceQuery(query);
    } catch (e) {
      ctx.counters.errors++;
      return encodeFailure(errorMessage(e));
    }
    if (ctx.whitelist && !ctx.whitelist.has(a.infoHash.toString('latin1'))) return encodeFailure(NOT_TRACKED);
    let ip: string;
    if (a.ip !== undefined || isTrusted(normalizeIp(socketIp), opts.trustedProxies)) {
      ip = resolvePeerIp(socketIp, xff(), a.ip, opts.trustedProxies);
    } else {
      ip = normalizeIp(socketIp);
    }
    const addr = compactPeer(ip, a.port);
    if (!addr) return encodeFailure('cannot tell your address');
    ctx.httpAnnounces.count++;
    const input: AnnounceInput = {
      infoHash: a.infoHash,
      peerId: a.peerId,
      addr,
      seeder: a.left === 0,
      event: a.event,
      numwant: a.numwant < 0 ? opts.defaultNumwant : a.numwant > opts.maxNumwant ? opts.maxNumwant : a.numwant,
      families: both,
      withPeerIds: !a.compact && !a.noPeerId,
      nowMs: opts.now(),
    };
    const out = store.announce(input);
    if (out instanceof Promise) {
      return out.then(
        (o) => reply(a, o),
        (e: unknown) => {
          ctx.counters.errors++;
          return encodeFailure(`tracker store error: ${errorMessage(e)}`);
        },
      );
    }
    return reply(a, out);
  };
}

export function createScrapeCore(ctx: TrackerContext): ScrapeCore {
  return (query) => {
    let hashes: Buffer[];
    try {
      hashes = parseScrapeQuery(query);
    } catch (e) {
      ctx.counters.errors++;
      return encodeFailure(errorMessage(e));
    }
    // A scrape of everything (no info_hash) would be a reply as big as the tracker: refused.
    if (hashes.length === 0) return encodeFailure('scrape needs at least one info_hash');
    if (ctx.whitelist) {
      const wl = ctx.whitelist;
      hashes = hashes.filter((h) => wl.has(h.toString('latin1')));
    }
    ctx.counters.scrapes++;
    const body = (counts: ScrapeCounts[]): Buffer => encodeScrapeReply(hashes.map((infoHash, i) => ({ infoHash, counts: counts[i]! })));
    const r = ctx.store.scrape(hashes);
    if (r instanceof Promise) return r.then(body, (e: unknown) => encodeFailure(`tracker store error: ${errorMessage(e)}`));
    return body(r);
  };
}

function sendBencode(res: ServerResponse, body: Buffer): void {
  res.writeHead(200, ['Content-Type', TEXT_PLAIN, 'Content-Length', String(body.length)]);
  res.end(body);
}

/** The node:http request handler: announce and scrape through the cores, the rest to api.ts. */
export function createHttpHandler(ctx: TrackerContext, announce: AnnounceCore, scrape: ScrapeCore): (req: IncomingMessage, res: ServerResponse) => void {
  const fail = (res: ServerResponse, e: unknown): void => {
    // A bug must not take the tracker down: answer 500 and keep serving.
    ctx.counters.errors++;
    if (!res.headersSent) {
      res.writeHead(500, { 'Content-Type': TEXT_PLAIN });
      res.end(`internal error: ${errorMessage(e)}\n`);
    } else {
      res.destroy();
    }
  };
  const send = (res: ServerResponse, body: TrackerBody): void => {
    if (body instanceof Promise) body.then((b) => sendBencode(res, b), (e: unknown) => fail(res, e));
    else sendBencode(res, body);
  };
  return (req, res) => {
    const url = req.url ?? '/';
    try {
      if (req.method === 'GET' && isPath(url, '/announce')) {
        send(
          res,
          announce(url.length > 10 ? url.slice(10) : '', req.socket.remoteAddress ?? '', () => {
            const xff = req.headers['x-forwarded-for'];
            return typeof xff === 'string' ? xff : undefined;
          }),
        );
      } else if (req.method === 'GET' && isPath(url, '/scrape')) {
        send(res, scrape(url.length > 8 ? url.slice(8) : ''));
      } else {
        handleApi(ctx, req, res, url);
      }
    } catch (e) {
      fail(res, e);
    }
  };
}
