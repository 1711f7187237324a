import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeHandshake, parseHandshake, checkHandshakePrefix, HANDSHAKE_LENGTH, WireError } from '../../../src/peer/wire/index.js';

const infoHash = Buffer.alloc(20, 0xaa);
const peerId = Buffer.from('-ST0010-abcdefghijkl', 'latin1');

test('encodes the 68-byte BEP 3 handshake with the BEP 10 and BEP 6 bits', () => {
  const b = encodeHandshake({ infoHash, peerId, extensions: { fast: true, extended: true } });
  assert.equal(b.length, HANDSHAKE_LENGTH);
  assert.equal(b[0], 19);
  assert.equal(b.subarray(1, 20).toString('latin1'), 'BitTorrent protocol');
  assert.deepEqual([...b.subarray(20, 28)], [0, 0, 0, 0, 0, 0x10, 0, 0x04]);
  assert.deepEqual(b.subarray(28, 48), infoHash);
  assert.deepEqual(b.subarray(48, 68), peerId);
});

test('sets no reserved bit when no extension is asked for', () => {
  const b = encodeHandshake({ infoHash, peerId });
  assert.deepEqual([...b.subarray(20, 28)], [0, 0, 0, 0, 0, 0, 0, 0]);
});

test('parses a handshake and reads the extension bits', () => {
  const b = encodeHandshake({ infoHash, peerId, extensions: { fast: false, extended: true, dht: true } });
  const h = parseHandshake(Buffer.concat([b, Buffer.from([0, 0, 0, 0])]));
  assert.deepEqual(h.infoHash, infoHash);
  assert.deepEqual(h.peerId, peerId);
  assert.deepEqual(h.extensions, { fast: false, extended: true, dht: true });
});

test('refuses a short handshake and a wrong protocol string', () => {
  const b = encodeHandshake({ infoHash, peerId });
  assert.throws(() => parseHandshake(b.subarray(0, 67)), (e: unknown) => e instanceof WireError && e.code === 'WIRE_BAD_HANDSHAKE');
  const bad = Buffer.from(b);
  bad[5] = 0x58;
  assert.throws(() => parseHandshake(bad), (e: unknown) => e instanceof WireError && e.code === 'WIRE_BAD_HANDSHAKE');
});

test('refuses a non-BitTorrent stream at its first byte', () => {
  assert.throws(() => checkHandshakePrefix(Buffer.from('GET / HTTP/1.1')), /not 19/);
  assert.doesNotThrow(() => checkHandshakePrefix(Buffer.from([19, 0x42, 0x69])));
  assert.throws(() => checkHandshakePrefix(Buffer.from([19, 0x42, 0x00])), /protocol string/);
});

test('refuses ids of the wrong size when encoding', () => {
  assert.throws(() => encodeHandshake({ infoHash: Buffer.alloc(19), peerId }), WireError);
  assert.throws(() => encodeHandshake({ infoHash, peerId: Buffer.alloc(21) }), WireError);
});
