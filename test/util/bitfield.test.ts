import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bitfield } from '../../src/util/index.js';

test('bit 7 of byte 0 is piece 0 (BEP 3)', () => {
  const b = new Bitfield(10);
  b.set(0);
  b.set(9);
  assert.deepEqual([...b.bytes], [0x80, 0x40]);
  assert.equal(b.cardinality(), 2);
  assert.ok(b.has(0) && b.has(9) && !b.has(1));
  assert.deepEqual([...b.indexes()], [0, 9]);
});

test('counts each piece once and clears', () => {
  const b = new Bitfield(3);
  b.set(1);
  b.set(1);
  assert.equal(b.cardinality(), 1);
  b.clear(1);
  b.clear(1);
  assert.equal(b.cardinality(), 0);
  assert.ok(b.isEmpty());
});

test('full() leaves spare bits zero', () => {
  const b = Bitfield.full(10);
  assert.deepEqual([...b.bytes], [0xff, 0xc0]);
  assert.ok(b.isFull());
  assert.equal(Bitfield.spareBitsClear(10, b.bytes), true);
  assert.equal(Bitfield.spareBitsClear(10, Uint8Array.from([0xff, 0xe0])), false);
  assert.equal(Bitfield.spareBitsClear(16, Uint8Array.from([0xff, 0xff])), true);
});

test('from bytes: clears spare bits, refuses a wrong size, copies its input', () => {
  const src = Uint8Array.from([0xff, 0xff]);
  const b = new Bitfield(10, src);
  assert.equal(b.cardinality(), 10);
  assert.deepEqual([...b.bytes], [0xff, 0xc0]);
  src[0] = 0;
  assert.ok(b.has(0));
  assert.throws(() => new Bitfield(10, new Uint8Array(3)), RangeError);
});

test('refuses out-of-range set and answers false for out-of-range has', () => {
  const b = new Bitfield(8);
  assert.throws(() => b.set(8), RangeError);
  assert.throws(() => b.set(-1), RangeError);
  assert.equal(b.has(8), false);
  assert.equal(b.has(-1), false);
});
