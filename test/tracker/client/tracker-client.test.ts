// TrackerClient over BEP 12 tiers: order, promotion of a responsive tracker, fall-through to
// the next tier, events, re-announce on the interval, backoff, a bounded stop().
import assert from 'node:assert/strict';
import { once, type EventEmitter } from 'node:events';
import { test } from 'node:test';
import { encode } from '../../../src/bencode/index.js';
import { TrackerClient, type AnnounceEvent, type TrackerErrorEvent } from '../../../src/tracker/client/index.js';
import { startTracker } from '../../../src/tracker/server/index.js';
import { fakeHttp, fakeUdp, params } from './fakes.js';

const stats = () => ({ uploaded: 0, downloaded: 0, left: 100 });

function client(tiers: string[][], extra: Partial<ConstructorParameters<typeof TrackerClient>[0]> = {}): TrackerClient {
  return new TrackerClient({
    tiers,
    infoHash: params.infoHash,
    peerId: params.peerId,
    port: 6881,
    stats,
    shuffle: false,
    timeoutMs: 500,
    udpRetransmitMs: 100,
    retryBaseMs: 100,
    ...extra,
  });
}

function okReply(intervalS = 1800, peers = Buffer.from([10, 0, 0, 9, 0x1a, 0xe1])): Buffer {
  return encode({ interval: intervalS, peers });
}

function eventsOf(requests: string[]): string[] {
  return requests.map((r) => new URLSearchParams(r.split('?')[1]).get('event') ?? 'none');
}

test('a dead tracker is skipped within its tier and the one that answers moves to the front', async () => {
  const dead = await fakeHttp((req) => req.socket.destroy());
  const live = await fakeHttp((_q, res) => res.end(okReply()));
  const c = client([[dead.url, live.url]]);
  const errors: TrackerErrorEvent[] = [];
  c.on('tracker-error', (e) => errors.push(e));
  try {
    const peersSeen = once(c, 'peers');
    c.start();
    const [peers, url] = (await peersSeen) as [unknown, string];
    assert.deepEqual(peers, [{ ip: '10.0.0.9', port: 6881 }]);
    assert.equal(url, live.url);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.url, dead.url);
    assert.deepEqual(c.trackers, [[live.url, dead.url]]);
    assert.deepEqual(eventsOf(live.requests), ['started']);
  } finally {
    await c.stop();
    await dead.close();
    await live.close();
  }
});

test('when a whole tier fails the next tier is tried; the first tier is tried first each round', async () => {
  const failing = await fakeHttp((_q, res) => res.end(encode({ 'failure reason': 'go away' })));
  const second = await fakeHttp((_q, res) => res.end(okReply()));
  const c = client([[failing.url], [second.url]]);
  let errs = 0;
  c.on('tracker-error', () => errs++);
  try {
    const first = once(c, 'announce');
    c.start();
    const [ev] = (await first) as [AnnounceEvent];
    assert.equal(ev.url, second.url);
    const again = once(c, 'announce');
    c.announceNow();
    await again;
    assert.equal(failing.requests.length, 2, 'tier 1 asked again in the second round');
    assert.equal(errs, 2);
    assert.deepEqual(eventsOf(second.requests), ['started', 'none']);
  } finally {
    await c.stop();
    await failing.close();
    await second.close();
  }
});

test('re-announces on the tracker interval, sends completed, and stopped on stop()', async () => {
  const t = await fakeHttp((_q, res) => res.end(okReply(1)));
  const c = client([[t.url]]);
  try {
    c.start();
    await once(c, 'announce');
    const t0 = Date.now();
    await once(c, 'announce');
    const waited = Date.now() - t0;
    assert.ok(waited >= 900 && waited < 3000, `re-announced after ${waited} ms (interval 1 s)`);
    c.completed();
    await once(c, 'announce');
    await c.stop();
    assert.deepEqual(eventsOf(t.requests), ['started', 'none', 'completed', 'stopped']);
  } finally {
    await c.stop();
    await t.close();
  }
});

test('every tracker failing retries with a growing backoff, and started is resent until taken', async () => {
  let up = false;
  const t = await fakeHttp((_q, res) => (up ? res.end(okReply()) : res.end(encode({ 'failure reason': 'not yet' }))));
  const c = client([[t.url]], { retryBaseMs: 100 });
  const times: number[] = [];
  c.on('tracker-error', () => times.push(Date.now()));
  try {
    c.start();
    while (times.length < 3) await once(c, 'tracker-error');
    up = true;
    await once(c, 'announce');
    const gap1 = times[1]! - times[0]!;
    const gap2 = times[2]! - times[1]!;
    assert.ok(gap1 >= 90 && gap2 >= 180, `backoff gaps ${gap1} ms then ${gap2} ms`);
    assert.deepEqual(eventsOf(t.requests), ['started', 'started', 'started', 'started']);
  } finally {
    await c.stop();
    await t.close();
  }
});

test('stop() is bounded when the tracker stops answering, and a client never answered sends no stopped', async () => {
  let answer = true;
  const t = await fakeUdp((msg, from, fake) => {
    if (!answer) return;
    const action = msg.readUInt32BE(8);
    const tid = msg.readUInt32BE(12);
    const r = Buffer.alloc(action === 0 ? 16 : 20);
    r.writeUInt32BE(action, 0);
    r.writeUInt32BE(tid, 4);
    if (action === 1) r.writeUInt32BE(1800, 8);
    fake.send(r, from);
  });
  const c = client([[t.url]], { timeoutMs: 5000 });
  try {
    c.start();
    await once(c, 'announce');
    answer = false;
    const t0 = Date.now();
    await c.stop();
    assert.ok(Date.now() - t0 < 3500, `stop took ${Date.now() - t0} ms`);
    const before = t.received.length;
    const never = client([[t.url]]);
    await never.stop();
    assert.equal(t.received.length, before, 'nothing sent by a client never started');
  } finally {
    await c.stop();
    await t.close();
  }
});

test("a tracker-error with no listener does not throw; 'error' is never emitted", async () => {
  const c = client([['http://127.0.0.1:1/announce']]);
  let errorEvents = 0;
  (c as unknown as EventEmitter).on('error', () => errorEvents++);
  c.start();
  await new Promise((r) => setTimeout(r, 300));
  await c.stop();
  assert.equal(errorEvents, 0);
});

test('two clients find each other through a real sta tracker over UDP and HTTP tiers', async () => {
  const tracker = await startTracker({ host: '127.0.0.1', port: 0, intervalS: 60 });
  const mk = (n: number, tiers: string[][]) =>
    new TrackerClient({
      tiers,
      infoHash: Buffer.alloc(20, 0x42),
      peerId: Buffer.from(`-ST0001-${String(n).padStart(12, '0')}`),
      port: 7000 + n,
      stats: () => ({ uploaded: 0, downloaded: 0, left: n === 1 ? 0 : 100 }),
      shuffle: false,
    });
  const seeder = mk(1, [[tracker.udpAnnounceUrl]]);
  const leecher = mk(2, [[tracker.announceUrl]]);
  try {
    seeder.start();
    await once(seeder, 'announce');
    const got = once(leecher, 'peers');
    leecher.start();
    const [peers] = (await got) as [{ ip: string; port: number }[]];
    assert.deepEqual(peers, [{ ip: '127.0.0.1', port: 7001 }]);
    await leecher.stop();
    await seeder.stop();
    const [counts] = await tracker.store.scrape([Buffer.alloc(20, 0x42)]);
    assert.deepEqual(counts, { complete: 0, downloaded: 0, incomplete: 0 }, 'both sent stopped');
  } finally {
    await leecher.stop();
    await seeder.stop();
    await tracker.close();
  }
});
