import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode, StaErrorLike } from './helpers.js';

const s = (v: Parameters<typeof encode>[0]) => encode(v).toString('latin1');

test('encodes the BEP 3 examples', () => {
  assert.equal(s('spam'), '4:spam');
  assert.equal(s(3), 'i3e');
  assert.equal(s(-3), 'i-3e');
  assert.equal(s(0), 'i0e');
  assert.equal(s(['spam', 'eggs']), 'l4:spam4:eggse');
  assert.equal(s({ cow: 'moo', spam: 'eggs' }), 'd3:cow3:moo4:spam4:eggse');
  assert.equal(s({ spam: ['a', 'b'] }), 'd4:spaml1:a1:bee');
  assert.equal(s(''), '0:');
  assert.equal(s(12345678901234567890n), 'i12345678901234567890e');
});

test('sorts dictionary keys by raw bytes and skips null values', () => {
  assert.equal(s({ b: 1, a: 2, '10': 3, '9': 4, n: null, u: undefined }), 'd2:10i3e1:9i4e1:ai2e1:bi1ee');
  assert.equal(s(new Map([['z', 1], ['a', 2]])), 'd1:ai2e1:zi1ee');
});

test('encodes strings as UTF-8 byte strings', () => {
  assert.equal(encode('é').toString('hex'), Buffer.from('2:é', 'utf8').toString('hex'));
});

test('refuses what bencode cannot hold', () => {
  assert.throws(() => encode(1.5), StaErrorLike('BENCODE_NOT_INTEGER'));
  assert.throws(() => encode(true as never), StaErrorLike('BENCODE_UNSUPPORTED'));
});

test('grows its buffer past the size hint', () => {
  const big = Buffer.alloc(100_000, 7);
  const out = encode([big, big], 16);
  assert.equal(out.length, 2 * (6 + 1 + 100_000) + 2);
});

test('refuses a value that contains itself with a typed error', () => {
  const a: unknown[] = [];
  a.push(a);
  assert.throws(() => encode(a as never), StaErrorLike('BENCODE_TOO_DEEP'));
  const d: Record<string, unknown> = {};
  d['self'] = d;
  assert.throws(() => encode(d as never), StaErrorLike('BENCODE_TOO_DEEP'));
});
