// Hostile and broken input, each answered (or dropped) while the tracker keeps serving:
// the list, checked one by one with a good announce after each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import {
  ACTION_ANNOUNCE,
  ACTION_ERROR,
  buildScrapeQuery,
  decodeAnnounceReply,
  encodeUdpAnnounceRequest,
  encodeUdpConnectRequest,
  encodeUdpScrapeRequest,
  percentEncodeBytes,
} from '../../../src/tracker/protocol/index.js';
import type { TrackerServer } from '../../../src/tracker/server/index.js';
import { announcePath, announceReq, get, httpRequest, peerIdOf, UDP_IOS, UdpClient, udpIoSkip, withTracker } from './helpers.js';

const H = createHash('sha1').update('bad-input').digest();
const PID = percentEncodeBytes(peerIdOf(1));
const IH = percentEncodeBytes(H);

async function stillServes(t: TrackerServer): Promise<void> {
  const r = decodeAnnounceReply((await get(t.port, announcePath(announceReq(H, 99)))).body);
  assert.equal(r.failure, undefined, 'HTTP still answers');
  const c = await UdpClient.open(t.port);
  try {
    assert.equal((await c.announce(announceReq(H, 98))).action, ACTION_ANNOUNCE, 'UDP still answers');
  } finally {
    await c.close();
  }
}

async function failure(t: TrackerServer, path: string): Promise<string> {
  const res = await get(t.port, path);
  assert.equal(res.status, 200, 'failures are HTTP 200, as clients expect');
  return decodeAnnounceReply(res.body).failure ?? '';
}

test('bad announces get a failure reason naming the problem', () =>
  withTracker({}, async (t) => {
    assert.match(await failure(t, `/announce?peer_id=${PID}&port=1`), /missing info_hash/);
    assert.match(await failure(t, `/announce?info_hash=abc&peer_id=${PID}&port=1`), /info_hash must be 20 bytes/);
    assert.match(await failure(t, `/announce?info_hash=${IH}%00&peer_id=${PID}&port=1`), /info_hash is longer than 20 bytes/);
    assert.match(await failure(t, `/announce?info_hash=${IH}&peer_id=${PID}&port=0`), /invalid port 0/);
    assert.match(await failure(t, `/announce?info_hash=${IH}&peer_id=${PID}&port=65536`), /invalid port/);
    assert.match(await failure(t, `/announce?info_hash=${IH}&peer_id=${PID}&port=http`), /port is not a number/);
    assert.match(await failure(t, `/announce?info_hash=${IH}&peer_id=${PID}&port=1&left=lots`), /left is not a number/);
    assert.match(await failure(t, `/announce?info_hash=${IH}&peer_id=${PID}&port=1&uploaded=-1`), /uploaded is not a number/);
    assert.match(await failure(t, `/announce?info_hash=${IH}&peer_id=${PID}&port=1&numwant=x`), /numwant is not a number/);
    assert.match(await failure(t, `/announce?info_hash=${IH}&peer_id=${PID}&port=1&event=bogus`), /unknown event/);
    assert.match(await failure(t, `/announce?info_hash=%zz${IH.slice(3)}&peer_id=${PID}&port=1`), /percent escape/);
    assert.match(await failure(t, '/announce'), /missing info_hash/);
    await stillServes(t);
  }));

test('a 1 MB query string is refused by the HTTP layer, the tracker serves on', () =>
  withTracker({}, async (t) => {
    const res = await get(t.port, `/announce?info_hash=${IH}&x=${'a'.repeat(1024 * 1024)}`).catch((e: Error) => ({ status: -1, body: Buffer.from(e.message) }));
    assert.ok(res.status === 431 || res.status === -1, `status ${res.status}`);
    // Just under Node's header cap but over the parser's: a failure reason.
    assert.match(await failure(t, `/announce?info_hash=${IH}&x=${'a'.repeat(9000)}`), /too long/);
    await stillServes(t);
  }));

test('a scrape of 10,000 hashes is refused, the tracker serves on', () =>
  withTracker({}, async (t) => {
    const hashes = Array.from({ length: 10_000 }, () => H);
    const res = await get(t.port, `/scrape?${buildScrapeQuery(hashes)}`).catch((e: Error) => ({ status: -1, body: Buffer.from(e.message) }));
    assert.ok(res.status === 431 || res.status === -1, `refused by the header cap (status ${res.status})`);
    // 200 hashes fit the headers but not the scrape cap.
    assert.match(await failure(t, `/scrape?${buildScrapeQuery(hashes.slice(0, 100))}`), /at most 74 info_hash/);
    await stillServes(t);
  }));

for (const udpIo of UDP_IOS) {
  test(`[${udpIo}] garbage and truncated UDP packets are dropped without a reply`, { skip: udpIoSkip(udpIo) }, () =>
    withTracker({}, async (t) => {
      const c = await UdpClient.open(t.port);
      try {
        const connect = encodeUdpConnectRequest(1);
        const packets = [
          Buffer.alloc(0),
          Buffer.from('hello'),
          connect.subarray(0, 15),
          Buffer.concat([Buffer.alloc(8), connect.subarray(8)]), // connect without the magic
          Buffer.alloc(16, 0xff), // unknown action
          Buffer.alloc(5000, 1),
        ];
        for (const p of packets) assert.equal(await c.exchange(p, 150), undefined, `no reply to ${p.length} bytes`);
        // A truncated announce with a valid connection id: dropped too.
        const cid = await c.connect();
        const ann = encodeUdpAnnounceRequest(cid, 1, announceReq(H, 1));
        assert.equal(await c.exchange(ann.subarray(0, 60), 150), undefined);
        // A verified source sending a malformed request learns why.
        const p0 = Buffer.from(ann);
        p0.writeUInt16BE(0, 96);
        const r = await c.request(p0);
        assert.ok(r.action === ACTION_ERROR && /port/.test(r.message));
        const bigScrape = Buffer.concat([encodeUdpScrapeRequest(cid, 2, Array(74).fill(H)), H]);
        const rs = await c.request(bigScrape);
        assert.equal(rs.action, ACTION_ERROR);
      } finally {
        await c.close();
      }
      await stillServes(t);
    }));

  test(`[${udpIo}] a wrong or expired connection id gets a small error, the tracker serves on`, { skip: udpIoSkip(udpIo) }, () => {
    let now = 1_800_000_000_000;
    return withTracker({ udpIo, now: () => now }, async (t) => {
      const c = await UdpClient.open(t.port);
      try {
        const wrong = await c.request(encodeUdpAnnounceRequest(Buffer.alloc(8), 1, announceReq(H, 1)));
        assert.equal(wrong.action, ACTION_ERROR);
        const cid = await c.connect();
        now += 5 * 60_000;
        const expired = await c.request(encodeUdpAnnounceRequest(cid, 2, announceReq(H, 1)));
        assert.equal(expired.action, ACTION_ERROR);
      } finally {
        await c.close();
      }
      now = Date.now();
      await stillServes(t);
    });
  });
}
test('broken HTTP (bad request line, unknown routes, wrong methods) closes only that request', () =>
  withTracker({}, async (t) => {
    await new Promise<void>((resolve, reject) => {
      const s = connect(t.port, '127.0.0.1', () => s.end('GARBAGE\r\n\r\n'));
      s.on('data', () => {});
      s.on('close', () => resolve());
      s.on('error', reject);
    });
    assert.equal((await get(t.port, '/nope')).status, 404);
    assert.equal((await httpRequest(t.port, 'DELETE', '/api/stats')).status, 405);
    assert.equal((await httpRequest(t.port, 'POST', '/announce')).status, 405);
    await stillServes(t);
  }));

test('a .torrent that fails validation is refused by the catalogue, the tracker serves on', () =>
  withTracker({}, async (t) => {
    for (const body of [Buffer.from('not bencode'), Buffer.from('d4:infod4:name1:xee'), Buffer.from('de')]) {
      const res = await httpRequest(t.port, 'POST', '/api/torrents', body);
      assert.equal(res.status, 400);
      const j = JSON.parse(res.body.toString()) as { error: { code: string; message: string } };
      assert.ok(j.error.code && /not a valid \.torrent/.test(j.error.message), j.error.message);
    }
    const big = await httpRequest(t.port, 'POST', '/api/torrents', Buffer.alloc(10 * 1024 * 1024 + 1));
    assert.equal(big.status, 413);
    assert.equal((await t.store.catalogue.count()), 0);
    await stillServes(t);
  }));
