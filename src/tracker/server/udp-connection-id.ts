// BEP 15 connection ids without state: the id is a MAC of the client's address, port and
// the current 2-minute window, so a spoofed source (which never sees our reply) cannot
// produce a valid one, and a restarted tracker with the same secret still accepts ids it
// issued. An id from the previous window is accepted too, so an id is valid 2-4 minutes.
import { createHmac, randomBytes } from 'node:crypto';
import { UDP_CONNECTION_WINDOW_MS } from './options.js';

/** Cached ids per window: HMAC costs ~1-2 us, a map lookup far less. Bounded: a flood of
 *  distinct sources just clears the cache. */
const MAX_CACHED = 65_536;

export class ConnectionIds {
  private readonly secret: Uint8Array;
  private readonly windowMs: number;
  private window = -1;
  private current = new Map<string, Buffer>();
  private previous = new Map<string, Buffer>();

  constructor(secret: Uint8Array = randomBytes(32), windowMs = UDP_CONNECTION_WINDOW_MS) {
    this.secret = secret;
    this.windowMs = windowMs;
  }

  private mac(window: number, key: string): Buffer {
    return createHmac('sha256', this.secret).update(`${window}|${key}`).digest().subarray(0, 8);
  }

  private roll(nowMs: number): number {
    const w = Math.floor(nowMs / this.windowMs);
    if (w !== this.window) {
      this.previous = w === this.window + 1 ? this.current : new Map();
      this.current = new Map();
      this.window = w;
    }
    return w;
  }

  private idFor(map: Map<string, Buffer>, window: number, key: string): Buffer {
    let id = map.get(key);
    if (!id) {
      id = this.mac(window, key);
      if (map.size >= MAX_CACHED) map.clear();
      map.set(key, id);
    }
    return id;
  }

  /** The id for a connect from ip:port now. */
  issue(ip: string, port: number, nowMs: number): Buffer {
    const w = this.roll(nowMs);
    return this.idFor(this.current, w, `${ip}|${port}`);
  }

  /** True when `id` (8 bytes at id[off..]) was issued to ip:port in this or the previous window. */
  verify(id: Uint8Array, off: number, ip: string, port: number, nowMs: number): boolean {
    const w = this.roll(nowMs);
    const key = `${ip}|${port}`;
    if (equal8(this.idFor(this.current, w, key), id, off)) return true;
    return equal8(this.idFor(this.previous, w - 1, key), id, off);
  }
}

function equal8(a: Uint8Array, b: Uint8Array, off: number): boolean {
  if (b.length < off + 8) return false;
  let d = 0;
  for (let i = 0; i < 8; i++) d |= a[i]! ^ b[off + i]!;
  return d === 0;
}
