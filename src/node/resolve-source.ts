// What `sta download X` means by X: a .torrent file, a magnet URI, a 40-hex info hash or
// a name. An info hash or a name is looked up in a tracker's catalogue (CONTRACT: the
// tracker's JSON API, GET /api/torrents?q=NAME and GET /api/torrents/HEX40); an info hash
// the catalogue does not know becomes a magnet link announced to the given trackers.
import { readFile, stat } from 'node:fs/promises';
import { parseMagnet, parseTorrent, type MagnetLink, type Metainfo } from '../torrent/index.js';
import { httpGet } from '../tracker/client/index.js';
import { NodeError } from './errors.js';

export type Source = { kind: 'metainfo'; meta: Metainfo } | { kind: 'magnet'; magnet: MagnetLink };

/** A .torrent is small; anything above this is not one (matches the torrent parser's spirit). */
const MAX_TORRENT_FILE_BYTES = 64 * 1024 * 1024;
/** Catalogue replies and .torrent downloads from a tracker are bounded too. */
const MAX_API_REPLY_BYTES = 64 * 1024 * 1024;
const API_TIMEOUT_MS = 10_000;

const HEX40 = /^[0-9a-fA-F]{40}$/;

export async function resolveSource(input: string, trackers: string[]): Promise<Source> {
  if (/^magnet:/i.test(input)) return { kind: 'magnet', magnet: parseMagnet(input) };
  const st = await stat(input).catch(() => null);
  if (st?.isFile()) {
    if (st.size > MAX_TORRENT_FILE_BYTES) throw new NodeError('NODE_BAD_SOURCE', `${input}: ${st.size} bytes is too large for a .torrent`, 2);
    return { kind: 'metainfo', meta: parseTorrent(await readFile(input)) };
  }
  const bases = apiBases(trackers);
  if (HEX40.test(input)) {
    const hex = input.toLowerCase();
    for (const base of bases) {
      const buf = await fetchBytes(`${base}/api/torrents/${hex}`).catch(() => null);
      if (buf) return { kind: 'metainfo', meta: parseTorrent(buf) };
    }
    if (trackers.length === 0) {
      throw new NodeError('NODE_BAD_SOURCE', `info hash ${hex} needs --tracker (or --peer) to find peers`, 2);
    }
    return {
      kind: 'magnet',
      magnet: { infoHash: Buffer.from(hex, 'hex'), infoHashHex: hex, trackers: [...trackers], peers: [], webSeeds: [] },
    };
  }
  if (st) throw new NodeError('NODE_BAD_SOURCE', `${input} is not a file`, 2);
  if (bases.length === 0) {
    throw new NodeError('NODE_BAD_SOURCE', `${input}: no such file, and no HTTP --tracker to look the name up`, 2);
  }
  let lastError: unknown;
  for (const base of bases) {
    try {
      const hex = await findByName(base, input);
      if (!hex) continue;
      const buf = await fetchBytes(`${base}/api/torrents/${hex}`);
      return { kind: 'metainfo', meta: parseTorrent(buf) };
    } catch (e) {
      lastError = e;
    }
  }
  if (lastError) throw lastError;
  throw new NodeError('NODE_NOT_FOUND', `no torrent named "${input}" in the catalogue of ${bases.join(', ')}`, 1);
}

/** http://host:port/announce -> http://host:port (UDP trackers have no JSON API). */
export function apiBases(trackers: string[]): string[] {
  const out: string[] = [];
  for (const t of trackers) {
    try {
      const u = new URL(t);
      if (u.protocol === 'http:' || u.protocol === 'https:') {
        if (!out.includes(u.origin)) out.push(u.origin);
      }
    } catch {
      // not a URL: the tracker client reports it
    }
  }
  return out;
}

/** Searches the catalogue; an exact name match wins, else the only match. */
async function findByName(base: string, name: string): Promise<string | null> {
  const body = await fetchBytes(`${base}/api/torrents?q=${encodeURIComponent(name)}`);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new NodeError('NODE_TRACKER_API', `${base}/api/torrents did not answer JSON`);
  }
  const list = Array.isArray(json)
    ? json
    : json && typeof json === 'object'
      ? ((json as Record<string, unknown>)['torrents'] ?? (json as Record<string, unknown>)['results'])
      : undefined;
  if (!Array.isArray(list)) throw new NodeError('NODE_TRACKER_API', `${base}/api/torrents answered an unexpected shape`);
  const entries = list
    .filter((e): e is Record<string, unknown> => !!e && typeof e === 'object')
    .map((e) => ({ name: String(e['name'] ?? ''), hex: String(e['infoHash'] ?? e['info_hash'] ?? '') }))
    .filter((e) => HEX40.test(e.hex));
  const exact = entries.filter((e) => e.name === name);
  if (exact.length >= 1) return exact[0]!.hex.toLowerCase();
  if (entries.length === 1) return entries[0]!.hex.toLowerCase();
  if (entries.length > 1) {
    throw new NodeError('NODE_NOT_FOUND', `"${name}" matches ${entries.length} torrents (${entries.slice(0, 3).map((e) => e.name).join(', ')}, ...); give the info hash`, 2);
  }
  return null;
}

/** A GET to a tracker's JSON API, bounded in size while it arrives (a reply without a
 *  Content-Length is cut off at the cap, not read whole first) and in time. */
async function fetchBytes(url: string): Promise<Buffer> {
  let reply: { status: number; body: Buffer };
  try {
    reply = await httpGet(url, { timeoutMs: API_TIMEOUT_MS, maxBytes: MAX_API_REPLY_BYTES });
  } catch (e) {
    throw new NodeError('NODE_TRACKER_API', `${url}: ${(e as Error).message}`);
  }
  if (reply.status === 404) throw new NodeError('NODE_NOT_FOUND', `${url}: not found`);
  if (reply.status < 200 || reply.status > 299) throw new NodeError('NODE_TRACKER_API', `${url}: HTTP ${reply.status}`);
  return reply.body;
}
