// The HTTP face of the tracker: `GET /announce` (BEP 3, 23, 7) and `GET /scrape` (BEP 48)
// on the hot path, written to avoid work: one scan of the query string, no JSON, one reply
// buffer; the rest (JSON API, catalogue, status page) is routed to api.ts.
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

function sendBencode(res: ServerResponse, body: Buffer): void {
  res.writeHead(200, ['Content-Type', TEXT_PLAIN, 'Content-Length', String(body.length)]);
  res.end(body);
}

function sendFailure(res: ServerResponse, reason: string): void {
  sendBencode(res, encodeFailure(reason));
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** True when url is `path` exactly or `path?...`. */
function isPath(url: string, path: string): boolean {
  if (!url.startsWith(path)) return false;
  return url.length === path.length || url.charCodeAt(path.length) === 0x3f;
}

export function createHttpHandler(ctx: TrackerContext): (req: IncomingMessage, res: ServerResponse) => void {
  const { opts, store } = ctx;
  const both = FAMILY_V4 | FAMILY_V6;

  function reply(res: ServerResponse, a: AnnounceRequest, out: AnnounceOutput): void {
    const counts = { intervalS: opts.intervalS, minIntervalS: opts.minIntervalS, complete: out.complete, incomplete: out.incomplete };
    if (a.compact) {
      sendBencode(res, encodeAnnounceReply(counts, out.peers4, out.peers6));
      return;
    }
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
    sendBencode(res, encodeAnnounceReplyDict(counts, peers, withIds));
  }

  function announce(req: IncomingMessage, res: ServerResponse, query: string): void {
    let a: AnnounceRequest;
    try {
      a = parseAnnounceQuery(query);
    } catch (e) {
      ctx.counters.errors++;
      sendFailure(res, errorMessage(e));
      return;
    }
    if (ctx.whitelist && !ctx.whitelist.has(a.infoHash.toString('latin1'))) {
      sendFailure(res, NOT_TRACKED);
      return;
    }
    const socketIp = req.socket.remoteAddress ?? '';
    let ip: string;
    if (a.ip !== undefined || isTrusted(normalizeIp(socketIp), opts.trustedProxies)) {
      const xff = req.headers['x-forwarded-for'];
      ip = resolvePeerIp(socketIp, typeof xff === 'string' ? xff : undefined, a.ip, opts.trustedProxies);
    } else {
      ip = normalizeIp(socketIp);
    }
    const addr = compactPeer(ip, a.port);
    if (!addr) {
      sendFailure(res, 'cannot tell your address');
      return;
    }
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
      out.then(
        (o) => reply(res, a, o),
        (e: unknown) => {
          ctx.counters.errors++;
          sendFailure(res, `tracker store error: ${errorMessage(e)}`);
        },
      );
    } else {
      reply(res, a, out);
    }
  }

  function scrape(res: ServerResponse, query: string): void {
    let hashes: Buffer[];
    try {
      hashes = parseScrapeQuery(query);
    } catch (e) {
      ctx.counters.errors++;
      sendFailure(res, errorMessage(e));
      return;
    }
    // A scrape of everything (no info_hash) would be a reply as big as the tracker: refused.
    if (hashes.length === 0) {
      sendFailure(res, 'scrape needs at least one info_hash');
      return;
    }
    if (ctx.whitelist) {
      const wl = ctx.whitelist;
      hashes = hashes.filter((h) => wl.has(h.toString('latin1')));
    }
    ctx.counters.scrapes++;
    const send = (counts: ScrapeCounts[]) => sendBencode(res, encodeScrapeReply(hashes.map((infoHash, i) => ({ infoHash, counts: counts[i]! }))));
    const r = store.scrape(hashes);
    if (r instanceof Promise) {
      r.then(send, (e: unknown) => sendFailure(res, `tracker store error: ${errorMessage(e)}`));
    } else {
      send(r);
    }
  }

  return (req, res) => {
    const url = req.url ?? '/';
    try {
      if (req.method === 'GET' && isPath(url, '/announce')) {
        announce(req, res, url.length > 10 ? url.slice(10) : '');
      } else if (req.method === 'GET' && isPath(url, '/scrape')) {
        scrape(res, url.length > 8 ? url.slice(8) : '');
      } else {
        handleApi(ctx, req, res, url);
      }
    } catch (e) {
      // A bug must not take the tracker down: answer 500 and keep serving.
      ctx.counters.errors++;
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': TEXT_PLAIN });
        res.end(`internal error: ${errorMessage(e)}\n`);
      } else {
        res.destroy();
      }
    }
  };
}
