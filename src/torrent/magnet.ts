// Magnet URIs (BEP 9): `xt=urn:btih:` with a 40-hex or 32-base32 info hash, `dn` (name),
// `tr` (trackers, in order, repeatable), `x.pe` (peer host:port), `ws` (web seeds).
// A v2-only `urn:btmh:` gets MAGNET_V2_UNSUPPORTED; a hybrid link uses its btih.
// Pure and bounded: the URI length and parameter count are capped.
import { TorrentError } from './errors.js';
import { MAX_MAGNET_LENGTH, MAX_MAGNET_PARAMS, MAX_TRACKERS, MAX_WEB_SEEDS } from './limits.js';
import type { MagnetLink } from './types.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function bad(message: string, code = 'MAGNET_BAD'): never {
  throw new TorrentError(code, `bad magnet link: ${message}`);
}

/** RFC 4648 base32 without padding (case-insensitive), 32 chars -> 20 bytes. */
function base32To20(s: string): Buffer {
  const out = Buffer.alloc(20);
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (const ch of s.toUpperCase()) {
    const v = BASE32.indexOf(ch);
    if (v < 0) bad('the base32 info hash has an invalid character');
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}

function infoHashOf(urn: string): Buffer {
  const h = urn.slice('urn:btih:'.length);
  if (/^[0-9a-fA-F]{40}$/.test(h)) return Buffer.from(h, 'hex');
  if (/^[A-Za-z2-7]{32}$/.test(h)) return base32To20(h);
  return bad('the info hash is neither 40 hex nor 32 base32 characters');
}

function decodeComponent(s: string, key: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return bad(`malformed percent-encoding in "${key}"`);
  }
}

/** `host:port` or `[v6]:port` with a port in 1..65535. */
function isPeer(s: string): boolean {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]/]+):(\d{1,5})$/.exec(s);
  if (!m) return false;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535;
}

export function parseMagnet(uri: string): MagnetLink {
  if (typeof uri !== 'string') bad('not a string');
  if (uri.length > MAX_MAGNET_LENGTH) bad(`longer than ${MAX_MAGNET_LENGTH} characters`);
  if (!/^magnet:\?/i.test(uri)) bad('it does not start with "magnet:?"');
  const query = uri.slice('magnet:?'.length).split('#')[0]!;
  const params = query.split('&').filter((p) => p.length > 0);
  if (params.length > MAX_MAGNET_PARAMS) bad(`more than ${MAX_MAGNET_PARAMS} parameters`);
  let infoHash: Buffer | undefined;
  let sawV2 = false;
  let name: string | undefined;
  const trackers: string[] = [];
  const peers: string[] = [];
  const webSeeds: string[] = [];
  for (const p of params) {
    const eq = p.indexOf('=');
    // Keys may carry a BEP 9 index suffix: xt.1, tr.2, ...
    const rawKey = (eq < 0 ? p : p.slice(0, eq)).toLowerCase();
    const key = /^(xt|tr|ws|dn)\.\d+$/.test(rawKey) ? rawKey.slice(0, rawKey.indexOf('.')) : rawKey;
    if (eq < 0) continue;
    const raw = p.slice(eq + 1);
    if (key === 'xt') {
      const v = decodeComponent(raw, key);
      if (/^urn:btih:/i.test(v)) {
        infoHash ??= infoHashOf(v.slice(0, 9).toLowerCase() + v.slice(9));
      } else if (/^urn:btmh:/i.test(v)) {
        sawV2 = true;
      }
    } else if (key === 'dn') {
      // '+' for a space is what browsers and most clients write in dn.
      name ??= decodeComponent(raw.replace(/\+/g, ' '), key);
    } else if (key === 'tr') {
      const v = decodeComponent(raw, key).trim();
      if (v && !trackers.includes(v)) {
        if (trackers.length >= MAX_TRACKERS) bad(`more than ${MAX_TRACKERS} trackers`);
        trackers.push(v);
      }
    } else if (key === 'x.pe') {
      const v = decodeComponent(raw, key).trim();
      if (!isPeer(v)) bad(`x.pe "${v.slice(0, 80)}" is not host:port`);
      if (!peers.includes(v)) peers.push(v);
    } else if (key === 'ws') {
      const v = decodeComponent(raw, key).trim();
      if (v) {
        if (webSeeds.length >= MAX_WEB_SEEDS) bad(`more than ${MAX_WEB_SEEDS} web seeds`);
        webSeeds.push(v);
      }
    }
  }
  if (!infoHash) {
    if (sawV2) throw new TorrentError('MAGNET_V2_UNSUPPORTED', 'BitTorrent v2 magnet links (urn:btmh) are not supported yet');
    bad('no "xt=urn:btih:" info hash');
  }
  const m: MagnetLink = { infoHash, infoHashHex: infoHash.toString('hex'), trackers, peers, webSeeds };
  if (name !== undefined) m.name = name;
  return m;
}

/** Percent-encodes everything but unreserved characters and `:` `/` (readable URLs inside). */
function enc(s: string): string {
  return encodeURIComponent(s).replace(/%3A/gi, ':').replace(/%2F/gi, '/');
}

export function makeMagnet(m: { infoHash: Buffer; name?: string; trackers?: string[]; peers?: string[]; webSeeds?: string[] }): string {
  if (m.infoHash.length !== 20) throw new TorrentError('MAGNET_BAD', 'an info hash is 20 bytes');
  let s = `magnet:?xt=urn:btih:${m.infoHash.toString('hex')}`;
  if (m.name !== undefined && m.name !== '') s += `&dn=${encodeURIComponent(m.name)}`;
  for (const t of m.trackers ?? []) s += `&tr=${enc(t)}`;
  for (const p of m.peers ?? []) s += `&x.pe=${enc(p)}`;
  for (const w of m.webSeeds ?? []) s += `&ws=${enc(w)}`;
  return s;
}
