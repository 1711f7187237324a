// Leechers trade with each other: pieces flow between sta leechers, not only from a seeder.
// 1. No seeder at all: leecher A starts with the first half of the pieces, B with the second
//    half; each knows the other; both must complete byte-exact (every byte B lacked came
//    from A and the other way round).
// 2. A seeder that accepts one connection and whose upload is capped serves three leechers:
//    two of them can only get pieces from the other leechers, and do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StaNode } from '../../src/node/index.js';
import { createTorrent } from '../../src/torrent/index.js';
import { makeFile, payloadBytes } from '../interop/helpers/payload.js';
import { assertSameTree } from '../interop/helpers/trees.js';
import { IGNORE, complete, withTmp } from './helpers.js';

test('two leechers with no seeder complete by trading halves', async () => {
  await withTmp('sta-trade-', async (dir) => {
    const SIZE = 3 * 1024 * 1024 + 4321;
    const PIECE = 65536;
    await makeFile(join(dir, 'src', 'x.bin'), SIZE, 'trade');
    const { meta } = await createTorrent({ path: join(dir, 'src', 'x.bin'), pieceLength: PIECE, creationDate: null });
    const content = payloadBytes(SIZE, 'trade');
    const split = Math.floor(meta.pieceCount / 2) * PIECE;
    // A: the first half of the pieces, zeros after; B: zeros, then the second half.
    const a = Buffer.from(content);
    a.fill(0, split);
    const b = Buffer.from(content);
    b.fill(0, 0, split);
    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'b'));
    await writeFile(join(dir, 'a', 'x.bin'), a);
    await writeFile(join(dir, 'b', 'x.bin'), b);
    const na = await StaNode.start({ port: 0, host: '127.0.0.1' });
    const nb = await StaNode.start({ port: 0, host: '127.0.0.1' });
    try {
      const ta = await na.add({ kind: 'metainfo', meta }, { dir: join(dir, 'a'), noTracker: true, peers: [`127.0.0.1:${nb.port}`] });
      const tb = await nb.add({ kind: 'metainfo', meta }, { dir: join(dir, 'b'), noTracker: true, peers: [`127.0.0.1:${na.port}`] });
      const half = Math.floor(meta.pieceCount / 2);
      assert.equal(ta.progress().piecesHave, half, 'A resumed with the first half');
      assert.equal(tb.progress().piecesHave, meta.pieceCount - half, 'B resumed with the second half');
      await Promise.all([complete(ta, 30_000), complete(tb, 30_000)]);
      await assertSameTree(join(dir, 'src'), join(dir, 'a'), { ignore: IGNORE });
      await assertSameTree(join(dir, 'src'), join(dir, 'b'), { ignore: IGNORE });
      assert.equal(ta.progress().downloaded, meta.length - split, 'A fetched exactly what it lacked');
      assert.equal(tb.progress().downloaded, split, 'B fetched exactly what it lacked');
    } finally {
      await na.close();
      await nb.close();
    }
  });
});

test('a seeder that takes one peer at a time, upload capped, serves three leechers: two of them get every piece from the other leechers', async () => {
  await withTmp('sta-trade-', async (dir) => {
    const SIZE = 2 * 1024 * 1024 + 999;
    const RATE = 1024 * 1024;
    await makeFile(join(dir, 'src', 'y.bin'), SIZE, 'capped');
    const { meta } = await createTorrent({ path: join(dir, 'src', 'y.bin'), pieceLength: 32768, creationDate: null });
    // One connection at most (the others are turned away and retry only after 15 s), and
    // 1 MiB/s: the connected leecher gets pieces slowly, the other two can only get them
    // from the leechers.
    const seed = await StaNode.start({ port: 0, host: '127.0.0.1', limits: { maxPeersPerTorrent: 1, maxUploadRateBps: RATE } });
    const nodes = await Promise.all([0, 1, 2].map(() => StaNode.start({ port: 0, host: '127.0.0.1' })));
    try {
      const st = await seed.add({ kind: 'metainfo', meta }, { dir: join(dir, 'src'), noTracker: true });
      assert.equal(st.state, 'seeding');
      const seedAddress = `127.0.0.1:${seed.port}`;
      const t0 = performance.now();
      const ts = await Promise.all(
        nodes.map((n) =>
          n.add({ kind: 'metainfo', meta }, {
            dir: join(dir, `dst${n.port}`),
            noTracker: true,
            peers: [seedAddress, ...nodes.filter((o) => o !== n).map((o) => `127.0.0.1:${o.port}`)],
          }),
        ),
      );
      const fromSeed = ts.map(() => 0);
      const fromLeechers = ts.map(() => 0);
      ts.forEach((t, i) =>
        t.on('piece', (p) => {
          if (p.from.includes(seedAddress)) fromSeed[i]!++;
          if (p.from.some((a) => a !== seedAddress)) fromLeechers[i]!++;
        }),
      );
      await Promise.all(ts.map((t) => complete(t, 60_000)));
      const seconds = (performance.now() - t0) / 1000;
      for (const n of nodes) await assertSameTree(join(dir, 'src'), join(dir, `dst${n.port}`), { ignore: IGNORE });
      const served = st.progress().uploaded;
      if (process.env.STA_DEBUG) console.log({ copies: served / SIZE, seconds, fromSeed, fromLeechers, pieces: meta.pieceCount, uploaded: ts.map((t) => t.progress().uploaded / SIZE) });
      // The cap held: no more than the rate over the run, plus the first burst.
      assert.ok(served <= RATE * seconds + 128 * 1024, `seeder sent ${served} B in ${seconds.toFixed(1)} s at a cap of ${RATE} B/s`);
      // Three copies arrived; about one left the seeder, the rest went leecher to leecher.
      assert.ok(served <= 1.25 * SIZE, `seeder sent ${(served / SIZE).toFixed(2)} copies`);
      const onlyFromLeechers = fromSeed.filter((n) => n === 0).length;
      assert.ok(onlyFromLeechers >= 2, `leechers that got nothing from the seeder: ${onlyFromLeechers} (from seed ${fromSeed.join(', ')}; from leechers ${fromLeechers.join(', ')})`);
      const uploadedByLeechers = ts.reduce((n, t) => n + t.progress().uploaded, 0);
      assert.ok(uploadedByLeechers >= 1.75 * SIZE, `leechers uploaded ${(uploadedByLeechers / SIZE).toFixed(2)} copies to each other`);
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
      await seed.close();
    }
  });
});
