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

test('repeated shared failures ban after the threshold', () => {
  const sb = new SmartBan(3);
  for (let i = 0; i < 2; i++) sb.pieceFailed(i, [{ address: 'a', begin: 0, digest: '1' }, { address: 'b', begin: 1, digest: '2' }]);
  assert.equal(sb.isBanned('a'), false);
  const bans = sb.pieceFailed(9, [{ address: 'a', begin: 0, digest: '1' }, { address: 'b', begin: 1, digest: '2' }]);
  assert.deepEqual(bans.map((b) => b.address).sort(), ['a', 'b']);
  assert.equal(sb.failureCount('a'), 3);
});
