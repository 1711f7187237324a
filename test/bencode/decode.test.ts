import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, decodeWithSpans, decodePrefix, encode, BencodeError, type BDict } from '../../src/bencode/index.js';

const b = (s: string) => Buffer.from(s, 'latin1');

function refuses(input: string | Uint8Array, code: string, offset?: number, opts = {}) {
  assert.throws(
    () => decode(typeof input === 'string' ? b(input) : input, opts),
    (e: unknown) => {
      assert.ok(e instanceof BencodeError, `expected BencodeError, got ${String(e)}`);
      assert.equal(e.code, code);
      if (offset !== undefined) assert.equal(e.offset, offset);
      assert.match(e.message, /at byte \d+/);
      return true;
    },
  );
}

test('decodes the BEP 3 examples', () => {
  assert.deepEqual(decode(b('4:spam')), b('spam'));
  assert.equal(decode(b('i3e')), 3);
  assert.equal(decode(b('i-3e')), -3);
  assert.equal(decode(b('i0e')), 0);
  assert.deepEqual(decode(b('l4:spam4:eggse')), [b('spam'), b('eggs')]);
  const d = decode(b('d3:cow3:moo4:spam4:eggse')) as BDict;
  assert.deepEqual({ ...d }, { cow: b('moo'), spam: b('eggs') });
  const d2 = decode(b('d4:spaml1:a1:bee')) as BDict;
  assert.deepEqual(d2['spam'], [b('a'), b('b')]);
  assert.deepEqual(decode(b('0:')), b(''));
  assert.deepEqual({ ...(decode(b('de')) as BDict) }, {});
  assert.deepEqual(decode(b('le')), []);
});

test('decodes integers past 2^53 exactly as bigint', () => {
  assert.equal(decode(b('i9007199254740991e')), 9007199254740991);
  assert.equal(decode(b('i9007199254740992e')), 9007199254740992n);
  assert.equal(decode(b('i-123456789012345678901234567890e')), -123456789012345678901234567890n);
});

test('refuses integers with leading zeros, -0, no digits or junk', () => {
  refuses('i03e', 'BENCODE_LEADING_ZERO', 0);
  refuses('i-0e', 'BENCODE_NEGATIVE_ZERO', 0);
  refuses('i-03e', 'BENCODE_LEADING_ZERO', 0);
  refuses('ie', 'BENCODE_INVALID_INT', 0);
  refuses('i-e', 'BENCODE_INVALID_INT', 0);
  refuses('i1.5e', 'BENCODE_INVALID_INT', 2);
  refuses('i12', 'BENCODE_TRUNCATED', 0);
});

test('refuses bad string lengths', () => {
  refuses('5:spam', 'BENCODE_BAD_LENGTH', 0);
  refuses('04:spam', 'BENCODE_LEADING_ZERO', 0);
  refuses('4spam', 'BENCODE_BAD_LENGTH', 1);
  refuses('99999999999999999999:x', 'BENCODE_BAD_LENGTH', 0);
  refuses('12', 'BENCODE_TRUNCATED', 0);
});

test('refuses truncation, trailing bytes and unknown bytes', () => {
  refuses('', 'BENCODE_TRUNCATED', 0);
  refuses('l4:spam', 'BENCODE_TRUNCATED', 7);
  refuses('d3:cow3:moo', 'BENCODE_TRUNCATED', 11);
  refuses('d3:cowe', 'BENCODE_UNEXPECTED_BYTE', 6);
  refuses('i1ei2e', 'BENCODE_TRAILING_BYTES', 3);
  refuses('x', 'BENCODE_UNEXPECTED_BYTE', 0);
  refuses('di1e3:fooe', 'BENCODE_BAD_KEY', 1);
});

test('refuses duplicate keys always and unsorted keys in strict mode', () => {
  refuses('d1:ai1e1:ai2ee', 'BENCODE_DUPLICATE_KEY', 7);
  refuses('d1:bi1e1:ai2e1:bi3ee', 'BENCODE_DUPLICATE_KEY', 13);
  refuses('d1:bi1e1:ai2ee', 'BENCODE_UNSORTED_KEYS', 7, { strict: true });
  const lenient = decode(b('d1:bi1e1:ai2ee')) as BDict;
  assert.equal(lenient['a'], 2);
  assert.equal(lenient['b'], 1);
});

test('compares keys as raw bytes', () => {
  // 0xff sorts after 'z' as a byte; as UTF-8 text it would be a replacement character.
  const buf = Buffer.concat([b('d1:zi1e1:'), Buffer.from([0xff]), b('i2ee')]);
  const d = decode(buf, { strict: true }) as BDict;
  assert.equal(d['\u00ff'], 2);
  assert.deepEqual(encode(d), buf);
});

test('bounds nesting depth and item count without overflowing the stack', () => {
  refuses('l'.repeat(101) + 'e'.repeat(101), 'BENCODE_TOO_DEEP', 100);
  assert.deepEqual(decode(b('l'.repeat(100) + 'e'.repeat(100))).constructor, Array);
  refuses('l'.repeat(1_000_000), 'BENCODE_TOO_DEEP');
  refuses('l' + 'i1e'.repeat(11) + 'e', 'BENCODE_TOO_MANY_ITEMS', undefined, { maxItems: 10 });
});

test('gives the exact byte span of nested values', () => {
  const input = b('d8:announce3:url4:infod6:lengthi5e4:name1:xe3:zzzi0ee');
  const { value, spans } = decodeWithSpans(input, { strict: true });
  const info = (value as BDict)['info'] as BDict;
  const span = spans.get(info)!;
  assert.equal(input.subarray(span.start, span.end).toString('latin1'), 'd6:lengthi5e4:name1:xe');
  const name = info['name'] as Uint8Array;
  const ns = spans.get(name)!;
  assert.equal(input.subarray(ns.start, ns.end).toString('latin1'), '1:x');
});

test('decodePrefix stops after the first value', () => {
  const { value, end } = decodePrefix(b('d8:msg_typei1e5:piecei0eeRAWDATA'));
  assert.equal((value as BDict)['msg_type'], 1);
  assert.equal(end, 25);
});

test('refuses an integer with more digits than any real use, quickly', () => {
  refuses('i' + '9'.repeat(65) + 'e', 'BENCODE_INT_TOO_LONG', 0);
  const t = performance.now();
  refuses('i' + '9'.repeat(10_000_000) + 'e', 'BENCODE_INT_TOO_LONG', 0);
  assert.ok(performance.now() - t < 1000);
  assert.equal(decode(b('i' + '1'.repeat(64) + 'e')), BigInt('1'.repeat(64)));
});
