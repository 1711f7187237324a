import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FrameParser,
  PIECE_READY,
  WireError,
  encodeMessage,
  encodePieceHeader,
  encodeRequest,
  makeGeometry,
  type WireMessage,
} from '../../../src/peer/wire/index.js';

// 10 pieces of 32 KiB, the last one 5000 bytes: 9 * 32768 + 5000.
const geometry = makeGeometry(10, 32768, 9 * 32768 + 5000);

function parseAll(p: FrameParser): WireMessage[] {
  const out: WireMessage[] = [];
  for (let m = p.next(); m; m = p.next()) out.push(m);
  return out;
}

function frame(id: number, payload: number[] | Buffer): Buffer {
  const body = Buffer.from(payload);
  const b = Buffer.alloc(5 + body.length);
  b.writeUInt32BE(1 + body.length, 0);
  b[4] = id;
  body.copy(b, 5);
  return b;
}

function rejectsWith(code: string, bytes: Buffer, g = geometry): void {
  const p = new FrameParser({ geometry: g });
  p.push(bytes);
  assert.throws(() => parseAll(p), (e: unknown) => e instanceof WireError && e.code === code, `expected ${code}`);
  // The parser stays failed.
  assert.throws(() => p.next(), (e: unknown) => e instanceof WireError && e.code === code);
}

test('spec vectors: the bytes of each BEP 3 message', () => {
  assert.deepEqual([...encodeMessage({ type: 'keep-alive' })], [0, 0, 0, 0]);
  assert.deepEqual([...encodeMessage({ type: 'choke' })], [0, 0, 0, 1, 0]);
  assert.deepEqual([...encodeMessage({ type: 'unchoke' })], [0, 0, 0, 1, 1]);
  assert.deepEqual([...encodeMessage({ type: 'interested' })], [0, 0, 0, 1, 2]);
  assert.deepEqual([...encodeMessage({ type: 'not-interested' })], [0, 0, 0, 1, 3]);
  assert.deepEqual([...encodeMessage({ type: 'have', index: 0x01020304 })], [0, 0, 0, 5, 4, 1, 2, 3, 4]);
  assert.deepEqual([...encodeMessage({ type: 'bitfield', bytes: Buffer.from([0xff, 0xc0]) })], [0, 0, 0, 3, 5, 0xff, 0xc0]);
  assert.deepEqual([...encodeRequest(1, 16384, 16384)], [0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0]);
  assert.deepEqual([...encodePieceHeader(2, 0, 3)], [0, 0, 0, 12, 7, 0, 0, 0, 2, 0, 0, 0, 0]);
  assert.deepEqual([...encodeMessage({ type: 'cancel', index: 1, begin: 2, length: 3 })], [0, 0, 0, 13, 8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
  assert.deepEqual([...encodeMessage({ type: 'port', port: 6881 })], [0, 0, 0, 3, 9, 0x1a, 0xe1]);
  // BEP 6
  assert.deepEqual([...encodeMessage({ type: 'suggest', index: 7 })], [0, 0, 0, 5, 0x0d, 0, 0, 0, 7]);
  assert.deepEqual([...encodeMessage({ type: 'have-all' })], [0, 0, 0, 1, 0x0e]);
  assert.deepEqual([...encodeMessage({ type: 'have-none' })], [0, 0, 0, 1, 0x0f]);
  assert.deepEqual([...encodeMessage({ type: 'reject', index: 1, begin: 2, length: 3 })], [0, 0, 0, 13, 0x10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
  assert.deepEqual([...encodeMessage({ type: 'allowed-fast', index: 9 })], [0, 0, 0, 5, 0x11, 0, 0, 0, 9]);
  // BEP 10
  assert.deepEqual([...encodeMessage({ type: 'extended', id: 3, payload: Buffer.from('de') })], [0, 0, 0, 4, 20, 3, 0x64, 0x65]);
});

const samples: WireMessage[] = [
  { type: 'keep-alive' },
  { type: 'choke' },
  { type: 'unchoke' },
  { type: 'interested' },
  { type: 'not-interested' },
  { type: 'have', index: 9 },
  { type: 'bitfield', bytes: Buffer.from([0xff, 0xc0]) },
  { type: 'request', index: 9, begin: 4096, length: 904 },
  { type: 'piece', index: 3, begin: 16384, block: Buffer.alloc(16384, 7) },
  { type: 'cancel', index: 0, begin: 0, length: 16384 },
  { type: 'port', port: 51413 },
  { type: 'have-all' },
  { type: 'have-none' },
  { type: 'suggest', index: 1 },
  { type: 'reject', index: 8, begin: 16384, length: 16384 },
  { type: 'allowed-fast', index: 2 },
  { type: 'extended', id: 0, payload: Buffer.from('d1:md11:ut_metadatai1eee') },
];

test('parses every message type back from its encoding, in one chunk', () => {
  const p = new FrameParser({ geometry });
  p.push(Buffer.concat(samples.map(encodeMessage)));
  assert.deepEqual(parseAll(p), samples);
  assert.equal(p.bufferedBytes, 0);
});

test('parses the same stream fed one byte at a time', () => {
  const p = new FrameParser({ geometry });
  const all = Buffer.concat(samples.map(encodeMessage));
  const out: WireMessage[] = [];
  for (let i = 0; i < all.length; i++) {
    p.push(all.subarray(i, i + 1));
    out.push(...parseAll(p));
  }
  assert.deepEqual(out, samples);
});

test('returns a block inside one chunk as a view, without copying', () => {
  const p = new FrameParser();
  const chunk = Buffer.concat([encodePieceHeader(0, 0, 100), Buffer.alloc(100, 1)]);
  p.push(chunk);
  const m = p.next();
  assert.ok(m && m.type === 'piece');
  assert.equal(m.block.buffer, chunk.buffer);
  assert.equal(m.block.byteOffset, chunk.byteOffset + 13);
});

test('nextOrPiece leaves a piece in its fields (whole in a chunk, split across chunks, the header split) and returns other messages as next() does', () => {
  const p = new FrameParser({ geometry });
  const block = (seed: number, n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));
  const b1 = block(1, 16384);
  const b2 = block(2, 16384);
  const b3 = block(3, 5000);
  const all = Buffer.concat([encodePieceHeader(1, 0, b1.length), b1, encodeMessage({ type: 'have', index: 4 }), encodePieceHeader(2, 16384, b2.length), b2, encodePieceHeader(9, 0, b3.length), b3]);
  // Cut inside the second block, then inside the third piece's header.
  const cut1 = 13 + 16384 + 9 + 13 + 100;
  const cut2 = 13 + 16384 + 9 + 13 + 16384 + 6;
  const got: unknown[] = [];
  for (const [from, to] of [
    [0, cut1],
    [cut1, cut2],
    [cut2, all.length],
  ] as const) {
    p.push(all.subarray(from, to));
    for (let m = p.nextOrPiece(); m !== null; m = p.nextOrPiece()) {
      got.push(m === PIECE_READY ? [p.pieceIndex, p.pieceBegin, Buffer.concat([p.pieceBlock, p.pieceTail]).toString('hex')] : m);
    }
  }
  assert.deepEqual(got, [[1, 0, b1.toString('hex')], { type: 'have', index: 4 }, [2, 16384, b2.toString('hex')], [9, 0, b3.toString('hex')]]);
});

test('nextOrPiece: a block split between two chunks comes as two views (head, tail), one in three chunks gathered; next() gives it whole', () => {
  const block = Buffer.from(Array.from({ length: 16384 }, (_, i) => (i * 13 + 5) & 0xff));
  const msg = Buffer.concat([encodePieceHeader(3, 16384, block.length), block]);
  for (const cut of [13, 14, 100, 13 + 8192, msg.length - 1]) {
    const c1 = Buffer.from(msg.subarray(0, cut));
    const c2 = Buffer.concat([msg.subarray(cut), encodeMessage({ type: 'have', index: 4 })]);
    const p = new FrameParser({ geometry });
    p.push(c1);
    assert.equal(p.nextOrPiece(), null);
    p.push(c2);
    assert.equal(p.nextOrPiece(), PIECE_READY);
    assert.deepEqual([p.pieceIndex, p.pieceBegin], [3, 16384]);
    assert.ok(Buffer.concat([p.pieceBlock, p.pieceTail]).equals(block), `cut ${cut}`);
    if (cut > 13) {
      assert.equal(p.pieceBlock.buffer, c1.buffer, 'the head is a view of the first chunk');
      assert.equal(p.pieceBlock.length, cut - 13);
    }
    assert.equal((cut > 13 ? p.pieceTail : p.pieceBlock).buffer, c2.buffer, 'the tail is a view of the second chunk');
    assert.deepEqual(p.nextOrPiece(), { type: 'have', index: 4 });
    assert.equal(p.pieceTail.length, cut > 13 ? msg.length - cut : 0, 'fields untouched by other messages');
    // next(): the block whole.
    const q = new FrameParser({ geometry });
    q.push(c1);
    q.push(c2);
    const m = q.next();
    assert.ok(m && m.type === 'piece' && m.block.equals(block), `next, cut ${cut}`);
  }
  // Three chunks (and a header split): gathered, no tail.
  const p = new FrameParser({ geometry });
  for (const [from, to] of [[0, 5], [5, 5000], [5000, msg.length]] as const) p.push(msg.subarray(from, to));
  assert.equal(p.nextOrPiece(), PIECE_READY);
  assert.ok(p.pieceBlock.equals(block));
  assert.equal(p.pieceTail.length, 0);
});

test('refuses a piece outside the torrent split between two chunks, as in one', () => {
  for (const bad of [encodeMessage({ type: 'piece', index: 10, begin: 0, block: Buffer.alloc(16384) }), encodeMessage({ type: 'piece', index: 9, begin: 4096, block: Buffer.alloc(905) })]) {
    for (const cut of [13, 20, bad.length - 1]) {
      const p = new FrameParser({ geometry });
      p.push(bad.subarray(0, cut));
      assert.equal(p.nextOrPiece(), null);
      p.push(bad.subarray(cut));
      assert.throws(() => p.nextOrPiece(), (e: unknown) => e instanceof WireError && e.code === 'WIRE_BAD_PIECE');
      assert.throws(() => p.nextOrPiece(), (e: unknown) => e instanceof WireError && e.code === 'WIRE_BAD_PIECE', 'stays failed');
    }
  }
});

test('refuses a message longer than any legitimate one as soon as its length arrives', () => {
  const p = new FrameParser();
  p.push(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
  assert.throws(() => p.next(), (e: unknown) => e instanceof WireError && e.code === 'WIRE_MESSAGE_TOO_LONG');
});

test('refuses a piece message with a block over 16 KiB from its header alone', () => {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(9 + 16385, 0);
  h[4] = 7;
  rejectsWith('WIRE_MESSAGE_TOO_LONG', h);
});

test('refuses fixed-size messages of the wrong size', () => {
  rejectsWith('WIRE_BAD_LENGTH', frame(0, [0]));
  rejectsWith('WIRE_BAD_LENGTH', frame(4, [0, 0, 0]));
  rejectsWith('WIRE_BAD_LENGTH', frame(6, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  rejectsWith('WIRE_BAD_LENGTH', frame(9, [1]));
  rejectsWith('WIRE_BAD_LENGTH', frame(7, [0, 0, 0, 0, 0, 0, 0, 0]));
  rejectsWith('WIRE_BAD_LENGTH', frame(20, []));
});

test('refuses a bitfield of the wrong size', () => {
  rejectsWith('WIRE_BAD_BITFIELD', frame(5, [0xff]));
  rejectsWith('WIRE_BAD_BITFIELD', frame(5, [0xff, 0xc0, 0]));
});

test('refuses a bitfield with spare bits set', () => {
  rejectsWith('WIRE_BAD_BITFIELD', frame(5, [0xff, 0xe0]));
  const p = new FrameParser({ geometry });
  p.push(frame(5, [0xff, 0xc0]));
  assert.equal(p.next()?.type, 'bitfield');
});

test('refuses a have, suggest or allowed-fast past the last piece', () => {
  rejectsWith('WIRE_BAD_INDEX', encodeMessage({ type: 'have', index: 10 }));
  rejectsWith('WIRE_BAD_INDEX', encodeMessage({ type: 'suggest', index: 10 }));
  rejectsWith('WIRE_BAD_INDEX', encodeMessage({ type: 'allowed-fast', index: 0xffffffff }));
});

test('refuses requests outside the torrent or longer than 16 KiB', () => {
  rejectsWith('WIRE_BAD_REQUEST', encodeRequest(10, 0, 16384));
  rejectsWith('WIRE_BAD_REQUEST', encodeRequest(0, 0, 16385));
  rejectsWith('WIRE_BAD_REQUEST', encodeRequest(0, 32768 - 100, 101));
  rejectsWith('WIRE_BAD_REQUEST', encodeRequest(9, 4096, 905)); // last piece is 5000 bytes
  rejectsWith('WIRE_BAD_REQUEST', encodeRequest(0, 0, 0));
  rejectsWith('WIRE_BAD_REQUEST', encodeMessage({ type: 'cancel', index: 0, begin: 0xffffffff, length: 16384 }));
  rejectsWith('WIRE_BAD_REQUEST', encodeMessage({ type: 'reject', index: 11, begin: 0, length: 1 }));
});

test('refuses a piece message outside the torrent', () => {
  rejectsWith('WIRE_BAD_PIECE', encodeMessage({ type: 'piece', index: 10, begin: 0, block: Buffer.alloc(1) }));
  rejectsWith('WIRE_BAD_PIECE', encodeMessage({ type: 'piece', index: 9, begin: 4096, block: Buffer.alloc(905) }));
});

test('without geometry, accepts any index and bounds the bitfield at 1 MiB', () => {
  const p = new FrameParser();
  p.push(encodeMessage({ type: 'have', index: 123456789 }));
  assert.deepEqual(p.next(), { type: 'have', index: 123456789 });
  const h = Buffer.alloc(5);
  h.writeUInt32BE(1024 * 1024 + 2, 0);
  h[4] = 5;
  rejectsWith('WIRE_MESSAGE_TOO_LONG', h, undefined);
});

test('skips small messages with unknown ids and refuses big ones', () => {
  const p = new FrameParser({ geometry });
  p.push(Buffer.concat([frame(99, [1, 2, 3]), encodeMessage({ type: 'unchoke' })]));
  assert.deepEqual(parseAll(p), [{ type: 'unchoke' }]);
  assert.equal(p.unknownMessages, 1);
  const h = Buffer.alloc(5);
  h.writeUInt32BE(100_000, 0);
  h[4] = 99;
  rejectsWith('WIRE_MESSAGE_TOO_LONG', h);
});

test('geometry set later applies to later messages', () => {
  const p = new FrameParser();
  p.setGeometry(geometry);
  p.push(encodeMessage({ type: 'have', index: 10 }));
  assert.throws(() => p.next(), WireError);
});

test('buffers no more than one message plus what was pushed', () => {
  const p = new FrameParser({ geometry });
  const piece = encodeMessage({ type: 'piece', index: 0, begin: 0, block: Buffer.alloc(16384) });
  p.push(piece.subarray(0, 10000));
  assert.equal(p.next(), null);
  assert.equal(p.bufferedBytes, 10000);
  p.push(piece.subarray(10000));
  assert.equal(p.next()?.type, 'piece');
  assert.equal(p.bufferedBytes, 0);
});

test('encoders refuse values the wire cannot carry', () => {
  assert.throws(() => encodeRequest(-1, 0, 1), WireError);
  assert.throws(() => encodeRequest(2 ** 32, 0, 1), WireError);
  assert.throws(() => encodePieceHeader(0, 0, 16385), WireError);
  assert.throws(() => encodeMessage({ type: 'port', port: 70000 }), WireError);
  assert.throws(() => encodeMessage({ type: 'extended', id: 256, payload: Buffer.alloc(0) }), WireError);
});
