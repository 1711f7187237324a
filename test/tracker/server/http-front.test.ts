// The lean HTTP front (src/tracker/server/http-front.ts): its own HTTP/1.1 parsing of
// GET /announce and /scrape, keep-alive, pipelining, split requests, Connection: close,
// the hand-over to node:http (API on the same connection, malformed and oversized
// requests), timeouts; and a property test of the request parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import fc from 'fast-check';
import { buildScrapeQuery, decodeAnnounceReply, decodeScrapeReply, EVENT_STOPPED } from '../../../src/tracker/protocol/index.js';
import { MAX_HEADER_BYTES, parseRequest } from '../../../src/tracker/server/http-front.js';
import type { TrackerServer } from '../../../src/tracker/server/index.js';
import { announcePath, announceReq, get, Raw, req, UdpClient, withTracker } from './helpers.js';

const H = createHash('sha1').update('http-front').digest();
const H2 = createHash('sha1').update('http-front-2').digest();

const scrapePath = (h: Buffer): string => `/scrape?${buildScrapeQuery([h])}`;

async function stillServes(t: TrackerServer): Promise<void> {
  const r = decodeAnnounceReply((await get(t.port, announcePath(announceReq(H2, 99)))).body);
  assert.equal(r.failure, undefined, 'HTTP still answers');
  const c = await UdpClient.open(t.port);
  try {
    assert.equal((await c.announce(announceReq(H2, 98))).action, 1, 'UDP still answers');
  } finally {
    await c.close();
  }
}

test('pipelined requests in one write are answered in order', () =>
  withTracker({}, async (t) => {
    const c = await Raw.open(t.port);
    try {
      await c.write(
        req(announcePath(announceReq(H, 1, { left: 0 }))) +
          req(scrapePath(H)) +
          req(announcePath(announceReq(H, 1, { left: 0, event: EVENT_STOPPED }))) +
          req(scrapePath(H)),
      );
      await c.until(() => c.responses().length === 4, 'four responses');
      const rs = c.responses();
      assert.ok(rs.every((r) => r.status === 200 && !/connection: close/i.test(r.headers)));
      assert.equal(decodeAnnounceReply(rs[0]!.body).complete, 1);
      assert.equal(decodeScrapeReply(rs[1]!.body).get(H.toString('hex'))?.complete, 1, 'the scrape sees the announce before it');
      assert.equal(decodeAnnounceReply(rs[2]!.body).complete, 0);
      assert.equal(decodeScrapeReply(rs[3]!.body).get(H.toString('hex'))?.complete, 0, 'and the stop before it');
      assert.ok(!c.closed, 'keep-alive');
    } finally {
      c.close();
    }
  }));

test('a request split across packets at every byte is answered as if whole', () =>
  withTracker({}, async (t) => {
    const path = announcePath(announceReq(H, 7, { left: 0, numwant: 0 }));
    const whole = req(path, 'Host: t\r\nUser-Agent: split-test/1.0\r\nX-Forwarded-For: 192.0.2.9\r\n');
    const c = await Raw.open(t.port);
    try {
      for (let i = 1; i < whole.length; i++) {
        const before = c.responses().length;
        await c.write(whole.slice(0, i));
        // Let the first part arrive (and be read) on its own.
        await new Promise((r) => setTimeout(r, 1));
        assert.equal(c.responses().length, before, `no answer to a partial request (split at ${i})`);
        await c.write(whole.slice(i));
        await c.until(() => c.responses().length === before + 1, `the answer (split at ${i})`);
        const r = decodeAnnounceReply(c.responses()[before]!.body);
        assert.equal(r.failure, undefined);
        assert.equal(r.complete, 1);
      }
      assert.ok(!c.closed);
    } finally {
      c.close();
    }
    // X-Forwarded-For from loopback named the peer.
    const peers = await get(t.port, `/api/peers?info_hash=${H.toString('hex')}`);
    assert.match(peers.body.toString(), /192\.0\.2\.9/);
  }));

test('Connection: close and HTTP/1.0 close after the reply; HTTP/1.0 keep-alive stays open', () =>
  withTracker({}, async (t) => {
    const path = announcePath(announceReq(H, 1));
    for (const [r, closes] of [
      [req(path, 'Host: t\r\nConnection: close\r\n'), true],
      [req(path, 'Host: t\r\nconnection: Keep-Alive, CLOSE\r\n'), true],
      [req(path, '', '1.0'), true],
      [req(path, 'Connection: keep-alive\r\n', '1.0'), false],
      [req(path), false],
    ] as const) {
      const c = await Raw.open(t.port);
      try {
        await c.write(r);
        await c.until(() => c.responses().length === 1, 'the reply');
        const res = c.responses()[0]!;
        assert.equal(res.status, 200);
        assert.equal(decodeAnnounceReply(res.body).failure, undefined);
        if (closes) {
          assert.match(res.headers, /connection: close/i, r);
          await c.until(() => c.closed, 'the close');
        } else {
          await new Promise((res2) => setTimeout(res2, 100));
          assert.ok(!c.closed, `stays open: ${r}`);
          // and serves a second request on it
          await c.write(req(path));
          await c.until(() => c.responses().length === 2, 'a second reply');
        }
      } finally {
        c.close();
      }
    }
  }));

test('keep-alive announces, then the API, then announces again on the same connection', () =>
  withTracker({}, async (t) => {
    const c = await Raw.open(t.port);
    try {
      await c.write(req(announcePath(announceReq(H, 1, { left: 0 }))));
      await c.until(() => c.responses().length === 1, 'announce');
      await c.write(req('/api/stats'));
      await c.until(() => c.responses().length === 2, 'stats');
      const stats = JSON.parse(c.responses()[1]!.body.toString()) as { seeders: number; announces: { http: number } };
      assert.equal(stats.seeders, 1);
      assert.equal(stats.announces.http, 1);
      // Pipelined after the hand-over: an announce, a POST with a body, a scrape.
      await c.write(
        req(announcePath(announceReq(H, 2))) +
          `POST /api/torrents HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nnot bencode` +
          req(scrapePath(H)),
      );
      await c.until(() => c.responses().length === 5, 'three more');
      const rs = c.responses();
      assert.equal(decodeAnnounceReply(rs[2]!.body).complete, 1);
      assert.equal(rs[3]!.status, 400);
      assert.equal(decodeScrapeReply(rs[4]!.body).get(H.toString('hex'))?.incomplete, 1);
      assert.ok(!c.closed);
    } finally {
      c.close();
    }
  }));

test('oversized headers get 431, bad request lines and headers 400; the tracker serves on', () =>
  withTracker({}, async (t) => {
    const path = announcePath(announceReq(H, 1));
    const cases: [string | Buffer, number][] = [
      [req(path, `Host: t\r\nX-Big: ${'a'.repeat(MAX_HEADER_BYTES)}\r\n`), 431],
      // No end of headers in sight past the cap.
      [`GET ${path}&pad=${'b'.repeat(MAX_HEADER_BYTES + 10)}`, 431],
      [`GET ${path} HTTP/1.1 junk\r\nHost: t\r\n\r\n`, 400],
      [`GET ${path} HTTP/1.1\r\nBad Header\r\n\r\n`, 400],
      [`GET ${path} HTTP/1.1\r\nHost: t\r\n folded\r\n\r\n`, 400],
      [Buffer.concat([Buffer.from(`GET ${path}\x01 HTTP/1.1\r\nHost: t\r\n\r\n`, 'latin1')]), 400],
      [`GARBAGE\r\n\r\n`, 400],
    ];
    for (const [r, status] of cases) {
      const c = await Raw.open(t.port);
      try {
        await c.write(r);
        await c.until(() => c.responses().length === 1 || c.closed, 'a reply');
        assert.equal(c.responses()[0]?.status, status, String(r).slice(0, 80));
        await c.until(() => c.closed, 'the close');
      } finally {
        c.close();
      }
    }
    await stillServes(t);
  }));

test('slowloris: a request trickled in is cut off at the request timeout; idle connections at the keep-alive timeout', () =>
  withTracker({ httpKeepAliveMs: 300, httpRequestTimeoutMs: 600 }, async (t) => {
    const slow = await Raw.open(t.port);
    const idle = await Raw.open(t.port);
    const t0 = Date.now();
    try {
      const whole = req(announcePath(announceReq(H, 1)));
      let i = 0;
      while (!slow.closed && i < whole.length - 1 && Date.now() - t0 < 3000) {
        await slow.write(whole.slice(i, i + 1));
        i++;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(slow.closed, 'the trickling client was closed');
      assert.ok(Date.now() - t0 < 1500, `closed after ${Date.now() - t0} ms`);
      assert.ok(i < whole.length - 1, 'before its request was complete');
      const res = slow.responses();
      assert.ok(res.length === 0 || res[0]!.status === 408);
      await idle.until(() => idle.closed, 'the idle close', 2000);
    } finally {
      slow.close();
      idle.close();
    }
    await stillServes(t);
  }));

test('a client that goes on sending after its 408 is closed at the keep-alive timeout, not kept open by its bytes', () =>
  withTracker({ httpKeepAliveMs: 300, httpRequestTimeoutMs: 600 }, async (t) => {
    // allowHalfOpen: the client does not answer the server's FIN, it just keeps trickling.
    const s = connect({ port: t.port, host: '127.0.0.1', allowHalfOpen: true });
    let closed = false;
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => (closed = true));
    await new Promise<void>((r) => s.once('connect', () => r()));
    const t0 = Date.now();
    try {
      const whole = req(announcePath(announceReq(H, 1)));
      for (let i = 0; !closed && Date.now() - t0 < 3000; i++) {
        if (!s.destroyed) s.write(whole.slice(i % whole.length, (i % whole.length) + 1));
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(got, /^HTTP\/1\.1 408/);
      assert.ok(closed, 'the server closed the connection');
      assert.ok(Date.now() - t0 < 2000, `closed after ${Date.now() - t0} ms`);
    } finally {
      s.destroy();
    }
    await stillServes(t);
  }));

test('a client that pipelines without reading is throttled, not buffered without bound', () =>
  withTracker({}, async (t) => {
    const c = await Raw.open(t.port);
    try {
      c.s.pause();
      const one = req(announcePath(announceReq(H, 1, { numwant: 200 })));
      // ~20 MB of replies asked for; the server must stop reading, not queue them all.
      const many = one.repeat(2000);
      for (let i = 0; i < 30 && !c.closed; i++) c.s.write(many);
      const answered = async (): Promise<number> =>
        (JSON.parse((await get(t.port, '/api/stats')).body.toString()) as { announces: { http: number } }).announces.http;
      // The kernel buffers hold a few MB of replies; then the server stops reading. How
      // long filling them takes depends on the box's load (3 test files at once: over
      // 1.4 s), so sample until the count settles, bounded at ~15 s.
      let a = await answered();
      let b = a;
      for (let i = 0; i < 50; i++) {
        await new Promise((r) => setTimeout(r, 300));
        b = await answered();
        if (b - a <= 2) break;
        a = b;
      }
      assert.ok(b - a <= 2 && b < 30 * 2000, `answered ${a} then ${b} while the client read nothing`);
    } finally {
      c.close();
    }
    await stillServes(t);
  }));

test('a client that pipelines whole requests per packet without reading is throttled too', () =>
  withTracker({}, async (t) => {
    // 200 peers in the swarm: every reply carries 200 compact peers (~1.3 KB).
    const fill = await Raw.open(t.port);
    try {
      let all = '';
      for (let n = 1; n <= 200; n++) all += req(announcePath(announceReq(H, n)));
      await fill.write(all);
      await fill.until(() => fill.responses().length === 200, 'the swarm filled');
    } finally {
      fill.close();
    }
    const c = await Raw.open(t.port);
    try {
      c.s.pause();
      // Each packet holds one whole request, and the next goes only once the server answered
      // the last: no read ends inside a request.
      const one = req(announcePath(announceReq(H, 1, { numwant: 200 })));
      const answered = async (): Promise<number> => (await t.stats()).announces.http;
      let last = await answered();
      const start = last;
      // 20 MB of replies is past the kernel's buffers; the server must stop before that.
      while (last - start < 15000) {
        c.s.write(one);
        const end = Date.now() + 500;
        let now = last;
        while (now === last && Date.now() < end) {
          await new Promise((r) => setImmediate(r));
          now = await answered();
        }
        if (now === last) break;
        last = now;
      }
      assert.ok(last - start < 15000, `answered ${last - start} announces (~${Math.round(((last - start) * 1300) / 1e6)} MB of replies) while the client read nothing`);
    } finally {
      c.close();
    }
    await stillServes(t);
  }));

test('random bytes on a connection never take the tracker down', () =>
  withTracker({}, async (t) => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 600 }), fc.boolean(), async (bytes, prefix) => {
        const c = await Raw.open(t.port);
        try {
          const head = prefix ? Buffer.from('GET /announce?', 'latin1') : Buffer.alloc(0);
          await c.write(Buffer.concat([head, bytes, Buffer.from('\r\n\r\n')]));
          await c.until(() => c.responses().length > 0 || c.closed, 'a reply or a close', 3000).catch(() => {});
        } finally {
          c.close();
        }
      }),
      { numRuns: 60 },
    );
    await stillServes(t);
  }));

// ---- the parser alone ----

const tchar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!#$%&*+^`|~'.split(''));
const token = fc.string({ unit: tchar, minLength: 1, maxLength: 20 });
const vchar = fc.string({ unit: fc.constantFrom(...' !"#$%&()*+,-./0123456789:;<=>?@ABCXYZ[]^_`abcxyz{|}~\t'.split('')), maxLength: 40 });
const queryChar = fc.constantFrom(...'abcxyz0123456789%=&-_.~+'.split(''));

test('parseRequest: well-formed announces and scrapes give their query, keep-alive and X-Forwarded-For', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('/announce', '/scrape'),
      fc.string({ unit: queryChar, maxLength: 200 }),
      fc.boolean(),
      fc.array(fc.tuple(token, vchar), { maxLength: 8 }),
      fc.constantFrom('', 'close', 'keep-alive', 'Keep-Alive', 'CLOSE', 'upgrade, close', 'foo'),
      fc.option(fc.constantFrom('192.0.2.1', '10.0.0.1, 192.0.2.2')),
      fc.boolean(),
      fc.boolean(),
      (route, query, http10, extra, conn, xff, withQuery, withHost) => {
        const headers = extra.filter(([n]) => !/^(connection|content-length|transfer-encoding|upgrade|x-forwarded-for|host)$/i.test(n));
        let h = headers.map(([n, v]) => `${n}:${v}\r\n`).join('');
        if (withHost) h += 'Host: tracker.example\r\n';
        if (conn) h += `Connection: ${conn}\r\n`;
        if (xff) h += `X-Forwarded-For: ${xff}\r\n`;
        const target = withQuery ? `${route}?${query}` : route;
        const text = `GET ${target} HTTP/1.${http10 ? 0 : 1}\r\n${h}\r\n`;
        const buf = Buffer.from(`junk${text}junk`, 'latin1');
        const r = parseRequest(buf, 4, 4 + text.length);
        // HTTP/1.1 without Host is handed over (route 0): node:http refuses it (400).
        if (!http10 && !withHost) {
          assert.equal(r.route, 0, text);
          return;
        }
        assert.equal(r.route, route === '/announce' ? 1 : 2, text);
        assert.equal(r.query, withQuery ? query : '');
        assert.equal(r.http10, http10);
        const close = /(^|,\s*)close$/i.test(conn) || /^close$/i.test(conn);
        const ka = /^keep-alive$/i.test(conn);
        assert.equal(r.keepAlive, http10 ? ka : !close, `${conn} ${http10}`);
        assert.equal(r.xff, xff ?? undefined);
      },
    ),
    { numRuns: 500 },
  );
});

test('parseRequest: any bytes are either refused (hand-over) or parse to a consistent request, never throw', () => {
  const base = `GET /announce?info_hash=abc&port=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`;
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.uint8Array({ maxLength: 100 }),
      (edits, junk) => {
        const b = Buffer.from(base, 'latin1');
        for (const [i, v] of edits) b[i] = v;
        for (const buf of [b, Buffer.concat([b, junk]), Buffer.from(junk)]) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) continue;
          const r = parseRequest(buf, 0, end + 4);
          if (r.route === 0) continue;
          // Accepted: then it really is a GET of a fast route with printable target bytes.
          const line = buf.toString('latin1', 0, buf.indexOf('\r\n'));
          assert.match(line, /^GET \/(announce|scrape)(\?[\x21-\x7e]*)? HTTP\/1\.[01]$/);
          assert.ok(line.includes(r.query));
        }
      },
    ),
    { numRuns: 2000 },
  );
  // Bodies, upgrades and other methods are never taken.
  for (const h of ['Content-Length: 5\r\n', 'Transfer-Encoding: chunked\r\n', 'Upgrade: websocket\r\n']) {
    const t = `GET /announce?a HTTP/1.1\r\n${h}\r\n`;
    assert.equal(parseRequest(Buffer.from(t), 0, t.length).route, 0, h);
  }
  const zero = `GET /announce?a HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n`;
  assert.equal(parseRequest(Buffer.from(zero), 0, zero.length).route, 1);
  for (const t of ['POST /announce HTTP/1.1\r\n\r\n', 'GET /announcex HTTP/1.1\r\n\r\n', 'GET /api/stats HTTP/1.1\r\n\r\n', 'GET /announce HTTP/2.0\r\n\r\n']) {
    assert.equal(parseRequest(Buffer.from(t), 0, t.length).route, 0, t);
  }
});

test('an HTTP/1.1 announce without Host is refused with 400 (as node:http does); HTTP/1.0 needs none', () =>
  withTracker({}, async (t) => {
    const path = announcePath(announceReq(H, 1));
    for (const [r, status] of [
      [req(path, ''), 400],
      [req(path, 'Connection: close\r\n'), 400],
      [req(path, '', '1.0'), 200],
    ] as const) {
      const c = await Raw.open(t.port);
      try {
        await c.write(r);
        await c.until(() => c.responses().length === 1, 'the reply');
        assert.equal(c.responses()[0]!.status, status, r);
      } finally {
        c.close();
      }
    }
    await stillServes(t);
  }));
