import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateMeter } from '../../src/peer/index.js';

test('measures bytes per second over the window', () => {
  const r = new RateMeter(10);
  assert.equal(r.rate(0), 0);
  for (let t = 0; t < 20_000; t += 100) r.add(10_000, t); // 100 kB/s for 20 s
  const rate = r.rate(20_000);
  assert.ok(rate > 90_000 && rate < 110_000, String(rate));
  assert.equal(r.total, 200 * 10_000);
});

test('forgets what is older than the window', () => {
  const r = new RateMeter(5);
  r.add(1_000_000, 0);
  assert.ok(r.rate(1000) > 0);
  assert.equal(r.rate(60_000), 0);
  r.add(500, 60_500);
  assert.ok(r.rate(61_000) < 1000);
});

test('a short history is averaged over its real span', () => {
  const r = new RateMeter(10);
  r.add(50_000, 5_000);
  r.add(50_000, 5_500);
  const rate = r.rate(6_000);
  assert.ok(rate > 90_000 && rate < 110_000, String(rate));
});
