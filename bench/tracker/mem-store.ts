// Resident memory of the memory store: PEERS peers spread over SWARMS swarms, fed through
// the store's announce() directly (the state a tracker holds, without sockets). Prints RSS
// and heap growth per peer, and the store's announce rate while filling.
// Usage: node --expose-gc --import tsx bench/tracker/mem-store.ts [PEERS] [SWARMS]
import { createHash } from 'node:crypto';
import { EVENT_STARTED } from '../../src/tracker/protocol/index.js';
import { createMemoryStore, FAMILY_V4 } from '../../src/tracker/store/index.js';

const peers = Number(process.argv[2] ?? 1_000_000);
const swarms = Number(process.argv[3] ?? 100_000);
if (!(peers > 0 && peers <= 10_000_000 && swarms > 0 && swarms <= peers)) throw new Error('bad PEERS/SWARMS');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

function settle(): { rss: number; heap: number } {
  for (let i = 0; i < 3; i++) gc!();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external + m.arrayBuffers };
}

const hashes = Array.from({ length: swarms }, (_, i) => createHash('sha1').update(`mem-${i}`).digest());
const store = await createMemoryStore({ sweepIntervalMs: 0, limits: { maxPeers: peers, maxSwarms: swarms, maxPeersPerSwarm: peers } });
const before = settle();
const peerId = Buffer.alloc(20);
peerId.write('-BN0001-', 0, 'latin1');
const addr = Buffer.alloc(6);
const t0 = performance.now();
const now = Date.now();
for (let i = 0; i < peers; i++) {
  peerId.writeUInt32BE(i, 16);
  addr.writeUInt32BE(0x0a000000 + i, 0); // a distinct address per peer, as in a real swarm
  addr.writeUInt16BE(6881 + (i % 1000), 4);
  // The store copies what it keeps, so the buffers are reused.
  void store.announce({
    infoHash: hashes[i % swarms]!,
    peerId,
    addr,
    seeder: i % 5 === 0,
    event: EVENT_STARTED,
    numwant: 0,
    families: FAMILY_V4,
    withPeerIds: false,
    nowMs: now,
  });
}
const fillS = (performance.now() - t0) / 1000;
const after = settle();
const st = await store.stats();
if (st.seeders + st.leechers !== peers) throw new Error(`store holds ${st.seeders + st.leechers} peers, expected ${peers}`);
console.log(
  `memory store: ${peers.toLocaleString('en-US')} peers in ${st.torrents.toLocaleString('en-US')} swarms: ` +
    `RSS +${((after.rss - before.rss) / 1e6).toFixed(0)} MB = ${Math.round((after.rss - before.rss) / peers)} bytes/peer ` +
    `(JS heap +${Math.round((after.heap - before.heap) / peers)} bytes/peer; total RSS ${(after.rss / 1e6).toFixed(0)} MB); ` +
    `filled at ${Math.round(peers / fillS).toLocaleString('en-US')} announces/s (numwant 0, one thread)`,
);
await store.close();
