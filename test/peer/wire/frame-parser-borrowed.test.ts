import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameParser, PIECE_READY, encodeMessage, makeGeometry, type WireMessage } from '../../../src/peer/wire/index.js';

// pushBorrowed: the caller reuses the chunk's memory after release(), as a socket's shared
// read buffer does. Nothing the parser keeps or returns (except piece blocks, read before
// release) may see the overwritten bytes.
const geometry = makeGeometry(10, 32768, 9 * 32768 + 5000);

test('borrowed chunks: partial messages survive the reuse of the buffer', () => {
  const block = Buffer.alloc(16384, 7);
  const msgs: WireMessage[] = [
    { type: 'piece', index: 1, begin: 0, block },
    { type: 'extended', id: 3, payload: Buffer.from('hello') },
    { type: 'piece', index: 2, begin: 16384, block: Buffer.alloc(16384, 9) },
    { type: 'have', index: 4 },
  ];
  const stream = Buffer.concat(msgs.map(encodeMessage));
  // Every split size, including ones cutting headers and blocks.
  for (const size of [1, 3, 5, 4096, 16387, 20000, stream.length]) {
    const p = new FrameParser({ geometry });
    const shared = Buffer.alloc(size);
    const got: string[] = [];
    const kept: Buffer[] = [];
    for (let off = 0; off < stream.length; off += size) {
      const n = stream.copy(shared, 0, off, off + size);
      p.pushBorrowed(shared.subarray(0, n));
      for (let m = p.next(); m; m = p.next()) {
        if (m.type === 'piece') got.push(`piece ${m.index} ${m.begin} ${m.block.length} ${m.block[0]} ${m.block[m.block.length - 1]}`);
        else if (m.type === 'extended') {
          kept.push(m.payload);
          got.push(`extended ${m.id}`);
        } else got.push(m.type);
      }
      p.release();
      shared.fill(0xee);
    }
    assert.deepEqual(got, ['piece 1 0 16384 7 7', 'extended 3', 'piece 2 16384 16384 9 9', 'have'], `split ${size}`);
    assert.equal(kept[0]!.toString(), 'hello', `split ${size}`);
    assert.equal(p.bufferedBytes, 0);
  }
});

test('borrowed chunks: messages left unread at release are kept', () => {
  const p = new FrameParser({ geometry });
  const shared = Buffer.concat([encodeMessage({ type: 'have', index: 1 }), encodeMessage({ type: 'have', index: 2 })]);
  p.pushBorrowed(shared);
  assert.deepEqual(p.next(), { type: 'have', index: 1 });
  p.release(); // reading paused with one message still in the chunk
  shared.fill(0);
  assert.deepEqual(p.next(), { type: 'have', index: 2 });
  assert.equal(p.next(), null);
});

test('borrowed chunks: many reads, reading paused every other one: payloads stay intact, blocks exact', () => {
  // Many reads, each leaving a partial message or whole messages for release() to copy:
  // payloads returned from what release() kept must stay intact after many later reads
  // (a reused copy buffer would show through); blocks must be exact when returned.
  const msgs: WireMessage[] = [];
  for (let i = 0; i < 40; i++) {
    msgs.push({ type: 'piece', index: i % 9, begin: 16384 * (i % 2), block: Buffer.alloc(16384, i + 1) });
    msgs.push({ type: 'extended', id: 3, payload: Buffer.from(`payload ${i}`) });
  }
  const stream = Buffer.concat(msgs.map(encodeMessage));
  for (const size of [7, 1000, 16390, 20000, 40000, 70000]) {
    const p = new FrameParser({ geometry });
    const shared = Buffer.alloc(size);
    const kept: Buffer[] = [];
    let pieces = 0;
    const take = (m: WireMessage): void => {
      if (m.type === 'piece') {
        assert.ok(m.block.equals(Buffer.alloc(16384, pieces + 1)), `split ${size}: block ${pieces}`);
        pieces++;
      } else if (m.type === 'extended') kept.push(m.payload);
    };
    let reads = 0;
    for (let off = 0; off < stream.length; off += size) {
      const n = stream.copy(shared, 0, off, off + size);
      p.pushBorrowed(shared.subarray(0, n));
      // Every other read stops after one message (reading paused): whole messages are left
      // for release() to copy, and come back later as views of a spare.
      for (let m = p.next(); m; m = reads % 2 === 0 ? null : p.next()) take(m);
      reads++;
      p.release();
      shared.fill(0xee);
    }
    for (let m = p.next(); m; m = p.next()) take(m);
    assert.equal(pieces, 40, `split ${size}`);
    assert.deepEqual(kept.map((b) => b.toString()), Array.from({ length: 40 }, (_, i) => `payload ${i}`), `split ${size}`);
    assert.equal(p.bufferedBytes, 0);
  }
});

test('borrowed chunks, nextOrPiece: blocks split between reads come as head and tail, exact; what release() kept is reused without harm', () => {
  const msgs: WireMessage[] = [];
  for (let i = 0; i < 30; i++) {
    msgs.push({ type: 'piece', index: i % 9, begin: 16384 * (i % 2), block: Buffer.alloc(16384, i + 1) });
    if (i % 3 === 0) msgs.push({ type: 'extended', id: 3, payload: Buffer.from(`payload ${i}`) });
  }
  const stream = Buffer.concat(msgs.map(encodeMessage));
  for (const size of [20, 9000, 16390, 20000, 50000]) {
    const p = new FrameParser({ geometry });
    const shared = Buffer.alloc(size);
    const kept: string[] = [];
    const payloads: Buffer[] = [];
    let pieces = 0;
    let split = 0;
    for (let off = 0; off < stream.length; off += size) {
      const n = stream.copy(shared, 0, off, off + size);
      p.pushBorrowed(shared.subarray(0, n));
      for (let m = p.nextOrPiece(); m !== null; m = p.nextOrPiece()) {
        if (m === PIECE_READY) {
          if (p.pieceTail.length > 0) split++;
          assert.ok(Buffer.concat([p.pieceBlock, p.pieceTail]).equals(Buffer.alloc(16384, pieces + 1)), `split ${size}: block ${pieces}`);
          pieces++;
        } else if (m.type === 'extended') {
          payloads.push(m.payload);
          kept.push(m.payload.toString());
        }
      }
      p.release();
      shared.fill(0xee);
    }
    assert.equal(pieces, 30, `split ${size}`);
    assert.ok(size < 16384 + 13 || split > 0, `split ${size}: some blocks came in two parts`);
    assert.deepEqual(payloads.map((b) => b.toString()), kept, `split ${size}: payloads intact later`);
    assert.equal(kept.length, 10);
  }
});
