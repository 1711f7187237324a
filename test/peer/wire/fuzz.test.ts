// Property tests: any bytes given to the parsers yield messages or a WireError, never
// another exception, and every message survives encode -> parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FrameParser,
  WireError,
  decodeExtensionHandshake,
  decodeMetadataMessage,
  encodeMessage,
  makeGeometry,
  parseHandshake,
  type WireMessage,
} from '../../../src/peer/wire/index.js';

const geometry = makeGeometry(37, 65536, 36 * 65536 + 12345);
const index = fc.integer({ min: 0, max: 36 });

const blockArb = index.chain((i) => {
  const size = i === 36 ? 12345 : 65536;
  return fc
    .integer({ min: 0, max: size - 1 })
    .chain((begin) => fc.integer({ min: 1, max: Math.min(16384, size - begin) }).map((length) => ({ index: i, begin, length })));
});

const messageArb: fc.Arbitrary<WireMessage> = fc.oneof(
  fc.constantFrom<WireMessage>(
    { type: 'keep-alive' },
    { type: 'choke' },
    { type: 'unchoke' },
    { type: 'interested' },
    { type: 'not-interested' },
    { type: 'have-all' },
    { type: 'have-none' },
  ),
  index.map((i): WireMessage => ({ type: 'have', index: i })),
  index.map((i): WireMessage => ({ type: 'suggest', index: i })),
  index.map((i): WireMessage => ({ type: 'allowed-fast', index: i })),
  fc.uint8Array({ minLength: 5, maxLength: 5 }).map((b): WireMessage => {
    b[4]! &= 0xf8; // 37 pieces: 3 spare bits
    return { type: 'bitfield', bytes: Buffer.from(b) };
  }),
  blockArb.map((b): WireMessage => ({ type: 'request', ...b })),
  blockArb.map((b): WireMessage => ({ type: 'cancel', ...b })),
  blockArb.map((b): WireMessage => ({ type: 'reject', ...b })),
  blockArb.map((b): WireMessage => ({ type: 'piece', index: b.index, begin: b.begin, block: Buffer.alloc(b.length, b.begin & 0xff) })),
  fc.integer({ min: 0, max: 65535 }).map((port): WireMessage => ({ type: 'port', port })),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 300 })).map(([id, p]): WireMessage => ({ type: 'extended', id, payload: Buffer.from(p) })),
);

/** Cuts `buf` at the given points (a socket may deliver any split). */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(buf.subarray(last, p));
    last = p;
  }
  out.push(buf.subarray(last));
  return out;
}

test('every message survives encode -> parse, however the stream is split', () => {
  fc.assert(
    fc.property(fc.array(messageArb, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 20 }), (msgs, cuts) => {
      const p = new FrameParser({ geometry });
      const out: WireMessage[] = [];
      for (const chunk of split(Buffer.concat(msgs.map(encodeMessage)), cuts)) {
        p.push(chunk);
        for (let m = p.next(); m; m = p.next()) out.push(m);
      }
      assert.deepEqual(out, msgs);
      assert.equal(p.bufferedBytes, 0);
    }),
    { numRuns: 400 },
  );
});

function feedOnlyWireErrors(p: FrameParser, chunks: Buffer[]): void {
  try {
    for (const c of chunks) {
      p.push(c);
      for (let m = p.next(); m; m = p.next()) {
        assert.ok(typeof m.type === 'string');
      }
    }
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
  }
  // Never more buffered than the largest message allows plus the chunk.
  assert.ok(p.bufferedBytes <= 1024 * 1024 + 1024 * 64);
}

test('random bytes yield messages or a WireError, nothing else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(), { maxLength: 10 }), fc.boolean(), (bytes, cuts, withGeometry) => {
      feedOnlyWireErrors(new FrameParser(withGeometry ? { geometry } : {}), split(Buffer.from(bytes), cuts));
    }),
    { numRuns: 1000 },
  );
});

test('mutated valid streams yield messages or a WireError, nothing else', () => {
  fc.assert(
    fc.property(
      fc.array(messageArb, { minLength: 1, maxLength: 20 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (msgs, flips, cuts) => {
        const buf = Buffer.concat(msgs.map(encodeMessage));
        for (const [at, v] of flips) buf[at % buf.length] = v;
        feedOnlyWireErrors(new FrameParser({ geometry }), split(buf, cuts));
      },
    ),
    { numRuns: 1000 },
  );
});

test('random and mutated payloads to the handshake and extension decoders throw only WireError', () => {
  const onlyWire = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
    }
  };
  const seeds = ['d1:md11:ut_metadatai1e6:ut_pexi2ee13:metadata_sizei40000e1:pi6881e4:reqqi500e1:v3:stae', 'd8:msg_typei1e5:piecei0e10:total_sizei3eexyz'];
  fc.assert(
    fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.uint8Array({ maxLength: 200 }), (seed, flips, rnd) => {
      const b = Buffer.from(seed, 'latin1');
      for (const [at, v] of flips) b[at % b.length] = v;
      for (const input of [b, Buffer.from(rnd)]) {
        onlyWire(() => decodeExtensionHandshake(input));
        onlyWire(() => decodeMetadataMessage(input));
        onlyWire(() => parseHandshake(input));
      }
    }),
    { numRuns: 1000 },
  );
});
