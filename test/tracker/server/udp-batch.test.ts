// The batched UDP path (native/udp-batch.c through udp-batch.ts): many datagrams in flight
// answered in batches, IPv6 sources, oversized and garbage datagrams dropped with the
// tracker serving on, replies that wait for an asynchronous store, the addon refusing bad
// arguments without crashing, close() releasing the port, and random datagrams (fuzz).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import fc from 'fast-check';
import {
  ACTION_ANNOUNCE,
  ACTION_CONNECT,
  ACTION_ERROR,
  CONNECT_REPLY_SIZE,
  decodeUdpReply,
  encodeUdpAnnounceRequest,
  encodeUdpConnectRequest,
  encodeUdpScrapeRequest,
} from '../../../src/tracker/protocol/index.js';
import { loadUdpBatch, startBatchReader, startTracker, type UdpBatchAddon } from '../../../src/tracker/server/index.js';
import { createMemoryStore, type PeerStore } from '../../../src/tracker/store/index.js';
import { announceReq, get, UdpClient, udpIoSkip, withTracker } from './helpers.js';

const H = createHash('sha1').update('udp-batch-test').digest();
const skip = udpIoSkip('batch');
const addon = (): UdpBatchAddon => {
  const l = loadUdpBatch();
  if (!l.ok) throw new Error(l.reason);
  return l.addon;
};

async function openSocket(type: 'udp4' | 'udp6', host: string): Promise<Socket> {
  const s = createSocket(type);
  await new Promise<void>((r) => s.bind(0, host, () => r()));
  return s;
}

/** Sends every packet at once from `s` and collects replies until `want` came or `ms` passed. */
function burst(s: Socket, port: number, host: string, packets: Buffer[], want: number, ms = 3000): Promise<Buffer[]> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    const done = (): void => {
      clearTimeout(timer);
      s.off('message', onMsg);
      resolve(got);
    };
    const onMsg = (m: Buffer): void => {
      got.push(m);
      if (got.length >= want) done();
    };
    const timer = setTimeout(done, ms);
    s.on('message', onMsg);
    for (const p of packets) s.send(p, port, host);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('batch: 1000 connects, 200 in flight at a time, are each answered once with their transaction id, many per wakeup', { skip }, async () => {
  const a = addon();
  const [fd, port] = a.bindSocket('127.0.0.1', 0, 4 << 20);
  let calls = 0;
  // An echo of the transaction id as a connect reply: the reader alone, no tracker.
  const reader = startBatchReader(a, fd, (msg, len, src, out, off) => {
    calls++;
    if (len !== 16 || src.length !== 6) return 0;
    msg.copy(out, off, 8, 16);
    out.writeUInt32BE(ACTION_CONNECT, off);
    src.copy(out, off + 8, 0, 6);
    return 16;
  });
  const s = await openSocket('udp4', '127.0.0.1');
  try {
    // Waves of 200: the client's own receive buffer (rmem_default) holds ~250 replies.
    const got: Buffer[] = [];
    for (let w = 0; w < 5; w++) {
      const packets = Array.from({ length: 200 }, (_, i) => encodeUdpConnectRequest(w * 200 + i));
      got.push(...(await burst(s, port, '127.0.0.1', packets, packets.length)));
    }
    assert.equal(got.length, 1000);
    const tids = new Set(got.map((m) => m.readUInt32BE(4)));
    assert.equal(tids.size, 1000);
    // The source handed to JS is the sender's compact address.
    const me = s.address();
    for (const m of got) assert.deepEqual([...m.subarray(8, 14)], [127, 0, 0, 1, me.port >> 8, me.port & 0xff]);
    const st = reader.stats();
    assert.equal(st.received, 1000);
    assert.equal(st.sent, 1000);
    assert.equal(calls, 1000);
    assert.ok(st.batches < 1000, `${st.batches} batches for 1000 datagrams`);
  } finally {
    s.close();
    reader.close();
    await sleep(5);
    a.closeSocket(fd);
  }
});

test('batch: an oversized datagram is dropped unread (MSG_TRUNC) and the reader serves on', { skip }, async () => {
  const a = addon();
  const [fd, port] = a.bindSocket('127.0.0.1', 0, 4 << 20);
  const lens: number[] = [];
  const reader = startBatchReader(a, fd, (_msg, len, _src, out, off) => {
    lens.push(len);
    out.writeUInt32BE(len, off);
    return 4;
  });
  const s = await openSocket('udp4', '127.0.0.1');
  try {
    s.send(Buffer.alloc(60_000, 7), port, '127.0.0.1');
    s.send(Buffer.alloc(0), port, '127.0.0.1');
    const got = await burst(s, port, '127.0.0.1', [Buffer.alloc(20, 1)], 1);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.readUInt32BE(0), 20);
    // Neither the 60,000-byte nor the empty datagram reached JS.
    assert.deepEqual(lens, [20]);
    assert.equal(reader.stats().truncated, 1);
  } finally {
    s.close();
    reader.close();
    await sleep(5);
    a.closeSocket(fd);
  }
});

test('batch: the addon refuses bad arguments with exceptions, never a crash', { skip }, () => {
  const a = addon();
  const [fd] = a.bindSocket('127.0.0.1', 0, 0);
  try {
    const b = Buffer.alloc(64 * 4096);
    const st = Buffer.alloc(64);
    const fn = (): number => 0;
    assert.throws(() => a.createPoller(fd, 0, 2048, 2048, b, b, b, b, st, fn), RangeError);
    assert.throws(() => a.createPoller(fd, 65, 2048, 2048, b, b, b, b, st, fn), RangeError);
    assert.throws(() => a.createPoller(fd, 64, 2048, 2048, Buffer.alloc(10), b, b, b, st, fn), RangeError);
    assert.throws(() => a.createPoller(fd, 4, 2048, 2048, b, b, b, b, Buffer.alloc(8), fn), RangeError);
    assert.throws(() => a.createPoller(fd, 4, 2048, 2048, b, b, b, b, st, 'x' as never), TypeError);
    assert.throws(() => a.createPoller(fd, 4, 2048, 2048, 'x' as never, b, b, b, st, fn), TypeError);
    assert.throws(() => a.closePoller({} as never), TypeError);
    assert.throws(() => a.bindSocket('not an ip', 0, 0), /not an IP/);
    assert.throws(() => a.bindSocket('127.0.0.1', 70000, 0), TypeError);
    // A file descriptor that is no socket.
    assert.throws(() => a.createPoller(0x7fff, 4, 2048, 2048, b, b, b, b, st, fn), /not a bound/);
    assert.equal(a.sendTo(fd, Buffer.alloc(4), Buffer.alloc(5)), 97 /* EAFNOSUPPORT */);
    // Port 1 on loopback: the kernel takes the datagram (nobody listens).
    assert.equal(a.sendTo(fd, Buffer.alloc(4), Buffer.from([127, 0, 0, 1, 0, 1])), 0);
    // A port in use is EADDRINUSE, as node:dgram says it.
    const [fd2, port2] = a.bindSocket('127.0.0.1', 0, 0);
    assert.throws(() => a.bindSocket('127.0.0.1', port2, 0), (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE');
    a.closeSocket(fd2);
  } finally {
    a.closeSocket(fd);
  }
});

test('batch: a poller closed from inside its own callback stops after it, and replies of that batch still go out', { skip }, async () => {
  const a = addon();
  const [fd, port] = a.bindSocket('127.0.0.1', 0, 1 << 20);
  let calls = 0;
  const reader = startBatchReader(a, fd, (_msg, _len, _src, out, off) => {
    calls++;
    reader.close();
    out.writeUInt32BE(42, off);
    return 4;
  });
  const s = await openSocket('udp4', '127.0.0.1');
  try {
    const got = await burst(s, port, '127.0.0.1', [Buffer.alloc(20)], 1);
    assert.equal(got.length, 1);
    await sleep(20);
    const after = await burst(s, port, '127.0.0.1', [Buffer.alloc(20)], 1, 200);
    assert.equal(after.length, 0);
    assert.equal(calls, 1);
  } finally {
    s.close();
    await sleep(5);
    a.closeSocket(fd);
  }
});

test('batch tracker: IPv6 sources get IPv6 peers (18-byte source and reply format)', { skip }, async (t) => {
  const probe = createSocket('udp6');
  const hasV6 = await new Promise<boolean>((r) => {
    probe.once('error', () => r(false));
    probe.bind(0, '::1', () => r(true));
  });
  probe.close();
  if (!hasV6) return t.skip('no IPv6 loopback here');
  await withTracker({ host: '::1', udpIo: 'batch' }, async (tr) => {
    assert.equal(tr.udpIo, 'batch');
    const s = await openSocket('udp6', '::1');
    try {
      const ask = async (p: Buffer): Promise<Buffer> => (await burst(s, tr.port, '::1', [p], 1))[0]!;
      const c = decodeUdpReply(await ask(encodeUdpConnectRequest(1)));
      assert.ok(c.action === ACTION_CONNECT);
      await ask(encodeUdpAnnounceRequest(c.connectionId, 2, announceReq(H, 1, { left: 0 })));
      const r = decodeUdpReply(await ask(encodeUdpAnnounceRequest(c.connectionId, 3, announceReq(H, 2))), 18);
      assert.ok(r.action === ACTION_ANNOUNCE);
      assert.deepEqual(r.peers, [{ ip: '::1', port: 10001 }]);
    } finally {
      s.close();
    }
  });
});

test('batch tracker: announces over an asynchronous store are answered after it resolves (sendTo)', { skip }, async () => {
  const mem = await createMemoryStore();
  // Every announce and scrape takes a turn of the event loop, as a Redis round trip does.
  const store = new Proxy(mem, {
    get(target, key, recv) {
      if (key === 'kind') return 'async-test';
      if (key === 'announce' || key === 'scrape') {
        return (x: never) => new Promise((resolve) => setImmediate(() => resolve((target[key] as (x: never) => unknown).call(target, x))));
      }
      const v = Reflect.get(target, key, recv) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as PeerStore;
  try {
    await withTracker({ udpIo: 'batch', store }, async (t) => {
      const c = await UdpClient.open(t.port);
      try {
        await c.announce(announceReq(H, 1, { left: 0 }));
        const r = await c.announce(announceReq(H, 2));
        assert.ok(r.action === ACTION_ANNOUNCE);
        assert.deepEqual(r.peers, [{ ip: '127.0.0.1', port: 10001 }]);
        const s = await c.request(encodeUdpScrapeRequest(await c.connect(), 9, [H]));
        assert.ok(s.action === 2);
        assert.deepEqual(s.counts, [{ complete: 1, downloaded: 0, incomplete: 1 }]);
      } finally {
        await c.close();
      }
    });
  } finally {
    await mem.close();
  }
});

test('batch tracker: close() releases the port at once, with one and with two UDP threads', { skip }, async () => {
  for (const udpThreads of [1, 2]) {
    const t = await startTracker({ host: '127.0.0.1', port: 0, udpIo: 'batch', udpThreads });
    assert.equal(t.udpThreads, udpThreads);
    const c = await UdpClient.open(t.port);
    assert.ok(await c.exchange(encodeUdpConnectRequest(1)));
    await c.close();
    await t.close();
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(t.port, '127.0.0.1', () => resolve());
    });
    s.close();
  }
});

test('batch tracker: random datagrams (fuzz) get no reply or a small one, and the tracker serves on', { skip }, () =>
  withTracker({ udpIo: 'batch' }, async (t) => {
    const s = await openSocket('udp4', '127.0.0.1');
    const replies: Buffer[] = [];
    s.on('message', (m) => replies.push(m));
    try {
      // Random bytes, and random bodies behind a real-looking header (each action, a
      // random connection id): every source here is unverified.
      const header = fc.tuple(fc.constantFrom(0, 1, 2, 3, 0xffffffff), fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.uint8Array({ maxLength: 1600 }));
      const datagram = fc.oneof(
        fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b)),
        fc.nat().map((tid) => encodeUdpConnectRequest(tid)),
        header.map(([action, cid, rest]) => {
          const b = Buffer.alloc(16 + rest.length);
          b.set(cid, 0);
          b.writeUInt32BE(action, 8);
          b.set(rest, 16);
          return b;
        }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(datagram, { minLength: 1, maxLength: 40 }), async (batch) => {
          for (const d of batch) s.send(d, t.port, '127.0.0.1');
          await sleep(2);
        }),
        { numRuns: 60 },
      );
      await sleep(200);
      // No amplification: an unverified source never gets more than a connect reply.
      for (const r of replies) assert.ok(r.length <= CONNECT_REPLY_SIZE, `reply of ${r.length} bytes`);
      for (const r of replies) assert.ok([ACTION_CONNECT, ACTION_ERROR].includes(r.readUInt32BE(0)));
    } finally {
      s.close();
    }
    const c = await UdpClient.open(t.port);
    try {
      const r = await c.announce(announceReq(H, 7));
      assert.equal(r.action, ACTION_ANNOUNCE);
    } finally {
      await c.close();
    }
  }));

test('batch tracker: /api/stats says the UDP I/O is batched and counts datagrams, batches and oversized drops', { skip }, () =>
  withTracker({ udpIo: 'batch' }, async (t) => {
    const c = await UdpClient.open(t.port);
    try {
      c.socket.send(Buffer.alloc(40_000, 1), t.port, '127.0.0.1');
      assert.equal((await c.announce(announceReq(H, 1))).action, ACTION_ANNOUNCE);
    } finally {
      await c.close();
    }
    const s = JSON.parse((await get(t.port, '/api/stats')).body.toString()) as {
      udp: { io: string; batch: { received: number; sent: number; truncated: number; batches: number; sendDropped: number } };
    };
    assert.equal(s.udp.io, 'batch');
    assert.equal(s.udp.batch.received, 3);
    assert.equal(s.udp.batch.truncated, 1);
    assert.equal(s.udp.batch.sent, 2);
    assert.equal(s.udp.batch.sendDropped, 0);
    assert.ok(s.udp.batch.batches >= 1 && s.udp.batch.batches <= 3);
    const page = (await get(t.port, '/')).body.toString();
    assert.match(page, /UDP I\/O<\/td><td>batched/);
  }));

test('dgram tracker: /api/stats and the status page say node:dgram', () =>
  withTracker({ udpIo: 'dgram' }, async (t) => {
    const s = JSON.parse((await get(t.port, '/api/stats')).body.toString()) as { udp: { io: string; batch?: unknown } };
    assert.equal(s.udp.io, 'dgram');
    assert.equal(s.udp.batch, undefined);
    assert.match((await get(t.port, '/')).body.toString(), /UDP I\/O<\/td><td>node:dgram/);
  }));

test('batch: a worker thread terminated with its poller open ends cleanly (the loop is not closed with the handle open)', { skip }, async () => {
  const { Worker } = await import('node:worker_threads');
  const { fileURLToPath } = await import('node:url');
  const file = fileURLToPath(new URL('../../../dist/native/udp-batch.node', import.meta.url));
  // Plain CommonJS in the worker: the addon alone, a socket, an open poller; never closed.
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const a = require(workerData.file);
    const [fd] = a.bindSocket('127.0.0.1', 0, 0);
    const b = Buffer.alloc(64 * 4096), st = Buffer.alloc(64);
    globalThis.p = a.createPoller(fd, 4, 2048, 2048, b, b, b, b, st, () => 0);
    parentPort.postMessage('ready');`;
  for (let i = 0; i < 3; i++) {
    const w = new Worker(code, { eval: true, workerData: { file } });
    await new Promise<void>((resolve, reject) => {
      w.once('error', reject);
      w.once('message', () => resolve());
    });
    assert.equal(await w.terminate(), 1);
  }
});
