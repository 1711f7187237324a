// Property tests: canonical input round-trips exactly; random and mutated bytes only
// ever give BencodeError (never another exception, a hang or a stack overflow).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decode, encode, BencodeError, type Encodable } from '../../src/bencode/index.js';

const { value: arbValue } = fc.letrec<{ value: Encodable }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer(),
    fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8, unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)) }), tie('value'), { maxKeys: 5 }),
  ),
}));

test('encode(decode(x)) equals x for canonical input', () => {
  fc.assert(
    fc.property(arbValue, (v) => {
      const bytes = encode(v);
      const back = encode(decode(bytes, { strict: true }) as Encodable);
      assert.deepEqual(back, bytes);
    }),
    { numRuns: 2000 },
  );
});

function onlyBencodeErrors(bytes: Uint8Array) {
  try {
    decode(bytes, { strict: true });
  } catch (e) {
    if (!(e instanceof BencodeError)) throw e;
    assert.ok(e.offset >= 0 && e.offset <= bytes.length);
  }
}

test('random bytes only ever give BencodeError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), onlyBencodeErrors), { numRuns: 5000 });
  const alphabet = fc.constantFrom(...'ilde0123456789:-'.split('').map((c) => c.charCodeAt(0)));
  fc.assert(fc.property(fc.array(alphabet, { maxLength: 300 }), (a) => onlyBencodeErrors(Uint8Array.from(a))), { numRuns: 5000 });
});

test('mutated valid encodings only ever give a value or BencodeError', () => {
  fc.assert(
    fc.property(arbValue, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (v, at, byte, cut) => {
      const bytes = Buffer.from(encode(v));
      if (bytes.length === 0) return;
      bytes[at % bytes.length] = byte;
      onlyBencodeErrors(bytes);
      onlyBencodeErrors(bytes.subarray(0, cut % bytes.length));
    }),
    { numRuns: 3000 },
  );
});
