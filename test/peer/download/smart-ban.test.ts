import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SmartBan } from '../../../src/peer/download/index.js';

test('the sole sender of a failed piece is banned with a reason', () => {
  const sb = new SmartBan();
  const bans = sb.pieceFailed(4, [
    { address: '10.0.0.1', begin: 0, digest: 'x' },
    { address: '10.0.0.1', begin: 16384, digest: 'y' },
  ]);
  assert.deepEqual(bans.map((b) => b.address), ['10.0.0.1']);
  assert.ok(sb.isBanned('10.0.0.1'));
  assert.match(sb.reasonFor('10.0.0.1')!, /piece 4/);
});

test('block comparison convicts only the liar when the piece later passes', () => {
  const sb = new SmartBan();
  assert.deepEqual(
    sb.pieceFailed(2, [
      { address: 'honest', begin: 0, digest: 'good0' },
      { address: 'liar', begin: 16384, digest: 'bad1' },
    ]),
    [],
  );
  const bans = sb.piecePassed(2, new Map([[0, 'good0'], [16384, 'good1']]));
  assert.deepEqual(bans.map((b) => b.address), ['liar']);
  assert.equal(sb.isBanned('honest'), false);
});

test('shared failures ban an address whose trust falls to the ban level', () => {
  const sb = new SmartBan();
  const both = [{ address: 'a', begin: 0, digest: '1' }, { address: 'b', begin: 1, digest: '2' }];
  for (let i = 0; i < 3; i++) assert.deepEqual(sb.pieceFailed(i, both), []);
  assert.equal(sb.trustOf('a'), -6);
  const bans = sb.pieceFailed(9, both);
  assert.deepEqual(bans.map((b) => b.address).sort(), ['a', 'b']);
  assert.equal(sb.failureCount('a'), 4);
});

test('an honest peer that also sends passing pieces survives failures shared with a liar', () => {
  const sb = new SmartBan();
  const shared = () => [{ address: 'honest', begin: 0, digest: 'g' }, { address: 'liar', begin: 16384, digest: 'x' }];
  sb.contributed(['honest', 'honest']);
  for (let p = 0; p < 4; p++) {
    sb.pieceFailed(p, shared());
    sb.contributed(['honest']);
  }
  assert.ok(sb.isBanned('liar'));
  assert.equal(sb.isBanned('honest'), false);
  assert.ok(sb.trustOf('honest') > -7);
});

test('trust earned is capped, so a long-honest peer that turns bad is still banned', () => {
  const sb = new SmartBan();
  for (let i = 0; i < 1000; i++) sb.contributed(['p']);
  assert.equal(sb.trustOf('p'), 8);
  const shared = [{ address: 'p', begin: 0, digest: '1' }, { address: 'q', begin: 1, digest: '2' }];
  for (let i = 0; i < 7; i++) sb.pieceFailed(i, shared);
  assert.equal(sb.isBanned('p'), false);
  sb.pieceFailed(8, shared);
  assert.ok(sb.isBanned('p'));
});
