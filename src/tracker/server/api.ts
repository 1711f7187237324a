// The tracker's JSON API and catalogue over HTTP: `GET /api/peers`, `GET /api/stats`,
// `POST /api/torrents` (register a .torrent), `GET /api/torrents?q=` (search),
// `GET /api/torrents/HEX40` (download), and `GET /` (the status page). Errors are JSON
// `{"error": {"code", "message"}}` with a 4xx/5xx status.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isStaError } from '../../util/index.js';
import { parseTorrent } from '../../torrent/index.js';
import { MAX_CATALOGUE_FILES, type CatalogueEntry } from '../store/index.js';
import type { TrackerContext, TrackerStats } from './context.js';
import { MAX_API_PEERS, MAX_SEARCH_RESULTS, MAX_TORRENT_UPLOAD_BYTES } from './options.js';
import { renderStatusPage } from './status-page.js';

const HEX40 = /^[0-9a-fA-F]{40}$/;


export async function collectStats(ctx: TrackerContext): Promise<TrackerStats> {
  const s = await ctx.store.stats();
  const udp: TrackerStats['udp'] = ctx.udpThreads
    ? { threads: ctx.udpThreads.count, forwarded: ctx.udpThreads.forwarded(), dropped: ctx.udpThreads.dropped(), io: ctx.udpIo ?? 'dgram' }
    : { threads: ctx.udpServed ? 1 : 0, forwarded: 0, dropped: 0, io: ctx.udpServed ? (ctx.udpIo ?? 'dgram') : 'none' };
  if (ctx.udpBatchStats) udp.batch = ctx.udpBatchStats();
  return {
    torrents: s.torrents,
    seeders: s.seeders,
    leechers: s.leechers,
    peers: s.seeders + s.leechers,
    announcesPerSecond: { http: round1(ctx.httpAnnounces.perSecond()), udp: round1(ctx.udpAnnounces.perSecond()) },
    announces: { http: ctx.httpAnnounces.count, udp: ctx.udpAnnounces.count },
    scrapes: ctx.counters.scrapes,
    errors: ctx.counters.errors,
    udp,
    http: ctx.httpIo === undefined ? { io: 'none' } : ctx.httpBatchStats ? { io: ctx.httpIo, batch: ctx.httpBatchStats() } : { io: ctx.httpIo },
    catalogue: await ctx.store.catalogue.count(),
    store: ctx.store.kind,
    uptimeS: Math.floor((ctx.opts.now() - ctx.startedMs) / 1000),
  };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-store' });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

function entryJson(e: CatalogueEntry): Record<string, unknown> {
  return {
    infoHash: e.infoHashHex,
    name: e.name,
    length: e.length,
    fileCount: e.fileCount,
    files: e.files,
    added: new Date(e.addedMs).toISOString(),
    torrent: `/api/torrents/${e.infoHashHex}`,
  };
}

/** Reads a request body up to `max` bytes; undefined (and a 413 sent) when larger. */
function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      sendError(res, 413, 'TOO_LARGE', `body larger than ${max} bytes`);
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > max) {
        done = true;
        sendError(res, 413, 'TOO_LARGE', `body larger than ${max} bytes`);
        res.once('finish', () => req.destroy());
        resolve(undefined);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', reject);
  });
}

async function postTorrent(ctx: TrackerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req, res, MAX_TORRENT_UPLOAD_BYTES);
  if (!body) return;
  let m;
  try {
    m = parseTorrent(body);
  } catch (e) {
    sendError(res, 400, isStaError(e) ? e.code : 'BAD_TORRENT', `not a valid .torrent: ${(e as Error).message}`);
    return;
  }
  const entry: CatalogueEntry = {
    infoHashHex: m.infoHashHex,
    name: m.name,
    length: m.length,
    fileCount: m.files.filter((f) => !f.pad).length,
    files: m.files
      .filter((f) => !f.pad)
      .slice(0, MAX_CATALOGUE_FILES)
      .map((f) => ({ path: m.multiFile ? `${m.name}/${f.pathString}` : f.pathString, length: f.length })),
    addedMs: ctx.opts.now(),
  };
  const r = await ctx.store.catalogue.put(entry, body);
  const stored = r === 'added' ? entry : ((await ctx.store.catalogue.entry(entry.infoHashHex)) ?? entry);
  sendJson(res, r === 'added' ? 201 : 200, { ...entryJson(stored), added: r === 'added' });
}

async function route(ctx: TrackerContext, req: IncomingMessage, res: ServerResponse, url: string): Promise<void> {
  const u = new URL(url, 'http://tracker');
  const path = u.pathname;
  const method = req.method ?? 'GET';
  if (path === '/api/torrents' && method === 'POST') return postTorrent(ctx, req, res);
  if (method !== 'GET' && method !== 'HEAD') {
    sendError(res, 405, 'METHOD_NOT_ALLOWED', `${method} not allowed on ${path}`);
    return;
  }
  if (path === '/' || path === '/index.html') {
    const html = Buffer.from(await renderStatusPage(ctx, await collectStats(ctx)));
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': html.length, 'Cache-Control': 'no-store' });
    res.end(html);
    return;
  }
  if (path === '/api/stats') {
    sendJson(res, 200, await collectStats(ctx));
    return;
  }
  if (path === '/api/peers') {
    const hex = u.searchParams.get('info_hash') ?? '';
    if (!HEX40.test(hex)) {
      sendError(res, 400, 'BAD_INFO_HASH', 'info_hash must be 40 hex characters');
      return;
    }
    const limit = clampInt(u.searchParams.get('limit'), MAX_API_PEERS, MAX_API_PEERS);
    const peers = await ctx.store.listPeers(Buffer.from(hex, 'hex'), limit);
    sendJson(
      res,
      200,
      peers.map((p) => ({ ip: p.ip, port: p.port, seeder: p.seeder, lastSeen: new Date(p.lastSeenMs).toISOString(), lastSeenMs: p.lastSeenMs, peerId: p.peerIdHex })),
    );
    return;
  }
  if (path === '/api/torrents') {
    const q = (u.searchParams.get('q') ?? '').slice(0, 200);
    const limit = clampInt(u.searchParams.get('limit'), 50, MAX_SEARCH_RESULTS);
    sendJson(res, 200, (await ctx.store.catalogue.search(q, limit)).map(entryJson));
    return;
  }
  const m = /^\/api\/torrents\/([0-9a-fA-F]{40})(\.torrent)?$/.exec(path);
  if (m) {
    const hex = m[1]!.toLowerCase();
    const t = await ctx.store.catalogue.get(hex);
    if (!t) {
      sendError(res, 404, 'NOT_FOUND', `no torrent ${hex} in the catalogue`);
      return;
    }
    const entry = await ctx.store.catalogue.entry(hex);
    const filename = `${(entry?.name ?? hex).replace(/[^\w.\- ]/g, '_')}.torrent`;
    res.writeHead(200, {
      'Content-Type': 'application/x-bittorrent',
      'Content-Length': t.length,
      'Content-Disposition': `attachment; filename="${filename}"`,
    });
    res.end(t);
    return;
  }
  sendError(res, 404, 'NOT_FOUND', `no route ${path}`);
}

function clampInt(s: string | null, dflt: number, max: number): number {
  if (s === null || !/^\d{1,9}$/.test(s)) return dflt;
  return Math.min(Number(s), max);
}

export function handleApi(ctx: TrackerContext, req: IncomingMessage, res: ServerResponse, url: string): void {
  route(ctx, req, res, url).catch((e: unknown) => {
    ctx.counters.errors++;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (isStaError(e)) sendError(res, e.exitCode === 2 ? 400 : 503, e.code, e.message);
    else sendError(res, 500, 'INTERNAL', (e as Error)?.message ?? String(e));
  });
}
