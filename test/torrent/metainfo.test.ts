import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeWithSpans, encode, isDict, BencodeError } from '../../src/bencode/index.js';
import { encodeTorrent, parseInfoDict, parseTorrent, TorrentError } from '../../src/torrent/index.js';
import { infoWithPath, multiFileInfo, piecesOf, sha1, singleFileInfo, torrentBytes } from './build.js';

const code = (c: string) => (e: unknown) => e instanceof TorrentError && e.code === c;

test('parses a single-file torrent: one file named like the torrent', () => {
  const m = parseTorrent(torrentBytes(singleFileInfo()));
  assert.equal(m.name, 'single.bin');
  assert.equal(m.multiFile, false);
  assert.equal(m.length, 10);
  assert.equal(m.pieceLength, 4);
  assert.equal(m.pieceCount, 3);
  assert.equal(m.pieces.length, 60);
  assert.deepEqual(m.files, [{ path: ['single.bin'], pathString: 'single.bin', length: 10, offset: 0, pad: false }]);
  assert.deepEqual(m.announce, [['http://tracker.example/announce']]);
  assert.equal(m.private, false);
});

test('parses a multi-file torrent with offsets in the concatenated data', () => {
  const m = parseTorrent(torrentBytes(multiFileInfo()));
  assert.equal(m.multiFile, true);
  assert.equal(m.length, 8);
  assert.deepEqual(
    m.files.map((f) => [f.pathString, f.length, f.offset]),
    [
      ['a.txt', 5, 0],
      ['dir/b.txt', 3, 5],
    ],
  );
  assert.deepEqual(m.files[1]!.path, ['dir', 'b.txt']);
});

test('the info hash is SHA-1 of the original info bytes, unknown keys included', () => {
  const buf = torrentBytes(singleFileInfo({ 'x-unknown': 'kept', source: 'abc' }));
  const { value, spans } = decodeWithSpans(buf);
  assert.ok(isDict(value) && isDict(value.info));
  const span = spans.get(value.info)!;
  const m = parseTorrent(buf);
  assert.deepEqual(m.infoHash, sha1(buf.subarray(span.start, span.end)));
  assert.equal(m.infoHashHex, m.infoHash.toString('hex'));
  assert.deepEqual(Buffer.from(m.infoBytes), buf.subarray(span.start, span.end));
  assert.equal(Buffer.from(m.info['x-unknown'] as Uint8Array).toString(), 'kept');
});

test('reads announce-list tiers (BEP 12) over announce, url-list, private and the optional fields', () => {
  const buf = torrentBytes(singleFileInfo({ private: 1 }), {
    'announce-list': [['http://a/ann', 'udp://b:80'], [], ['http://c/ann', 42]],
    'url-list': ['http://ws1/', 'http://ws2/'],
    comment: 'hi ✓',
    'created by': 'tool 1.0',
    'creation date': 1700000000,
  });
  const m = parseTorrent(buf);
  assert.deepEqual(m.announce, [['http://a/ann', 'udp://b:80'], ['http://c/ann']]);
  assert.deepEqual(m.urlList, ['http://ws1/', 'http://ws2/']);
  assert.equal(m.private, true);
  assert.equal(m.comment, 'hi ✓');
  assert.equal(m.createdBy, 'tool 1.0');
  assert.equal(m.creationDate, 1700000000);
});

test('a single url-list string is one web seed; no trackers is an empty list', () => {
  const m = parseTorrent(torrentBytes(singleFileInfo(), { announce: undefined, 'url-list': 'http://ws/' }));
  assert.deepEqual(m.urlList, ['http://ws/']);
  assert.deepEqual(m.announce, []);
});

test('BEP 47 padding files are marked and may share a name', () => {
  const data = Buffer.alloc(12, 7);
  const m = parseTorrent(
    torrentBytes({
      name: 'p',
      'piece length': 4,
      pieces: piecesOf(data, 4),
      files: [
        { length: 2, path: ['a'] },
        { length: 2, path: ['.pad', '2'], attr: 'p' },
        { length: 6, path: ['b'] },
        { length: 2, path: ['.pad', '2'], attr: 'p' },
      ],
    }),
  );
  assert.deepEqual(
    m.files.map((f) => f.pad),
    [false, true, false, true],
  );
});

test('refuses what is not a torrent', () => {
  assert.throws(() => parseTorrent(encode([1, 2])), code('TORRENT_NOT_DICT'));
  assert.throws(() => parseTorrent(encode({ announce: 'x' })), code('TORRENT_NO_INFO'));
  assert.throws(() => parseTorrent(torrentBytes(singleFileInfo()).subarray(0, 50)), (e) => e instanceof BencodeError);
  assert.throws(() => parseTorrent(Buffer.concat([torrentBytes(singleFileInfo()), Buffer.from('x')])), (e) => e instanceof BencodeError);
});

test('refuses unsorted keys (strict bencode for metainfo)', () => {
  const good = torrentBytes(singleFileInfo()).toString('latin1');
  const swapped = good.replace('6:lengthi10e4:name10:single.bin', '4:name10:single.bin6:lengthi10e');
  assert.notEqual(swapped, good);
  assert.throws(() => parseTorrent(Buffer.from(swapped, 'latin1')), (e) => e instanceof BencodeError && e.code === 'BENCODE_UNSORTED_KEYS');
});

test('refuses piece hashes that do not match the length', () => {
  assert.throws(() => parseTorrent(torrentBytes(singleFileInfo({ pieces: Buffer.alloc(41) }))), code('TORRENT_BAD_PIECES'));
  assert.throws(() => parseTorrent(torrentBytes(singleFileInfo({ pieces: Buffer.alloc(40) }))), code('TORRENT_BAD_PIECES'));
  assert.throws(() => parseTorrent(torrentBytes(singleFileInfo({ pieces: Buffer.alloc(80) }))), code('TORRENT_BAD_PIECES'));
  assert.throws(() => parseTorrent(torrentBytes(singleFileInfo({ pieces: undefined }))), code('TORRENT_BAD_PIECES'));
});

test('refuses bad lengths and piece lengths', () => {
  assert.throws(() => parseTorrent(torrentBytes(singleFileInfo({ length: -1 }))), code('TORRENT_BAD_LENGTH'));
  assert.throws(() => parseTorrent(torrentBytes(singleFileInfo({ length: 2n ** 53n }))), code('TORRENT_BAD_LENGTH'));
  assert.throws(() => parseTorrent(torrentBytes(singleFileInfo({ length: 'ten' }))), code('TORRENT_BAD_FIELD'));
  assert.throws(() => parseTorrent(torrentBytes(singleFileInfo({ 'piece length': 0 }))), code('TORRENT_BAD_LENGTH'));
  assert.throws(() => parseTorrent(torrentBytes(singleFileInfo({ 'piece length': 512 * 1024 * 1024 }))), code('TORRENT_BAD_LENGTH'));
  assert.throws(() => parseTorrent(torrentBytes(singleFileInfo({ length: 0, pieces: Buffer.alloc(0) }))), code('TORRENT_EMPTY'));
  const big = 2 ** 52;
  const files = [
    { length: big, path: ['a'] },
    { length: big, path: ['b'] },
  ];
  assert.throws(() => parseTorrent(torrentBytes(multiFileInfo({ files, 'piece length': 2 ** 28, pieces: Buffer.alloc(0) }))), code('TORRENT_BAD_LENGTH'));
});

test('refuses malformed file lists', () => {
  assert.throws(() => parseTorrent(torrentBytes(multiFileInfo({ length: 8 }))), code('TORRENT_BAD_FIELD'));
  assert.throws(() => parseTorrent(torrentBytes(multiFileInfo({ files: [] }))), code('TORRENT_BAD_FIELD'));
  assert.throws(() => parseTorrent(torrentBytes(multiFileInfo({ files: 'x' }))), code('TORRENT_BAD_FIELD'));
  assert.throws(() => parseTorrent(torrentBytes(multiFileInfo({ files: [{ length: 8 }] }))), code('TORRENT_BAD_FIELD'));
  assert.throws(() => parseTorrent(torrentBytes(multiFileInfo({ files: [{ length: 8, path: [1] }] }))), code('TORRENT_BAD_FIELD'));
  assert.throws(() => parseTorrent(torrentBytes(multiFileInfo({ name: undefined }))), code('TORRENT_BAD_FIELD'));
});

test('refuses a v2-only torrent with a clear code', () => {
  const info = { name: 'v2', 'piece length': 16384, 'meta version': 2, 'file tree': {} };
  assert.throws(() => parseTorrent(torrentBytes(info)), code('TORRENT_V2_UNSUPPORTED'));
});

for (const [label, path] of [
  ['a ".." component', ['..', 'etc', 'passwd']],
  ['a "." component', ['.', 'a']],
  ['an empty component', ['', 'a']],
  ['an empty path', []],
  ['a "/" inside a component', ['a/../../b']],
  ['an absolute component', ['/etc/passwd']],
  ['a backslash', ['..\\..\\win.ini']],
  ['a NUL byte', ['a\0b']],
  ['a drive letter', ['C:', 'Windows']],
  ['a drive-relative name', ['c:evil']],
] as const) {
  test(`refuses a file path with ${label}`, () => {
    assert.throws(() => parseTorrent(torrentBytes(infoWithPath([...path]))), code('TORRENT_UNSAFE_PATH'));
  });
}

test('refuses an unsafe torrent name (single-file and multi-file)', () => {
  for (const name of ['..', '.', '', 'a/b', '/abs', 'x\\y', 'D:x']) {
    assert.throws(() => parseTorrent(torrentBytes(singleFileInfo({ name }))), code('TORRENT_UNSAFE_PATH'), name);
    assert.throws(() => parseTorrent(torrentBytes(multiFileInfo({ name }))), code('TORRENT_UNSAFE_PATH'), name);
  }
});

test('keeps names that only look odd: dots inside, spaces, non-ASCII, "..." ', () => {
  const m = parseTorrent(torrentBytes(infoWithPath(['..a', 'b..', '...', ' spaced name ', 'Ünï ✓.txt'])));
  assert.equal(m.files[0]!.pathString, '..a/b../.../ spaced name /Ünï ✓.txt');
});

test('refuses two files with one path, or a file inside a file', () => {
  const dup = multiFileInfo({
    files: [
      { length: 5, path: ['a'] },
      { length: 3, path: ['a'] },
    ],
  });
  assert.throws(() => parseTorrent(torrentBytes(dup)), code('TORRENT_DUPLICATE_PATH'));
  const nested = multiFileInfo({
    files: [
      { length: 5, path: ['a'] },
      { length: 3, path: ['a', 'b'] },
    ],
  });
  assert.throws(() => parseTorrent(torrentBytes(nested)), code('TORRENT_DUPLICATE_PATH'));
  const dirThenFile = multiFileInfo({
    files: [
      { length: 5, path: ['a', 'b'] },
      { length: 3, path: ['a'] },
    ],
  });
  assert.throws(() => parseTorrent(torrentBytes(dirThenFile)), code('TORRENT_DUPLICATE_PATH'));
});

test('parseInfoDict builds the same Metainfo from the raw info bytes (BEP 9)', () => {
  const full = parseTorrent(torrentBytes(multiFileInfo()));
  const m = parseInfoDict(full.infoBytes, { announce: [['http://x/a']], urlList: ['http://w/'] });
  assert.deepEqual(m.infoHash, full.infoHash);
  assert.deepEqual(m.files, full.files);
  assert.deepEqual(m.announce, [['http://x/a']]);
  assert.deepEqual(m.urlList, ['http://w/']);
  assert.throws(() => parseInfoDict(encode({ name: 'x' })), (e) => e instanceof TorrentError);
});

test('encodeTorrent wraps exact info bytes: same hash, extras read back', () => {
  const src = parseTorrent(torrentBytes(multiFileInfo({ zzz: 1 })));
  const extras = { announce: [['http://a/1', 'http://a/2'], ['udp://b:1']], urlList: ['http://w/'], comment: 'c', createdBy: 'sta', creationDate: 5 };
  const m = parseTorrent(encodeTorrent(src.infoBytes, extras));
  assert.deepEqual(m.infoHash, src.infoHash);
  assert.deepEqual(m.announce, extras.announce);
  assert.deepEqual(m.urlList, extras.urlList);
  assert.equal(m.comment, 'c');
  assert.equal(m.createdBy, 'sta');
  assert.equal(m.creationDate, 5);
  const bare = parseTorrent(encodeTorrent(src.infoBytes));
  assert.deepEqual(bare.infoHash, src.infoHash);
  assert.deepEqual(bare.announce, []);
});

test('finds the info bytes past tricky earlier keys (nested values, "4:info" inside strings)', () => {
  const buf = torrentBytes(singleFileInfo({ zz: [{ e: 'e' }, -12] }), {
    'a-nested': [{ info: 'not this', x: [[], {}, 'eee', 100] }, 'd4:infoe'],
    comment: '4:infod4:name1:xe',
    'creation date': -1,
    ziggy: { info: 1 },
  });
  const { value, spans } = decodeWithSpans(buf);
  assert.ok(isDict(value) && isDict(value.info));
  const span = spans.get(value.info)!;
  assert.deepEqual(parseTorrent(buf).infoHash, sha1(buf.subarray(span.start, span.end)));
});
