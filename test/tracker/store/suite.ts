// The PeerStore behaviour suite: every store implementation (memory here, Redis in
// redis.test.ts) runs these same tests through its factory, so they behave alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  compactPeer,
  compactIpText,
  EVENT_COMPLETED,
  EVENT_NONE,
  EVENT_STARTED,
  EVENT_STOPPED,
  type AnnounceEvent,
} from '../../../src/tracker/protocol/index.js';
import {
  FAMILY_V4,
  FAMILY_V6,
  type AnnounceInput,
  type AnnounceOutput,
  type CatalogueEntry,
  type PeerStore,
  type StoreLimits,
} from '../../../src/tracker/store/index.js';

/** Makes a fresh, empty store with these limits (merged over the defaults). */
export type StoreFactory = (limits: Partial<StoreLimits>) => Promise<PeerStore>;

const T0 = 1_800_000_000_000;

export function hash(label: string): Buffer {
  return createHash('sha1').update(label).digest();
}

export function peerId(n: number): Buffer {
  return Buffer.from(`-ST0001-${String(n).padStart(12, '0')}`, 'latin1');
}

export function addr4(n: number, port = 6881): Buffer {
  return compactPeer(`10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, port)!;
}

interface Opts {
  seeder?: boolean;
  event?: AnnounceEvent;
  numwant?: number;
  addr?: Buffer;
  families?: number;
  withPeerIds?: boolean;
  nowMs?: number;
}

export function input(infoHash: Buffer, n: number, o: Opts = {}): AnnounceInput {
  return {
    infoHash,
    peerId: peerId(n),
    addr: o.addr ?? addr4(n),
    seeder: o.seeder ?? false,
    event: o.event ?? EVENT_NONE,
    numwant: o.numwant ?? 50,
    families: o.families ?? FAMILY_V4 | FAMILY_V6,
    withPeerIds: o.withPeerIds ?? false,
    nowMs: o.nowMs ?? T0,
  };
}

/** The compact IPv4 peers of a reply as "ip:port" strings. */
export function peers4(out: AnnounceOutput): string[] {
  const r: string[] = [];
  for (let i = 0; i + 6 <= out.peers4.length; i += 6) r.push(`${compactIpText(out.peers4, i, 6)}:${(out.peers4[i + 4]! << 8) | out.peers4[i + 5]!}`);
  return r;
}

function ipOf(n: number): string {
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}:6881`;
}

export function runStoreSuite(name: string, factory: StoreFactory): void {
  async function withStore(limits: Partial<StoreLimits>, fn: (s: PeerStore) => Promise<void>): Promise<void> {
    const s = await factory(limits);
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  }

  test(`${name}: the first peer of a swarm gets no peers and is counted`, () =>
    withStore({}, async (s) => {
      const h = hash('a');
      const out = await s.announce(input(h, 1, { event: EVENT_STARTED }));
      assert.equal(out.complete, 0);
      assert.equal(out.incomplete, 1);
      assert.equal(out.peers4.length, 0);
      assert.equal(out.peers6.length, 0);
    }));

  test(`${name}: a leecher gets the seeder and never itself`, () =>
    withStore({}, async (s) => {
      const h = hash('b');
      await s.announce(input(h, 1, { seeder: true, event: EVENT_STARTED }));
      const out = await s.announce(input(h, 2, { event: EVENT_STARTED }));
      assert.equal(out.complete, 1);
      assert.equal(out.incomplete, 1);
      assert.deepEqual(peers4(out), [ipOf(1)]);
      const again = await s.announce(input(h, 2));
      assert.deepEqual(peers4(again), [ipOf(1)]);
    }));

  test(`${name}: a seeder is handed only leechers`, () =>
    withStore({}, async (s) => {
      const h = hash('c');
      for (let i = 1; i <= 5; i++) await s.announce(input(h, i, { seeder: true }));
      for (let i = 6; i <= 8; i++) await s.announce(input(h, i));
      const out = await s.announce(input(h, 1, { seeder: true }));
      assert.deepEqual(peers4(out).sort(), [ipOf(6), ipOf(7), ipOf(8)].sort());
      assert.equal(out.complete, 5);
      assert.equal(out.incomplete, 3);
    }));

  test(`${name}: a leecher gets both seeders and other leechers`, () =>
    withStore({}, async (s) => {
      const h = hash('c2');
      await s.announce(input(h, 1, { seeder: true }));
      await s.announce(input(h, 2));
      const out = await s.announce(input(h, 3));
      assert.deepEqual(peers4(out).sort(), [ipOf(1), ipOf(2)].sort());
    }));

  test(`${name}: stopped removes the peer at once`, () =>
    withStore({}, async (s) => {
      const h = hash('d');
      await s.announce(input(h, 1, { seeder: true }));
      await s.announce(input(h, 2));
      const stop = await s.announce(input(h, 1, { seeder: true, event: EVENT_STOPPED }));
      assert.equal(stop.complete, 0);
      assert.equal(stop.incomplete, 1);
      assert.equal(stop.peers4.length, 0);
      const out = await s.announce(input(h, 2));
      assert.equal(out.peers4.length, 0);
      assert.deepEqual(await s.scrape([h]), [{ complete: 0, downloaded: 0, incomplete: 1 }]);
      // Stopping an unknown peer or swarm is harmless.
      const none = await s.announce(input(hash('nothing'), 9, { event: EVENT_STOPPED }));
      assert.equal(none.complete + none.incomplete, 0);
    }));

  test(`${name}: completed moves a leecher to the seeders and counts one download`, () =>
    withStore({}, async (s) => {
      const h = hash('e');
      await s.announce(input(h, 1, { event: EVENT_STARTED }));
      const out = await s.announce(input(h, 1, { seeder: true, event: EVENT_COMPLETED }));
      assert.equal(out.complete, 1);
      assert.equal(out.incomplete, 0);
      // A repeated completed from a peer already seeding is not counted again.
      await s.announce(input(h, 1, { seeder: true, event: EVENT_COMPLETED }));
      assert.deepEqual(await s.scrape([h]), [{ complete: 1, downloaded: 1, incomplete: 0 }]);
      // A seeder going back to leeching (new data) is a leecher again.
      const back = await s.announce(input(h, 1, { seeder: false }));
      assert.equal(back.complete, 0);
      assert.equal(back.incomplete, 1);
    }));

  test(`${name}: a leecher reaching left=0 counts one download even without the completed event`, () =>
    withStore({}, async (s) => {
      const h = hash('e2');
      await s.announce(input(h, 1, { event: EVENT_STARTED }));
      await s.announce(input(h, 1, { seeder: true }));
      await s.announce(input(h, 2, { event: EVENT_STARTED }));
      // Finishing and quitting in one announce (aria2 over UDP does this).
      await s.announce(input(h, 2, { seeder: true, event: EVENT_STOPPED }));
      // A seeder from the start, stopping, is no download; nor is a completed from a seeder.
      await s.announce(input(h, 3, { seeder: true, event: EVENT_STARTED }));
      await s.announce(input(h, 3, { seeder: true, event: EVENT_COMPLETED }));
      await s.announce(input(h, 3, { seeder: true, event: EVENT_STOPPED }));
      // An unknown peer's completed (the tracker restarted meanwhile) counts.
      await s.announce(input(h, 4, { seeder: true, event: EVENT_COMPLETED }));
      assert.deepEqual(await s.scrape([h]), [{ complete: 2, downloaded: 3, incomplete: 0 }]);
    }));

  test(`${name}: scrape answers many hashes in order, zeros for unknown ones`, () =>
    withStore({}, async (s) => {
      const a = hash('s1');
      const b = hash('s2');
      await s.announce(input(a, 1, { seeder: true }));
      await s.announce(input(a, 2));
      await s.announce(input(b, 3));
      const r = await s.scrape([b, hash('unknown'), a]);
      assert.deepEqual(r, [
        { complete: 0, downloaded: 0, incomplete: 1 },
        { complete: 0, downloaded: 0, incomplete: 0 },
        { complete: 1, downloaded: 0, incomplete: 1 },
      ]);
    }));

  test(`${name}: numwant bounds the sample, which is random and without duplicates`, () =>
    withStore({}, async (s) => {
      const h = hash('f');
      for (let i = 1; i <= 100; i++) await s.announce(input(h, i));
      const seen = new Set<string>();
      for (let k = 0; k < 40; k++) {
        const out = await s.announce(input(h, 1, { numwant: 10 }));
        const list = peers4(out);
        assert.equal(list.length, 10);
        assert.equal(new Set(list).size, 10, 'no duplicates');
        assert.ok(!list.includes(ipOf(1)), 'never itself');
        for (const p of list) seen.add(p);
      }
      // 400 draws of 99 candidates: a fixed window would show ~10-20; random shows nearly all.
      assert.ok(seen.size > 80, `sample covers the swarm (${seen.size} of 99 seen)`);
      const zero = await s.announce(input(h, 1, { numwant: 0 }));
      assert.equal(zero.peers4.length, 0);
      assert.equal(zero.incomplete, 100);
    }));

  test(`${name}: IPv6 peers come in peers6, and families filter the sample`, () =>
    withStore({}, async (s) => {
      const h = hash('g');
      const v6 = compactPeer('2001:db8::7', 51413)!;
      await s.announce(input(h, 1, { seeder: true, addr: v6 }));
      await s.announce(input(h, 2, { seeder: true }));
      const both = await s.announce(input(h, 3));
      assert.deepEqual(peers4(both), [ipOf(2)]);
      assert.deepEqual(Buffer.from(both.peers6), v6);
      const only4 = await s.announce(input(h, 3, { families: FAMILY_V4 }));
      assert.equal(only4.peers6.length, 0);
      assert.equal(only4.peers4.length, 6);
      const only6 = await s.announce(input(h, 3, { families: FAMILY_V6 }));
      assert.equal(only6.peers4.length, 0);
      assert.deepEqual(Buffer.from(only6.peers6), v6);
    }));

  test(`${name}: peer ids come with their addresses when asked`, () =>
    withStore({}, async (s) => {
      const h = hash('h');
      for (let i = 1; i <= 4; i++) await s.announce(input(h, i, { seeder: true }));
      const out = await s.announce(input(h, 9, { withPeerIds: true }));
      const ids: Uint8Array | undefined = out.peerIds4;
      assert.ok(ids);
      const list = peers4(out);
      assert.equal(list.length, 4);
      for (let i = 0; i < list.length; i++) {
        const id: string = Buffer.from(ids.subarray(20 * i, 20 * i + 20)).toString('latin1');
        const n: number = Number(id.slice(8));
        assert.equal(list[i], ipOf(n));
      }
      const without = await s.announce(input(h, 9));
      assert.ok(!without.peerIds4 || without.peerIds4.length === 0);
    }));

  test(`${name}: a re-announce from a new address updates the peer`, () =>
    withStore({}, async (s) => {
      const h = hash('i');
      await s.announce(input(h, 1, { seeder: true }));
      await s.announce(input(h, 1, { seeder: true, addr: compactPeer('192.168.1.9', 7000)! }));
      const out = await s.announce(input(h, 2));
      assert.deepEqual(peers4(out), ['192.168.1.9:7000']);
      assert.equal(out.complete, 1);
    }));

  test(`${name}: peers not heard from for the TTL expire, others stay`, () =>
    withStore({ peerTtlS: 60 }, async (s) => {
      const h = hash('j');
      await s.announce(input(h, 1, { seeder: true, nowMs: T0 }));
      await s.announce(input(h, 2, { nowMs: T0 + 50_000 }));
      await s.expire(T0 + 61_000);
      assert.deepEqual(await s.scrape([h]), [{ complete: 0, downloaded: 0, incomplete: 1 }]);
      const out = await s.announce(input(h, 3, { nowMs: T0 + 62_000 }));
      assert.deepEqual(peers4(out), [ipOf(2)]);
      await s.expire(T0 + 200_000);
      assert.deepEqual(await s.scrape([h]), [{ complete: 0, downloaded: 0, incomplete: 0 }]);
      assert.equal((await s.stats()).seeders + (await s.stats()).leechers, 0);
    }));

  test(`${name}: a full swarm answers new peers without storing them`, () =>
    withStore({ maxPeersPerSwarm: 3 }, async (s) => {
      const h = hash('k');
      for (let i = 1; i <= 3; i++) await s.announce(input(h, i, { seeder: true }));
      const out = await s.announce(input(h, 4));
      assert.equal(peers4(out).length, 3, 'still handed peers');
      assert.equal(out.complete, 3);
      const r = await s.scrape([h]);
      assert.equal(r[0]!.complete + r[0]!.incomplete, 3);
      // Known peers still update.
      await s.announce(input(h, 1, { seeder: true, event: EVENT_STOPPED }));
      await s.announce(input(h, 5));
      assert.equal((await s.scrape([h]))[0]!.incomplete, 1);
    }));

  test(`${name}: the swarm and peer totals are capped`, () =>
    withStore({ maxSwarms: 2, maxPeers: 3 }, async (s) => {
      await s.announce(input(hash('m1'), 1));
      await s.announce(input(hash('m2'), 2));
      await s.announce(input(hash('m3'), 3));
      assert.equal((await s.stats()).torrents, 2);
      await s.announce(input(hash('m1'), 4));
      await s.announce(input(hash('m1'), 5));
      const st = await s.stats();
      assert.equal(st.seeders + st.leechers, 3);
    }));

  test(`${name}: listPeers gives ip, port, seeder, last seen and peer id`, () =>
    withStore({}, async (s) => {
      const h = hash('l');
      await s.announce(input(h, 1, { seeder: true, nowMs: T0 }));
      await s.announce(input(h, 2, { nowMs: T0 + 5000, addr: compactPeer('2001:db8::2', 1234)! }));
      const list = (await s.listPeers(h, 10)).sort((x, y) => x.port - y.port);
      assert.equal(list.length, 2);
      // Stores may keep last-seen times to the second.
      assert.ok(Math.abs(list[0]!.lastSeenMs - (T0 + 5000)) < 1000, `last seen ${list[0]!.lastSeenMs}`);
      assert.ok(Math.abs(list[1]!.lastSeenMs - T0) < 1000, `last seen ${list[1]!.lastSeenMs}`);
      assert.deepEqual({ ...list[0], lastSeenMs: 0 }, { ip: '2001:db8::2', port: 1234, seeder: false, lastSeenMs: 0, peerIdHex: peerId(2).toString('hex') });
      assert.deepEqual({ ...list[1], lastSeenMs: 0 }, { ip: '10.0.0.1', port: 6881, seeder: true, lastSeenMs: 0, peerIdHex: peerId(1).toString('hex') });
      assert.equal((await s.listPeers(h, 1)).length, 1);
      assert.deepEqual(await s.listPeers(hash('none'), 10), []);
    }));

  test(`${name}: stats and topSwarms total the swarms`, () =>
    withStore({}, async (s) => {
      const big = hash('big');
      const small = hash('small');
      for (let i = 1; i <= 5; i++) await s.announce(input(big, i, { seeder: i === 1 }));
      await s.announce(input(small, 9, { seeder: true }));
      assert.deepEqual(await s.stats(), { torrents: 2, seeders: 2, leechers: 4 });
      const top = await s.topSwarms(1);
      assert.deepEqual(top, [{ infoHashHex: big.toString('hex'), complete: 1, downloaded: 0, incomplete: 4 }]);
      assert.equal((await s.topSwarms(10)).length, 2);
    }));

  function entry(hex: string, name: string, files: string[], addedMs: number): CatalogueEntry {
    return { infoHashHex: hex, name, length: files.length * 10, fileCount: files.length, files: files.map((p) => ({ path: p, length: 10 })), addedMs };
  }

  test(`${name}: the catalogue stores, finds and returns torrents`, () =>
    withStore({}, async (s) => {
      const c = s.catalogue;
      const h1 = hash('cat1').toString('hex');
      const h2 = hash('cat2').toString('hex');
      const t1 = Buffer.from('d4:infod4:name5:Alphaee');
      assert.equal(await c.put(entry(h1, 'Alpha Movie', ['Alpha Movie/a.mkv', 'Alpha Movie/subs/en.srt'], T0), t1), 'added');
      assert.equal(await c.put(entry(h2, 'beta-linux.iso', ['beta-linux.iso'], T0 + 1), Buffer.from('x')), 'added');
      assert.equal(await c.put(entry(h1, 'other', [], T0 + 2), Buffer.from('y')), 'exists');
      assert.equal(await c.count(), 2);
      assert.deepEqual(Buffer.from((await c.get(h1))!), t1);
      assert.equal(await c.get(hash('nope').toString('hex')), undefined);
      assert.equal((await c.entry(h1))?.name, 'Alpha Movie');
      assert.deepEqual((await c.search('alpha', 10)).map((e) => e.infoHashHex), [h1]);
      assert.deepEqual((await c.search('EN.SRT', 10)).map((e) => e.infoHashHex), [h1], 'file paths, any case');
      assert.deepEqual((await c.search('movie subs', 10)).map((e) => e.infoHashHex), [h1], 'every word');
      assert.deepEqual((await c.search('alpha linux', 10)).map((e) => e.infoHashHex), []);
      assert.deepEqual((await c.search('', 10)).map((e) => e.infoHashHex), [h2, h1], 'newest first');
      assert.equal((await c.search('', 1)).length, 1);
    }));
}
