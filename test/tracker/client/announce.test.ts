// announce() and scrape() against a real `sta tracker` (startTracker) over HTTP and UDP.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { announce, scrape } from '../../../src/tracker/client/index.js';
import { startTracker, type TrackerServer } from '../../../src/tracker/server/index.js';

let tracker: TrackerServer;

before(async () => {
  tracker = await startTracker({ host: '127.0.0.1', port: 0, intervalS: 120 });
});
after(async () => {
  await tracker.close();
});

const peerId = (n: number): Buffer => Buffer.from(`-ST0001-${String(n).padStart(12, '0')}`);
const base = (infoHash: Buffer, n: number, left = 100) => ({
  infoHash,
  peerId: peerId(n),
  port: 7000 + n,
  uploaded: 0,
  downloaded: 0,
  left,
  key: n,
});

for (const kind of ['http', 'udp'] as const) {
  const url = (): string => (kind === 'http' ? `http://127.0.0.1:${tracker.port}/announce` : `udp://127.0.0.1:${tracker.port}`);

  test(`${kind}: a second peer is handed the first, with interval and counts`, async () => {
    const h = Buffer.alloc(20, kind === 'http' ? 1 : 2);
    const first = await announce(url(), { ...base(h, 1, 0), event: 'started' });
    assert.equal(first.intervalS, 120);
    assert.deepEqual(first.peers, []);
    const second = await announce(url(), { ...base(h, 2), event: 'started' });
    assert.deepEqual(second.peers, [{ ip: '127.0.0.1', port: 7001 }]);
    assert.equal(second.complete, 1);
    assert.equal(second.incomplete, 1);
    if (kind === 'http') assert.ok(second.minIntervalS !== undefined && second.minIntervalS <= 120);
  });

  test(`${kind}: completed and stopped reach the tracker, scrape shows them`, async () => {
    const h = Buffer.alloc(20, kind === 'http' ? 3 : 4);
    await announce(url(), { ...base(h, 1), event: 'started' });
    await announce(url(), { ...base(h, 2), event: 'started' });
    await announce(url(), { ...base(h, 1, 0), event: 'completed' });
    let counts = await scrape(url(), [h, Buffer.alloc(20, 99)]);
    assert.deepEqual(counts.get(h.toString('hex')), { complete: 1, downloaded: 1, incomplete: 1 });
    assert.deepEqual(counts.get(Buffer.alloc(20, 99).toString('hex')), { complete: 0, downloaded: 0, incomplete: 0 });
    const stopped = await announce(url(), { ...base(h, 2), event: 'stopped' });
    assert.deepEqual(stopped.peers, []);
    counts = await scrape(url(), [h]);
    assert.deepEqual(counts.get(h.toString('hex')), { complete: 1, downloaded: 1, incomplete: 0 });
  });

  test(`${kind}: numwant bounds the peers handed out`, async () => {
    const h = Buffer.alloc(20, kind === 'http' ? 5 : 6);
    for (let n = 1; n <= 12; n++) await announce(url(), base(h, n));
    const r = await announce(url(), { ...base(h, 13), numwant: 5 });
    assert.equal(r.peers.length, 5);
    assert.ok(!r.peers.some((p) => p.port === 7013), 'never itself');
  });
}

test('scrape over HTTP asks in chunks when given more hashes than one request carries', async () => {
  const hashes = Array.from({ length: 150 }, (_, i) => Buffer.from(String(i).padStart(20, 'h')));
  const counts = await scrape(`http://127.0.0.1:${tracker.port}/announce`, hashes);
  assert.equal(counts.size, 150);
  const udpCounts = await scrape(`udp://127.0.0.1:${tracker.port}`, hashes);
  assert.equal(udpCounts.size, 150);
});
