import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { MetadataAssembler, MetadataExchange } from '../../src/node/metadata-fetch.js';
import type { Peer } from '../../src/node/peer.js';
import { decodeMetadataMessage, encodeMetadataMessage } from '../../src/peer/wire/index.js';

const info = randomBytes(40_000); // 3 pieces of 16 KiB, the last short
const hash = createHash('sha1').update(info).digest();
const piece = (i: number) => info.subarray(i * 16384, Math.min(info.length, (i + 1) * 16384));

test('assembles metadata from pieces and checks it against the info hash', () => {
  const a = new MetadataAssembler(hash);
  assert.equal(a.offerSize(info.length), true);
  assert.deepEqual(a.nextRequests(1, 0, 10), [0, 1, 2]);
  assert.deepEqual(a.nextRequests(2, 0, 10), [], 'asked pieces are not asked twice at once');
  assert.equal(a.receive(1, 0, info.length, piece(0)), null);
  assert.equal(a.receive(1, 2, info.length, piece(2)), null);
  const done = a.receive(1, 1, info.length, piece(1));
  assert.ok(done instanceof Buffer && done.equals(info));
});

test('wrong sizes and lengths are ignored; a bad whole is refused and refetched', () => {
  const a = new MetadataAssembler(hash);
  assert.equal(a.offerSize(0), false);
  assert.equal(a.offerSize(17 * 1024 * 1024), false, 'larger than BEP 9 sizes we accept');
  a.offerSize(info.length);
  assert.equal(a.offerSize(info.length + 1), false, 'a disagreeing size');
  a.nextRequests(1, 0, 10);
  assert.equal(a.receive(1, 0, info.length + 1, piece(0)), null);
  assert.equal(a.receive(1, 2, info.length, piece(1)), null, 'wrong length for the last piece');
  a.receive(1, 0, info.length, piece(0));
  a.receive(1, 1, info.length, piece(1));
  assert.equal(a.receive(1, 2, info.length, Buffer.alloc(piece(2).length)), 'bad');
  assert.deepEqual(a.nextRequests(1, 20_000, 10), [0, 1, 2], 'everything is asked again');
});

test('a timed-out or released request is asked elsewhere', () => {
  const a = new MetadataAssembler(hash);
  a.offerSize(info.length);
  a.nextRequests(1, 0, 1);
  assert.deepEqual(a.nextRequests(2, 1000, 1), [1]);
  a.release(1);
  assert.deepEqual(a.nextRequests(3, 1000, 1), [0]);
  assert.deepEqual(a.nextRequests(3, 100_000, 5), [0, 1, 2], "all expired");
});

test('a piece nobody asked that peer for is ignored and cannot spoil the whole', () => {
  const a = new MetadataAssembler(hash);
  a.offerSize(info.length);
  assert.deepEqual(a.nextRequests(1, 0, 10), [0, 1, 2]);
  assert.equal(a.receive(1, 0, info.length, piece(0)), null);
  assert.equal(a.receive(1, 1, info.length, piece(1)), null);
  // Peer 9 was asked nothing: its garbage for piece 0 (already good) and 2 is dropped.
  assert.equal(a.receive(9, 0, info.length, Buffer.alloc(piece(0).length)), null);
  assert.equal(a.receive(9, 2, info.length, Buffer.alloc(piece(2).length)), null);
  const done = a.receive(1, 2, info.length, piece(2));
  assert.ok(done instanceof Buffer && done.equals(info));
});

test('serving metadata: a peer that will not read gets rejects, one that asks on without end is cut off', () => {
  const sent: { type: string }[] = [];
  const peer = {
    id: 1,
    closed: false,
    metadataAsked: 0,
    conn: {
      needsDrain: false,
      sendExtensionMessage: (_name: string, payload: Buffer) => sent.push(decodeMetadataMessage(payload)!),
    },
  };
  const x = new MetadataExchange(hash, () => info, () => undefined);
  const ask = (p: number) => x.onMessage(peer as unknown as Peer, encodeMetadataMessage({ type: 'request', piece: p }), 0);
  assert.equal(ask(0), undefined);
  assert.equal(sent.at(-1)!.type, 'data');
  peer.conn.needsDrain = true;
  assert.equal(ask(1), undefined);
  assert.equal(sent.at(-1)!.type, 'reject', 'no 16 KiB answer while its socket is full');
  peer.conn.needsDrain = false;
  // 3 pieces: 4 asks each plus 8 slack = 20 in all; the next is a violation.
  for (let i = 2; i < 20; i++) assert.equal(ask(i % 3), undefined);
  assert.match(ask(0) ?? '', /metadata requests/);
});
