// Announce and scrape query strings: spec examples, every parameter, and every refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildAnnounceQuery,
  buildScrapeQuery,
  EVENT_COMPLETED,
  EVENT_NONE,
  EVENT_STARTED,
  EVENT_STOPPED,
  MAX_QUERY_LENGTH,
  MAX_SCRAPE_HASHES,
  parseAnnounceQuery,
  parseScrapeQuery,
  percentEncodeBytes,
  scrapeUrlFor,
  type AnnounceRequest,
} from '../../../src/tracker/protocol/index.js';

const IH = Buffer.from('12345678901234567890', 'latin1');
const ALL_BYTES = Buffer.from(Array.from({ length: 20 }, (_, i) => (i * 13 + 200) & 255));
const PID = Buffer.from('-TR3000-abcdefghijkl', 'latin1');

function q(extra = ''): string {
  return `info_hash=${percentEncodeBytes(IH)}&peer_id=${percentEncodeBytes(PID)}&port=6881${extra}`;
}

test('parses a minimal announce with defaults', () => {
  const a = parseAnnounceQuery(q());
  assert.deepEqual(a.infoHash, IH);
  assert.deepEqual(a.peerId, PID);
  assert.equal(a.port, 6881);
  assert.equal(a.uploaded, 0);
  assert.equal(a.downloaded, 0);
  assert.equal(a.left, 1, 'no left: a leecher');
  assert.equal(a.event, EVENT_NONE);
  assert.equal(a.numwant, -1);
  assert.equal(a.compact, true, 'compact is the default');
  assert.equal(a.noPeerId, false);
});

test('parses every parameter, in any order, with unknown ones ignored', () => {
  const s =
    `supportcrypto=1&left=0&event=completed&numwant=80&key=K%20y&trackerid=t1&ip=10.0.0.5&compact=0&no_peer_id=1` +
    `&uploaded=12345678901&downloaded=7&corrupt=0&` +
    q();
  const a = parseAnnounceQuery(s);
  assert.equal(a.left, 0);
  assert.equal(a.event, EVENT_COMPLETED);
  assert.equal(a.numwant, 80);
  assert.equal(a.key, 'K y');
  assert.equal(a.trackerId, 't1');
  assert.equal(a.ip, '10.0.0.5');
  assert.equal(a.compact, false);
  assert.equal(a.noPeerId, true);
  assert.equal(a.uploaded, 12345678901);
  assert.equal(a.downloaded, 7);
});

test('decodes hashes with any byte value, upper- or lowercase escapes, and + as space', () => {
  const enc = percentEncodeBytes(ALL_BYTES);
  assert.deepEqual(parseAnnounceQuery(`info_hash=${enc}&peer_id=${percentEncodeBytes(PID)}&port=1`).infoHash, ALL_BYTES);
  assert.deepEqual(parseAnnounceQuery(`info_hash=${enc.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}&peer_id=${percentEncodeBytes(PID)}&port=1`).infoHash, ALL_BYTES);
  const plus = parseAnnounceQuery(`info_hash=+++++++++++++++++++%41&peer_id=${percentEncodeBytes(PID)}&port=1`).infoHash;
  assert.deepEqual(plus, Buffer.from(' '.repeat(19) + 'A', 'latin1'));
});

test('events by name; empty and paused mean none', () => {
  assert.equal(parseAnnounceQuery(q('&event=started')).event, EVENT_STARTED);
  assert.equal(parseAnnounceQuery(q('&event=stopped')).event, EVENT_STOPPED);
  assert.equal(parseAnnounceQuery(q('&event=')).event, EVENT_NONE);
  assert.equal(parseAnnounceQuery(q('&event=empty')).event, EVENT_NONE);
  assert.equal(parseAnnounceQuery(q('&event=paused')).event, EVENT_NONE);
  assert.throws(() => parseAnnounceQuery(q('&event=exploded')), { code: 'BAD_EVENT' });
});

test('numwant=-1 means the default', () => {
  assert.equal(parseAnnounceQuery(q('&numwant=-1')).numwant, -1);
  assert.equal(parseAnnounceQuery(q('&numwant=0')).numwant, 0);
});

test('refuses a missing or wrong-length info_hash or peer_id', () => {
  const pid = `peer_id=${percentEncodeBytes(PID)}&port=1`;
  assert.throws(() => parseAnnounceQuery(pid), { code: 'MISSING_INFO_HASH', message: 'missing info_hash' });
  assert.throws(() => parseAnnounceQuery(`info_hash=abc&${pid}`), { code: 'BAD_HASH_LENGTH' });
  assert.throws(() => parseAnnounceQuery(`info_hash=${percentEncodeBytes(IH)}A&${pid}`), { code: 'BAD_HASH_LENGTH' });
  assert.throws(() => parseAnnounceQuery(`info_hash=${'%41'.repeat(21)}&${pid}`), { code: 'BAD_HASH_LENGTH' });
  assert.throws(() => parseAnnounceQuery(`info_hash=${percentEncodeBytes(IH)}&port=1`), { code: 'MISSING_PEER_ID' });
  assert.throws(() => parseAnnounceQuery(`info_hash=${percentEncodeBytes(IH)}&peer_id=short&port=1`), { code: 'BAD_HASH_LENGTH' });
});

test('refuses bad percent escapes and raw non-ASCII in hashes', () => {
  const rest = `&peer_id=${percentEncodeBytes(PID)}&port=1`;
  assert.throws(() => parseAnnounceQuery(`info_hash=${'A'.repeat(19)}%4${rest}`), { code: 'BAD_ESCAPE' });
  assert.throws(() => parseAnnounceQuery(`info_hash=${'A'.repeat(19)}%${rest}`), { code: 'BAD_ESCAPE' });
  assert.throws(() => parseAnnounceQuery(`info_hash=${'A'.repeat(19)}%zz${rest}`), { code: 'BAD_ESCAPE' });
  assert.throws(() => parseAnnounceQuery(`info_hash=${'A'.repeat(19)}é${rest}`), { code: 'BAD_ESCAPE' });
});

test('refuses port 0, ports past 65535, a missing port, and non-numeric numbers', () => {
  const base = `info_hash=${percentEncodeBytes(IH)}&peer_id=${percentEncodeBytes(PID)}`;
  assert.throws(() => parseAnnounceQuery(`${base}&port=0`), { code: 'BAD_PORT' });
  assert.throws(() => parseAnnounceQuery(`${base}&port=65536`), { code: 'BAD_PORT' });
  assert.throws(() => parseAnnounceQuery(`${base}&port=99999999999999999999`), { code: 'BAD_PORT' });
  assert.throws(() => parseAnnounceQuery(base), { code: 'MISSING_PORT' });
  assert.throws(() => parseAnnounceQuery(`${base}&port=12a`), { code: 'BAD_NUMBER' });
  assert.throws(() => parseAnnounceQuery(`${base}&port=`), { code: 'BAD_NUMBER' });
  assert.throws(() => parseAnnounceQuery(`${base}&port=1&left=-5`), { code: 'BAD_NUMBER' });
  assert.throws(() => parseAnnounceQuery(`${base}&port=1&uploaded=1e9`), { code: 'BAD_NUMBER' });
  assert.throws(() => parseAnnounceQuery(`${base}&port=1&downloaded=${'9'.repeat(21)}`), { code: 'BAD_NUMBER' });
  assert.equal(parseAnnounceQuery(`${base}&port=1&left=${'9'.repeat(20)}`).left, Number.MAX_SAFE_INTEGER, 'clamped, not refused');
});

test('refuses a query string past the cap before parsing it', () => {
  assert.throws(() => parseAnnounceQuery(q('&x=' + 'a'.repeat(MAX_QUERY_LENGTH))), { code: 'QUERY_TOO_LONG' });
  assert.throws(() => parseScrapeQuery('a'.repeat(1024 * 1024)), { code: 'QUERY_TOO_LONG' });
});

test('cuts over-long text tokens', () => {
  const a = parseAnnounceQuery(q('&key=' + 'k'.repeat(1000)));
  assert.equal(a.key!.length, 128);
});

test('buildAnnounceQuery round-trips through parseAnnounceQuery', () => {
  const req: AnnounceRequest = {
    infoHash: ALL_BYTES,
    peerId: PID,
    port: 51413,
    uploaded: 10,
    downloaded: 20,
    left: 30,
    event: EVENT_STOPPED,
    numwant: 12,
    compact: false,
    noPeerId: true,
    key: 'a b&c',
    trackerId: 'x=y',
    ip: '::1',
  };
  assert.deepEqual(parseAnnounceQuery(buildAnnounceQuery(req)), req);
});

test('scrape: one or many info_hash, other keys ignored, a cap on the count', () => {
  const h2 = Buffer.alloc(20, 0xff);
  assert.deepEqual(parseScrapeQuery(buildScrapeQuery([IH, h2]) + '&x=1'), [IH, h2]);
  assert.deepEqual(parseScrapeQuery(''), []);
  const many = Array.from({ length: MAX_SCRAPE_HASHES + 1 }, () => IH);
  assert.throws(() => parseScrapeQuery(buildScrapeQuery(many)), { code: 'TOO_MANY_HASHES' });
  assert.equal(parseScrapeQuery(buildScrapeQuery(many.slice(1))).length, MAX_SCRAPE_HASHES);
  assert.throws(() => parseScrapeQuery('info_hash=short'), { code: 'BAD_HASH_LENGTH' });
});

test('scrapeUrlFor follows BEP 48 conventions', () => {
  assert.equal(scrapeUrlFor('http://t.example/announce'), 'http://t.example/scrape');
  assert.equal(scrapeUrlFor('http://t.example/x/announce.php?k=1'), 'http://t.example/x/scrape.php?k=1');
  assert.equal(scrapeUrlFor('http://t.example/a'), undefined);
  assert.equal(scrapeUrlFor('http://t.example/announce/x'), undefined);
});
