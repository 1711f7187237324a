// The client against hostile or broken trackers (hand-written fakes on 127.0.0.1): every
// failure is a TrackerClientError with its code, bounded in time and size.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { announce, clearUdpConnectionCache, scrape } from '../../../src/tracker/client/index.js';
import { encode } from '../../../src/bencode/index.js';
import { announceReply, connectReply, errorReply, fakeHttp, fakeUdp, params } from './fakes.js';

function peers6(): Buffer {
  const b = Buffer.alloc(18);
  b[0] = 0x20;
  b[1] = 0x01;
  b[2] = 0x0d;
  b[3] = 0xb8;
  b[15] = 1;
  b.writeUInt16BE(51413, 16);
  return b;
}

test('http: a failure reason is TRACKER_FAILURE with the reason', async () => {
  const f = await fakeHttp((_q, res) => res.end(encode({ 'failure reason': 'torrent not registered' })));
  try {
    await assert.rejects(announce(f.url, params), { code: 'TRACKER_FAILURE', message: /torrent not registered/ });
  } finally {
    await f.close();
  }
});

test('http: a failure reason sent with status 400 is still the tracker\'s reason', async () => {
  const f = await fakeHttp((_q, res) => {
    res.statusCode = 400;
    res.end(encode({ 'failure reason': 'bad request' }));
  });
  try {
    await assert.rejects(announce(f.url, params), { code: 'TRACKER_FAILURE', message: /bad request/ });
  } finally {
    await f.close();
  }
});

test('http: garbage, a non-dict and a reply without interval are TRACKER_BAD_REPLY; a 500 page TRACKER_HTTP_STATUS', async () => {
  const bodies: [number, Buffer | string][] = [
    [200, '<html>hello</html>'],
    [200, 'i42e'],
    [200, encode({ peers: Buffer.alloc(0) })],
    [200, 'd8:intervali1800e5:peers'],
  ];
  let i = 0;
  const f = await fakeHttp((_q, res) => {
    const [status, body] = bodies[Math.min(i++, bodies.length - 1)]!;
    res.statusCode = status;
    res.end(body);
  });
  try {
    for (let k = 0; k < bodies.length; k++) await assert.rejects(announce(f.url, params), { code: 'TRACKER_BAD_REPLY' });
  } finally {
    await f.close();
  }
  const g = await fakeHttp((_q, res) => {
    res.statusCode = 500;
    res.end('oops');
  });
  try {
    await assert.rejects(announce(g.url, params), { code: 'TRACKER_HTTP_STATUS' });
  } finally {
    await g.close();
  }
});

test('http: a tracker that never answers times out within the deadline', async () => {
  const f = await fakeHttp(() => {
    // never respond
  });
  try {
    const t0 = Date.now();
    await assert.rejects(announce(f.url, params, { timeoutMs: 300 }), { code: 'TRACKER_TIMEOUT' });
    assert.ok(Date.now() - t0 < 2000);
  } finally {
    await f.close();
  }
});

test('http: an oversize reply is refused, declared or streamed', async () => {
  const big = Buffer.alloc(2 * 1024 * 1024, 0x61);
  const declared = await fakeHttp((_q, res) => res.end(big));
  const streamed = await fakeHttp((_q, res) => {
    // no Content-Length: chunked, 2 MB
    res.write(big.subarray(0, 1024 * 1024));
    res.end(big.subarray(1024 * 1024));
  });
  try {
    await assert.rejects(announce(declared.url, params), { code: 'TRACKER_REPLY_TOO_LARGE' });
    await assert.rejects(announce(streamed.url, params), { code: 'TRACKER_REPLY_TOO_LARGE' });
  } finally {
    await declared.close();
    await streamed.close();
  }
});

test('http: sends the BEP 3 query (escaped hashes, compact, numwant, event, hex key) and reads IPv6 peers and warnings', async () => {
  const f = await fakeHttp((_q, res) =>
    res.end(
      encode({
        interval: 900,
        'min interval': 60,
        complete: 4,
        incomplete: 5,
        peers: Buffer.from([127, 0, 0, 1, 0x1a, 0xe1]),
        peers6: peers6(),
        'warning message': 'be nice',
      }),
    ),
  );
  try {
    const r = await announce(f.url + '?passkey=abc', { ...params, event: 'started', numwant: 20 });
    assert.deepEqual(r.peers, [
      { ip: '127.0.0.1', port: 6881 },
      { ip: '2001:db8::1', port: 51413 },
    ]);
    assert.equal(r.intervalS, 900);
    assert.equal(r.minIntervalS, 60);
    assert.equal(r.complete, 4);
    assert.equal(r.incomplete, 5);
    assert.equal(r.warning, 'be nice');
    const q = new URLSearchParams(f.requests[0]!.split('?')[1]);
    assert.equal(q.get('passkey'), 'abc');
    assert.equal(Buffer.from(q.get('info_hash')!, 'latin1').length, 20);
    assert.equal(q.get('port'), '6881');
    assert.equal(q.get('left'), '100');
    assert.equal(q.get('compact'), '1');
    assert.equal(q.get('numwant'), '20');
    assert.equal(q.get('event'), 'started');
    assert.equal(q.get('key'), '1234abcd');
    assert.ok(f.requests[0]!.includes('info_hash=%07%07%07'));
  } finally {
    await f.close();
  }
});

test('http: scrape uses the BEP 48 URL, and a URL without /announce has no scrape', async () => {
  const h = params.infoHash;
  const f = await fakeHttp((_q, res) =>
    res.end(encode({ files: { [h.toString('latin1')]: { complete: 1, downloaded: 2, incomplete: 3 }, ['x'.repeat(20)]: { complete: 9 } } })),
  );
  try {
    const m = await scrape(f.url, [h]);
    assert.equal(f.requests[0]!.startsWith('/scrape?info_hash='), true);
    assert.deepEqual([...m], [[h.toString('hex'), { complete: 1, downloaded: 2, incomplete: 3 }]], 'only what was asked');
    await assert.rejects(scrape(f.url.replace('/announce', '/track'), [h]), { code: 'TRACKER_NO_SCRAPE' });
  } finally {
    await f.close();
  }
});

test('bad URLs and a refused connection are typed errors', async () => {
  await assert.rejects(announce('ftp://x/announce', params), { code: 'TRACKER_BAD_URL' });
  await assert.rejects(announce('udp://127.0.0.1/announce', params), { code: 'TRACKER_BAD_URL' });
  await assert.rejects(announce('wss://tracker.example', params), { code: 'TRACKER_BAD_URL' });
  await assert.rejects(announce('http://127.0.0.1:1/announce', { ...params, infoHash: Buffer.alloc(19) }), { code: 'TRACKER_BAD_PARAMS' });
  await assert.rejects(announce('http://127.0.0.1:1/announce', params, { timeoutMs: 0 }), { code: 'TRACKER_BAD_PARAMS' });
  const f = await fakeHttp(() => {});
  const url = f.url;
  await f.close();
  await assert.rejects(announce(url, params), { code: 'TRACKER_UNREACHABLE' });
});

test('an AbortSignal ends an announce at once', async () => {
  const f = await fakeHttp(() => {});
  const u = await fakeUdp(() => {});
  try {
    const ac = new AbortController();
    const p1 = announce(f.url, params, { signal: ac.signal, timeoutMs: 10_000 });
    const p2 = announce(u.url, params, { signal: ac.signal, timeoutMs: 10_000 });
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(p1, { code: 'TRACKER_ABORTED' });
    await assert.rejects(p2, { code: 'TRACKER_ABORTED' });
  } finally {
    await f.close();
    await u.close();
  }
});

test('udp: connect then announce; the connection id is reused within a minute', async () => {
  clearUdpConnectionCache();
  const u = await fakeUdp((msg, from, fake) => {
    const action = msg.readUInt32BE(8);
    const tid = msg.readUInt32BE(12);
    if (action === 0) fake.send(connectReply(tid), from);
    else if (action === 1) {
      assert.equal(msg.subarray(0, 8).toString('hex'), '0123456789abcdef');
      fake.send(announceReply(tid, Buffer.from([10, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0, 0])), from);
    }
  });
  try {
    const r = await announce(u.url, { ...params, event: 'started' });
    assert.deepEqual(r.peers, [{ ip: '10.0.0.1', port: 6881 }], 'port 0 entries dropped');
    assert.equal(r.intervalS, 1800);
    assert.equal(r.complete, 2);
    assert.equal(r.incomplete, 3);
    await announce(u.url, params);
    const actions = u.received.map((m) => m.readUInt32BE(8));
    assert.deepEqual(actions, [0, 1, 1]);
    const a = u.received[1]!;
    assert.equal(a.length, 98);
    assert.equal(a.readUInt32BE(80), 2, 'event started');
    assert.equal(a.readUInt32BE(88), params.key);
    assert.equal(a.readUInt16BE(96), 6881);
  } finally {
    await u.close();
  }
});

test('udp: a lost packet is retransmitted; garbage and wrong transaction ids are ignored', async () => {
  clearUdpConnectionCache();
  let n = 0;
  const u = await fakeUdp((msg, from, fake) => {
    n++;
    const action = msg.readUInt32BE(8);
    const tid = msg.readUInt32BE(12);
    if (n === 1) return; // drop the first connect
    fake.send(Buffer.from('garbage!'), from);
    fake.send(connectReply((tid ^ 1) >>> 0), from);
    if (action === 0) fake.send(connectReply(tid), from);
    else fake.send(announceReply(tid, Buffer.alloc(0)), from);
  });
  try {
    const r = await announce(u.url, params, { timeoutMs: 3000, udpRetransmitMs: 100 });
    assert.deepEqual(r.peers, []);
    assert.equal(u.received.filter((m) => m.readUInt32BE(8) === 0).length, 2, 'connect sent twice');
  } finally {
    await u.close();
  }
});

test('udp: an error packet is TRACKER_FAILURE; silence is TRACKER_TIMEOUT within the deadline', async () => {
  clearUdpConnectionCache();
  const err = await fakeUdp((msg, from, fake) => {
    const action = msg.readUInt32BE(8);
    const tid = msg.readUInt32BE(12);
    if (action === 0) fake.send(connectReply(tid), from);
    else fake.send(errorReply(tid, 'unregistered torrent'), from);
  });
  const silent = await fakeUdp(() => {});
  try {
    await assert.rejects(announce(err.url, params), { code: 'TRACKER_FAILURE', message: /unregistered torrent/ });
    const t0 = Date.now();
    await assert.rejects(announce(silent.url, params, { timeoutMs: 400 }), { code: 'TRACKER_TIMEOUT' });
    assert.ok(Date.now() - t0 < 2000);
    assert.ok(silent.received.length >= 2, 'retransmitted before giving up');
  } finally {
    await err.close();
    await silent.close();
  }
});

test('udp: a cached connection id that the tracker refuses is replaced by a fresh connect', async () => {
  clearUdpConnectionCache();
  let connects = 0;
  const u = await fakeUdp((msg, from, fake) => {
    const action = msg.readUInt32BE(8);
    const tid = msg.readUInt32BE(12);
    if (action === 0) {
      connects++;
      fake.send(connectReply(tid, Buffer.alloc(8, connects)), from);
    } else if (msg[0] === connects) fake.send(announceReply(tid, Buffer.alloc(0)), from);
    else fake.send(errorReply(tid, 'connection id expired'), from);
  });
  try {
    await announce(u.url, params);
    connects = 5; // the tracker "restarted": the cached id (1) is refused now
    await announce(u.url, params);
    assert.equal(connects, 6);
  } finally {
    await u.close();
  }
});

test('https: a tracker that is not speaking TLS is TRACKER_UNREACHABLE (node:https is loaded on demand)', async () => {
  // A plain HTTP server behind an https URL: the TLS handshake fails.
  const f = await fakeHttp((_q, res) => res.end(encode({ interval: 60, peers: Buffer.alloc(0) })));
  try {
    await assert.rejects(announce(f.url.replace(/^http:/, 'https:'), params, { timeoutMs: 5000 }), { code: 'TRACKER_UNREACHABLE' });
  } finally {
    await f.close();
  }
});
