// End-to-end over 127.0.0.1 at library level: one seeding node, leeching nodes, real
// sockets, real storage. Outputs compared byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { StaNode, type Torrent } from '../../src/node/index.js';
import { Storage } from '../../src/storage/index.js';
import { createTorrent, makeMagnet, parseMagnet, type Metainfo } from '../../src/torrent/index.js';
import { makeFile, makePayloadTree } from '../interop/helpers/payload.js';
import { assertSameTree } from '../interop/helpers/trees.js';
import { IGNORE, complete, withTmp } from './helpers.js';

async function seedOf(dataDir: string, meta: Metainfo): Promise<{ node: StaNode; torrent: Torrent }> {
  const node = await StaNode.start({ port: 0, host: '127.0.0.1' });
  const torrent = await node.add({ kind: 'metainfo', meta }, { dir: dataDir, noTracker: true });
  assert.equal(torrent.state, 'seeding');
  return { node, torrent };
}

test('a leecher fetches a multi-file tree with 0-byte files from a seeder', async () => {
  await withTmp('sta-node-', async (dir) => {
    const src = join(dir, 'src', 'tree');
    await makePayloadTree(src);
    const { meta } = await createTorrent({ path: src, pieceLength: 32768, creationDate: null });
    const seed = await seedOf(join(dir, 'src'), meta);
    const leech = await StaNode.start({ port: 0, host: '127.0.0.1' });
    try {
      const t = await leech.add({ kind: 'metainfo', meta }, { dir: join(dir, 'dst'), noTracker: true, peers: [`127.0.0.1:${seed.node.port}`] });
      await complete(t);
      await assertSameTree(join(dir, 'src'), join(dir, 'dst'), { ignore: IGNORE });
      assert.equal(t.progress().fraction, 1);
    } finally {
      await leech.close();
      await seed.node.close();
    }
  });
});

test('pieces of 1 MiB are written whole with O_DIRECT (from two leechers at once); the output is exact', async () => {
  await withTmp('sta-node-', async (dir) => {
    await makeFile(join(dir, 'src', 'd.bin'), 8 * 1024 * 1024 + 123, 'direct');
    const { meta } = await createTorrent({ path: join(dir, 'src', 'd.bin'), pieceLength: 1 << 20, creationDate: null });
    const seed = await seedOf(join(dir, 'src'), meta);
    const nodes = await Promise.all([0, 1].map(() => StaNode.start({ port: 0, host: '127.0.0.1' })));
    const direct = Storage.prototype.writePieceDirect;
    const written: number[] = [];
    Storage.prototype.writePieceDirect = function (this: Storage, i: number, data: Buffer) {
      written.push(i);
      return direct.call(this, i, data);
    };
    try {
      const ts = await Promise.all(nodes.map((n, i) => n.add({ kind: 'metainfo', meta }, { dir: join(dir, `dst${i}`), noTracker: true, peers: [`127.0.0.1:${seed.node.port}`] })));
      await Promise.all(ts.map((t) => complete(t)));
      for (let i = 0; i < 2; i++) await assertSameTree(join(dir, 'src'), join(dir, `dst${i}`), { ignore: IGNORE });
      // 8 whole pieces and a short last one each; the first piece a leecher receives opens
      // the file through the page cache, most others go direct.
      assert.ok(written.length >= 8, `direct writes: ${written.length}`);
      assert.ok(!written.includes(8), 'never the short last piece');
    } finally {
      Storage.prototype.writePieceDirect = direct;
      await Promise.all(nodes.map((n) => n.close()));
      await seed.node.close();
    }
  });
});

test('three leechers download from one seeder at once', async () => {
  await withTmp('sta-node-', async (dir) => {
    await makeFile(join(dir, 'src', 'big.bin'), 6 * 1024 * 1024 + 123, 'big');
    const { meta } = await createTorrent({ path: join(dir, 'src', 'big.bin'), pieceLength: 65536, creationDate: null });
    const seed = await seedOf(join(dir, 'src'), meta);
    const nodes = await Promise.all([0, 1, 2].map(() => StaNode.start({ port: 0, host: '127.0.0.1' })));
    try {
      const ts = await Promise.all(
        nodes.map((n, i) =>
          n.add({ kind: 'metainfo', meta }, {
            dir: join(dir, `dst${i}`),
            noTracker: true,
            peers: [`127.0.0.1:${seed.node.port}`, ...nodes.filter((o) => o !== n).map((o) => `127.0.0.1:${o.port}`)],
          }),
        ),
      );
      await Promise.all(ts.map((t) => complete(t)));
      for (let i = 0; i < 3; i++) await assertSameTree(join(dir, 'src'), join(dir, `dst${i}`), { ignore: IGNORE });
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
      await seed.node.close();
    }
  });
});

test('a magnet link fetches its metadata from the peer, then the data', async () => {
  await withTmp('sta-node-', async (dir) => {
    await makeFile(join(dir, 'src', 'm.bin'), 300_001, 'magnet');
    const { meta } = await createTorrent({ path: join(dir, 'src', 'm.bin'), pieceLength: 16384, creationDate: null });
    const seed = await seedOf(join(dir, 'src'), meta);
    const leech = await StaNode.start({ port: 0, host: '127.0.0.1' });
    try {
      const magnet = parseMagnet(makeMagnet({ infoHash: meta.infoHash, name: meta.name }));
      const t = await leech.add({ kind: 'magnet', magnet }, { dir: join(dir, 'dst'), noTracker: true, peers: [`127.0.0.1:${seed.node.port}`] });
      await complete(t);
      await assertSameTree(join(dir, 'src'), join(dir, 'dst'), { ignore: IGNORE });
    } finally {
      await leech.close();
      await seed.node.close();
    }
  });
});

test('--only fetches just the matching files', async () => {
  await withTmp('sta-node-', async (dir) => {
    const src = join(dir, 'src', 'tree');
    await makePayloadTree(src);
    const { meta } = await createTorrent({ path: src, pieceLength: 16384, creationDate: null });
    const seed = await seedOf(join(dir, 'src'), meta);
    const leech = await StaNode.start({ port: 0, host: '127.0.0.1' });
    try {
      const t = await leech.add({ kind: 'metainfo', meta }, { dir: join(dir, 'dst'), noTracker: true, only: ['sub/zz/*'], peers: [`127.0.0.1:${seed.node.port}`] });
      await complete(t);
      await assertSameTree(join(src, 'sub', 'zz'), join(dir, 'dst', 'tree', 'sub', 'zz'));
      assert.ok(t.progress().downloaded < 65537 + 2 * 16384, `downloaded ${t.progress().downloaded}`);
    } finally {
      await leech.close();
      await seed.node.close();
    }
  });
});

test('a seeder dials the leechers its tracker hands it (a leecher that never dials, like Transmission on loopback)', async () => {
  const { startTracker } = await import('../../src/tracker/server/index.js');
  await withTmp('sta-node-', async (dir) => {
    const tracker = await startTracker({ host: '127.0.0.1', port: 0, intervalS: 60 });
    const announce = `http://127.0.0.1:${tracker.port}/announce`;
    await makeFile(join(dir, 'src', 'd.bin'), 700_000, 'dial');
    const { meta } = await createTorrent({ path: join(dir, 'src', 'd.bin'), trackers: [announce], pieceLength: 32768, creationDate: null });
    // This leecher announces but never dials anyone.
    const leech = await StaNode.start({ port: 0, host: '127.0.0.1', limits: { maxDialsInFlight: 0 } });
    const seed = await StaNode.start({ port: 0, host: '127.0.0.1' });
    try {
      const t = await leech.add({ kind: 'metainfo', meta }, { dir: join(dir, 'dst') });
      const connected: boolean[] = [];
      t.on('peer-connected', (p) => connected.push(p.incoming));
      const hex = meta.infoHashHex;
      // Wait until the tracker knows the leecher, then start the seeder.
      for (let i = 0; i < 100; i++) {
        const res = await fetch(`http://127.0.0.1:${tracker.port}/api/peers?info_hash=${hex}`);
        const peers = (await res.json()) as unknown[];
        if (Array.isArray(peers) && peers.length > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const s = await seed.add({ kind: 'metainfo', meta }, { dir: join(dir, 'src') });
      assert.equal(s.state, 'seeding');
      await complete(t);
      await assertSameTree(join(dir, 'src'), join(dir, 'dst'), { ignore: IGNORE });
      assert.ok(connected.length > 0 && connected.every((incoming) => incoming), 'the seeder dialled the leecher');
    } finally {
      await leech.close();
      await seed.close();
      await tracker.close();
    }
  });
});
