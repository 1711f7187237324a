// Property and fuzz tests: whatever bytes come in, parseTorrent returns a Metainfo or
// throws TorrentError/BencodeError (both StaError with exit code 2), never anything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BencodeError, encode, type Encodable } from '../../src/bencode/index.js';
import { parseTorrent, TorrentError } from '../../src/torrent/index.js';
import { multiFileInfo, singleFileInfo, torrentBytes } from './build.js';

function parseOrTypedError(buf: Uint8Array): void {
  try {
    const m = parseTorrent(buf);
    // Whatever parses is consistent.
    assert.equal(m.pieceCount, Math.ceil(m.length / m.pieceLength));
    assert.equal(m.pieces.length, m.pieceCount * 20);
    for (const f of m.files) for (const c of f.path) assert.ok(c !== '..' && c !== '.' && c !== '' && !/[/\\\0]/.test(c));
  } catch (e) {
    if (!(e instanceof TorrentError || e instanceof BencodeError)) throw e;
    assert.equal(e.exitCode, 2);
  }
}

const seeds = [
  torrentBytes(singleFileInfo()),
  torrentBytes(multiFileInfo(), { 'announce-list': [['http://a/'], ['udp://b:1']], 'url-list': 'http://w/', comment: 'c' }),
];

test('fuzz: random bytes only ever give a typed error', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), parseOrTypedError), { numRuns: 3000 });
});

test('fuzz: mutated valid torrents parse or give a typed error', () => {
  const mutation = fc.record({
    seed: fc.constantFrom(...seeds),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { minLength: 1, maxLength: 4 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
  });
  fc.assert(
    fc.property(mutation, ({ seed, edits, cut }) => {
      const b = [...seed];
      for (const [pos, byte, op] of edits) {
        const i = pos % (b.length + 1);
        if (op === 'set' && i < b.length) b[i] = byte;
        else if (op === 'insert') b.splice(i, 0, byte);
        else b.splice(i, 1);
      }
      const out = Uint8Array.from(b);
      parseOrTypedError(cut === undefined ? out : out.subarray(0, cut % (out.length + 1)));
    }),
    { numRuns: 5000 },
  );
});

test('fuzz: well-formed bencode of torrent-like shapes gives a Metainfo or a typed error', () => {
  const leaf: fc.Arbitrary<Encodable> = fc.oneof(
    fc.integer({ min: -5, max: 1 << 20 }),
    fc.constantFrom('..', '.', '', 'a', 'C:', 'x/y', 'p', 'name'),
    fc.uint8Array({ maxLength: 60 }),
  );
  const { value } = fc.letrec<{ value: Encodable }>((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(fc.constantFrom('length', 'path', 'attr', 'files', 'x'), tie('value'), { maxKeys: 4 })),
  }));
  const info = fc.record(
    {
      name: fc.oneof(fc.constantFrom('ok', '..', 'a/b', ''), value),
      'piece length': fc.oneof(fc.constantFrom(1, 4, 16384, 0, -1), value),
      pieces: fc.oneof(fc.uint8Array({ maxLength: 100 }).map((u) => Buffer.from(u)), value),
      length: fc.oneof(fc.nat(100), value),
      files: fc.array(fc.record({ length: fc.oneof(fc.nat(10), value), path: fc.oneof(fc.array(fc.constantFrom('a', 'b', '..', ''), { maxLength: 3 }), value) }, { requiredKeys: [] })),
      private: value,
    },
    { requiredKeys: [] },
  );
  const outer = fc.record({ info: fc.oneof(info, value), announce: value, 'announce-list': value, 'url-list': value, 'creation date': value }, { requiredKeys: [] });
  fc.assert(fc.property(outer, (t) => parseOrTypedError(encode(t as Encodable))), { numRuns: 3000 });
});

test('deep nesting is a typed error, not a stack overflow', () => {
  const deep = Buffer.concat([Buffer.from('d4:info'), Buffer.alloc(100_000, 'l'.charCodeAt(0))]);
  assert.throws(() => parseTorrent(deep), (e) => e instanceof BencodeError);
});
