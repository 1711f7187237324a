// The memory store's own structure: peers in parallel arrays found through a per-swarm
// open-addressing id table. Growth and shrink, deletion (backward shift, swap-moves),
// expiry, forced hash collisions, and a fast-check property test against a plain model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EVENT_COMPLETED, EVENT_NONE, EVENT_STOPPED, compactIpText, type AnnounceEvent } from '../../../src/tracker/protocol/index.js';
import { MemoryStore, peerIdHash } from '../../../src/tracker/store/memory.js';
import { FAMILY_V4, FAMILY_V6, type AnnounceInput, type StoreLimits } from '../../../src/tracker/store/index.js';
import { createFileCatalogue } from '../../../src/tracker/store/catalogue-file.js';
import { addr4, hash, input, peerId, peers4 } from './suite.js';

const T0 = 1_800_000_000_000;

async function store(opts: { limits?: Partial<StoreLimits>; hashSeed?: number; random?: () => number } = {}): Promise<MemoryStore> {
  return new MemoryStore(await createFileCatalogue(undefined), { sweepIntervalMs: 0, ...opts });
}

function ids(s: MemoryStore, h: Buffer): string[] {
  return s.listPeers(h, 1e9).map((p) => p.peerIdHex).sort();
}

test('memory table: grows from 8 slots to thousands of peers, every peer found again', async () => {
  const s = await store();
  const h = hash('grow');
  for (let i = 0; i < 5000; i++) s.announce(input(h, i, { numwant: 0, seeder: i % 3 === 0 }));
  s.checkIntegrity();
  assert.deepEqual(s.stats(), { torrents: 1, seeders: 1667, leechers: 3333 });
  // Re-announcing every peer finds it (no duplicate is stored).
  for (let i = 0; i < 5000; i++) s.announce(input(h, i, { numwant: 0, seeder: i % 3 === 0 }));
  assert.deepEqual(s.stats(), { torrents: 1, seeders: 1667, leechers: 3333 });
  s.checkIntegrity();
  await s.close();
});

test('memory table: draining a big swarm shrinks its table, and the rest stay findable', async () => {
  const s = await store();
  const h = hash('shrink');
  for (let i = 0; i < 2000; i++) s.announce(input(h, i, { numwant: 0 }));
  // Remove all but 10, in an order that mixes front, back and middle positions.
  const keep = new Set<number>();
  for (let i = 0; i < 2000; i += 200) keep.add(i);
  for (let k = 0; k < 2000; k++) {
    const i = (k * 7919) % 2000;
    if (!keep.has(i)) s.announce(input(h, i, { event: EVENT_STOPPED, numwant: 0 }));
  }
  s.checkIntegrity();
  assert.equal(s.stats().leechers, 10);
  assert.deepEqual(ids(s, h), [...keep].map((i) => peerId(i).toString('hex')).sort());
  const slots = (s as unknown as { swarms: Map<string, { slots: number[] }> }).swarms.values().next().value!.slots.length;
  assert.ok(slots <= 64, `table shrank (${slots} slots for 10 peers)`);
  await s.close();
});

/** Peer numbers (as suite.peerId) whose ids share their low `bits` hash bits under `seed`. */
function colliding(seed: number, count: number, bits: number): number[] {
  const mask = (1 << bits) - 1;
  const target = peerIdHash(seed, peerId(0)) & mask;
  const out = [0];
  for (let n = 1; out.length < count; n++) if ((peerIdHash(seed, peerId(n)) & mask) === target) out.push(n);
  return out;
}

test('memory table: ids that all share one home slot are kept apart, removed and re-added', async () => {
  const seed = 12345;
  const nums = colliding(seed, 60, 10); // one home slot in every table up to 1024 slots
  const s = await store({ hashSeed: seed });
  const h = hash('collide');
  for (const n of nums) s.announce(input(h, n, { numwant: 0, seeder: n % 2 === 0 }));
  s.checkIntegrity();
  assert.equal(s.stats().seeders + s.stats().leechers, 60);
  // Each one found: a re-announce with a new port updates, not adds.
  for (const n of nums) s.announce(input(h, n, { numwant: 0, seeder: n % 2 === 0, addr: addr4(n, 7000) }));
  assert.equal(s.stats().seeders + s.stats().leechers, 60);
  assert.ok(s.listPeers(h, 100).every((p) => p.port === 7000));
  // Remove every third (middle of the probe run), check, add them back.
  for (let k = 0; k < nums.length; k += 3) s.announce(input(h, nums[k]!, { event: EVENT_STOPPED, numwant: 0 }));
  s.checkIntegrity();
  assert.equal(s.stats().seeders + s.stats().leechers, 40);
  for (let k = 0; k < nums.length; k += 3) s.announce(input(h, nums[k]!, { numwant: 0 }));
  s.checkIntegrity();
  assert.deepEqual(ids(s, h), nums.map((n) => peerId(n).toString('hex')).sort());
  await s.close();
});

test('memory table: expiry removes from anywhere in the arrays and keeps the rest consistent', async () => {
  const s = await store({ limits: { peerTtlS: 100 } });
  const h = hash('expire');
  for (let i = 0; i < 300; i++) s.announce(input(h, i, { numwant: 0, seeder: i % 4 === 0, nowMs: T0 + (i % 2 === 0 ? 0 : 50_000) }));
  // Odd peers announced 50 s later: at T0 + 120 s the even ones are past the TTL.
  assert.equal(s.expire(T0 + 120_000), 150);
  s.checkIntegrity();
  assert.deepEqual(ids(s, h), Array.from({ length: 150 }, (_, k) => peerId(2 * k + 1).toString('hex')).sort());
  const out = s.announce(input(h, 1, { numwant: 500, nowMs: T0 + 120_000 }));
  assert.equal(peers4(out).length, 149);
  assert.equal(s.expire(T0 + 1_000_000), 150);
  assert.deepEqual(s.stats(), { torrents: 0, seeders: 0, leechers: 0 });
  await s.close();
});

test('memory table: IPv6 peers keep their addresses through swap-moves', async () => {
  const s = await store();
  const h = hash('v6');
  const v6 = (n: number): Buffer => {
    const b = Buffer.alloc(18);
    b.writeUInt16BE(0x2001, 0);
    b.writeUInt32BE(n, 12);
    b.writeUInt16BE(5000 + n, 16);
    return b;
  };
  for (let i = 0; i < 40; i++) s.announce(input(h, i, { numwant: 0, addr: i % 2 ? v6(i) : addr4(i) }));
  for (let i = 0; i < 40; i += 5) s.announce(input(h, i, { event: EVENT_STOPPED, numwant: 0 }));
  s.checkIntegrity();
  for (const p of s.listPeers(h, 100)) {
    const n = parseInt(Buffer.from(p.peerIdHex, 'hex').toString('latin1').slice(8), 10);
    if (n % 2) {
      assert.equal(p.ip, compactIpText(v6(n), 0, 18));
      assert.equal(p.port, 5000 + n);
    } else assert.equal(p.port, 6881);
  }
  await s.close();
});

interface ModelPeer {
  seeder: boolean;
  port: number;
  seenMs: number;
}

test('memory table: random announces, stops and expiries match a plain model', async () => {
  const event = fc.constantFrom<AnnounceEvent>(EVENT_NONE, EVENT_NONE, EVENT_COMPLETED, EVENT_STOPPED);
  const op = fc.oneof(
    fc.record({ kind: fc.constant('announce' as const), swarm: fc.nat(2), peer: fc.nat(40), seeder: fc.boolean(), event, port: fc.nat(3) }),
    fc.record({ kind: fc.constant('tick' as const), s: fc.integer({ min: 1, max: 60 }) }),
    fc.record({ kind: fc.constant('expire' as const) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 20, maxLength: 400, size: 'max' }), fc.integer(), async (ops, seed) => {
      const ttlS = 100;
      const s = await store({ limits: { peerTtlS: ttlS }, hashSeed: seed });
      // A swarm: its peers, completed count and last announce (an empty swarm idle past the
      // TTL goes at the next expiry, and its count with it).
      const model = new Map<number, Map<number, ModelPeer>>();
      const downloaded = new Map<number, number>();
      const activeS = new Map<number, number>();
      const sec = (ms: number): number => Math.floor(ms / 1000);
      let now = T0;
      try {
        for (const o of ops) {
          if (o.kind === 'tick') {
            now += o.s * 1000;
            continue;
          }
          if (o.kind === 'expire') {
            let dropped = 0;
            const cutoff = sec(now) - ttlS;
            for (const [sw, m] of model) {
              for (const [id, p] of m) {
                if (sec(p.seenMs) < cutoff) {
                  m.delete(id);
                  dropped++;
                }
              }
              if (m.size === 0 && activeS.get(sw)! < cutoff) {
                model.delete(sw);
                downloaded.delete(sw);
                activeS.delete(sw);
              }
            }
            assert.equal(s.expire(now), dropped);
            continue;
          }
          if (o.event === EVENT_STOPPED && !model.has(o.swarm)) {
            const out = s.announce(input(hash(`m${o.swarm}`), o.peer, { event: o.event, nowMs: now }));
            assert.deepEqual([out.complete, out.incomplete], [0, 0]);
            continue;
          }
          const m = model.get(o.swarm) ?? new Map<number, ModelPeer>();
          model.set(o.swarm, m);
          activeS.set(o.swarm, sec(now));
          const prev = m.get(o.peer);
          const port = 6000 + o.port;
          const a: AnnounceInput = input(hash(`m${o.swarm}`), o.peer, { seeder: o.seeder, event: o.event, numwant: 200, addr: addr4(o.peer, port), nowMs: now, families: FAMILY_V4 | FAMILY_V6 });
          const d = downloaded.get(o.swarm) ?? 0;
          if (o.event === EVENT_STOPPED) {
            if (prev) {
              if (!prev.seeder && o.seeder) downloaded.set(o.swarm, d + 1);
              m.delete(o.peer);
            }
          } else if (prev) {
            if (o.seeder && !prev.seeder) downloaded.set(o.swarm, d + 1);
            m.set(o.peer, { seeder: o.seeder, port, seenMs: now });
          } else {
            if (o.event === EVENT_COMPLETED) downloaded.set(o.swarm, d + 1);
            m.set(o.peer, { seeder: o.seeder, port, seenMs: now });
          }
          const out = s.announce(a);
          const seeders = [...m.values()].filter((p) => p.seeder).length;
          assert.equal(out.complete, seeders);
          assert.equal(out.incomplete, m.size - seeders);
          if (o.event !== EVENT_STOPPED) {
            // numwant 200 > swarm: the reply is everyone eligible but the asker.
            const want = [...m].filter(([id, p]) => id !== o.peer && (!o.seeder || !p.seeder)).map(([id, p]) => `${addr4(id).subarray(0, 4).join('.')}:${p.port}`);
            assert.deepEqual(peers4(out).sort(), want.sort());
          }
        }
        s.checkIntegrity();
        assert.equal(s.stats().torrents, model.size);
        for (const [sw, m] of model) {
          const h = hash(`m${sw}`);
          const listed = s.listPeers(h, 1000).map((p) => `${p.peerIdHex}/${p.port}/${p.seeder}/${p.lastSeenMs}`).sort();
          const epochS = (ms: number): number => Math.floor(ms / 1000) * 1000;
          const want = [...m].map(([id, p]) => `${peerId(id).toString('hex')}/${p.port}/${p.seeder}/${epochS(p.seenMs)}`).sort();
          assert.deepEqual(listed, want);
          assert.deepEqual(s.scrape([h]), [{ complete: [...m.values()].filter((p) => p.seeder).length, downloaded: downloaded.get(sw) ?? 0, incomplete: [...m.values()].filter((p) => !p.seeder).length }]);
        }
      } finally {
        await s.close();
      }
    }),
    { numRuns: 150 },
  );
});

test('memory table: a seeder sample with families reads the leechers through their positions', async () => {
  const s = await store();
  const h = hash('fam');
  for (let i = 0; i < 30; i++) s.announce(input(h, i, { numwant: 0, seeder: i < 10 }));
  const out = s.announce(input(h, 0, { seeder: true, numwant: 5, families: FAMILY_V4 }));
  const got = peers4(out);
  assert.equal(got.length, 5);
  for (const g of got) assert.ok(Number(g.split(':')[0]!.split('.')[3]) >= 10, `${g} is a leecher`);
  await s.close();
});

test('memory table: ids differing only in their last bytes spread over a small table whatever the seed', () => {
  // 256 ids that differ only in byte 16 (then byte 19): before the hash's final avalanche
  // they all shared one home slot in tables up to 256 slots, for every seed.
  for (const seed of [1, 0x9e3779b9, 0x7fffffff, 42]) {
    for (const at of [16, 19]) {
      const homes = new Set<number>();
      for (let v = 0; v < 256; v++) {
        const id = Buffer.alloc(20, 0x41);
        id[at] = v;
        homes.add(peerIdHash(seed, id) & 255);
      }
      // 256 random throws into 256 slots land in ~162 distinct slots.
      assert.ok(homes.size >= 120, `seed ${seed}, byte ${at}: ${homes.size} distinct home slots of 256`);
    }
  }
});
