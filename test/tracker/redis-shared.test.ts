// Two `sta tracker` processes on different ports sharing one Redis serve one swarm: a peer
// that announced to one is handed out by the other (HTTP and UDP), and a stopped sent to
// the second removes the peer for the first. Spawns ./bin/sta (built dist/).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { announce, scrape } from '../../src/tracker/client/index.js';
import { redisAvailable, startRedis, type RedisServer } from './redis-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const required = process.env.STA_REQUIRE_INTEROP === '1';
const have = redisAvailable();
let redis: RedisServer | undefined;
const procs: ChildProcess[] = [];

/** Starts `sta tracker` on a free port (--port 0) and resolves with the port it printed. */
async function startSta(storeUrl: string): Promise<number> {
  const p = spawn(process.execPath, [`${root}bin/sta`, 'tracker', '--host', '127.0.0.1', '--port', '0', '--store', storeUrl, '--interval', '60'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(p);
  let out = '';
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const m = /tracker listening on \S*?:(\d+)/.exec(out);
    if (m) return Number(m[1]);
    if (p.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sta tracker did not start: ${out.slice(0, 500)}`);
}

before(async () => {
  if (have) redis = await startRedis();
});
after(async () => {
  for (const p of procs) {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 3000);
      await new Promise((r) => p.once('exit', r));
      clearTimeout(t);
    }
  }
  await redis?.stop();
});

const peer = (n: number, left: number) => ({
  infoHash: Buffer.alloc(20, 0x5a),
  peerId: Buffer.from(`-ST0001-${String(n).padStart(12, '0')}`),
  port: 7000 + n,
  uploaded: 0,
  downloaded: 0,
  left,
  key: n,
});

test('two sta trackers sharing one Redis serve one swarm', async (t) => {
  if (!have) {
    if (required) throw new Error('redis-server is required (STA_REQUIRE_INTEROP=1) but missing');
    return t.skip('redis-server not installed');
  }
  if (!existsSync(`${root}dist/bundle/main.js`)) throw new Error('dist/ not built: run npm run build');
  const [a, b] = await Promise.all([startSta(redis!.url), startSta(redis!.url)]);
  assert.notEqual(a, b);
  // The seeder announces to tracker A over HTTP; a leecher asks tracker B over UDP.
  await announce(`http://127.0.0.1:${a}/announce`, { ...peer(1, 0), event: 'started' }, { timeoutMs: 5000 });
  const viaB = await announce(`udp://127.0.0.1:${b}`, { ...peer(2, 100), event: 'started' }, { timeoutMs: 5000 });
  assert.deepEqual(viaB.peers, [{ ip: '127.0.0.1', port: 7001 }]);
  assert.equal(viaB.complete, 1);
  // And back: the leecher that announced to B is handed out by A.
  const viaA = await announce(`http://127.0.0.1:${a}/announce`, peer(1, 0), { timeoutMs: 5000 });
  assert.deepEqual(viaA.peers, [{ ip: '127.0.0.1', port: 7002 }]);
  // Scrape agrees on both; a stopped sent to B is seen by A.
  const h = peer(1, 0).infoHash.toString('hex');
  assert.deepEqual((await scrape(`http://127.0.0.1:${a}/announce`, [peer(1, 0).infoHash])).get(h), { complete: 1, downloaded: 0, incomplete: 1 });
  await announce(`udp://127.0.0.1:${b}`, { ...peer(2, 100), event: 'stopped' }, { timeoutMs: 5000 });
  assert.deepEqual((await scrape(`udp://127.0.0.1:${a}`, [peer(1, 0).infoHash])).get(h), { complete: 1, downloaded: 0, incomplete: 0 });
});
