// Bencode encoding (BEP 3): canonical output, dictionary keys sorted by raw bytes.
// One growing buffer, written with offsets; no intermediate arrays of chunks.

import { StaError } from '../util/index.js';
import type { Encodable } from './types.js';

const I = 0x69;
const L = 0x6c;
const D = 0x64;
const E = 0x65;
const COLON = 0x3a;

/** Deeper than any decodable value (decode allows 100); stops a value that contains itself
 *  with a typed error instead of a stack overflow. */
export const MAX_ENCODE_DEPTH = 1000;

class Encoder {
  buf: Buffer;
  pos = 0;
  depth = 0;

  constructor(sizeHint: number) {
    this.buf = Buffer.allocUnsafe(sizeHint);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  ascii(s: string): void {
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  bytes(b: Uint8Array): void {
    this.ascii(String(b.length));
    this.ensure(b.length + 1);
    this.buf[this.pos++] = COLON;
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  string(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.ascii(String(n));
    this.ensure(n + 1);
    this.buf[this.pos++] = COLON;
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  value(v: Encodable | undefined | null): void {
    if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) {
      if (++this.depth > MAX_ENCODE_DEPTH) throw new StaError('BENCODE_TOO_DEEP', `cannot bencode a value nested deeper than ${MAX_ENCODE_DEPTH} (a cycle?)`);
      this.container(v);
      this.depth--;
      return;
    }
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new StaError('BENCODE_NOT_INTEGER', `cannot bencode ${v}: only safe integers`);
      this.byte(I);
      this.ascii(String(v));
      this.byte(E);
    } else if (typeof v === 'bigint') {
      this.byte(I);
      this.ascii(v.toString());
      this.byte(E);
    } else if (typeof v === 'string') {
      this.string(v);
    } else if (v instanceof Uint8Array) {
      this.bytes(v);
    } else {
      throw new StaError('BENCODE_UNSUPPORTED', `cannot bencode a value of type ${v === null ? 'null' : typeof v}`);
    }
  }

  container(v: object): void {
    if (Array.isArray(v)) {
      this.byte(L);
      for (const x of v as readonly Encodable[]) this.value(x);
      this.byte(E);
    } else if (v instanceof Map) {
      this.dict([...(v as ReadonlyMap<string | Uint8Array, Encodable>).entries()]);
    } else {
      this.dict(Object.entries(v));
    }
  }

  dict(entries: [string | Uint8Array, Encodable | undefined | null][]): void {
    const keyed: { key: Buffer; value: Encodable }[] = [];
    for (const [k, v] of entries) {
      if (v === undefined || v === null) continue;
      keyed.push({ key: keyBytes(k), value: v });
    }
    keyed.sort((a, b) => Buffer.compare(a.key, b.key));
    this.byte(D);
    for (let i = 0; i < keyed.length; i++) {
      const e = keyed[i]!;
      if (i > 0 && keyed[i - 1]!.key.equals(e.key)) {
        throw new StaError('BENCODE_DUPLICATE_KEY', `duplicate dictionary key ${e.key.toString('latin1')}`);
      }
      this.bytes(e.key);
      this.value(e.value);
    }
    this.byte(E);
  }
}

/** Keys from decode are binary (latin1) strings; a key with characters past U+00FF can
 *  only be text, so it is taken as UTF-8. */
function keyBytes(k: string | Uint8Array): Buffer {
  if (typeof k !== 'string') return Buffer.from(k);
  for (let i = 0; i < k.length; i++) if (k.charCodeAt(i) > 0xff) return Buffer.from(k, 'utf8');
  return Buffer.from(k, 'latin1');
}

/** Encodes a value to its canonical bencoding. */
export function encode(v: Encodable, sizeHint = 256): Buffer {
  const e = new Encoder(sizeHint);
  e.value(v);
  return e.buf.subarray(0, e.pos);
}
