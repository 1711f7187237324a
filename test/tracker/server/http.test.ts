// The HTTP tracker end to end on 127.0.0.1: announce (compact, dictionary, IPv6 via the
// ip parameter), events, numwant, scrape, whitelist, interval.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { decode, isDict } from '../../../src/bencode/index.js';
import {
  buildScrapeQuery,
  decodeAnnounceReply,
  decodeScrapeReply,
  EVENT_COMPLETED,
  EVENT_STARTED,
  EVENT_STOPPED,
} from '../../../src/tracker/protocol/index.js';
import { announcePath, announceReq, get, peerIdOf, withTracker } from './helpers.js';

const H = createHash('sha1').update('http-test').digest();

test('announce: a leecher learns the seeder, compact by default, with interval and counts', () =>
  withTracker({ intervalS: 120 }, async (t) => {
    const seed = await get(t.port, announcePath(announceReq(H, 1, { left: 0, event: EVENT_STARTED })));
    assert.equal(seed.status, 200);
    assert.equal(seed.headers['content-type'], 'text/plain');
    assert.equal(Number(seed.headers['content-length']), seed.body.length);
    const r = decodeAnnounceReply((await get(t.port, announcePath(announceReq(H, 2, { event: EVENT_STARTED })))).body);
    assert.equal(r.intervalS, 120);
    assert.equal(r.minIntervalS, 60);
    assert.equal(r.complete, 1);
    assert.equal(r.incomplete, 1);
    assert.deepEqual(r.peers, [{ ip: '127.0.0.1', port: 10001 }]);
    const raw = decode((await get(t.port, announcePath(announceReq(H, 2)))).body);
    assert.ok(isDict(raw) && raw.peers instanceof Uint8Array, 'compact peers string');
  }));

test('announce: dictionary form with peer ids, and without when no_peer_id', () =>
  withTracker({}, async (t) => {
    await get(t.port, announcePath(announceReq(H, 1, { left: 0 })));
    const r = decodeAnnounceReply((await get(t.port, announcePath(announceReq(H, 2, { compact: false })))).body);
    assert.deepEqual(r.peers, [{ ip: '127.0.0.1', port: 10001, peerId: peerIdOf(1) }]);
    const n = decodeAnnounceReply((await get(t.port, announcePath(announceReq(H, 2, { compact: false, noPeerId: true })))).body);
    assert.deepEqual(n.peers, [{ ip: '127.0.0.1', port: 10001 }]);
  }));

test('announce: the ip parameter from loopback is honoured; IPv6 peers come in peers6', () =>
  withTracker({}, async (t) => {
    await get(t.port, announcePath(announceReq(H, 1, { left: 0, ip: '2001:db8::5' })));
    await get(t.port, announcePath(announceReq(H, 2, { left: 0, ip: '192.0.2.7' })));
    const body = (await get(t.port, announcePath(announceReq(H, 3)))).body;
    const raw = decode(body);
    assert.ok(isDict(raw) && raw.peers6 instanceof Uint8Array && raw.peers6.length === 18);
    const r = decodeAnnounceReply(body);
    assert.deepEqual(
      r.peers.map((p) => `${p.ip}:${p.port}`),
      ['192.0.2.7:10002', '2001:db8::5:10001'],
    );
  }));

test('announce: X-Forwarded-For from a loopback proxy names the peer', () =>
  withTracker({}, async (t) => {
    await get(t.port, announcePath(announceReq(H, 1, { left: 0 })), { 'X-Forwarded-For': '203.0.113.9, 127.0.0.1' });
    const r = decodeAnnounceReply((await get(t.port, announcePath(announceReq(H, 2)))).body);
    assert.deepEqual(r.peers, [{ ip: '203.0.113.9', port: 10001 }]);
  }));

test('announce: stopped removes, completed counts, seeders get only leechers', () =>
  withTracker({}, async (t) => {
    await get(t.port, announcePath(announceReq(H, 1, { event: EVENT_STARTED })));
    await get(t.port, announcePath(announceReq(H, 2, { event: EVENT_STARTED })));
    await get(t.port, announcePath(announceReq(H, 1, { left: 0, event: EVENT_COMPLETED })));
    const s = decodeAnnounceReply((await get(t.port, announcePath(announceReq(H, 3, { left: 0 })))).body);
    assert.deepEqual(s.peers, [{ ip: '127.0.0.1', port: 10002 }], 'seeder 3 gets only leecher 2');
    let sc = decodeScrapeReply((await get(t.port, `/scrape?${buildScrapeQuery([H])}`)).body);
    assert.deepEqual(sc.get(H.toString('hex')), { complete: 2, downloaded: 1, incomplete: 1 });
    await get(t.port, announcePath(announceReq(H, 2, { event: EVENT_STOPPED })));
    sc = decodeScrapeReply((await get(t.port, `/scrape?${buildScrapeQuery([H])}`)).body);
    assert.deepEqual(sc.get(H.toString('hex')), { complete: 2, downloaded: 1, incomplete: 0 });
  }));

test('announce: numwant is honoured and capped', () =>
  withTracker({ maxNumwant: 30 }, async (t) => {
    for (let i = 1; i <= 60; i++) await get(t.port, announcePath(announceReq(H, i, { left: 0 })));
    const few = decodeAnnounceReply((await get(t.port, announcePath(announceReq(H, 100, { numwant: 5 })))).body);
    assert.equal(few.peers.length, 5);
    const many = decodeAnnounceReply((await get(t.port, announcePath(announceReq(H, 100, { numwant: 1000 })))).body);
    assert.equal(many.peers.length, 30);
    const dflt = decodeAnnounceReply((await get(t.port, announcePath(announceReq(H, 100)))).body);
    assert.equal(dflt.peers.length, 30, 'default 50, capped at 30');
  }));

test('scrape: many hashes; unknown ones are zeros; none at all is refused', () =>
  withTracker({}, async (t) => {
    const other = Buffer.alloc(20, 7);
    await get(t.port, announcePath(announceReq(H, 1)));
    const sc = decodeScrapeReply((await get(t.port, `/scrape?${buildScrapeQuery([H, other])}`)).body);
    assert.deepEqual(sc.get(H.toString('hex')), { complete: 0, downloaded: 0, incomplete: 1 });
    assert.deepEqual(sc.get(other.toString('hex')), { complete: 0, downloaded: 0, incomplete: 0 });
    const none = decodeAnnounceReply((await get(t.port, '/scrape')).body);
    assert.match(none.failure ?? '', /info_hash/);
  }));

test('whitelist: listed torrents are tracked, others get a failure reason', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sta-wl-'));
  try {
    const file = join(dir, 'wl.txt');
    await writeFile(file, `# private tracker\n${H.toString('hex').toUpperCase()}\n\n`);
    await withTracker({ whitelist: file }, async (t) => {
      const ok = decodeAnnounceReply((await get(t.port, announcePath(announceReq(H, 1)))).body);
      assert.equal(ok.failure, undefined);
      const no = decodeAnnounceReply((await get(t.port, announcePath(announceReq(Buffer.alloc(20, 1), 1)))).body);
      assert.match(no.failure ?? '', /not tracked/);
      const sc = decodeScrapeReply((await get(t.port, `/scrape?${buildScrapeQuery([H, Buffer.alloc(20, 1)])}`)).body);
      assert.deepEqual([...sc.keys()], [H.toString('hex')]);
    });
    await writeFile(file, 'not-a-hash\n');
    await assert.rejects(withTracker({ whitelist: file }, async () => {}), { code: 'BAD_WHITELIST' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('one port number serves HTTP and UDP', () =>
  withTracker({}, async (t) => {
    assert.match(t.announceUrl, new RegExp(`^http://127\\.0\\.0\\.1:${t.port}/announce$`));
    assert.equal(t.udpAnnounceUrl, `udp://127.0.0.1:${t.port}`);
  }));
