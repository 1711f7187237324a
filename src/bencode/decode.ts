// Bencode decoding (BEP 3): strict, bounded, and able to report the exact byte span
// of any value so a hash (the info hash) can be taken over the original bytes.

import { BencodeError } from './errors.js';
import type { BDict, BList, BValue } from './types.js';

/** libtorrent's bdecode uses the same depth bound: deep enough for any real
 *  metainfo or DHT message, shallow enough that recursion can never overflow. */
export const DEFAULT_MAX_DEPTH = 100;
/** libtorrent's token limit: a 100k-file torrent has ~600k items. */
export const DEFAULT_MAX_ITEMS = 2_000_000;
/** Digits of an integer: 2^64 has 20; 64 leaves room for any real use while keeping the
 *  exact (BigInt) path linear: a million-digit integer would take seconds to convert. */
export const MAX_INTEGER_DIGITS = 64;

export interface DecodeOptions {
  /** Refuse dictionaries whose keys are not sorted by raw bytes (BEP 3 canonical form).
   *  Duplicate keys are refused in every mode. */
  strict?: boolean;
  maxDepth?: number;
  maxItems?: number;
}

export interface Span {
  /** Offset of the value's first byte. */
  start: number;
  /** Offset one past its last byte. */
  end: number;
}

const I = 0x69; // 'i'
const L = 0x6c; // 'l'
const D = 0x64; // 'd'
const E = 0x65; // 'e'
const COLON = 0x3a;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

class Decoder {
  pos = 0;
  items = 0;
  readonly spans: Map<object, Span> | undefined;

  constructor(
    readonly buf: Uint8Array,
    readonly strict: boolean,
    readonly maxDepth: number,
    readonly maxItems: number,
    withSpans: boolean,
  ) {
    // A Map: several times cheaper than a WeakMap for hundreds of thousands of keys.
    this.spans = withSpans ? new Map() : undefined;
  }

  fail(code: string, message: string, offset = this.pos): never {
    throw new BencodeError(code, message, offset);
  }

  value(depth: number): BValue {
    if (++this.items > this.maxItems) this.fail('BENCODE_TOO_MANY_ITEMS', `more than ${this.maxItems} items`);
    const buf = this.buf;
    if (this.pos >= buf.length) this.fail('BENCODE_TRUNCATED', 'unexpected end of input');
    const c = buf[this.pos]!;
    if (c === I) return this.integer();
    if (c >= ZERO && c <= NINE) {
      const start = this.pos;
      const b = this.bytes();
      if (this.spans) this.spans.set(b, { start, end: this.pos });
      return b;
    }
    if (c === L || c === D) {
      if (depth >= this.maxDepth) this.fail('BENCODE_TOO_DEEP', `nesting deeper than ${this.maxDepth}`);
      const start = this.pos;
      const v = c === L ? this.list(depth + 1) : this.dict(depth + 1);
      if (this.spans) this.spans.set(v, { start, end: this.pos });
      return v;
    }
    return this.fail('BENCODE_UNEXPECTED_BYTE', `unexpected byte 0x${c.toString(16).padStart(2, '0')}`);
  }

  integer(): number | bigint {
    const buf = this.buf;
    const start = this.pos++;
    let neg = false;
    if (buf[this.pos] === MINUS) {
      neg = true;
      this.pos++;
    }
    const digitsStart = this.pos;
    let n = 0;
    while (this.pos < buf.length) {
      const c = buf[this.pos]!;
      if (c < ZERO || c > NINE) break;
      n = n * 10 + (c - ZERO);
      this.pos++;
      if (this.pos - digitsStart > MAX_INTEGER_DIGITS) this.fail('BENCODE_INT_TOO_LONG', `integer longer than ${MAX_INTEGER_DIGITS} digits`, start);
    }
    const digits = this.pos - digitsStart;
    if (this.pos >= buf.length) this.fail('BENCODE_TRUNCATED', 'unterminated integer', start);
    if (buf[this.pos] !== E) this.fail('BENCODE_INVALID_INT', 'invalid character in integer');
    if (digits === 0) this.fail('BENCODE_INVALID_INT', 'integer without digits', start);
    if (digits > 1 && buf[digitsStart] === ZERO) this.fail('BENCODE_LEADING_ZERO', 'integer with a leading zero', start);
    if (neg && digits === 1 && buf[digitsStart] === ZERO) this.fail('BENCODE_NEGATIVE_ZERO', 'integer -0', start);
    this.pos++; // 'e'
    if (digits > 15) {
      // Past 15 digits a double may have rounded: take the exact value.
      let text = '';
      for (let i = digitsStart; i < digitsStart + digits; i++) text += String.fromCharCode(buf[i]!);
      const big = BigInt(text);
      const v = neg ? -big : big;
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    return neg ? -n : n;
  }

  /** A byte-string length prefix: digits, no leading zero, then ':'. */
  length(): number {
    const buf = this.buf;
    const start = this.pos;
    let n = 0;
    while (this.pos < buf.length) {
      const c = buf[this.pos]!;
      if (c < ZERO || c > NINE) break;
      n = n * 10 + (c - ZERO);
      this.pos++;
      // A length longer than the input is refused below; stop before the number loses precision.
      if (n > Number.MAX_SAFE_INTEGER / 10) this.fail('BENCODE_BAD_LENGTH', 'string length past the end of input', start);
    }
    if (this.pos >= buf.length) this.fail('BENCODE_TRUNCATED', 'unterminated string length', start);
    if (buf[this.pos] !== COLON) this.fail('BENCODE_BAD_LENGTH', "string length not followed by ':'");
    if (this.pos - start > 1 && buf[start] === ZERO) this.fail('BENCODE_LEADING_ZERO', 'string length with a leading zero', start);
    this.pos++;
    if (n > buf.length - this.pos) this.fail('BENCODE_BAD_LENGTH', `string of ${n} bytes runs past the end of input`, start);
    return n;
  }

  bytes(): Uint8Array {
    const n = this.length();
    const start = this.pos;
    this.pos += n;
    return this.buf.subarray(start, this.pos);
  }

  /** Dictionary keys are kept as binary (latin1) strings, so comparing them compares raw bytes. */
  key(): string {
    const n = this.length();
    const buf = this.buf;
    const start = this.pos;
    this.pos += n;
    if (n < 64) {
      let s = '';
      for (let i = start; i < start + n; i++) s += String.fromCharCode(buf[i]!);
      return s;
    }
    return Buffer.from(buf.buffer, buf.byteOffset + start, n).toString('latin1');
  }

  list(depth: number): BList {
    this.pos++; // 'l'
    const out: BValue[] = [];
    const buf = this.buf;
    for (;;) {
      if (this.pos >= buf.length) this.fail('BENCODE_TRUNCATED', 'unterminated list');
      if (buf[this.pos] === E) {
        this.pos++;
        return out;
      }
      out.push(this.value(depth));
    }
  }

  dict(depth: number): BDict {
    this.pos++; // 'd'
    const out: BDict = Object.create(null) as BDict;
    const buf = this.buf;
    let prev: string | undefined;
    for (;;) {
      if (this.pos >= buf.length) this.fail('BENCODE_TRUNCATED', 'unterminated dictionary');
      if (buf[this.pos] === E) {
        this.pos++;
        return out;
      }
      const keyAt = this.pos;
      const c = buf[keyAt]!;
      if (c < ZERO || c > NINE) this.fail('BENCODE_BAD_KEY', 'dictionary key is not a byte string');
      if (++this.items > this.maxItems) this.fail('BENCODE_TOO_MANY_ITEMS', `more than ${this.maxItems} items`);
      const k = this.key();
      if (prev !== undefined && k <= prev) {
        if (k === prev) this.fail('BENCODE_DUPLICATE_KEY', `duplicate dictionary key ${JSON.stringify(k)}`, keyAt);
        if (this.strict) this.fail('BENCODE_UNSORTED_KEYS', `dictionary key ${JSON.stringify(k)} out of order`, keyAt);
      }
      // Sorted keys cannot repeat unless adjacent; unsorted ones (lenient mode) need a look-up.
      if (!this.strict && k in out) this.fail('BENCODE_DUPLICATE_KEY', `duplicate dictionary key ${JSON.stringify(k)}`, keyAt);
      prev = k;
      out[k] = this.value(depth);
    }
  }
}

function run(buf: Uint8Array, opts: DecodeOptions, withSpans: boolean): { value: BValue; spans: Map<object, Span> | undefined } {
  const d = new Decoder(buf, opts.strict ?? false, opts.maxDepth ?? DEFAULT_MAX_DEPTH, opts.maxItems ?? DEFAULT_MAX_ITEMS, withSpans);
  const value = d.value(0);
  if (d.pos !== buf.length) d.fail('BENCODE_TRAILING_BYTES', `${buf.length - d.pos} trailing bytes after the value`);
  return { value, spans: d.spans };
}

/**
 * Decodes exactly one bencoded value filling all of `buf`. Byte strings are views into
 * `buf` (no copy); dictionaries are null-prototype objects keyed by binary strings.
 * Throws BencodeError (with the byte offset) on anything that is not valid bencode.
 */
export function decode(buf: Uint8Array, opts: DecodeOptions = {}): BValue {
  return run(buf, opts, false).value;
}

/** Like decode, and also the byte span of every list, dictionary and byte string. */
export function decodeWithSpans(buf: Uint8Array, opts: DecodeOptions = {}): { value: BValue; spans: ReadonlyMap<object, Span> } {
  const r = run(buf, opts, true);
  return { value: r.value, spans: r.spans! };
}

/**
 * Decodes the first value of `buf` and returns it with the offset just past it, for
 * protocols where a bencoded dictionary is followed by raw bytes (BEP 9 metadata pieces).
 */
export function decodePrefix(buf: Uint8Array, opts: DecodeOptions = {}): { value: BValue; end: number } {
  const d = new Decoder(buf, opts.strict ?? false, opts.maxDepth ?? DEFAULT_MAX_DEPTH, opts.maxItems ?? DEFAULT_MAX_ITEMS, false);
  const value = d.value(0);
  return { value, end: d.pos };
}
