// HTTP(S) announce and scrape (BEP 3, 23, 7, 48) over node:http: one GET, a bounded reply,
// a deadline, the protocol codecs for both directions.
import http from 'node:http';
import {
  buildAnnounceQuery,
  buildScrapeQuery,
  decodeAnnounceReply,
  decodeScrapeReply,
  MAX_SCRAPE_HASHES,
  scrapeUrlFor,
  TrackerProtocolError,
  type AnnounceRequest,
  type ScrapeCounts,
} from '../protocol/index.js';
import { TrackerClientError } from './errors.js';
import { MAX_HTTP_REPLY_BYTES } from './limits.js';
import type { AnnounceResult, RequestOptions } from './types.js';

function withQuery(url: string, query: string): string {
  const hash = url.indexOf('#');
  const base = hash < 0 ? url : url.slice(0, hash);
  return base + (base.includes('?') ? '&' : '?') + query;
}

/** GETs `url` and resolves with the status and body of any reply (a tracker may send
 *  `failure reason` with a 4xx). Bounded in size (`maxBytes`, checked as data arrives, not
 *  after) and time. Also used for a tracker's JSON API (the node's catalogue look-ups). */
export function httpGet(url: string, opts: RequestOptions & { maxBytes?: number }): Promise<{ status: number; body: Buffer }> {
  const maxBytes = opts.maxBytes ?? MAX_HTTP_REPLY_BYTES;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new TrackerClientError('TRACKER_BAD_URL', `not a URL: ${url}`));
  }
  if (u.protocol === 'http:') return getWith(http, u, opts, maxBytes);
  // node:https (and TLS with it) is loaded only for an https tracker: ~4 ms of every start.
  if (u.protocol === 'https:') return import('node:https').then((m) => getWith(m.default, u, opts, maxBytes));
  return Promise.reject(new TrackerClientError('TRACKER_BAD_URL', `not an http(s) URL: ${url}`));
}

function getWith(
  mod: { get: typeof http.get },
  u: URL,
  opts: RequestOptions,
  maxBytes: number,
): Promise<{ status: number; body: Buffer }> {
  const timeoutMs = opts.timeoutMs;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null, value?: { status: number; body: Buffer }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(value!);
    };
    const onAbort = (): void => finish(new TrackerClientError('TRACKER_ABORTED', `announce to ${u.host} aborted`));
    const timer = setTimeout(
      () => finish(new TrackerClientError('TRACKER_TIMEOUT', `no reply from ${u.host} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const req = mod.get(
      u,
      { agent: false, headers: { 'User-Agent': 'sta/0.1', 'Accept-Encoding': 'identity', Connection: 'close' } },
      (res) => {
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBytes) {
          finish(new TrackerClientError('TRACKER_REPLY_TOO_LARGE', `reply from ${u.host} is ${declared} bytes (cap ${maxBytes})`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            finish(new TrackerClientError('TRACKER_REPLY_TOO_LARGE', `reply from ${u.host} passed ${maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => finish(null, { status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', (e) => finish(new TrackerClientError('TRACKER_UNREACHABLE', `${u.host}: ${e.message}`, { cause: e })));
      },
    );
    req.on('error', (e) => finish(new TrackerClientError('TRACKER_UNREACHABLE', `${u.host}: ${e.message}`, { cause: e })));
    if (opts.signal) {
      if (opts.signal.aborted) onAbort();
      else opts.signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}

function protocolError(e: unknown, host: string): TrackerClientError {
  if (e instanceof TrackerClientError) return e;
  if (e instanceof TrackerProtocolError) {
    return e.code === 'TRACKER_FAILURE'
      ? new TrackerClientError('TRACKER_FAILURE', `${host}: ${e.message}`, { cause: e })
      : new TrackerClientError('TRACKER_BAD_REPLY', `${host}: ${e.message}`, { cause: e });
  }
  return new TrackerClientError('TRACKER_BAD_REPLY', `${host}: ${(e as Error).message}`, { cause: e });
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export async function httpAnnounce(url: string, req: AnnounceRequest, opts: RequestOptions): Promise<AnnounceResult> {
  const { status, body } = await httpGet(withQuery(url, buildAnnounceQuery(req)), opts);
  const host = hostOf(url);
  let reply;
  try {
    reply = decodeAnnounceReply(body);
  } catch (e) {
    if (status !== 200) throw new TrackerClientError('TRACKER_HTTP_STATUS', `${host} answered HTTP ${status}`);
    throw protocolError(e, host);
  }
  if (reply.failure !== undefined) throw new TrackerClientError('TRACKER_FAILURE', `${host}: ${reply.failure}`);
  if (status !== 200) throw new TrackerClientError('TRACKER_HTTP_STATUS', `${host} answered HTTP ${status}`);
  const result: AnnounceResult = { intervalS: reply.intervalS, peers: reply.peers.map((p) => ({ ip: p.ip, port: p.port })) };
  if (reply.minIntervalS !== undefined) result.minIntervalS = reply.minIntervalS;
  if (reply.complete !== undefined) result.complete = reply.complete;
  if (reply.incomplete !== undefined) result.incomplete = reply.incomplete;
  if (reply.warning !== undefined) result.warning = reply.warning;
  if (reply.trackerId !== undefined) result.trackerId = reply.trackerId;
  return result;
}

export async function httpScrape(url: string, infoHashes: readonly Buffer[], opts: RequestOptions): Promise<Map<string, ScrapeCounts>> {
  const scrapeUrl = scrapeUrlFor(url);
  if (scrapeUrl === undefined) throw new TrackerClientError('TRACKER_NO_SCRAPE', `${url} has no scrape URL (its path does not end in /announce)`);
  const out = new Map<string, ScrapeCounts>();
  // Trackers cap hashes per scrape (MAX_SCRAPE_HASHES here, 64 in opentracker): ask in chunks.
  for (let i = 0; i < infoHashes.length; i += MAX_SCRAPE_HASHES) {
    const chunk = infoHashes.slice(i, i + MAX_SCRAPE_HASHES);
    const { status, body } = await httpGet(withQuery(scrapeUrl, buildScrapeQuery(chunk)), opts);
    let got: Map<string, ScrapeCounts>;
    try {
      got = decodeScrapeReply(body);
    } catch (e) {
      if (status !== 200) throw new TrackerClientError('TRACKER_HTTP_STATUS', `${hostOf(url)} answered HTTP ${status}`);
      throw protocolError(e, hostOf(url));
    }
    // Only what we asked for: a hostile tracker cannot grow the map past the request.
    for (const h of chunk) {
      const hex = h.toString('hex');
      const c = got.get(hex);
      if (c) out.set(hex, c);
    }
  }
  return out;
}
