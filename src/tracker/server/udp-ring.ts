// A single-producer single-consumer queue of UDP datagrams in a SharedArrayBuffer: how a
// UDP reader thread hands the packets that need the swarm store (verified announces and
// scrapes) to the thread that owns the store, without a postMessage, a copy into the
// other heap, or an object per packet. Entries are variable-length records in a byte ring;
// head and tail are free-running 32-bit byte counters (the writer owns head, the reader
// tail), published with Atomics so the reader never sees a half-written record. A full
// ring refuses the packet (the writer drops it, as a full socket buffer would; the client
// retries, BEP 15). The reader sleeps in Atomics.waitAsync on a sequence word the writer
// bumps and notifies after each record.

const HEAD = 0;
const TAIL = 1;
const SEQ = 2;
const DROPPED = 3;
/** 1 while the reader's thread is known to be running JavaScript that will drain the ring
 *  before it sleeps (udp-threads.ts): the writer then skips the wake-up. */
const BUSY = 4;
const CONTROL_BYTES = 64;
/** Record header: u16 record length (0 = wrap marker), u8 src length, u8 address length,
 *  u16 source port, u16 packet length. */
const HEADER = 8;
/** Longest address text (an IPv6 literal with a zone is shorter than this). */
export const MAX_ADDRESS_TEXT = 64;
/** Longest packet a record holds (BEP 15 scrapes are far shorter). */
export const MAX_RING_PACKET = 4096;

/** Atomics.waitAsync (ES2024; in Node since 16), typed here for the ES2022 lib. */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(a: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

export interface UdpRing {
  readonly sab: SharedArrayBuffer;
}

/** A ring of `capacity` bytes (a power of two, at least 16 KiB). */
export function createUdpRing(capacity = 1 << 20): UdpRing {
  if (capacity < 1 << 14 || (capacity & (capacity - 1)) !== 0) throw new RangeError(`ring capacity must be a power of two >= 16384, got ${capacity}`);
  return { sab: new SharedArrayBuffer(CONTROL_BYTES + capacity) };
}

function views(sab: SharedArrayBuffer): { ctl: Int32Array; data: Buffer; cap: number } {
  const cap = sab.byteLength - CONTROL_BYTES;
  if (cap < 1 << 14 || (cap & (cap - 1)) !== 0) throw new RangeError('not a UDP ring');
  return { ctl: new Int32Array(sab, 0, CONTROL_BYTES / 4), data: Buffer.from(sab, CONTROL_BYTES, cap), cap };
}

export class UdpRingWriter {
  private readonly ctl: Int32Array;
  private readonly data: Buffer;
  private readonly cap: number;
  private head: number;

  constructor(sab: SharedArrayBuffer) {
    ({ ctl: this.ctl, data: this.data, cap: this.cap } = views(sab));
    this.head = Atomics.load(this.ctl, HEAD) >>> 0;
  }

  /** Queues a packet from `address`:`port` whose compact address is `src`; false (and
   *  counted as dropped) when the ring is full or the record cannot be held. */
  push(packet: Uint8Array, src: Uint8Array, address: string, port: number): boolean {
    const alen = address.length;
    if (packet.length > MAX_RING_PACKET || alen > MAX_ADDRESS_TEXT || src.length > 255) {
      Atomics.add(this.ctl, DROPPED, 1);
      return false;
    }
    const len = (HEADER + src.length + alen + packet.length + 3) & ~3;
    const cap = this.cap;
    let pos = this.head & (cap - 1);
    const toEnd = cap - pos;
    const used = (this.head - (Atomics.load(this.ctl, TAIL) >>> 0)) >>> 0;
    // A record never wraps: when it does not fit before the end, a marker skips the rest.
    const need = len <= toEnd ? len : len + toEnd;
    if (used + need > cap) {
      Atomics.add(this.ctl, DROPPED, 1);
      return false;
    }
    const d = this.data;
    if (len > toEnd) {
      d.writeUInt16LE(0, pos);
      this.head = (this.head + toEnd) >>> 0;
      pos = 0;
    }
    d.writeUInt16LE(len, pos);
    d[pos + 2] = src.length;
    d[pos + 3] = alen;
    d.writeUInt16LE(port, pos + 4);
    d.writeUInt16LE(packet.length, pos + 6);
    let o = pos + HEADER;
    d.set(src, o);
    o += src.length;
    d.write(address, o, alen, 'latin1');
    o += alen;
    d.set(packet, o);
    this.head = (this.head + len) >>> 0;
    Atomics.store(this.ctl, HEAD, this.head | 0);
    Atomics.add(this.ctl, SEQ, 1);
    // A wake-up is a task posted to the reader's event loop: skipped while the reader is
    // busy, as it drains before it sleeps (see UdpRingReader.idle for the race).
    if (Atomics.load(this.ctl, BUSY) === 0) Atomics.notify(this.ctl, SEQ, 1);
    return true;
  }
}

export type RingHandler = (packet: Buffer, src: Buffer, address: string, port: number) => void;

export class UdpRingReader {
  private readonly ctl: Int32Array;
  private readonly data: Buffer;
  private readonly cap: number;
  private tail: number;
  private stopped = false;
  /** Records handed to a handler so far. */
  drained = 0;

  constructor(sab: SharedArrayBuffer) {
    ({ ctl: this.ctl, data: this.data, cap: this.cap } = views(sab));
    this.tail = Atomics.load(this.ctl, TAIL) >>> 0;
  }

  /** Packets the writer refused because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.ctl, DROPPED) >>> 0;
  }

  /** Hands every queued record to `fn` (views into the ring, valid only during the call),
   *  then frees them; returns how many. `fn` must not throw. */
  drain(fn: RingHandler): number {
    const d = this.data;
    const cap = this.cap;
    const head = Atomics.load(this.ctl, HEAD) >>> 0;
    let n = 0;
    while (this.tail !== head) {
      const pos = this.tail & (cap - 1);
      const len = d.readUInt16LE(pos);
      if (len === 0) {
        this.tail = (this.tail + (cap - pos)) >>> 0;
        continue;
      }
      const slen = d[pos + 2]!;
      const alen = d[pos + 3]!;
      const port = d.readUInt16LE(pos + 4);
      const plen = d.readUInt16LE(pos + 6);
      let o = pos + HEADER;
      const src = d.subarray(o, o + slen);
      o += slen;
      const address = d.toString('latin1', o, o + alen);
      o += alen;
      fn(d.subarray(o, o + plen), src, address, port);
      this.tail = (this.tail + len) >>> 0;
      n++;
    }
    Atomics.store(this.ctl, TAIL, this.tail | 0);
    this.drained += n;
    return n;
  }

  /** True when records are waiting. */
  get pending(): boolean {
    return (Atomics.load(this.ctl, HEAD) >>> 0) !== this.tail;
  }

  /** The reader's thread is busy and will call idle() before it sleeps: until then the
   *  writer does not wake it. */
  busy(): void {
    Atomics.store(this.ctl, BUSY, 1);
  }

  /** The reader's thread is about to sleep: wake-ups are needed again. Records pushed
   *  while it was busy are drained here: a writer that saw BUSY = 1 skipped its notify
   *  but stored HEAD first, so either it sees BUSY = 0 and notifies, or this load of
   *  HEAD after the store of BUSY = 0 sees its record (the Atomics are sequentially
   *  consistent). */
  idle(fn: RingHandler): void {
    Atomics.store(this.ctl, BUSY, 0);
    if (this.pending) this.drain(fn);
  }

  /** Drains with `fn` now and whenever the writer adds records, until stop(). */
  run(fn: RingHandler): void {
    const loop = (): void => {
      while (!this.stopped) {
        const seq = Atomics.load(this.ctl, SEQ);
        this.drain(fn);
        const w = waitAsync(this.ctl, SEQ, seq);
        if (!w.async) continue; // records came in meanwhile
        void w.value.then(loop);
        return;
      }
    };
    loop();
  }

  /** Stops run(): a pending wait resolves on the next record, or is woken here. */
  stop(): void {
    this.stopped = true;
    Atomics.add(this.ctl, SEQ, 1);
    Atomics.notify(this.ctl, SEQ);
  }
}
