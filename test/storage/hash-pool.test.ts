import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { HashPool } from '../../src/storage/index.js';

const sha1 = (b: Uint8Array) => createHash('sha1').update(b).digest();

test('hash pool digests equal crypto.createHash for many sizes, concurrently, in any order', async () => {
  const pool = new HashPool(2);
  try {
    const inputs = [0, 1, 63, 64, 65, 16384, 100_000, 262_144, 1_048_577].flatMap((n) => [randomBytes(n), randomBytes(n)]);
    const got = await Promise.all(inputs.map((b) => pool.hash(b)));
    got.forEach((d, i) => assert.deepEqual(d, sha1(inputs[i]!)));
    // The caller's buffer is copied, not moved.
    assert.equal(inputs[10]!.length, 16384);
    // A view into a larger buffer hashes only its own bytes.
    const big = randomBytes(5000);
    assert.deepEqual(await pool.hash(big.subarray(100, 4100)), sha1(big.subarray(100, 4100)));
  } finally {
    await pool.close();
  }
});

test('hashChunks returns one digest per chunk; transfer moves the buffer', async () => {
  const pool = new HashPool(2);
  try {
    const data = Buffer.allocUnsafeSlow(10 * 1000 + 7);
    randomBytes(data.length).copy(data);
    const copy = Buffer.from(data);
    const digests = await pool.hashChunks(data, 1000, { transfer: true });
    assert.equal(digests.length, 11 * 20);
    for (let i = 0; i < 11; i++) assert.deepEqual(digests.subarray(i * 20, i * 20 + 20), sha1(copy.subarray(i * 1000, (i + 1) * 1000)));
    assert.equal(data.length, 0, 'transferred: detached in this thread');
  } finally {
    await pool.close();
  }
});

test('a closed pool refuses work and fails what was queued', async () => {
  const pool = new HashPool(1);
  const pending = Array.from({ length: 6 }, () => pool.hash(randomBytes(4 << 20)));
  const settled = Promise.allSettled(pending);
  await pool.close();
  const results = await settled;
  assert.ok(results.some((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'STORAGE_HASH_POOL_CLOSED'));
  await assert.rejects(pool.hash(Buffer.from('x')), { code: 'STORAGE_HASH_POOL_CLOSED' });
  assert.throws(() => new HashPool(0), { code: 'STORAGE_BAD_OPTIONS' });
});

test('the default pool never keeps the process alive', () => {
  const src = fileURLToPath(new URL('../../src/storage/index.ts', import.meta.url));
  const script = `import { defaultHashPool } from ${JSON.stringify(src)};
    const d = await defaultHashPool().hash(Buffer.from('abc'));
    console.log(d.toString('hex'));`;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  assert.ok(Date.now() - t0 < 20_000);
});

test('the built pool (dist/, plain .js worker) hashes too', (t) => {
  const dist = fileURLToPath(new URL('../../dist/storage/index.js', import.meta.url));
  if (!existsSync(dist)) return t.skip('dist/ not built (npm test builds it first)');
  const script = `import { defaultHashPool } from ${JSON.stringify(dist)};
    console.log((await defaultHashPool().hash(Buffer.from('abc'))).toString('hex'));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'a9993e364706816aba3e25717850c26c9cd0d89d');
});

test('hashReusable hands the buffer back for reuse and hashes only the given length', async () => {
  const pool = new HashPool(1);
  try {
    let buf: Buffer = Buffer.allocUnsafeSlow(3000);
    for (let round = 0; round < 3; round++) {
      randomBytes(2500).copy(buf);
      const expect = [sha1(buf.subarray(0, 1000)), sha1(buf.subarray(1000, 2000)), sha1(buf.subarray(2000, 2500))];
      const { digests, data } = await pool.hashReusable(buf, 2500, 1000);
      assert.deepEqual([digests.subarray(0, 20), digests.subarray(20, 40), digests.subarray(40, 60)], expect);
      assert.equal(data.length, 3000);
      buf = data;
    }
    assert.throws(() => pool.hashReusable(Buffer.from('shared pool slab'), 4, 4), RangeError);
  } finally {
    await pool.close();
  }
});
