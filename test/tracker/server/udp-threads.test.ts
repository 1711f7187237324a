// A tracker whose UDP port is read by more than one thread (udp-threads.ts): every
// datagram is answered whichever thread reads it, connection ids from one thread verify
// on the other, announces queued from a worker land in the one swarm store, and close()
// stops the answering without closing the shared file descriptor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  ACTION_ANNOUNCE,
  ACTION_CONNECT,
  decodeUdpReply,
  encodeUdpAnnounceRequest,
  encodeUdpConnectRequest,
} from '../../../src/tracker/protocol/index.js';
import { ConnectionIds, startTracker, type TrackerServer } from '../../../src/tracker/server/index.js';
import { announceReq, get, UDP_IOS, UdpClient, udpIoSkip, withTracker } from './helpers.js';

const H = createHash('sha1').update('udp-threads-test').digest();

interface Stats {
  peers: number;
  announces: { udp: number };
  udp: { threads: number; forwarded: number; dropped: number };
}

async function stats(t: TrackerServer): Promise<Stats> {
  return JSON.parse((await get(t.port, '/api/stats')).body.toString()) as Stats;
}

/** `n` clients at once, each announcing peers `base + k*n + i` in turn; resolves when all are answered. */
async function announceMany(t: TrackerServer, clients: UdpClient[], perClient: number, base: number): Promise<void> {
  await Promise.all(
    clients.map(async (c, i) => {
      for (let k = 0; k < perClient; k++) {
        const r = await c.announce(announceReq(H, base + k * clients.length + i));
        assert.equal(r.action, ACTION_ANNOUNCE);
      }
    }),
  );
  void t;
}

for (const udpIo of UDP_IOS) {
  test(`[${udpIo}] udp threads: every announce is answered and stored, some of them by the worker thread`, { skip: udpIoSkip(udpIo) }, () =>
    withTracker({ udpIo, udpThreads: 2 }, async (t) => {
      assert.equal(t.udpThreads, 2);
      const clients = await Promise.all(Array.from({ length: 8 }, () => UdpClient.open(t.port)));
      try {
        // Until the worker has handled some (bounded: each round is 8 x 25 announces).
        let peers = 0;
        for (let round = 0; round < 10; round++) {
          await announceMany(t, clients, 25, 1 + peers);
          peers += 200;
          if ((await stats(t)).udp.forwarded > 0) break;
        }
        const s = await stats(t);
        assert.equal(s.udp.threads, 2);
        assert.ok(s.udp.forwarded > 0, 'the worker thread queued no announce');
        assert.equal(s.udp.dropped, 0);
        // Every announce, whichever thread read it, is in the one store.
        assert.equal(s.peers, peers);
        assert.equal(s.announces.udp, peers);
        const listed = JSON.parse((await get(t.port, `/api/peers?info_hash=${H.toString("hex")}`)).body.toString()) as unknown[];
        assert.equal(listed.length, peers);
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
    }));

  test(`[${udpIo}] udp threads: a connection id from either thread is the MAC of the shared secret`, { skip: udpIoSkip(udpIo) }, () => {
    const secret = randomBytes(16);
    const ids = new ConnectionIds(secret);
    return withTracker({ udpIo, udpThreads: 2, udpSecret: secret }, async (t) => {
      const clients = await Promise.all(Array.from({ length: 4 }, () => UdpClient.open(t.port)));
      try {
        await Promise.all(
          clients.map(async (c) => {
            const port = c.socket.address().port;
            for (let k = 0; k < 50; k++) {
              const r = decodeUdpReply((await c.exchange(encodeUdpConnectRequest(k)))!);
              assert.ok(r.action === ACTION_CONNECT);
              // The window may tick between the two: then the id verifies as the previous one.
              assert.ok(ids.verify(r.connectionId, 0, '127.0.0.1', port, Date.now()), 'a connect reply not made with the shared key');
              // And the id works for an announce (read by either thread).
              const a = decodeUdpReply((await c.exchange(encodeUdpAnnounceRequest(r.connectionId, k, announceReq(H, k + 1))))!);
              assert.equal(a.action, ACTION_ANNOUNCE);
            }
          }),
        );
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
    });
  });

  test(`[${udpIo}] udp threads: close() stops every thread answering; the store is closed`, { skip: udpIoSkip(udpIo) }, async () => {
    const t = await startTracker({ udpIo, host: '127.0.0.1', port: 0, udpThreads: 3 });
    assert.equal(t.udpThreads, 3);
    const c = await UdpClient.open(t.port);
    try {
      assert.equal(decodeUdpReply((await c.exchange(encodeUdpConnectRequest(1)))!).action, ACTION_CONNECT);
      await t.close();
      for (let k = 0; k < 20; k++) assert.equal(await c.exchange(encodeUdpConnectRequest(k), 50), undefined, 'answered after close()');
    } finally {
      await c.close();
      await t.close();
    }
  });

  test(`[${udpIo}] udp threads: without UDP there are none; HTTP still works`, { skip: udpIoSkip(udpIo) }, () =>
    withTracker({ udpIo, udpThreads: 2, udp: false }, async (t) => {
      assert.equal(t.udpThreads, 0);
      assert.equal((await stats(t)).udp.threads, 0);
    }));

  test(`[${udpIo}] udp threads: trackers started and closed one after another each answer every datagram`, { skip: udpIoSkip(udpIo) }, async () => {
    // A stopped worker must not exit: its exit would close the fd the main thread still
    // holds, and the next socket to get that number would be someone else's.
    for (let i = 0; i < 4; i++) {
      const t = await startTracker({ udpIo, host: '127.0.0.1', port: 0, udpThreads: 2 });
      const c = await UdpClient.open(t.port);
      try {
        let answered = 0;
        for (let k = 0; k < 20; k++) if (await c.exchange(encodeUdpConnectRequest(k), 500)) answered++;
        assert.equal(answered, 20, `tracker ${i} answered ${answered} of 20`);
      } finally {
        await c.close();
        await t.close();
      }
    }
  });
}
