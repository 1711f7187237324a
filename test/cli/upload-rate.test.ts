// `--max-upload-rate` on `sta seed` / `sta download`: a seed capped at 256 KiB/s takes
// about 4 s to serve 1 MiB (the uncapped seed takes a fraction of a second), and a bad
// value is one line on stderr with exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTorrent } from '../../src/torrent/index.js';
import { withWorkspace } from '../interop/helpers/workspace.js';
import { makeFile } from '../interop/helpers/payload.js';
import { assertSameTree } from '../interop/helpers/trees.js';
import { staSeed, staDownload, staCommand } from '../interop/helpers/sta.js';

const IGNORE = /^\.sta(\/|$)/;

async function timedDownload(rateArgs: string[]): Promise<number> {
  let ms = 0;
  await withWorkspace('sta-cli-rate-', async (ws) => {
    const src = await ws.mkdir('src');
    await makeFile(join(src, 'one.bin'), 1 << 20, 'rate');
    const { torrent } = await createTorrent({ path: join(src, 'one.bin'), pieceLength: 32768, creationDate: null });
    await writeFile(ws.path('t.torrent'), torrent);
    const seed = await staSeed(ws, { torrent: ws.path('t.torrent'), dir: src, noTracker: true, args: rateArgs });
    const t0 = performance.now();
    const dl = await staDownload(ws, { torrent: ws.path('t.torrent'), dir: ws.path('dst'), noTracker: true, peers: [`127.0.0.1:${seed.port}`], timeoutS: 60 });
    await dl.done(60_000);
    ms = performance.now() - t0;
    await assertSameTree(src, ws.path('dst'), { ignore: IGNORE });
  });
  return ms;
}

test('sta seed --max-upload-rate 256k serves 1 MiB in about 4 s; without it far faster', async () => {
  const capped = await timedDownload(['--max-upload-rate', '256k']);
  if (process.env.STA_DEBUG) console.log('capped ms', capped);
  // 1 MiB at 256 KiB/s is 4 s; the bucket may start with up to a second's burst.
  assert.ok(capped >= 2500, `capped download took ${capped.toFixed(0)} ms, expected >= 2500`);
  const free = await timedDownload([]);
  if (process.env.STA_DEBUG) console.log('free ms', free);
  assert.ok(free < capped / 2, `uncapped ${free.toFixed(0)} ms vs capped ${capped.toFixed(0)} ms`);
});

test('a bad --max-upload-rate is one line on stderr and exit 2', async () => {
  await withWorkspace('sta-cli-rate-', async (ws) => {
    const [node, ...pre] = staCommand();
    for (const cmd of ['seed', 'download']) {
      for (const bad of ['fast', '-5', '1e3', '12q']) {
        const p = ws.spawn(node, [...pre, cmd, ws.path('x.torrent'), '--dir', ws.path('d'), '--port', '0', '--no-tracker', '--max-upload-rate', bad], { name: 'sta' });
        const info = await p.exited;
        assert.equal(info.code, 2, `${cmd} ${bad}: ${p.output()}`);
        const lines = p.output().trim().split('\n');
        assert.equal(lines.length, 1, p.output());
        assert.match(lines[0]!, /--max-upload-rate/);
      }
    }
  });
});
