// BEP 15 connection ids without state: the id is a MAC (SipHash-2-4, siphash.ts) of the
// current 2-minute window and the client's compact address (IP and port), so a spoofed
// source (which never sees our reply) cannot produce a valid one, and a restarted tracker
// with the same secret still accepts ids it issued. An id from the previous window is
// accepted too, so an id is valid 2-4 minutes. Computed for every packet: no cache, so no
// table a flood of distinct sources could thrash, and the cost does not depend on how many
// clients there are (a benchmark from two source addresses pays what real traffic pays).
import { createHash, randomBytes } from 'node:crypto';
import { compactPeer } from '../protocol/index.js';
import { UDP_CONNECTION_WINDOW_MS } from './options.js';
import { sipHash24, sipKey, type SipKey } from './siphash.js';

/** Window number (4 bytes) + an IPv6 compact address (18 bytes) at most. */
const MSG_MAX = 4 + 18;

export class ConnectionIds {
  private readonly key: SipKey;
  private readonly windowMs: number;
  /** The MAC's input and output, reused (every call is synchronous). */
  private readonly msg = new Uint8Array(MSG_MAX);
  private readonly mac = new Uint8Array(8);

  /** `secret`: 16 bytes are the SipHash key as is; any other length is hashed (SHA-256) to
   *  one, so a given secret always gives the same ids. */
  constructor(secret: Uint8Array = randomBytes(16), windowMs = UDP_CONNECTION_WINDOW_MS) {
    this.key = sipKey(secret.length === 16 ? secret : createHash('sha256').update(secret).digest());
    this.windowMs = windowMs;
  }

  /** The id of window `w` for the compact address addr[off, off + len) into mac. */
  private compute(w: number, addr: Uint8Array, off: number, len: number): void {
    const m = this.msg;
    m[0] = w;
    m[1] = w >>> 8;
    m[2] = w >>> 16;
    m[3] = w >>> 24;
    for (let i = 0; i < len; i++) m[4 + i] = addr[off + i]!;
    sipHash24(this.key, m, 0, 4 + len, this.mac, 0);
  }

  /** Writes the id for a connect from the compact address addr[off, off + len) (6 or 18
   *  bytes: IP then port) now, to out[outOff, outOff + 8). */
  issueFor(addr: Uint8Array, off: number, len: number, nowMs: number, out: Uint8Array, outOff: number): void {
    this.compute(Math.floor(nowMs / this.windowMs), addr, off, len);
    out.set(this.mac, outOff);
  }

  /** True when id[idOff, idOff + 8) was issued to the compact address addr[off, off + len)
   *  in this or the previous window. */
  verifyFor(id: Uint8Array, idOff: number, addr: Uint8Array, off: number, len: number, nowMs: number): boolean {
    if (id.length < idOff + 8) return false;
    const w = Math.floor(nowMs / this.windowMs);
    this.compute(w, addr, off, len);
    if (equal8(this.mac, id, idOff)) return true;
    this.compute(w - 1, addr, off, len);
    return equal8(this.mac, id, idOff);
  }

  /** The id for a connect from ip:port now (ip as text). */
  issue(ip: string, port: number, nowMs: number): Buffer {
    const a = addrOf(ip, port);
    const out = Buffer.alloc(8);
    this.issueFor(a, 0, a.length, nowMs, out, 0);
    return out;
  }

  /** True when `id` (8 bytes at id[off..]) was issued to ip:port in this or the previous window. */
  verify(id: Uint8Array, off: number, ip: string, port: number, nowMs: number): boolean {
    const a = addrOf(ip, port);
    return this.verifyFor(id, off, a, 0, a.length, nowMs);
  }
}

function addrOf(ip: string, port: number): Buffer {
  const a = compactPeer(ip, port);
  if (!a) throw new RangeError(`not an IP address: ${ip}`);
  return a;
}

/** Constant-time comparison of 8 bytes. */
function equal8(a: Uint8Array, b: Uint8Array, off: number): boolean {
  let d = 0;
  for (let i = 0; i < 8; i++) d |= a[i]! ^ b[off + i]!;
  return d === 0;
}
