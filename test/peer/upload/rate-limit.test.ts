import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UploadRateLimit } from '../../../src/peer/upload/index.js';

test('the upload limit lets through its rate over time, in 16 KiB blocks, with a bounded burst', () => {
  const rate = 100_000;
  const l = new UploadRateLimit(rate, 0);
  let sent = 0;
  // Simulate 10 s in 1 ms steps: send a block whenever allowed.
  for (let now = 0; now <= 10_000; now++) {
    while (l.ready(now)) {
      l.take(16384, now);
      sent += 16384;
    }
  }
  // 10 s at 100 kB/s plus at most the burst and one block of debt.
  assert.ok(sent >= 10 * rate && sent <= 10 * rate + l.burst + 16384, `sent ${sent}`);
});

test('waitMs says when the next block may go; idle time refills at most the burst', () => {
  const l = new UploadRateLimit(16384, 0, 16384);
  assert.equal(l.waitMs(0), 0);
  l.take(16384 * 2, 0);
  assert.ok(!l.ready(0));
  const w = l.waitMs(0);
  assert.ok(w > 1000 && w <= 1001, `wait ${w}`);
  assert.ok(l.ready(w));
  // A long idle spell: only one burst's worth goes out at once.
  l.take(1, w);
  let n = 0;
  while (l.ready(1_000_000)) {
    l.take(4096, 1_000_000);
    n++;
  }
  assert.equal(n, 4);
  assert.throws(() => new UploadRateLimit(0, 0), RangeError);
});
