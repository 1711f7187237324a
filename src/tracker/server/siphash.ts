// SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed pseudo-random function with a 128-bit
// key and a 64-bit output, made for short inputs. The UDP connection ids use it as their
// MAC: an id is computed for every packet (no cache a flood could thrash or a bench could
// flatter), and for a 10-22 byte message SipHash costs a fraction of an HMAC-SHA256 call
// (no native call, no objects). 64-bit words are kept as pairs of 32-bit halves.

/** A 16-byte key as four little-endian 32-bit words: k0 low, k0 high, k1 low, k1 high. */
export type SipKey = Uint32Array;

export function sipKey(key: Uint8Array): SipKey {
  if (key.length < 16) throw new RangeError('a SipHash key is 16 bytes');
  const k = new Uint32Array(4);
  for (let i = 0; i < 4; i++) k[i] = (key[4 * i]! | (key[4 * i + 1]! << 8) | (key[4 * i + 2]! << 16) | (key[4 * i + 3]! << 24)) >>> 0;
  return k;
}

/** The state v0..v3 as [v0 lo, v0 hi, v1 lo, v1 hi, v2 lo, v2 hi, v3 lo, v3 hi]. Reused:
 *  the hash is synchronous. */
const s = new Uint32Array(8);

/** `n` SipRounds on `s`. */
function rounds(n: number): void {
  let v0l = s[0]!, v0h = s[1]!, v1l = s[2]!, v1h = s[3]!, v2l = s[4]!, v2h = s[5]!, v3l = s[6]!, v3h = s[7]!;
  let t: number;
  for (let r = 0; r < n; r++) {
    // v0 += v1; v1 <<<= 13; v1 ^= v0; v0 <<<= 32
    t = (v0l + v1l) >>> 0;
    v0h = (v0h + v1h + (t < v0l ? 1 : 0)) >>> 0;
    v0l = t;
    t = ((v1l << 13) | (v1h >>> 19)) >>> 0;
    v1h = ((v1h << 13) | (v1l >>> 19)) >>> 0;
    v1l = t;
    v1l ^= v0l;
    v1h ^= v0h;
    t = v0l;
    v0l = v0h;
    v0h = t;
    // v2 += v3; v3 <<<= 16; v3 ^= v2
    t = (v2l + v3l) >>> 0;
    v2h = (v2h + v3h + (t < v2l ? 1 : 0)) >>> 0;
    v2l = t;
    t = ((v3l << 16) | (v3h >>> 16)) >>> 0;
    v3h = ((v3h << 16) | (v3l >>> 16)) >>> 0;
    v3l = t;
    v3l ^= v2l;
    v3h ^= v2h;
    // v0 += v3; v3 <<<= 21; v3 ^= v0
    t = (v0l + v3l) >>> 0;
    v0h = (v0h + v3h + (t < v0l ? 1 : 0)) >>> 0;
    v0l = t;
    t = ((v3l << 21) | (v3h >>> 11)) >>> 0;
    v3h = ((v3h << 21) | (v3l >>> 11)) >>> 0;
    v3l = t;
    v3l ^= v0l;
    v3h ^= v0h;
    // v2 += v1; v1 <<<= 17; v1 ^= v2; v2 <<<= 32
    t = (v2l + v1l) >>> 0;
    v2h = (v2h + v1h + (t < v2l ? 1 : 0)) >>> 0;
    v2l = t;
    t = ((v1l << 17) | (v1h >>> 15)) >>> 0;
    v1h = ((v1h << 17) | (v1l >>> 15)) >>> 0;
    v1l = t;
    v1l ^= v2l;
    v1h ^= v2h;
    t = v2l;
    v2l = v2h;
    v2h = t;
  }
  s[0] = v0l;
  s[1] = v0h;
  s[2] = v1l;
  s[3] = v1h;
  s[4] = v2l;
  s[5] = v2h;
  s[6] = v3l;
  s[7] = v3h;
}

function absorb(lo: number, hi: number): void {
  s[6]! ^= lo;
  s[7]! ^= hi;
  rounds(2);
  s[0]! ^= lo;
  s[1]! ^= hi;
}

function le32(m: Uint8Array, i: number): number {
  return (m[i]! | (m[i + 1]! << 8) | (m[i + 2]! << 16) | (m[i + 3]! << 24)) >>> 0;
}

/** SipHash-2-4 of m[off, off + len) under `k`; the 64-bit result (little-endian, as the
 *  reference implementation outputs it) is written to out[outOff, outOff + 8). */
export function sipHash24(k: SipKey, m: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): void {
  const k0l = k[0]!, k0h = k[1]!, k1l = k[2]!, k1h = k[3]!;
  s[0] = (k0l ^ 0x70736575) >>> 0;
  s[1] = (k0h ^ 0x736f6d65) >>> 0;
  s[2] = (k1l ^ 0x6e646f6d) >>> 0;
  s[3] = (k1h ^ 0x646f7261) >>> 0;
  s[4] = (k0l ^ 0x6e657261) >>> 0;
  s[5] = (k0h ^ 0x6c796765) >>> 0;
  s[6] = (k1l ^ 0x79746573) >>> 0;
  s[7] = (k1h ^ 0x74656462) >>> 0;
  const end = off + len;
  let i = off;
  for (; i + 8 <= end; i += 8) absorb(le32(m, i), le32(m, i + 4));
  // The last block: the remaining 0-7 bytes, the length's low byte on top.
  let lo = 0;
  let hi = (len & 0xff) << 24;
  const rest = end - i;
  for (let j = 0; j < rest; j++) {
    if (j < 4) lo |= m[i + j]! << (8 * j);
    else hi |= m[i + j]! << (8 * (j - 4));
  }
  absorb(lo >>> 0, hi >>> 0);
  s[4]! ^= 0xff;
  rounds(4);
  const rl = (s[0]! ^ s[2]! ^ s[4]! ^ s[6]!) >>> 0;
  const rh = (s[1]! ^ s[3]! ^ s[5]! ^ s[7]!) >>> 0;
  out[outOff] = rl;
  out[outOff + 1] = rl >>> 8;
  out[outOff + 2] = rl >>> 16;
  out[outOff + 3] = rl >>> 24;
  out[outOff + 4] = rh;
  out[outOff + 5] = rh >>> 8;
  out[outOff + 6] = rh >>> 16;
  out[outOff + 7] = rh >>> 24;
}
