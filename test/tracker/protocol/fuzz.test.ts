// Property tests: the HTTP query parser and the UDP decoders, fed arbitrary input, either
// answer or throw TrackerProtocolError (never anything else, never hang); valid requests
// round-trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  buildAnnounceQuery,
  decodeAnnounceReply,
  decodeUdpReply,
  decodeUdpRequest,
  encodeUdpAnnounceRequest,
  parseAnnounceQuery,
  parseScrapeQuery,
  percentEncodeBytes,
  TrackerProtocolError,
  type AnnounceEvent,
  type AnnounceRequest,
} from '../../../src/tracker/protocol/index.js';

function onlyTyped(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof TrackerProtocolError)) throw e;
  }
}

const bytes20 = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b));
const request = fc.record({
  infoHash: bytes20,
  peerId: bytes20,
  port: fc.integer({ min: 1, max: 65535 }),
  uploaded: fc.maxSafeNat(),
  downloaded: fc.maxSafeNat(),
  left: fc.maxSafeNat(),
  event: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<AnnounceEvent>,
  numwant: fc.integer({ min: -1, max: 1000 }),
  compact: fc.boolean(),
  noPeerId: fc.boolean(),
});

// Query-ish text: the characters and keys that matter, in random order.
const queryText = fc
  .array(
    fc.oneof(
      fc.constantFrom('info_hash=', 'peer_id=', 'port=', 'left=', 'event=', 'numwant=', 'compact=', 'ip=', 'key=', '&', '=', '%', '%4', '%41', '%zz', '+', '-1', '0', '65535', 'started'),
      fc.string({ maxLength: 8 }),
      fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => percentEncodeBytes(b)),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

test('parseAnnounceQuery: arbitrary text gives a request or a TrackerProtocolError', () => {
  fc.assert(
    fc.property(fc.oneof(queryText, fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 100 })), (s) => {
      onlyTyped(() => {
        const a = parseAnnounceQuery(s);
        assert.equal(a.infoHash.length, 20);
        assert.equal(a.peerId.length, 20);
        assert.ok(a.port >= 1 && a.port <= 65535);
      });
      onlyTyped(() => {
        for (const h of parseScrapeQuery(s)) assert.equal(h.length, 20);
      });
    }),
    { numRuns: 3000 },
  );
});

test('buildAnnounceQuery -> parseAnnounceQuery is the identity on valid requests', () => {
  fc.assert(
    fc.property(request, (r: AnnounceRequest) => {
      assert.deepEqual(parseAnnounceQuery(buildAnnounceQuery(r)), { ...r });
    }),
    { numRuns: 1000 },
  );
});

test('decodeUdpRequest: arbitrary packets give a request or a TrackerProtocolError', () => {
  const cid = Buffer.alloc(8, 1);
  const valid = encodeUdpAnnounceRequest(cid, 1, { infoHash: Buffer.alloc(20), peerId: Buffer.alloc(20), port: 1, uploaded: 0, downloaded: 0, left: 0, event: 0, numwant: -1, compact: true, noPeerId: false });
  const mutated = fc
    .tuple(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(valid.length + 40))
    .map(([edits, len]) => {
      const b = Buffer.concat([valid, Buffer.alloc(40)]).subarray(0, len);
      for (const [i, v] of edits) if (i < b.length) b[i] = v;
      return b;
    });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }).map((u) => Buffer.from(u)), mutated), (b) => {
      onlyTyped(() => decodeUdpRequest(b));
      onlyTyped(() => decodeUdpReply(b, 6));
      onlyTyped(() => decodeUdpReply(b, 18));
    }),
    { numRuns: 3000 },
  );
});

test('UDP announce encode -> decode is the identity on valid requests', () => {
  fc.assert(
    fc.property(request, fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.nat(0xffffffff), (r, cid, tid) => {
      const d = decodeUdpRequest(encodeUdpAnnounceRequest(cid, tid, r));
      assert.ok(d.action === 1);
      assert.equal(d.transactionId, tid);
      assert.deepEqual(d.announce.infoHash, r.infoHash);
      assert.equal(d.announce.left, r.left);
      assert.equal(d.announce.downloaded, r.downloaded);
      assert.equal(d.announce.event, r.event);
      assert.equal(d.announce.numwant, r.numwant);
      assert.equal(d.announce.port, r.port);
    }),
    { numRuns: 1000 },
  );
});

test('decodeAnnounceReply: arbitrary bytes give a reply or a TrackerProtocolError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 500 }), (u) => onlyTyped(() => decodeAnnounceReply(u))),
    { numRuns: 2000 },
  );
});
