// The interop harness itself (test/interop/helpers): the tree comparison finds every kind
// of difference, process groups really die, waits are bounded and say what they waited for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareTrees, freePort, infoHashOf, sleep, waitFor, withWorkspace } from './helpers/clients.js';
import { encode } from '../../src/bencode/index.js';
import { createHash } from 'node:crypto';

async function tree(root: string, files: Record<string, string>): Promise<string> {
  for (const [p, content] of Object.entries(files)) {
    await mkdir(join(root, ...p.split('/').slice(0, -1)), { recursive: true });
    await writeFile(join(root, ...p.split('/')), content);
  }
  return root;
}

test('compareTrees finds content, size and presence differences; ignores 0-byte files only when asked', async () => {
  await withWorkspace('sta-harness-', async (ws) => {
    const base = { 'a.txt': 'hello', 'dir/ü b.bin': 'x'.repeat(3_000_000), 'empty.txt': '' };
    const a = await tree(ws.path('a'), base);
    const same = await tree(ws.path('same'), base);
    const r = await compareTrees(a, same);
    assert.deepEqual(r.differences, []);
    assert.equal(r.filesCompared, 3);
    assert.equal(r.bytesCompared, 3_000_005);

    const changed = await tree(ws.path('changed'), { ...base, 'dir/ü b.bin': `${'x'.repeat(2_500_000)}y${'x'.repeat(499_999)}` });
    assert.deepEqual((await compareTrees(a, changed)).differences, ['content differs: dir/ü b.bin at byte 2500000']);

    const shorter = await tree(ws.path('shorter'), { ...base, 'a.txt': 'hell' });
    assert.deepEqual((await compareTrees(a, shorter)).differences, ['size differs: a.txt (5 vs 4)']);

    const noEmpty = await tree(ws.path('noempty'), { 'a.txt': 'hello', 'dir/ü b.bin': 'x'.repeat(3_000_000) });
    assert.deepEqual((await compareTrees(a, noEmpty)).differences, ['only in a: empty.txt (0 bytes)']);
    assert.equal((await compareTrees(a, noEmpty, { ignoreEmptyFiles: true })).equal, true);

    const extra = await tree(ws.path('extra'), { ...base, 'new.txt': '1' });
    assert.deepEqual((await compareTrees(a, extra)).differences, ['only in b: new.txt (1 bytes)']);
  });
});

test('killing a spawned process ends its whole process group', { timeout: 20_000 }, async () => {
  await withWorkspace('sta-harness-', async (ws) => {
    const pidFile = ws.path('child.pid');
    const p = ws.spawn('sh', ['-c', `sleep 60 & echo $! > ${pidFile}; echo started; wait`], { name: 'group' });
    await p.waitForOutput(/started/, 5000);
    const { readFile } = await import('node:fs/promises');
    const childPid = Number((await readFile(pidFile, 'utf8')).trim());
    assert.ok(childPid > 0);
    await p.kill('SIGTERM', 2000);
    await waitFor(
      () => {
        try {
          process.kill(childPid, 0);
          return false;
        } catch {
          return true;
        }
      },
      5000,
      'grandchild to die',
    );
  });
});

test('waits are bounded and name what they waited for', { timeout: 20_000 }, async () => {
  await assert.rejects(waitFor(() => false, 200, 'the impossible'), /timed out after 200 ms waiting for the impossible/);
  await withWorkspace('sta-harness-', async (ws) => {
    const p = ws.spawn('sh', ['-c', 'echo bye; exit 3'], { name: 'quick' });
    await assert.rejects(p.waitForOutput(/never printed/, 5000), /quick exited before printing/);
    await assert.rejects(p.succeeds(5000), /quick failed \(code 3/);
    const slow = ws.spawn('sleep', ['30'], { name: 'slow' });
    await assert.rejects(slow.succeeds(300), /timed out after 300 ms/);
    await sleep(10);
    assert.equal(slow.running, false);
  });
});

test('freePort hands out distinct ports that are free for TCP and UDP', async () => {
  const ports = await Promise.all([freePort(), freePort(), freePort()]);
  assert.equal(new Set(ports).size, 3);
  for (const p of ports) assert.ok(p > 1024 && p < 65536);
});

test('infoHashOf hashes the info dictionary bytes as they are in the file', async () => {
  await withWorkspace('sta-harness-', async (ws) => {
    const info = { length: 5, name: 'x', 'piece length': 16384, pieces: Buffer.alloc(20) };
    const file = ws.path('x.torrent');
    await writeFile(file, encode({ announce: 'http://127.0.0.1:1/announce', info }));
    assert.equal(await infoHashOf(file), createHash('sha1').update(encode(info)).digest('hex'));
  });
});
