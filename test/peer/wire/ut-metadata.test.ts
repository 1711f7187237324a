import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMetadataMessage, encodeMetadataMessage, metadataPieceCount, metadataPieceLength, WireError } from '../../../src/peer/wire/index.js';

test('spec vectors: the BEP 9 request, data and reject messages', () => {
  assert.equal(encodeMetadataMessage({ type: 'request', piece: 0 }).toString(), 'd8:msg_typei0e5:piecei0ee');
  assert.equal(encodeMetadataMessage({ type: 'reject', piece: 0 }).toString(), 'd8:msg_typei2e5:piecei0ee');
  const data = encodeMetadataMessage({ type: 'data', piece: 0, totalSize: 3, data: Buffer.from('xyz') });
  assert.equal(data.toString(), 'd8:msg_typei1e5:piecei0e10:total_sizei3eexyz');
  assert.deepEqual(decodeMetadataMessage(Buffer.from('d8:msg_typei0e5:piecei0ee')), { type: 'request', piece: 0 });
  assert.deepEqual(decodeMetadataMessage(data), { type: 'data', piece: 0, totalSize: 3, data: Buffer.from('xyz') });
});

test('a data message carries exactly its piece of the metadata', () => {
  const total = 16384 * 2 + 100;
  assert.equal(metadataPieceCount(total), 3);
  assert.equal(metadataPieceLength(total, 2), 100);
  const ok = encodeMetadataMessage({ type: 'data', piece: 2, totalSize: total, data: Buffer.alloc(100) });
  assert.equal(decodeMetadataMessage(ok)?.type, 'data');
  const short = encodeMetadataMessage({ type: 'data', piece: 1, totalSize: total, data: Buffer.alloc(100) });
  assert.throws(() => decodeMetadataMessage(short), (e: unknown) => e instanceof WireError && e.code === 'WIRE_BAD_METADATA');
  const past = encodeMetadataMessage({ type: 'data', piece: 3, totalSize: total, data: Buffer.alloc(0) });
  assert.throws(() => decodeMetadataMessage(past), WireError);
});

test('refuses a total_size over 16 MiB and pieces out of range', () => {
  assert.throws(() => decodeMetadataMessage(Buffer.from('d8:msg_typei1e5:piecei0e10:total_sizei99999999eex')), WireError);
  assert.throws(() => decodeMetadataMessage(Buffer.from('d8:msg_typei0e5:piecei-1ee')), WireError);
  assert.throws(() => decodeMetadataMessage(Buffer.from('d8:msg_typei0e5:piecei5000ee')), WireError);
  assert.throws(() => decodeMetadataMessage(Buffer.from('d8:msg_typei0ee')), WireError);
  assert.throws(() => decodeMetadataMessage(Buffer.from('i5e')), WireError);
  assert.throws(() => decodeMetadataMessage(Buffer.from('d8:msg_type')), WireError);
  assert.throws(() => decodeMetadataMessage(Buffer.from('d8:msg_typei0e5:piecei0eejunk')), WireError);
});

test('ignores msg_types BEP 9 does not define', () => {
  assert.equal(decodeMetadataMessage(Buffer.from('d8:msg_typei7e5:piecei0ee')), null);
});
