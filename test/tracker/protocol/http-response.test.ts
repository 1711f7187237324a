// HTTP tracker replies: exact bencode of the compact form, the dictionary form, failures,
// scrape; and the client-side decoders, including hostile replies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode } from '../../../src/bencode/index.js';
import {
  compactPeer,
  decodeAnnounceReply,
  decodeScrapeReply,
  encodeAnnounceReply,
  encodeAnnounceReplyDict,
  encodeFailure,
  encodeScrapeReply,
  MAX_DECODED_PEERS,
} from '../../../src/tracker/protocol/index.js';

const counts = { intervalS: 1800, minIntervalS: 900, complete: 3, incomplete: 4 };

test('the compact reply is canonical bencode (keys sorted), byte for byte', () => {
  const p4 = Buffer.concat([compactPeer('1.2.3.4', 0x1ae1)!, compactPeer('10.0.0.1', 80)!]);
  const p6 = compactPeer('2001:db8::1', 443)!;
  const got = encodeAnnounceReply(counts, p4, p6);
  const want = encode({ complete: 3, incomplete: 4, interval: 1800, 'min interval': 900, peers: p4, peers6: p6 });
  assert.deepEqual(got, want);
  assert.deepEqual(encodeAnnounceReply(counts, Buffer.alloc(0), Buffer.alloc(0)), encode({ complete: 3, incomplete: 4, interval: 1800, 'min interval': 900, peers: Buffer.alloc(0) }));
  const withExtras = encodeAnnounceReply({ ...counts, trackerId: 'tid', warning: 'wärn' }, p4, Buffer.alloc(0));
  assert.deepEqual(withExtras, encode({ complete: 3, incomplete: 4, interval: 1800, 'min interval': 900, peers: p4, 'tracker id': 'tid', 'warning message': 'wärn' }));
});

test('large counts and intervals encode exactly', () => {
  const big = { intervalS: 1_000_000, minIntervalS: 999_999, complete: 123_456_789, incomplete: 9 };
  assert.deepEqual(decode(encodeAnnounceReply(big, Buffer.alloc(0), Buffer.alloc(0))), decode(encode({ complete: 123456789, incomplete: 9, interval: 1000000, 'min interval': 999999, peers: Buffer.alloc(0) })));
});

test('the dictionary form lists ip, peer id and port, without ids when asked', () => {
  const id = Buffer.from('-XX0000-000000000001');
  const peers = [{ ip: '1.2.3.4', port: 5, peerId: id }, { ip: '::1', port: 6 }];
  const withIds = decodeAnnounceReply(encodeAnnounceReplyDict(counts, peers, true));
  assert.deepEqual(withIds.peers, [{ ip: '1.2.3.4', port: 5, peerId: id }, { ip: '::1', port: 6 }]);
  const raw = encodeAnnounceReplyDict(counts, peers, false);
  assert.ok(!raw.includes(Buffer.from('peer id')));
  assert.deepEqual(decodeAnnounceReply(raw).peers, [{ ip: '1.2.3.4', port: 5 }, { ip: '::1', port: 6 }]);
});

test('failure reason: d14:failure reason...e', () => {
  assert.equal(encodeFailure('missing info_hash').toString(), 'd14:failure reason17:missing info_hashe');
  assert.deepEqual(decodeAnnounceReply(encodeFailure('nope')), { failure: 'nope', intervalS: 0, peers: [] });
  assert.throws(() => decodeScrapeReply(encodeFailure('nope')), { code: 'TRACKER_FAILURE', message: 'nope' });
});

test('decodes a compact reply with IPv4 and IPv6 peers and every count', () => {
  const r = decodeAnnounceReply(encodeAnnounceReply({ ...counts, trackerId: 'abc' }, compactPeer('9.8.7.6', 1000)!, compactPeer('fe80::1:2', 2000)!));
  assert.deepEqual(r, {
    intervalS: 1800,
    minIntervalS: 900,
    complete: 3,
    incomplete: 4,
    trackerId: 'abc',
    peers: [{ ip: '9.8.7.6', port: 1000 }, { ip: 'fe80::1:2', port: 2000 }],
  });
});

test('client decoding of hostile replies: bounded, typed errors', () => {
  assert.throws(() => decodeAnnounceReply(Buffer.from('garbage')), { code: 'BAD_REPLY' });
  assert.throws(() => decodeAnnounceReply(Buffer.from('le')), { code: 'BAD_REPLY' });
  assert.throws(() => decodeAnnounceReply(encode({ peers: Buffer.alloc(6) })), { code: 'BAD_REPLY' }, 'no interval');
  assert.throws(() => decodeAnnounceReply(encode({ interval: 5, peers: 7 })), { code: 'BAD_REPLY' });
  // A partial compact entry is ignored; port 0 entries are skipped.
  const odd = decodeAnnounceReply(encode({ interval: 5, peers: Buffer.from([1, 2, 3, 4, 0, 80, 9, 9, 9]) }));
  assert.deepEqual(odd.peers, [{ ip: '1.2.3.4', port: 80 }]);
  const zero = decodeAnnounceReply(encode({ interval: 5, peers: Buffer.from([1, 2, 3, 4, 0, 0]) }));
  assert.deepEqual(zero.peers, []);
  // Far more peers than anyone asks for: cut at MAX_DECODED_PEERS.
  const flood = Buffer.alloc(6 * (MAX_DECODED_PEERS + 100), 1);
  assert.equal(decodeAnnounceReply(encode({ interval: 5, peers: flood })).peers.length, MAX_DECODED_PEERS);
  // Dictionary peers with bad fields are skipped.
  const dict = decodeAnnounceReply(encode({ interval: 5, peers: [{ ip: '1.1.1.1', port: 0 }, { ip: '2.2.2.2' }, 5, { ip: '3.3.3.3', port: 70000 }, { ip: '4.4.4.4', port: 4 }] }));
  assert.deepEqual(dict.peers, [{ ip: '4.4.4.4', port: 4 }]);
});

test('scrape reply: files keyed by raw info hash, decoded to hex', () => {
  const a = Buffer.alloc(20, 0xab);
  const b = Buffer.alloc(20, 0x01);
  const buf = encodeScrapeReply([
    { infoHash: a, counts: { complete: 1, downloaded: 2, incomplete: 3 } },
    { infoHash: b, counts: { complete: 0, downloaded: 0, incomplete: 9 } },
  ]);
  // Canonical: keys sorted by raw bytes (b < a).
  assert.ok(buf.indexOf(b) < buf.indexOf(a));
  const m = decodeScrapeReply(buf);
  assert.deepEqual(m.get(a.toString('hex')), { complete: 1, downloaded: 2, incomplete: 3 });
  assert.deepEqual(m.get(b.toString('hex')), { complete: 0, downloaded: 0, incomplete: 9 });
  assert.throws(() => decodeScrapeReply(encode({ x: 1 })), { code: 'BAD_REPLY' });
});
