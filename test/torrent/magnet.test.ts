import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeMagnet, parseMagnet, TorrentError } from '../../src/torrent/index.js';

const HEX = '5f1205bcee89e2e66e2f20a99c1afc2476d8fefc';
const code = (c: string) => (e: unknown) => e instanceof TorrentError && e.code === c;

/** RFC 4648 base32 of 20 bytes, written independently of the parser. */
function base32(b: Buffer): string {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const x of b) bits += x.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += A[parseInt(bits.slice(i, i + 5), 2)];
  return out;
}

test('parses a hex info hash, name, several trackers, peers and web seeds in order', () => {
  const m = parseMagnet(
    `magnet:?xt=urn:btih:${HEX.toUpperCase()}&dn=My+Film%20(2024)&tr=http%3A%2F%2Fa%2Fannounce&tr=udp://b:6969&x.pe=127.0.0.1:6881&x.pe=[::1]:51413&ws=http%3A%2F%2Fw%2Ff`,
  );
  assert.equal(m.infoHashHex, HEX);
  assert.deepEqual(m.infoHash, Buffer.from(HEX, 'hex'));
  assert.equal(m.name, 'My Film (2024)');
  assert.deepEqual(m.trackers, ['http://a/announce', 'udp://b:6969']);
  assert.deepEqual(m.peers, ['127.0.0.1:6881', '[::1]:51413']);
  assert.deepEqual(m.webSeeds, ['http://w/f']);
});

test('parses a base32 info hash (upper and lower case)', () => {
  const h = Buffer.from(HEX, 'hex');
  const b32 = base32(h);
  assert.equal(b32.length, 32);
  assert.deepEqual(parseMagnet(`magnet:?xt=urn:btih:${b32}`).infoHash, h);
  assert.deepEqual(parseMagnet(`magnet:?xt=urn:btih:${b32.toLowerCase()}`).infoHash, h);
});

test('a name is optional; trackers, peers and web seeds default to empty', () => {
  const m = parseMagnet(`magnet:?xt=urn:btih:${HEX}`);
  assert.equal(m.name, undefined);
  assert.deepEqual([m.trackers, m.peers, m.webSeeds], [[], [], []]);
});

test('a v2 urn:btmh link is "not supported yet"; a hybrid uses its btih', () => {
  const v2 = 'magnet:?xt=urn:btmh:1220caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e&dn=x';
  assert.throws(() => parseMagnet(v2), (e) => code('MAGNET_V2_UNSUPPORTED')(e) && /not supported yet/.test((e as Error).message));
  const hybrid = `${v2}&xt=urn:btih:${HEX}`;
  assert.equal(parseMagnet(hybrid).infoHashHex, HEX);
});

test('refuses bad magnets with MAGNET_BAD', () => {
  for (const bad of [
    '',
    'http://x/',
    'magnet:',
    'magnet:?dn=x',
    'magnet:?xt=urn:btih:1234',
    `magnet:?xt=urn:btih:${HEX}00`,
    `magnet:?xt=urn:btih:${'1'.repeat(32)}`, // '1' is not base32
    `magnet:?xt=urn:sha1:${HEX}`,
    `magnet:?xt=urn:btih:${HEX}&tr=%E0%A4%A`,
    `magnet:?xt=urn:btih:${HEX}&x.pe=nohost`,
    `magnet:?xt=urn:btih:${HEX}&x.pe=h:0`,
    `magnet:?xt=urn:btih:${HEX}&x.pe=h:70000`,
    `magnet:?xt=urn:btih:${HEX}&${'tr=x&'.repeat(2000)}`,
    `magnet:?xt=urn:btih:${HEX}&dn=${'a'.repeat(70_000)}`,
  ]) {
    assert.throws(() => parseMagnet(bad), code('MAGNET_BAD'), bad.slice(0, 60));
  }
});

test('makeMagnet writes what parseMagnet reads back', () => {
  const src = { infoHash: Buffer.from(HEX, 'hex'), name: 'a b&c=d+é', trackers: ['http://t/a?x=1&y=2', 'udp://u:1'], peers: ['10.0.0.1:1'], webSeeds: ['http://w/'] };
  const uri = makeMagnet(src);
  assert.match(uri, new RegExp(`^magnet:\\?xt=urn:btih:${HEX}&dn=`));
  const back = parseMagnet(uri);
  assert.deepEqual(back, { infoHash: src.infoHash, infoHashHex: HEX, name: src.name, trackers: src.trackers, peers: src.peers, webSeeds: src.webSeeds });
});

test('property: make then parse is the identity', () => {
  const text = fc.string({ minLength: 1, maxLength: 30, unit: 'grapheme' }).filter((s) => s.trim() === s);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.option(text, { nil: undefined }), fc.uniqueArray(text, { maxLength: 4 }), (h, name, trackers) => {
      const infoHash = Buffer.from(h);
      const m = parseMagnet(makeMagnet({ infoHash, name, trackers }));
      assert.deepEqual(m.infoHash, infoHash);
      assert.equal(m.name, name);
      assert.deepEqual(m.trackers, trackers);
    }),
    { numRuns: 300 },
  );
});

test('fuzz: any string gives a MagnetLink or a TorrentError, nothing else', () => {
  const parts = fc.constantFrom('magnet:?', 'xt=urn:btih:', HEX, 'xt=urn:btmh:', '&', '=', 'dn=', 'tr=', 'x.pe=', 'ws=', '%', '%zz', '%41', ':', '[', ']', '1', '+', '#');
  const arb = fc.oneof(fc.string(), fc.array(parts, { maxLength: 20 }).map((a) => a.join('')), fc.string().map((s) => `magnet:?xt=urn:btih:${HEX}&${s}`));
  fc.assert(
    fc.property(arb, (s) => {
      try {
        parseMagnet(s);
      } catch (e) {
        if (!(e instanceof TorrentError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});
