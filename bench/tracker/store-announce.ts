// Micro-bench of MemoryStore.announce in the tracker bench's workload (1000 torrents x
// 10,000 peers, random pairs, numwant 50, one peer in five seeding, 127.0.0.1:10000+peer),
// without sockets: CPU us per announce while inserting (nearly every pair new) and then
// re-announcing the same pairs (every peer known). Repeat runs and compare A/B by CPU.
// Usage: node --import tsx bench/tracker/store-announce.ts [ANNOUNCES=300000] [ROUNDS=3] [NUMWANT=50]
import { EVENT_NONE } from '../../src/tracker/protocol/index.js';
import { createMemoryStore, FAMILY_V4, type AnnounceInput } from '../../src/tracker/store/index.js';
import { allInfoHashes, NUMWANT, peerId, PEERS, PORT_BASE, TORRENTS } from './workload.js';

const n = Number(process.argv[2] ?? 300_000);
const rounds = Number(process.argv[3] ?? 3);
const numwant = Number(process.argv[4] ?? NUMWANT);
if (!(n > 0 && n <= 5_000_000 && rounds > 0 && rounds <= 20)) throw new Error('bad ANNOUNCES/ROUNDS');
const hashes = allInfoHashes();
const ids = Array.from({ length: PEERS }, (_, i) => peerId(i));
const addrs = Array.from({ length: PEERS }, (_, i) => {
  const b = Buffer.alloc(6);
  b.writeUInt32BE(0x7f000001, 0);
  b.writeUInt16BE(PORT_BASE + i, 4);
  return b;
});
// A fixed pseudo-random sequence of (torrent, peer) pairs (xorshift), the same every run.
let x = 0x9e3779b9;
const pairs = new Int32Array(2 * n);
for (let i = 0; i < n; i++) {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  pairs[2 * i] = (x >>> 0) % TORRENTS;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  pairs[2 * i + 1] = (x >>> 0) % PEERS;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function round(): Promise<[number, number]> {
  const store = await createMemoryStore({ sweepIntervalMs: 0, limits: { maxPeers: 10_000_000, maxPeersPerSwarm: 100_000 } });
  const now = Date.now();
  const phase = (): number => {
    const c0 = cpuUs();
    let sink = 0;
    for (let i = 0; i < n; i++) {
      const p = pairs[2 * i + 1]!;
      const a: AnnounceInput = {
        infoHash: hashes[pairs[2 * i]!]!,
        peerId: ids[p]!,
        addr: addrs[p]!,
        seeder: p % 5 === 0,
        event: EVENT_NONE,
        numwant,
        families: FAMILY_V4,
        withPeerIds: false,
        nowMs: now,
      };
      const out = store.announce(a) as { peers4: Uint8Array };
      sink += out.peers4.length;
    }
    if (sink === 0 && numwant > 0) throw new Error('no peers handed out');
    return (cpuUs() - c0) / n;
  };
  const insert = phase();
  const again = phase();
  await store.close();
  return [insert, again];
}

for (let r = 0; r < rounds; r++) {
  const [ins, again] = await round();
  console.log(`round ${r + 1}: insert-heavy ${ins.toFixed(2)} us/announce, re-announce ${again.toFixed(2)} us/announce (${n} announces each)`);
}
