// Compact peer addresses (BEP 23: 4-byte IPv4 + 2-byte port; BEP 7: 16-byte IPv6 + port):
// text <-> bytes, used by both the HTTP and UDP codecs, the stores and the client.
import type { PeerAddress } from './types.js';

/** Parses dotted IPv4 text into out[off..off+4); false when it is not IPv4. */
export function writeIPv4(ip: string, out: Uint8Array, off: number): boolean {
  let part = 0;
  let val = 0;
  let digits = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || part === 3) return false;
      out[off + part++] = val;
      val = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      val = val * 10 + (c - 0x30);
      if (++digits > 3 || val > 255) return false;
    } else {
      return false;
    }
  }
  if (digits === 0 || part !== 3) return false;
  out[off + 3] = val;
  return true;
}

function parseIPv6Groups(s: string, groups: number[]): boolean {
  if (s === '') return true;
  for (const g of s.split(':')) {
    if (g.length === 0 || g.length > 4 || !/^[0-9a-fA-F]+$/.test(g)) return false;
    groups.push(parseInt(g, 16));
  }
  return true;
}

/** Parses IPv6 text (with `::`, and an embedded dotted IPv4 tail) into out[off..off+16);
 *  false when it is not IPv6. A zone (`%eth0`) is dropped. */
export function writeIPv6(ip: string, out: Uint8Array, off: number): boolean {
  if (ip.length > 64) return false;
  const pct = ip.indexOf('%');
  if (pct >= 0) ip = ip.slice(0, pct);
  let tail: number[] = [];
  const lastColon = ip.lastIndexOf(':');
  if (lastColon >= 0 && ip.indexOf('.', lastColon) > 0) {
    const v4 = new Uint8Array(4);
    if (!writeIPv4(ip.slice(lastColon + 1), v4, 0)) return false;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    const prefix = ip.slice(0, lastColon + 1);
    ip = prefix.endsWith('::') ? prefix : prefix.slice(0, -1);
  }
  const dbl = ip.indexOf('::');
  const head: number[] = [];
  const rest: number[] = [];
  if (dbl >= 0) {
    if (ip.indexOf('::', dbl + 1) >= 0) return false;
    if (!parseIPv6Groups(ip.slice(0, dbl), head) || !parseIPv6Groups(ip.slice(dbl + 2), rest)) return false;
    const fill = 8 - head.length - rest.length - tail.length;
    if (fill < 1) return false;
    for (let i = 0; i < fill; i++) head.push(0);
  } else {
    if (!parseIPv6Groups(ip, head)) return false;
    if (head.length + tail.length !== 8) return false;
  }
  const all = head.concat(rest, tail);
  if (all.length !== 8) return false;
  for (let i = 0; i < 8; i++) {
    out[off + 2 * i] = all[i]! >> 8;
    out[off + 2 * i + 1] = all[i]! & 0xff;
  }
  return true;
}

/** The compact form of ip:port: 6 bytes for IPv4 (and IPv4-mapped IPv6 `::ffff:a.b.c.d`),
 *  18 for IPv6; undefined when `ip` is neither. */
export function compactPeer(ip: string, port: number): Buffer | undefined {
  if (ip.startsWith('::ffff:') && ip.indexOf('.') > 0) ip = ip.slice(7);
  let b = Buffer.allocUnsafe(6);
  if (writeIPv4(ip, b, 0)) {
    b.writeUInt16BE(port, 4);
    return b;
  }
  b = Buffer.allocUnsafe(18);
  if (writeIPv6(ip, b, 0)) {
    b.writeUInt16BE(port, 16);
    return b;
  }
  return undefined;
}

/** Text of the address in a compact entry of 6 or 18 bytes at b[off..]. */
export function compactIpText(b: Uint8Array, off: number, len: 6 | 18): string {
  if (len === 6) return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) parts.push(((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!).toString(16));
  // Shorten the longest run of zero groups to `::` (RFC 5952).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return parts.join(':');
  return `${parts.slice(0, bestStart).join(':')}::${parts.slice(bestStart + bestLen).join(':')}`;
}

/** Appends the peers of a compact string (6 or 18 bytes each; a trailing partial entry is
 *  ignored) to `out`, up to `max` in total. Port 0 entries are skipped. */
export function decodeCompactPeers(b: Uint8Array, size: 6 | 18, out: PeerAddress[], max: number): PeerAddress[] {
  for (let off = 0; off + size <= b.length && out.length < max; off += size) {
    const port = (b[off + size - 2]! << 8) | b[off + size - 1]!;
    if (port === 0) continue;
    out.push({ ip: compactIpText(b, off, size), port });
  }
  return out;
}
