// The Redis PeerStore against a real redis-server: the shared store suite, plus what only a
// remote store has (several store instances sharing state, TTLs, an unreachable server).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EVENT_COMPLETED, EVENT_NONE, EVENT_STARTED, EVENT_STOPPED } from '../../../src/tracker/protocol/index.js';
import { createRedisStore, type RedisStore } from '../../../src/tracker/store/redis.js';
import { FAMILY_V4, FAMILY_V6, type AnnounceInput } from '../../../src/tracker/store/types.js';
import { redisAvailable, startRedis, type RedisServer } from '../redis-server.js';
import { runStoreSuite } from './suite.js';

const required = process.env.STA_REQUIRE_INTEROP === '1';
const have = redisAvailable();
let server: RedisServer | undefined;
const stores: RedisStore[] = [];
let prefixN = 0;

before(async () => {
  if (have) server = await startRedis();
});
after(async () => {
  for (const s of stores) await s.close();
  await server?.stop();
});

async function store(opts: Parameters<typeof createRedisStore>[1] = {}): Promise<RedisStore> {
  const s = await createRedisStore(server!.url, { prefix: `t${prefixN++}:`, sweepIntervalMs: 0, ...opts });
  stores.push(s);
  return s;
}

function skipIfMissing(t: { skip: (m: string) => void }): boolean {
  if (have) return false;
  if (required) throw new Error('redis-server is required (STA_REQUIRE_INTEROP=1) but missing');
  t.skip('redis-server not installed');
  return true;
}

const hash = (n: number): Buffer => Buffer.alloc(20, n);
const pid = (n: number): Buffer => Buffer.from(`-TS0001-${String(n).padStart(12, '0')}`);
function addr4(n: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUInt32BE(0x0a000000 + n, 0);
  b.writeUInt16BE(6881, 4);
  return b;
}
function ann(over: Partial<AnnounceInput> & { n: number }): AnnounceInput {
  return {
    infoHash: hash(1),
    peerId: pid(over.n),
    addr: addr4(over.n),
    seeder: false,
    event: EVENT_STARTED,
    numwant: 50,
    families: FAMILY_V4 | FAMILY_V6,
    withPeerIds: false,
    nowMs: 1_000_000_000_000,
    ...over,
  };
}

test('redis store: announce stores the peer, counts it, never hands a peer itself', async (t) => {
  if (skipIfMissing(t)) return;
  const s = await store();
  const r1 = await s.announce(ann({ n: 1 }));
  assert.equal(r1.incomplete, 1);
  assert.equal(r1.peers4.length, 0);
  const r2 = await s.announce(ann({ n: 2 }));
  assert.equal(r2.incomplete, 2);
  assert.deepEqual(Buffer.from(r2.peers4), addr4(1));
});

test('redis store: a seeder gets only leechers; completed counts in scrape; stopped removes', async (t) => {
  if (skipIfMissing(t)) return;
  const s = await store();
  await s.announce(ann({ n: 1, seeder: true }));
  await s.announce(ann({ n: 2, seeder: true }));
  await s.announce(ann({ n: 3 }));
  const r = await s.announce(ann({ n: 4, seeder: true, event: EVENT_COMPLETED }));
  assert.equal(r.complete, 3);
  assert.equal(r.incomplete, 1);
  assert.deepEqual(Buffer.from(r.peers4), addr4(3));
  const [c] = await s.scrape([hash(1)]);
  assert.deepEqual(c, { complete: 3, downloaded: 1, incomplete: 1 });
  await s.announce(ann({ n: 3, event: EVENT_STOPPED }));
  assert.deepEqual((await s.scrape([hash(1), hash(9)]))[1], { complete: 0, downloaded: 0, incomplete: 0 });
  assert.equal((await s.scrape([hash(1)]))[0]!.incomplete, 0);
});

test('redis store: a sample is at most numwant, distinct, filtered by family, with peer ids', async (t) => {
  if (skipIfMissing(t)) return;
  const s = await store();
  for (let n = 1; n <= 120; n++) await s.announce(ann({ n, seeder: n % 3 === 0 }));
  const v6 = Buffer.alloc(18);
  v6[0] = 0x20;
  v6[1] = 0x01;
  v6.writeUInt16BE(7000, 16);
  await s.announce(ann({ n: 500, addr: v6 }));
  const r = await s.announce(ann({ n: 121, numwant: 30, withPeerIds: true }));
  assert.equal(r.peers4.length / 6 + r.peers6.length / 18, 30);
  const set = new Set<string>();
  for (let i = 0; i < r.peers4.length; i += 6) set.add(Buffer.from(r.peers4.subarray(i, i + 6)).toString('hex'));
  assert.equal(set.size, r.peers4.length / 6);
  assert.equal(r.peerIds4!.length, (r.peers4.length / 6) * 20);
  const only4 = await s.announce(ann({ n: 122, numwant: 200, families: FAMILY_V4 }));
  assert.equal(only4.peers6.length, 0);
  assert.equal(only4.peers4.length, 121 * 6);
  const only6 = await s.announce(ann({ n: 123, numwant: 200, families: FAMILY_V6 }));
  assert.equal(only6.peers4.length, 0);
  assert.deepEqual(Buffer.from(only6.peers6), v6);
});

test('redis store: two store instances (two trackers) share one swarm', async (t) => {
  if (skipIfMissing(t)) return;
  const a = await store({ prefix: 'shared:' });
  const b = await store({ prefix: 'shared:' });
  await a.announce(ann({ n: 1 }));
  const r = await b.announce(ann({ n: 2 }));
  assert.deepEqual(Buffer.from(r.peers4), addr4(1));
  assert.equal((await b.stats()).leechers, 2);
});

test('redis store: peers expire by timestamp; expire() drops them and the idle swarm', async (t) => {
  if (skipIfMissing(t)) return;
  const s = await store({ limits: { peerTtlS: 60 } });
  const t0 = Date.now();
  await s.announce(ann({ n: 1, nowMs: t0 - 120_000 }));
  await s.announce(ann({ n: 2, nowMs: t0 - 10_000, infoHash: hash(2) }));
  // Peer 1 is stale now: a new announce in its swarm does not get it.
  const r = await s.announce(ann({ n: 3, nowMs: t0 }));
  assert.equal(r.peers4.length, 0);
  assert.equal(r.incomplete, 1);
  assert.equal(await s.expire(t0 + 49_000), 0);
  assert.equal(await s.expire(t0 + 61_000), 2);
  assert.equal((await s.stats()).torrents, 0);
});

test('redis store: per-swarm cap answers but does not store', async (t) => {
  if (skipIfMissing(t)) return;
  const s = await store({ limits: { maxPeersPerSwarm: 3 } });
  for (let n = 1; n <= 5; n++) await s.announce(ann({ n, event: EVENT_NONE }));
  assert.equal((await s.scrape([hash(1)]))[0]!.incomplete, 3);
  assert.equal((await s.listPeers(hash(1), 10)).length, 3);
});

test('redis store: listPeers, topSwarms, catalogue put/get/search', async (t) => {
  if (skipIfMissing(t)) return;
  const s = await store();
  await s.announce(ann({ n: 7, seeder: true, nowMs: 1234 }));
  await s.announce(ann({ n: 8, infoHash: hash(2) }));
  await s.announce(ann({ n: 9, infoHash: hash(2) }));
  const peers = await s.listPeers(hash(1), 10);
  assert.deepEqual(peers, [{ ip: '10.0.0.7', port: 6881, seeder: true, lastSeenMs: 1234, peerIdHex: pid(7).toString('hex') }]);
  const top = await s.topSwarms(1);
  assert.equal(top.length, 1);
  assert.equal(top[0]!.infoHashHex, hash(2).toString('hex'));
  const entry = { infoHashHex: 'ab'.repeat(20), name: 'Ubuntu Server', length: 10, fileCount: 1, files: [{ path: 'dir/ISO image.iso', length: 10 }], addedMs: 5 };
  assert.equal(await s.catalogue.put(entry, Buffer.from('d4:infode')), 'added');
  assert.equal(await s.catalogue.put(entry, Buffer.from('d4:infode')), 'exists');
  assert.deepEqual(Buffer.from((await s.catalogue.get('AB'.repeat(20)))!), Buffer.from('d4:infode'));
  assert.deepEqual((await s.catalogue.search('iso ubuntu', 10)).map((e) => e.name), ['Ubuntu Server']);
  assert.deepEqual(await s.catalogue.search('debian', 10), []);
  assert.equal(await s.catalogue.count(), 1);
  assert.deepEqual(await s.catalogue.entry('ab'.repeat(20)), entry);
});

test('redis store: an unreachable Redis is a STORE_UNREACHABLE error, a bad URL BAD_STORE_URL', async () => {
  await assert.rejects(createRedisStore('redis://127.0.0.1:1'), { code: 'STORE_UNREACHABLE' });
  await assert.rejects(createRedisStore('http://x'), { code: 'BAD_STORE_URL' });
});

// The same behaviour suite the memory store runs; registered only when redis-server exists
// (or is required, so its absence fails CI rather than skipping).
if (have || required) {
  runStoreSuite('redis store', async (limits) => {
    if (!server) throw new Error('redis-server is required but missing');
    return createRedisStore(server.url, { prefix: `suite${prefixN++}:`, sweepIntervalMs: 0, limits });
  });
}
