// BEP 6 allowed-fast set: the pieces a peer may request from us while choked, derived from
// its IPv4 address (/24) and the info hash so every client computes the same set.
import { createHash } from 'node:crypto';
import { WireError } from './errors.js';
import { ALLOWED_FAST_SET_SIZE } from './limits.js';

export function allowedFastSet(ipv4: Uint8Array, infoHash: Uint8Array, pieceCount: number, k = ALLOWED_FAST_SET_SIZE): number[] {
  if (ipv4.length !== 4) throw new WireError('WIRE_BAD_ARGUMENT', 'allowed-fast set needs an IPv4 address');
  if (infoHash.length !== 20) throw new WireError('WIRE_BAD_ARGUMENT', `info hash of ${infoHash.length} bytes`);
  const n = Math.min(k, pieceCount);
  const out: number[] = [];
  if (n <= 0) return out;
  // x = (ip & 0xFFFFFF00) ++ infohash
  let x: Buffer = Buffer.alloc(24);
  x[0] = ipv4[0]!;
  x[1] = ipv4[1]!;
  x[2] = ipv4[2]!;
  x.set(infoHash, 4);
  while (out.length < n) {
    x = createHash('sha1').update(x).digest();
    for (let i = 0; i < 5 && out.length < n; i++) {
      const index = x.readUInt32BE(i * 4) % pieceCount;
      if (!out.includes(index)) out.push(index);
    }
  }
  return out;
}
