// `sta tracker`'s servers (the HTTP front, node:http behind it, UDP) over a stub store that
// answers every announce with the same 50 peers and keeps nothing: what sta costs without
// its store, to set beside the fixed-reply server (the runtime's limit) and sta-memory.
// Runs the built tracker (dist/), like the sta-memory target.
// Usage: node --import tsx bench/tracker/sta-stub.ts PORT
import type * as ServerModule from '../../src/tracker/server/index.js';
import type * as StoreModule from '../../src/tracker/store/index.js';
import type { PeerStore } from '../../src/tracker/store/index.js';

const here = new URL('../../dist/tracker/', import.meta.url);
const { startTracker } = (await import(new URL('server/index.js', here).href)) as typeof ServerModule;
const { createMemoryStore } = (await import(new URL('store/index.js', here).href)) as typeof StoreModule;

const real = await createMemoryStore({ sweepIntervalMs: 0 });
const peers4 = Buffer.alloc(50 * 6);
for (let i = 0; i < 50; i++) {
  peers4.writeUInt32BE(0x7f000001, 6 * i);
  peers4.writeUInt16BE(10_000 + i, 6 * i + 4);
}
const EMPTY = Buffer.alloc(0);
// The real store for everything but announce (scrape, stats, catalogue).
const stub: PeerStore = Object.assign(Object.create(Object.getPrototypeOf(real) as object) as PeerStore, real, {
  announce: () => ({ complete: 10, incomplete: 40, peers4: Buffer.from(peers4), peers6: EMPTY }),
});
const t = await startTracker({ host: '127.0.0.1', port: Number(process.argv[2]), store: stub });
process.stdout.write(`sta-stub tracker listening on 127.0.0.1:${t.port}\n`);
process.on('SIGTERM', () => void t.close().then(() => process.exit(0)));
