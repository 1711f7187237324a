// sta's tracker client against the reference tracker, opentracker (Debian build): announce
// over HTTP and UDP (BEP 15), peers handed across transports, completed/stopped, scrape over
// both, a TrackerClient whose first tier is dead falling through to opentracker, and
// opentracker's refusal of an unlisted hash surfacing as TRACKER_FAILURE.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { announce, clearUdpConnectionCache, scrape, TrackerClient, type AnnounceEvent } from '../../src/tracker/client/index.js';
import { startOpentracker } from './helpers/trackers.js';
import { needPrograms, withWorkspace } from './helpers/workspace.js';

const hash = Buffer.from('0123456789abcdef0123456789abcdef01234567', 'hex');
const peer = (n: number, left: number) => ({
  infoHash: hash,
  peerId: Buffer.from(`-ST0001-${String(n).padStart(12, '0')}`),
  port: 7000 + n,
  uploaded: 0,
  downloaded: 0,
  left,
  key: n,
});

test('tracker client speaks HTTP and UDP to opentracker', { timeout: 60_000 }, async (t) => {
  if (!needPrograms(t, ['opentracker'])) return;
  clearUdpConnectionCache();
  await withWorkspace('client-ot', async (ws) => {
    const ot = await startOpentracker(ws, [hash.toString('hex')]);
    const http = ot.announceUrl;
    const udp = `udp://127.0.0.1:${ot.port}/announce`;
    const o = { timeoutMs: 5000 };

    // opentracker loads its whitelist in the background after it answers: retry (bounded)
    // while it still refuses our listed hash.
    let first;
    for (let i = 0; ; i++) {
      try {
        first = await announce(http, { ...peer(1, 0), event: 'started' }, o);
        break;
      } catch (e) {
        if (i >= 50 || (e as { code?: string }).code !== 'TRACKER_FAILURE') throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.ok(first.intervalS > 0);
    // A leecher over UDP is handed the seeder that announced over HTTP. (opentracker may
    // hand a peer itself too: it does not leave the asker out of its sample.)
    const others = (peers: { ip: string; port: number }[], self: number) => peers.filter((p) => p.port !== self);
    const second = await announce(udp, { ...peer(2, 100), event: 'started' }, o);
    assert.deepEqual(others(second.peers, 7002), [{ ip: '127.0.0.1', port: 7001 }]);
    assert.equal(second.complete, 1);
    assert.equal(second.incomplete, 1);
    // And the seeder, re-announcing over UDP (a cached connection id), gets the leecher.
    const again = await announce(udp, peer(1, 0), o);
    assert.deepEqual(others(again.peers, 7001), [{ ip: '127.0.0.1', port: 7002 }]);

    await announce(http, { ...peer(2, 0), event: 'completed' }, o);
    const viaHttp = await scrape(http, [hash]);
    const viaUdp = await scrape(udp, [hash]);
    assert.deepEqual(viaHttp.get(hash.toString('hex')), { complete: 2, downloaded: 1, incomplete: 0 });
    assert.deepEqual(viaUdp.get(hash.toString('hex')), viaHttp.get(hash.toString('hex')));

    await announce(udp, { ...peer(2, 0), event: 'stopped' }, o);
    assert.equal((await scrape(http, [hash])).get(hash.toString('hex'))?.complete, 1);

    // Not on opentracker's whitelist: its refusal is the tracker's failure reason.
    const other = { ...peer(3, 100), infoHash: Buffer.alloc(20, 0xee) };
    await assert.rejects(announce(http, other, o), { code: 'TRACKER_FAILURE' });

    // BEP 12: the dead first tier is skipped; opentracker over UDP answers.
    const c = new TrackerClient({
      tiers: [['http://127.0.0.1:1/announce'], [udp]],
      infoHash: hash,
      peerId: peer(4, 100).peerId,
      port: 7004,
      stats: () => ({ uploaded: 0, downloaded: 0, left: 100 }),
      timeoutMs: 2000,
    });
    try {
      const got = once(c, 'announce');
      c.start();
      const [ev] = (await got) as [AnnounceEvent];
      assert.equal(ev.url, udp);
      // opentracker's reply may still list a peer whose stopped it counted (it samples a
      // bucket); the seeder must be there.
      assert.ok(ev.result.peers.some((p) => p.port === 7001), JSON.stringify(ev.result.peers));
    } finally {
      await c.stop();
    }
    assert.equal((await scrape(http, [hash])).get(hash.toString('hex'))?.incomplete, 0, 'stopped reached opentracker');
  });
});
