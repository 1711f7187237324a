import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bitfield } from '../../../src/util/index.js';
import { judgeRequest, UploadQueue, type ServeContext } from '../../../src/peer/upload/index.js';

const have = new Bitfield(4);
have.set(0);
have.set(3);
const ctx: ServeContext = { have, pieceCount: 4, pieceLength: 32768, totalLength: 3 * 32768 + 100, choking: false, queued: 0 };

test('serves verified pieces, rejects missing ones and choked peers', () => {
  assert.equal(judgeRequest(0, 0, 16384, ctx).action, 'serve');
  assert.equal(judgeRequest(1, 0, 16384, ctx).action, 'reject');
  assert.equal(judgeRequest(0, 0, 16384, { ...ctx, choking: true }).action, 'reject');
  assert.equal(judgeRequest(0, 0, 16384, { ...ctx, choking: true, allowedFast: new Set([0]) }).action, 'serve');
  assert.equal(judgeRequest(0, 0, 16384, { ...ctx, queued: 5, maxQueue: 5 }).action, 'reject');
});

test('malformed requests are violations', () => {
  assert.equal(judgeRequest(4, 0, 16384, ctx).action, 'violation');
  assert.equal(judgeRequest(0, 0, 16385, ctx).action, 'violation');
  assert.equal(judgeRequest(0, 32768 - 100, 200, ctx).action, 'violation');
  assert.equal(judgeRequest(3, 0, 101, ctx).action, 'violation', 'past the short last piece');
  assert.equal(judgeRequest(3, 0, 100, ctx).action, 'serve');
  assert.equal(judgeRequest(0, -1, 10, ctx).action, 'violation');
});

test('the upload queue honours cancel and empties on choke except allowed-fast', () => {
  const q = new UploadQueue();
  q.push({ piece: 0, begin: 0, length: 16384 });
  assert.equal(q.push({ piece: 0, begin: 0, length: 16384 }), false);
  q.push({ piece: 0, begin: 16384, length: 16384 });
  q.push({ piece: 3, begin: 0, length: 100 });
  assert.equal(q.cancel(0, 16384, 16384), true);
  assert.equal(q.cancel(0, 16384, 16384), false);
  const dropped = q.chokeDrop(new Set([3]));
  assert.deepEqual(dropped, [{ piece: 0, begin: 0, length: 16384 }]);
  assert.deepEqual(q.shift(), { piece: 3, begin: 0, length: 100 });
  assert.equal(q.shift(), undefined);
});

test('the upload queue counts waiting requests per piece through push, shift, cancel, choke and clear', () => {
  const q = new UploadQueue();
  q.push({ piece: 2, begin: 0, length: 16384 });
  q.push({ piece: 2, begin: 16384, length: 16384 });
  q.push({ piece: 2, begin: 16384, length: 16384 }); // repeated: counted once
  q.push({ piece: 5, begin: 0, length: 16384 });
  assert.equal(q.waiting(2), 2);
  assert.equal(q.waiting(5), 1);
  assert.equal(q.waiting(7), 0);
  q.shift();
  assert.equal(q.waiting(2), 1);
  q.cancel(2, 16384, 16384);
  assert.equal(q.waiting(2), 0);
  q.cancel(2, 16384, 16384);
  assert.equal(q.waiting(2), 0, 'a cancel of nothing changes nothing');
  q.chokeDrop(new Set());
  assert.equal(q.waiting(5), 0);
  q.push({ piece: 5, begin: 0, length: 16384 });
  q.clear();
  assert.equal(q.waiting(5), 0);
});
