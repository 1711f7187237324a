// BEP 15 packets: exact layouts from the spec's tables, round trips, and refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACTION_ANNOUNCE,
  ACTION_CONNECT,
  ACTION_ERROR,
  ACTION_SCRAPE,
  compactPeer,
  decodeUdpReply,
  decodeUdpRequest,
  encodeUdpAnnounceReply,
  encodeUdpAnnounceRequest,
  encodeUdpConnectReply,
  encodeUdpConnectRequest,
  encodeUdpError,
  encodeUdpScrapeReply,
  encodeUdpScrapeRequest,
  EVENT_COMPLETED,
  EVENT_NONE,
  MAX_SCRAPE_HASHES,
  type AnnounceRequest,
} from '../../../src/tracker/protocol/index.js';

const CID = Buffer.from('0102030405060708', 'hex');
const IH = Buffer.alloc(20, 0x11);
const PID = Buffer.alloc(20, 0x22);

test('connect request: protocol id 0x41727101980, action 0, transaction id', () => {
  const b = encodeUdpConnectRequest(0xdeadbeef);
  assert.equal(b.toString('hex'), '0000041727101980' + '00000000' + 'deadbeef');
  assert.deepEqual(decodeUdpRequest(b), { action: ACTION_CONNECT, transactionId: 0xdeadbeef });
  const bad = Buffer.from(b);
  bad[3] = 9;
  assert.throws(() => decodeUdpRequest(bad), { code: 'UDP_BAD_MAGIC' });
});

test('connect reply: action, transaction id, connection id', () => {
  const b = encodeUdpConnectReply(7, CID);
  assert.equal(b.toString('hex'), '00000000' + '00000007' + '0102030405060708');
  assert.deepEqual(decodeUdpReply(b), { action: ACTION_CONNECT, transactionId: 7, connectionId: CID });
});

test('announce request: 98 bytes at the offsets BEP 15 gives, round trip', () => {
  const req: AnnounceRequest = {
    infoHash: IH,
    peerId: PID,
    downloaded: 2 ** 40 + 5,
    left: 0,
    uploaded: 3,
    event: EVENT_COMPLETED,
    key: '305419896',
    numwant: 25,
    port: 6881,
    compact: true,
    noPeerId: false,
    ip: '10.1.2.3',
  };
  const b = encodeUdpAnnounceRequest(CID, 99, req);
  assert.equal(b.length, 98);
  assert.deepEqual(b.subarray(0, 8), CID);
  assert.equal(b.readUInt32BE(8), ACTION_ANNOUNCE);
  assert.equal(b.readUInt32BE(12), 99);
  assert.deepEqual(b.subarray(16, 36), IH);
  assert.deepEqual(b.subarray(36, 56), PID);
  assert.equal(b.readBigUInt64BE(56), 2n ** 40n + 5n);
  assert.equal(b.readBigUInt64BE(64), 0n);
  assert.equal(b.readBigUInt64BE(72), 3n);
  assert.equal(b.readUInt32BE(80), 1);
  assert.equal(b.subarray(84, 88).toString('hex'), '0a010203');
  assert.equal(b.readUInt32BE(88), 0x12345678);
  assert.equal(b.readInt32BE(92), 25);
  assert.equal(b.readUInt16BE(96), 6881);
  const d = decodeUdpRequest(b);
  assert.equal(d.action, ACTION_ANNOUNCE);
  if (d.action !== ACTION_ANNOUNCE) return;
  assert.deepEqual(d.connectionId, CID);
  assert.equal(d.transactionId, 99);
  assert.deepEqual(d.announce, req);
});

test('announce request: numwant -1 is the default, ip 0 is none, BEP 41 options are ignored', () => {
  const req: AnnounceRequest = { infoHash: IH, peerId: PID, downloaded: 0, left: 5, uploaded: 0, event: EVENT_NONE, numwant: -1, port: 1, compact: true, noPeerId: false };
  const b = Buffer.concat([encodeUdpAnnounceRequest(CID, 1, req), Buffer.from([2, 5, 0x2f, 0x61, 0x62, 0x63, 0x64, 0x65, 0])]);
  const d = decodeUdpRequest(b);
  assert.ok(d.action === ACTION_ANNOUNCE);
  assert.equal(d.announce.numwant, -1);
  assert.equal(d.announce.ip, undefined);
  assert.equal(d.announce.key, '0');
});

test('announce request refusals: truncated, port 0, unknown event', () => {
  const req: AnnounceRequest = { infoHash: IH, peerId: PID, downloaded: 0, left: 5, uploaded: 0, event: EVENT_NONE, numwant: -1, port: 1, compact: true, noPeerId: false };
  const b = encodeUdpAnnounceRequest(CID, 1, req);
  assert.throws(() => decodeUdpRequest(b.subarray(0, 97)), { code: 'UDP_TRUNCATED' });
  const p0 = Buffer.from(b);
  p0.writeUInt16BE(0, 96);
  assert.throws(() => decodeUdpRequest(p0), { code: 'BAD_PORT' });
  const ev = Buffer.from(b);
  ev.writeUInt32BE(4, 80);
  assert.throws(() => decodeUdpRequest(ev), { code: 'BAD_EVENT' });
});

test('announce replies: IPv4 (6-byte) and IPv6 (18-byte) peer formats', () => {
  const p4 = Buffer.concat([compactPeer('1.2.3.4', 5)!, compactPeer('5.6.7.8', 9)!]);
  const r4 = encodeUdpAnnounceReply(3, 1800, 10, 20, p4);
  assert.equal(r4.subarray(0, 20).toString('hex'), '00000001' + '00000003' + '00000708' + '0000000a' + '00000014');
  assert.deepEqual(decodeUdpReply(r4, 6), {
    action: ACTION_ANNOUNCE,
    transactionId: 3,
    intervalS: 1800,
    leechers: 10,
    seeders: 20,
    peers: [{ ip: '1.2.3.4', port: 5 }, { ip: '5.6.7.8', port: 9 }],
  });
  const r6 = encodeUdpAnnounceReply(3, 60, 0, 1, compactPeer('2001:db8::9', 77)!);
  const d6 = decodeUdpReply(r6, 18);
  assert.ok(d6.action === ACTION_ANNOUNCE);
  assert.deepEqual(d6.peers, [{ ip: '2001:db8::9', port: 77 }]);
});

test('scrape request and reply: many hashes, counts in order', () => {
  const hashes = [IH, PID, Buffer.alloc(20, 0x33)];
  const b = encodeUdpScrapeRequest(CID, 5, hashes);
  assert.equal(b.length, 16 + 60);
  const d = decodeUdpRequest(b);
  assert.ok(d.action === ACTION_SCRAPE);
  assert.deepEqual(d.infoHashes, hashes);
  const counts = [
    { complete: 1, downloaded: 2, incomplete: 3 },
    { complete: 4, downloaded: 5, incomplete: 6 },
  ];
  const r = encodeUdpScrapeReply(5, counts);
  assert.equal(r.toString('hex'), '00000002' + '00000005' + '000000010000000200000003' + '000000040000000500000006');
  assert.deepEqual(decodeUdpReply(r), { action: ACTION_SCRAPE, transactionId: 5, counts });
  assert.throws(() => encodeUdpScrapeRequest(CID, 1, []), { code: 'TOO_MANY_HASHES' });
  assert.throws(() => encodeUdpScrapeRequest(CID, 1, Array(MAX_SCRAPE_HASHES + 1).fill(IH)), { code: 'TOO_MANY_HASHES' });
  assert.throws(() => decodeUdpRequest(b.subarray(0, 16 + 30)), { code: 'UDP_TRUNCATED' });
  assert.throws(() => decodeUdpRequest(b.subarray(0, 16)), { code: 'UDP_TRUNCATED' });
  const tooMany = encodeUdpScrapeRequest(CID, 1, Array(MAX_SCRAPE_HASHES).fill(IH));
  assert.throws(() => decodeUdpRequest(Buffer.concat([tooMany, IH])), { code: 'UDP_TOO_LONG' });
});

test('error packets, bounded in size', () => {
  const e = encodeUdpError(9, 'torrent not registered');
  assert.equal(e.readUInt32BE(0), ACTION_ERROR);
  assert.deepEqual(decodeUdpReply(e), { action: ACTION_ERROR, transactionId: 9, message: 'torrent not registered' });
  assert.equal(encodeUdpError(9, 'x'.repeat(100), 16).length, 16);
});

test('garbage requests and replies are typed errors', () => {
  assert.throws(() => decodeUdpRequest(Buffer.alloc(0)), { code: 'UDP_TRUNCATED' });
  assert.throws(() => decodeUdpRequest(Buffer.alloc(15)), { code: 'UDP_TRUNCATED' });
  const unknown = Buffer.alloc(16);
  unknown.writeUInt32BE(7, 8);
  assert.throws(() => decodeUdpRequest(unknown), { code: 'UDP_BAD_ACTION' });
  assert.throws(() => decodeUdpReply(Buffer.alloc(7)), { code: 'UDP_TRUNCATED' });
  const r = Buffer.alloc(12);
  r.writeUInt32BE(1, 0);
  assert.throws(() => decodeUdpReply(r), { code: 'UDP_TRUNCATED' });
  r.writeUInt32BE(9, 0);
  assert.throws(() => decodeUdpReply(r), { code: 'UDP_BAD_ACTION' });
});
