// The SPSC datagram ring between UDP threads (src/tracker/server/udp-ring.ts): records come
// out whole and in order across wrap-arounds and 32-bit counter overflow, a full ring
// refuses and counts, oversized records are refused, a model check with fast-check, and a
// real second thread writing while this one drains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { createUdpRing, MAX_RING_PACKET, UdpRingReader, UdpRingWriter } from '../../../src/tracker/server/udp-ring.js';

interface Rec {
  packet: Buffer;
  src: Buffer;
  address: string;
  port: number;
}

function rec(i: number, size: number): Rec {
  const packet = Buffer.alloc(size);
  for (let k = 0; k < size; k++) packet[k] = (i + k) & 0xff;
  const v6 = i % 3 === 0;
  const src = Buffer.alloc(v6 ? 18 : 6, i & 0xff);
  return { packet, src, address: v6 ? `2001:db8::${(i % 65535).toString(16)}` : `10.0.${(i >> 8) & 0xff}.${i & 0xff}`, port: (i * 7919) % 65536 };
}

function drainAll(r: UdpRingReader): Rec[] {
  const out: Rec[] = [];
  // The views are valid only during the call: copy.
  r.drain((packet, src, address, port) => out.push({ packet: Buffer.from(packet), src: Buffer.from(src), address, port }));
  return out;
}

test('ring: records come out whole and in order', () => {
  const ring = createUdpRing(1 << 14);
  const w = new UdpRingWriter(ring.sab);
  const r = new UdpRingReader(ring.sab);
  const sent = [rec(1, 98), rec(2, 16), rec(3, 0), rec(4, 1000)];
  for (const s of sent) assert.equal(w.push(s.packet, s.src, s.address, s.port), true);
  assert.deepEqual(drainAll(r), sent);
  assert.deepEqual(drainAll(r), []);
  assert.equal(r.drained, 4);
  assert.equal(r.dropped, 0);
});

test('ring: wraps around many times with records of odd sizes', () => {
  const ring = createUdpRing(1 << 14);
  const w = new UdpRingWriter(ring.sab);
  const r = new UdpRingReader(ring.sab);
  let next = 0;
  const expected: Rec[] = [];
  const got: Rec[] = [];
  // ~40 passes over the 16 KiB ring.
  for (let round = 0; round < 400; round++) {
    for (let k = 0; k < 5; k++) {
      const x = rec(next++, (next * 37) % 700);
      if (w.push(x.packet, x.src, x.address, x.port)) expected.push(x);
    }
    got.push(...drainAll(r));
  }
  assert.equal(r.dropped, 0);
  assert.equal(got.length, 2000);
  assert.deepEqual(got, expected);
});

test('ring: byte counters that overflow 32 bits keep working', () => {
  const ring = createUdpRing(1 << 14);
  // Head and tail a few records short of 2^32 (the control words are the first two int32s).
  const ctl = new Int32Array(ring.sab, 0, 2);
  ctl[0] = (0xffffffff - 3000) | 0;
  ctl[1] = (0xffffffff - 3000) | 0;
  const w = new UdpRingWriter(ring.sab);
  const r = new UdpRingReader(ring.sab);
  const sent: Rec[] = [];
  for (let i = 0; i < 40; i++) {
    const x = rec(i, 200);
    assert.equal(w.push(x.packet, x.src, x.address, x.port), true);
    sent.push(x);
    if (i % 7 === 6) assert.deepEqual(drainAll(r), sent.splice(0));
  }
  assert.deepEqual(drainAll(r), sent);
  assert.ok((ctl[0]! >>> 0) < 0x10000, 'the head counter wrapped past 2^32');
});

test('ring: a full ring refuses and counts; draining makes room', () => {
  const ring = createUdpRing(1 << 14);
  const w = new UdpRingWriter(ring.sab);
  const r = new UdpRingReader(ring.sab);
  let accepted = 0;
  while (w.push(Buffer.alloc(1000), Buffer.alloc(6), '127.0.0.1', 1)) accepted++;
  assert.ok(accepted >= 15 && accepted <= 16, `accepted ${accepted}`);
  assert.equal(r.dropped, 1);
  assert.equal(w.push(Buffer.alloc(1000), Buffer.alloc(6), '127.0.0.1', 1), false);
  assert.equal(r.dropped, 2);
  assert.equal(drainAll(r).length, accepted);
  assert.equal(w.push(Buffer.alloc(1000), Buffer.alloc(6), '127.0.0.1', 1), true);
});

test('ring: oversized packets and addresses are refused, not truncated', () => {
  const ring = createUdpRing(1 << 14);
  const w = new UdpRingWriter(ring.sab);
  const r = new UdpRingReader(ring.sab);
  assert.equal(w.push(Buffer.alloc(MAX_RING_PACKET + 1), Buffer.alloc(6), '127.0.0.1', 1), false);
  assert.equal(w.push(Buffer.alloc(10), Buffer.alloc(6), 'x'.repeat(65), 1), false);
  assert.equal(r.dropped, 2);
  assert.deepEqual(drainAll(r), []);
  assert.throws(() => createUdpRing(1000), /power of two/);
  assert.throws(() => new UdpRingReader(new SharedArrayBuffer(64 + 1000)), /not a UDP ring/);
});

test('ring: any sequence of pushes and drains behaves like a FIFO queue (model check)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.record({ push: fc.integer({ min: 0, max: 3000 }), seed: fc.nat() }), fc.constant({ drain: true })), { maxLength: 200 }),
      (ops) => {
        const ring = createUdpRing(1 << 14);
        const w = new UdpRingWriter(ring.sab);
        const r = new UdpRingReader(ring.sab);
        const model: Rec[] = [];
        let refused = 0;
        for (const op of ops) {
          if ('drain' in op) {
            assert.deepEqual(drainAll(r), model.splice(0));
          } else {
            const x = rec(op.seed, op.push);
            if (w.push(x.packet, x.src, x.address, x.port)) model.push(x);
            else refused++;
          }
        }
        assert.deepEqual(drainAll(r), model);
        assert.equal(r.dropped, refused);
      },
    ),
    { numRuns: 200 },
  );
});

test('ring: another thread writes 20,000 records while this one drains them in order', async () => {
  const ring = createUdpRing(1 << 14);
  const href = new URL('../../../src/tracker/server/udp-ring.ts', import.meta.url).href;
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(href)}); }).then(async ({ UdpRingWriter }) => {
      const w = new UdpRingWriter(workerData);
      const b = Buffer.alloc(98);
      let i = 0;
      while (i < 20000) {
        b.writeUInt32BE(i, 0);
        if (w.push(b, Buffer.alloc(6), '127.0.0.1', i & 0xffff)) i++;
        else await new Promise((r) => setTimeout(r, 1)); // full: let the reader catch up
      }
      parentPort.postMessage('done');
    });`;
  const worker = new Worker(code, { eval: true, workerData: ring.sab });
  const r = new UdpRingReader(ring.sab);
  let next = 0;
  let bad = 0;
  const all = new Promise<void>((resolve) => {
    r.run((packet, _src, address, port) => {
      if (packet.readUInt32BE(0) !== next || port !== (next & 0xffff) || address !== '127.0.0.1') bad++;
      next++;
      if (next === 20000) resolve();
    });
  });
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`only ${next} records in 20 s`)), 20_000).unref());
  try {
    await Promise.race([all, timeout]);
  } finally {
    r.stop();
    await worker.terminate();
  }
  assert.equal(next, 20000);
  assert.equal(bad, 0);
});

test('ring: a busy reader is not woken, and idle() drains what came meanwhile', async () => {
  const ring = createUdpRing(1 << 14);
  const w = new UdpRingWriter(ring.sab);
  const r = new UdpRingReader(ring.sab);
  const got: number[] = [];
  const fn = (packet: Buffer): void => void got.push(packet[0]!);
  r.busy();
  let woke = false;
  r.run((p) => {
    woke = true;
    fn(p);
  });
  // Pushed while busy: no wake-up reaches run()'s wait.
  assert.equal(w.push(Buffer.from([1]), Buffer.alloc(6), '127.0.0.1', 1), true);
  await new Promise((res) => setTimeout(res, 50));
  assert.equal(woke, false);
  assert.equal(r.pending, true);
  // Going idle drains it at once.
  r.idle(fn);
  assert.deepEqual(got, [1]);
  assert.equal(r.pending, false);
  // Idle again: the next push wakes the waiting reader.
  assert.equal(w.push(Buffer.from([2]), Buffer.alloc(6), '127.0.0.1', 1), true);
  const t0 = Date.now();
  while (!woke && Date.now() - t0 < 2000) await new Promise((res) => setTimeout(res, 5));
  r.stop();
  assert.equal(woke, true);
  assert.deepEqual(got, [1, 2]);
});
