// The UDP tracker (BEP 15) end to end on 127.0.0.1: connect, announce, scrape, and the
// connection-id rules (MAC of address and window, previous window accepted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  ACTION_ANNOUNCE,
  ACTION_ERROR,
  ACTION_SCRAPE,
  encodeUdpAnnounceRequest,
  encodeUdpScrapeRequest,
  EVENT_COMPLETED,
  EVENT_STOPPED,
} from '../../../src/tracker/protocol/index.js';
import { UDP_CONNECTION_WINDOW_MS } from '../../../src/tracker/server/index.js';
import { announceReq, UDP_IOS, UdpClient, udpIoSkip, withTracker } from './helpers.js';

const H = createHash('sha1').update('udp-test').digest();

for (const udpIo of UDP_IOS) {
  test(`[${udpIo}] udp: connect then announce; a leecher learns the seeder`, { skip: udpIoSkip(udpIo) }, () =>
    withTracker({ udpIo, intervalS: 300 }, async (t) => {
      assert.equal(t.udpIo, udpIo);
      const c = await UdpClient.open(t.port);
      try {
        const s = await c.announce(announceReq(H, 1, { left: 0 }));
        assert.ok(s.action === ACTION_ANNOUNCE);
        assert.deepEqual(s.peers, []);
        const r = await c.announce(announceReq(H, 2));
        assert.ok(r.action === ACTION_ANNOUNCE);
        assert.equal(r.intervalS, 300);
        assert.equal(r.seeders, 1);
        assert.equal(r.leechers, 1);
        assert.deepEqual(r.peers, [{ ip: '127.0.0.1', port: 10001 }]);
        assert.equal(r.transactionId, 0x5678);
      } finally {
        await c.close();
      }
    }));

  test(`[${udpIo}] udp: HTTP and UDP peers share one swarm`, { skip: udpIoSkip(udpIo) }, () =>
    withTracker({}, async (t) => {
      const c = await UdpClient.open(t.port);
      try {
        await c.announce(announceReq(H, 1, { left: 0 }));
        const { get, announcePath } = await import('./helpers.js');
        const { decodeAnnounceReply } = await import('../../../src/tracker/protocol/index.js');
        const r = decodeAnnounceReply((await get(t.port, announcePath(announceReq(H, 2)))).body);
        assert.deepEqual(r.peers, [{ ip: '127.0.0.1', port: 10001 }]);
      } finally {
        await c.close();
      }
    }));

  test(`[${udpIo}] udp: scrape counts, stopped, completed`, { skip: udpIoSkip(udpIo) }, () =>
    withTracker({}, async (t) => {
      const c = await UdpClient.open(t.port);
      try {
        await c.announce(announceReq(H, 1));
        await c.announce(announceReq(H, 2));
        await c.announce(announceReq(H, 1, { left: 0, event: EVENT_COMPLETED }));
        await c.announce(announceReq(H, 2, { event: EVENT_STOPPED }));
        const cid = await c.connect();
        const r = await c.request(encodeUdpScrapeRequest(cid, 42, [H, Buffer.alloc(20, 9)]));
        assert.ok(r.action === ACTION_SCRAPE);
        assert.deepEqual(r.counts, [
          { complete: 1, downloaded: 1, incomplete: 0 },
          { complete: 0, downloaded: 0, incomplete: 0 },
        ]);
      } finally {
        await c.close();
      }
    }));

  test(`[${udpIo}] udp: a wrong connection id gets a reply no bigger than a connect reply, and nothing is stored`, { skip: udpIoSkip(udpIo) }, () =>
    withTracker({}, async (t) => {
      const c = await UdpClient.open(t.port);
      try {
        const reply = await c.exchange(encodeUdpAnnounceRequest(Buffer.alloc(8, 0xaa), 7, announceReq(H, 1)));
        assert.ok(reply);
        assert.ok(reply.length <= 16, `reply of ${reply.length} bytes`);
        assert.equal(reply.readUInt32BE(0), ACTION_ERROR);
        assert.equal(reply.readUInt32BE(4), 7);
        assert.equal((await t.store.stats()).leechers, 0);
        const sc = await c.exchange(encodeUdpScrapeRequest(Buffer.alloc(8, 0xaa), 8, Array(74).fill(H)));
        assert.ok(sc && sc.length <= 16);
      } finally {
        await c.close();
      }
    }));

  test(`[${udpIo}] udp: connection ids last two windows, are tied to the address, and survive a restart with the same secret`, { skip: udpIoSkip(udpIo) }, async () => {
    let now = 1_800_000_000_000;
    const secret = Buffer.alloc(32, 5);
    const clock = () => now;
    let cid: Buffer;
    const c = await UdpClient.open(0);
    try {
      await withTracker({ udpIo, now: clock, udpSecret: secret }, async (t) => {
        const c1 = await UdpClient.open(t.port);
        try {
          cid = await c1.connect();
          now += UDP_CONNECTION_WINDOW_MS; // next window: still valid
          let r = await c1.request(encodeUdpAnnounceRequest(cid, 1, announceReq(H, 1)));
          assert.equal(r.action, ACTION_ANNOUNCE);
          // Another source port cannot reuse it.
          const other = await UdpClient.open(t.port);
          r = await other.request(encodeUdpAnnounceRequest(cid, 2, announceReq(H, 2)));
          assert.equal(r.action, ACTION_ERROR);
          await other.close();
          now += UDP_CONNECTION_WINDOW_MS; // two windows on: expired
          r = await c1.request(encodeUdpAnnounceRequest(cid, 3, announceReq(H, 1)));
          assert.equal(r.action, ACTION_ERROR);
          // A fresh id works; a tracker restarted with the same secret accepts it.
          cid = await c1.connect();
          await t.close();
          await withTracker({ udpIo, now: clock, udpSecret: secret, port: t.port }, async () => {
            const r2 = await c1.request(encodeUdpAnnounceRequest(cid, 4, announceReq(H, 1)));
            assert.equal(r2.action, ACTION_ANNOUNCE);
          });
        } finally {
          await c1.close();
        }
      });
    } finally {
      await c.close();
    }
  });
}
