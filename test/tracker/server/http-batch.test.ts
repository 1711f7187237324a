// The native HTTP path (native/http-batch.c through http-native.ts): many concurrent
// Connection: close announces answered in batches, keep-alive with pipelining, a request
// split across packets, an oversized head (431 after the hand-over), the slowloris and idle
// timeouts, the hand-over to the API and status page on one connection, a client that
// half-closes after its request, a peer that resets, close() releasing the port, the
// option's errors, and random bytes at the port (fuzz) with the tracker serving on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import fc from 'fast-check';
import { decodeAnnounceReply } from '../../../src/tracker/protocol/index.js';
import { startTracker, type TrackerServer } from '../../../src/tracker/server/index.js';
import type { TrackerStats } from '../../../src/tracker/server/index.js';
import { announcePath, announceReq, get, httpBatchSkip, Raw, req, withTracker } from './helpers.js';

const H = createHash('sha1').update('http-batch-test').digest();
const skip = httpBatchSkip();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function stats(t: TrackerServer): Promise<TrackerStats> {
  return t.stats();
}

/** One request on a fresh connection; everything the server sent until it closed. */
function oneShot(port: number, bytes: string | Buffer, ms = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => s.end(bytes));
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no close within ${ms} ms; got ${JSON.stringify(got.slice(0, 200))}`));
    }, ms);
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

async function stillServes(t: TrackerServer, n = 500): Promise<void> {
  const r = decodeAnnounceReply((await get(t.port, announcePath(announceReq(H, n)))).body);
  assert.equal(r.failure, undefined, 'HTTP still answers');
}

test('native: the tracker says which HTTP path it uses (/api/stats, status page); 400 concurrent Connection: close announces are each answered, many heads per JS call', { skip }, () =>
  withTracker({ httpIo: 'batch' }, async (t) => {
    assert.equal(t.httpIo, 'batch');
    const path = announcePath(announceReq(H, 1, { left: 0, numwant: 5 }));
    const replies = await Promise.all(Array.from({ length: 400 }, () => oneShot(t.port, req(path, 'Host: t\r\nConnection: close\r\n'))));
    for (const r of replies) {
      assert.match(r, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(r, /\r\nConnection: close\r\n/);
      assert.equal(decodeAnnounceReply(Buffer.from(r.slice(r.indexOf('\r\n\r\n') + 4), 'latin1')).complete, 1);
    }
    const s = await stats(t);
    assert.equal(s.http.io, 'batch');
    assert.ok(s.http.batch, 'batch counters');
    assert.ok(s.http.batch.accepted >= 400, `accepted ${s.http.batch.accepted}`);
    assert.ok(s.http.batch.requests >= 400);
    assert.ok(s.http.batch.batches < s.http.batch.requests, `${s.http.batch.batches} batches for ${s.http.batch.requests} heads`);
    assert.equal(s.announces.http, 400);
    const page = await get(t.port, '/');
    assert.match(page.body.toString(), /HTTP I\/O<\/td><td>native/);
  }));

test('native: keep-alive with pipelined announces and scrapes answered in order, then the API on the same connection (hand-over), then announces again', { skip }, () =>
  withTracker({ httpIo: 'batch' }, async (t) => {
    const c = await Raw.open(t.port);
    try {
      const a = announcePath(announceReq(H, 2, { left: 0 }));
      await c.write(req(a) + req(`/scrape?info_hash=${escape(H.toString('latin1'))}`) + req(a));
      await c.until(() => c.responses().length === 3, 'three responses');
      assert.ok(c.responses().every((r) => r.status === 200 && !/connection: close/i.test(r.headers)));
      await c.write(req('/api/stats'));
      await c.until(() => c.responses().length === 4, 'the API answer');
      const api = c.responses()[3]!;
      assert.match(api.headers, /application\/json/);
      assert.equal((JSON.parse(api.body.toString()) as TrackerStats).http.batch?.handedOver, 1);
      await c.write(req(a));
      await c.until(() => c.responses().length === 5, 'an announce after the hand-over');
      assert.equal(decodeAnnounceReply(c.responses()[4]!.body).complete, 1);
      assert.ok(!c.closed);
    } finally {
      c.close();
    }
  }));

test('native: a request split across packets is answered once whole; a half-closed client still gets its answer', { skip }, () =>
  withTracker({ httpIo: 'batch' }, async (t) => {
    const whole = req(announcePath(announceReq(H, 3)), 'Host: t\r\nX-Forwarded-For: 192.0.2.44\r\n');
    const c = await Raw.open(t.port);
    try {
      for (const cut of [1, 20, whole.length - 3, whole.length - 1]) {
        const before = c.responses().length;
        await c.write(whole.slice(0, cut));
        await sleep(30);
        assert.equal(c.responses().length, before, `nothing for a partial head (cut ${cut})`);
        await c.write(whole.slice(cut));
        await c.until(() => c.responses().length === before + 1, `the answer (cut ${cut})`);
      }
    } finally {
      c.close();
    }
    const peers = await get(t.port, `/api/peers?info_hash=${H.toString('hex')}`);
    assert.match(peers.body.toString(), /192\.0\.2\.44/, 'X-Forwarded-For from loopback names the peer');
    const r = await oneShot(t.port, req(announcePath(announceReq(H, 4)), 'Host: t\r\n', '1.0'));
    assert.match(r, /^HTTP\/1\.1 200 OK/);
  }));

test('native: an oversized head is handed over and answered 431; garbage gets 400; the tracker serves on', { skip }, () =>
  withTracker({ httpIo: 'batch' }, async (t) => {
    const big = await oneShot(t.port, `GET /announce?x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: t\r\n\r\n`);
    assert.match(big, /^HTTP\/1\.1 431 /);
    const huge = await oneShot(t.port, `GET /announce HTTP/1.1\r\nHost: t\r\nX: ${'b'.repeat(16_400)}\r\n\r\n`);
    assert.match(huge, /^HTTP\/1\.1 431 /);
    const bad = await oneShot(t.port, 'BLAH\r\n\r\n');
    assert.match(bad, /^HTTP\/1\.1 400 /);
    await stillServes(t);
  }));

test('native: a head trickled in for longer than the request timeout gets 408 and is closed; an idle keep-alive connection is closed', { skip }, () =>
  withTracker({ httpIo: 'batch', httpKeepAliveMs: 2000, httpRequestTimeoutMs: 600 }, async (t) => {
    const c = await Raw.open(t.port);
    const started = Date.now();
    const path = req(announcePath(announceReq(H, 5)));
    for (let i = 0; i < 40 && !c.closed; i++) {
      await c.write(path[i]!);
      await sleep(100);
    }
    assert.ok(c.closed, 'closed');
    assert.match(c.data.toString('latin1'), /^HTTP\/1\.1 408 /);
    assert.ok(Date.now() - started < 2500, `within the request timeout and a sweep (${Date.now() - started} ms)`);
    const s = await stats(t);
    assert.ok((s.http.batch?.timeouts ?? 0) >= 1);
  }).then(() =>
    withTracker({ httpIo: 'batch', httpKeepAliveMs: 300 }, async (t) => {
      const c = await Raw.open(t.port);
      await c.write(req(announcePath(announceReq(H, 6))));
      await c.until(() => c.responses().length === 1, 'the answer');
      await c.until(() => c.closed, 'the idle close', 2000);
    }),
  ));

test('native: a peer that resets mid-request is forgotten; connections over the limit are refused, not queued forever', { skip }, () =>
  withTracker({ httpIo: 'batch' }, async (t) => {
    for (let i = 0; i < 20; i++) {
      const s = connect({ port: t.port, host: '127.0.0.1' });
      await new Promise<void>((r) => s.once('connect', () => r()));
      s.write('GET /announce?info_hash=');
      await sleep(5);
      s.resetAndDestroy();
    }
    await sleep(100);
    const s = await stats(t);
    assert.equal(s.http.batch?.open, 0, 'every reset connection released');
    await stillServes(t);
  }));

test('native: close() releases the port and every connection; the option refuses what it cannot do', { skip }, async () => {
  const t = await startTracker({ host: '127.0.0.1', port: 0, udp: false, httpIo: 'batch' });
  const c = await Raw.open(t.port);
  await c.write('GET /announce?partial');
  await t.close();
  await c.until(() => c.closed, 'the held connection closed');
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(t.port, '127.0.0.1', () => resolve());
  });
  await new Promise<void>((r) => srv.close(() => r()));
  await assert.rejects(startTracker({ host: 'localhost', port: 0, httpIo: 'batch' }), { code: 'LISTEN_FAILED' });
  const node = await startTracker({ host: '127.0.0.1', port: 0, httpIo: 'node' });
  try {
    assert.equal(node.httpIo, 'node');
    assert.equal((await node.stats()).http.io, 'node');
  } finally {
    await node.close();
  }
});

test('native: IPv6 (dual-stack) peers are seen with their own addresses', { skip }, () =>
  withTracker({ host: '::', httpIo: 'batch' }, async (t) => {
    for (const host of ['127.0.0.1', '::1']) {
      const got = await new Promise<string>((resolve, reject) => {
        const s = connect({ port: t.port, host }, () => s.end(req(announcePath(announceReq(H, host === '::1' ? 61 : 41, { left: 0 })))));
        let d = '';
        s.on('data', (b: Buffer) => (d += b.toString('latin1')));
        s.on('error', reject);
        s.on('close', () => resolve(d));
      });
      assert.match(got, /^HTTP\/1\.1 200 /);
    }
    const peers = (await get(t.port, `/api/peers?info_hash=${H.toString('hex')}`)).body.toString();
    assert.match(peers, /127\.0\.0\.1/);
    assert.match(peers, /::1/);
  }));

test('native: random bytes at the port (fuzz) never take the tracker down', { skip }, () =>
  withTracker({ httpIo: 'batch', httpKeepAliveMs: 300, httpRequestTimeoutMs: 300 }, async (t) => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.boolean(), async (bytes, withHead) => {
        const head = withHead ? Buffer.from('GET /announce?info_hash=x HTTP/1.1\r\n', 'latin1') : Buffer.alloc(0);
        await new Promise<void>((resolve) => {
          const s = connect({ port: t.port, host: '127.0.0.1' }, () => {
            s.write(Buffer.concat([head, bytes, randomBytes(3)]));
            setTimeout(() => s.destroy(), 5);
          });
          s.on('error', () => {});
          s.on('close', () => resolve());
        });
      }),
      { numRuns: 150 },
    );
    await stillServes(t);
  }));
