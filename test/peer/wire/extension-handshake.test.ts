import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeExtensionHandshake, encodeExtensionHandshake, WireError, MAX_REQQ } from '../../../src/peer/wire/index.js';

test('round-trips a BEP 10 handshake', () => {
  const b = encodeExtensionHandshake({ m: { ut_metadata: 3, ut_pex: 1 }, v: 'sta 0.1.0', p: 6881, reqq: 500, yourip: Buffer.from([127, 0, 0, 1]), metadataSize: 31235 });
  assert.equal(
    b.toString('latin1'),
    'd1:md11:ut_metadatai3e6:ut_pexi1ee13:metadata_sizei31235e1:pi6881e4:reqqi500e1:v9:sta 0.1.06:yourip4:\x7f\x00\x00\x01e',
  );
  const h = decodeExtensionHandshake(b);
  assert.deepEqual([...h.m], [['ut_metadata', 3], ['ut_pex', 1]]);
  assert.equal(h.v, 'sta 0.1.0');
  assert.equal(h.p, 6881);
  assert.equal(h.reqq, 500);
  assert.deepEqual(h.yourip, Buffer.from([127, 0, 0, 1]));
  assert.equal(h.metadataSize, 31235);
});

test('decodes what real clients send, unsorted keys and unknown fields included', () => {
  // Shape of a Transmission 3.00 handshake.
  const raw = 'd1:ei1e4:ipv616:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x011:md6:ut_pexi1e11:ut_metadatai3ee13:metadata_sizei5000e1:pi51413e4:reqqi512e11:upload_onlyi1e1:v17:Transmission 3.00e';
  const h = decodeExtensionHandshake(Buffer.from(raw, 'latin1'));
  assert.equal(h.m.get('ut_metadata'), 3);
  assert.equal(h.uploadOnly, true);
  assert.equal(h.v, 'Transmission 3.00');
});

test('ignores fields of the wrong type and clamps reqq', () => {
  const h = decodeExtensionHandshake(Buffer.from('d1:md1:xi999e1:y3:abce1:p5:hello4:reqqi99999999e1:vi5e6:yourip3:abce'));
  assert.equal(h.m.size, 0);
  assert.equal(h.p, undefined);
  assert.equal(h.reqq, MAX_REQQ);
  assert.equal(h.v, undefined);
  assert.equal(h.yourip, undefined);
});

test('refuses a payload that is not a dictionary, or a bad m', () => {
  const bad = (s: string, code: string) =>
    assert.throws(() => decodeExtensionHandshake(Buffer.from(s)), (e: unknown) => e instanceof WireError && e.code === code);
  bad('le', 'WIRE_BAD_EXTENDED');
  bad('d1:m', 'WIRE_BAD_EXTENDED');
  bad('d1:mli1eee', 'WIRE_BAD_EXTENDED');
  bad('de1', 'WIRE_BAD_EXTENDED');
});

test('refuses a metadata_size out of bounds', () => {
  for (const s of ['d13:metadata_sizei0ee', 'd13:metadata_sizei16777217ee', 'd13:metadata_sizei-5ee', 'd13:metadata_size1:xe']) {
    assert.throws(() => decodeExtensionHandshake(Buffer.from(s)), (e: unknown) => e instanceof WireError && e.code === 'WIRE_BAD_METADATA', s);
  }
});

test('refuses a handshake naming too many extensions', () => {
  const names = Array.from({ length: 100 }, (_, i) => `x${String(i).padStart(3, '0')}`);
  const s = 'd1:md' + names.map((n) => `${n.length}:${n}i1e`).join('') + 'ee';
  assert.throws(() => decodeExtensionHandshake(Buffer.from(s)), WireError);
});
