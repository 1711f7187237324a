// A fixed-size set of piece indexes stored as BitTorrent's bitfield (BEP 3): bit 7 of
// byte 0 is piece 0. Used by the wire protocol, storage (verified pieces) and the picker.

export class Bitfield {
  readonly length: number;
  readonly bytes: Uint8Array;
  private count: number;

  constructor(length: number, bytes?: Uint8Array) {
    if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`bad bitfield length ${length}`);
    this.length = length;
    const n = (length + 7) >>> 3;
    if (bytes) {
      if (bytes.length !== n) throw new RangeError(`bitfield of ${bytes.length} bytes for ${length} pieces`);
      this.bytes = Uint8Array.from(bytes);
      // Spare bits past `length` are cleared so count() and equality hold.
      if (length & 7) this.bytes[n - 1]! &= (0xff << (8 - (length & 7))) & 0xff;
      this.count = 0;
      for (let i = 0; i < n; i++) this.count += popcount8(this.bytes[i]!);
    } else {
      this.bytes = new Uint8Array(n);
      this.count = 0;
    }
  }

  static full(length: number): Bitfield {
    const b = new Bitfield(length);
    b.bytes.fill(0xff);
    if (length & 7) b.bytes[b.bytes.length - 1] = (0xff << (8 - (length & 7))) & 0xff;
    b.count = length;
    return b;
  }

  /** True when spare bits past `length` in `bytes` are all zero (BEP 3 requires it). */
  static spareBitsClear(length: number, bytes: Uint8Array): boolean {
    if ((length & 7) === 0) return true;
    const last = bytes[bytes.length - 1] ?? 0;
    return (last & (0xff >>> (length & 7))) === 0;
  }

  has(i: number): boolean {
    if (i < 0 || i >= this.length) return false;
    return (this.bytes[i >>> 3]! & (0x80 >>> (i & 7))) !== 0;
  }

  set(i: number): void {
    if (i < 0 || i >= this.length) throw new RangeError(`piece ${i} outside 0..${this.length - 1}`);
    const mask = 0x80 >>> (i & 7);
    const byte = this.bytes[i >>> 3]!;
    if ((byte & mask) === 0) {
      this.bytes[i >>> 3] = byte | mask;
      this.count++;
    }
  }

  clear(i: number): void {
    if (i < 0 || i >= this.length) return;
    const mask = 0x80 >>> (i & 7);
    const byte = this.bytes[i >>> 3]!;
    if ((byte & mask) !== 0) {
      this.bytes[i >>> 3] = byte & ~mask;
      this.count--;
    }
  }

  /** How many pieces are set. */
  cardinality(): number {
    return this.count;
  }

  isFull(): boolean {
    return this.count === this.length;
  }

  isEmpty(): boolean {
    return this.count === 0;
  }

  clone(): Bitfield {
    return new Bitfield(this.length, this.bytes);
  }

  *indexes(): IterableIterator<number> {
    for (let i = 0; i < this.length; i++) if (this.has(i)) yield i;
  }
}

function popcount8(b: number): number {
  b = b - ((b >>> 1) & 0x55);
  b = (b & 0x33) + ((b >>> 2) & 0x33);
  return (b + (b >>> 4)) & 0x0f;
}
