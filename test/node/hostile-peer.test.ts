// A download beside hostile peers: one answers requests with garbage and floods HAVEs,
// one sends an oversized message, one requests blocks outside the torrent. The download
// completes from the honest seeder, every hostile one is banned (reason kept), memory
// stays bounded and nothing crashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { StaNode } from '../../src/node/index.js';
import { createTorrent, type Metainfo } from '../../src/torrent/index.js';
import { encodeHandshake, encodeMessage } from '../../src/peer/wire/index.js';
import { Bitfield } from '../../src/util/index.js';
import { makeFile } from '../interop/helpers/payload.js';
import { assertSameTree } from '../interop/helpers/trees.js';
import { complete } from './helpers.js';

type Mode = 'liar' | 'oversize' | 'bad-request';

/** A scripted peer speaking just enough BEP 3 to be dangerous. */
function hostilePeer(meta: Metainfo, mode: Mode): Promise<{ server: Server; port: number }> {
  const server = createServer((socket: Socket) => {
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let handshaken = false;
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!handshaken) {
        if (buf.length < 68) return;
        buf = buf.subarray(68);
        handshaken = true;
        socket.write(encodeHandshake({ infoHash: meta.infoHash, peerId: randomBytes(20) }));
        socket.write(encodeMessage({ type: 'bitfield', bytes: Buffer.from(Bitfield.full(meta.pieceCount).bytes) }));
        socket.write(encodeMessage({ type: 'unchoke' }));
        if (mode === 'liar') {
          const haves: Buffer[] = [];
          for (let i = 0; i < 50_000; i++) haves.push(encodeMessage({ type: 'have', index: i % meta.pieceCount }));
          socket.write(Buffer.concat(haves));
        } else if (mode === 'oversize') {
          const head = Buffer.alloc(5);
          head.writeUInt32BE(64 * 1024 * 1024, 0);
          head[4] = 7;
          socket.write(head);
          socket.write(randomBytes(64 * 1024));
        } else {
          socket.write(encodeMessage({ type: 'interested' }));
          socket.write(encodeMessage({ type: 'request', index: meta.pieceCount + 5, begin: 0, length: 16384 }));
        }
      }
      // Answer every request with garbage of the right length.
      while (buf.length >= 4) {
        const len = buf.readUInt32BE(0);
        if (buf.length < 4 + len) break;
        const id = buf[4];
        if (mode === 'liar' && id === 6 && len === 13) {
          const index = buf.readUInt32BE(5);
          const begin = buf.readUInt32BE(9);
          const length = buf.readUInt32BE(13);
          socket.write(encodeMessage({ type: 'piece', index, begin, block: randomBytes(length) }));
        }
        buf = buf.subarray(4 + len);
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

test('hostile peers are banned and the download completes from the honest seeder', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sta-hostile-'));
  const servers: Server[] = [];
  const nodes: StaNode[] = [];
  try {
    await makeFile(join(dir, 'src', 'h.bin'), 2 * 1024 * 1024 + 77, 'hostile');
    const { meta } = await createTorrent({ path: join(dir, 'src', 'h.bin'), pieceLength: 32768, creationDate: null });
    const seed = await StaNode.start({ port: 0, host: '127.0.0.1' });
    nodes.push(seed);
    await seed.add({ kind: 'metainfo', meta }, { dir: join(dir, 'src'), noTracker: true });
    const hostile = await Promise.all((['liar', 'oversize', 'bad-request'] as const).map((m) => hostilePeer(meta, m)));
    servers.push(...hostile.map((h) => h.server));
    const leech = await StaNode.start({ port: 0, host: '127.0.0.1' });
    nodes.push(leech);
    const rssBefore = process.memoryUsage().rss;
    const banned: { address: string; reason: string }[] = [];
    const t = await leech.add({ kind: 'metainfo', meta }, {
      dir: join(dir, 'dst'),
      noTracker: true,
      // Hostile peers first, so they are connected before the honest one.
      peers: [...hostile.map((h) => `127.0.0.1:${h.port}`), `127.0.0.1:${seed.port}`],
    });
    t.on('banned', (b) => banned.push(b));
    await complete(t, 60_000);
    await assertSameTree(join(dir, 'src'), join(dir, 'dst'), { ignore: /^\.sta(\/|$)/ });
    const keys = new Set(t.bannedPeers().map((b) => b.address));
    for (const h of hostile) assert.ok(keys.has(`127.0.0.1:${h.port}`), `127.0.0.1:${h.port} banned (banned: ${[...keys].join(', ')})`);
    assert.ok(!keys.has(`127.0.0.1:${seed.port}`), 'the honest seeder is not banned');
    for (const b of t.bannedPeers()) assert.ok(b.reason.length > 0);
    if (process.env.STA_DEBUG) console.log(t.bannedPeers());
    assert.ok(process.memoryUsage().rss < 600 * 1024 * 1024, 'memory stays bounded');
    // The 64 MiB length header must not have been buffered: growth stays well under it.
    const growth = process.memoryUsage().rss - rssBefore;
    assert.ok(growth < 48 * 1024 * 1024, `RSS grew ${(growth / 1048576).toFixed(0)} MiB`);
    assert.equal(new Set(banned.map((b) => b.address)).size, hostile.length, 'a banned event for each hostile peer');
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
    for (const s of servers) s.close();
    await rm(dir, { recursive: true, force: true });
  }
});
