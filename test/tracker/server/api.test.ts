// The JSON API, catalogue and status page over HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '../../../src/bencode/index.js';
import { parseTorrent } from '../../../src/torrent/index.js';
import { announcePath, announceReq, get, httpRequest, withTracker } from './helpers.js';
import { startTracker } from '../../../src/tracker/server/index.js';

const H = createHash('sha1').update('api-test').digest();

function torrent(name: string, files?: { path: string[]; length: number }[]): Buffer {
  const info: Record<string, unknown> = { name, 'piece length': 16384, pieces: Buffer.alloc(20, 1) };
  if (files) info.files = files;
  else info.length = 1000;
  return encode({ announce: 'http://127.0.0.1/announce', info } as never);
}

test('GET /api/peers lists ip, port, seeder, last seen', () =>
  withTracker({}, async (t) => {
    await get(t.port, announcePath(announceReq(H, 1, { left: 0 })));
    await get(t.port, announcePath(announceReq(H, 2)));
    const res = await get(t.port, `/api/peers?info_hash=${H.toString('hex')}`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /application\/json/);
    const peers = (JSON.parse(res.body.toString()) as { ip: string; port: number; seeder: boolean; lastSeen: string; lastSeenMs: number }[]).sort((a, b) => a.port - b.port);
    assert.equal(peers.length, 2);
    assert.deepEqual(
      peers.map((p) => [p.ip, p.port, p.seeder]),
      [
        ['127.0.0.1', 10001, true],
        ['127.0.0.1', 10002, false],
      ],
    );
    assert.ok(Math.abs(Date.parse(peers[0]!.lastSeen) - Date.now()) < 5000);
    assert.deepEqual(JSON.parse((await get(t.port, `/api/peers?info_hash=${'0'.repeat(40)}`)).body.toString()), []);
    const bad = await get(t.port, '/api/peers?info_hash=xyz');
    assert.equal(bad.status, 400);
    assert.equal((JSON.parse(bad.body.toString()) as { error: { code: string } }).error.code, 'BAD_INFO_HASH');
  }));

test('GET /api/stats totals torrents, seeders, leechers and announce rates', () =>
  withTracker({}, async (t) => {
    await get(t.port, announcePath(announceReq(H, 1, { left: 0 })));
    await get(t.port, announcePath(announceReq(H, 2)));
    await get(t.port, announcePath(announceReq(Buffer.alloc(20, 3), 3)));
    const s = JSON.parse((await get(t.port, '/api/stats')).body.toString()) as Record<string, unknown>;
    assert.equal(s.torrents, 2);
    assert.equal(s.seeders, 1);
    assert.equal(s.leechers, 2);
    assert.deepEqual(s.announces, { http: 3, udp: 0 });
    assert.equal(typeof (s.announcesPerSecond as { http: number }).http, 'number');
    assert.equal(s.store, 'memory');
  }));

test('catalogue: POST registers, GET ?q= searches names and paths, GET /HEX40 returns the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sta-cat-'));
  try {
    const a = torrent('Ubuntu Server ISO');
    const b = torrent('Holiday Photos', [
      { path: ['2024', 'beach.jpg'], length: 500 },
      { path: ['2024', 'mountain.png'], length: 500 },
    ]);
    const ha = parseTorrent(a).infoHashHex;
    const hb = parseTorrent(b).infoHashHex;
    await withTracker({ dataDir: dir }, async (t) => {
      const r1 = await httpRequest(t.port, 'POST', '/api/torrents', a, { 'Content-Type': 'application/x-bittorrent' });
      assert.equal(r1.status, 201);
      const j1 = JSON.parse(r1.body.toString()) as { infoHash: string; name: string; added: boolean };
      assert.equal(j1.infoHash, ha);
      assert.equal(j1.name, 'Ubuntu Server ISO');
      assert.equal(j1.added, true);
      assert.equal((await httpRequest(t.port, 'POST', '/api/torrents', b)).status, 201);
      const again = await httpRequest(t.port, 'POST', '/api/torrents', a);
      assert.equal(again.status, 200);
      assert.equal((JSON.parse(again.body.toString()) as { added: boolean }).added, false);

      const search = async (q: string) => (JSON.parse((await get(t.port, `/api/torrents?q=${encodeURIComponent(q)}`)).body.toString()) as { infoHash: string }[]).map((e) => e.infoHash);
      assert.deepEqual(await search('ubuntu'), [ha]);
      assert.deepEqual(await search('MOUNTAIN'), [hb], 'file paths, any case');
      assert.deepEqual(await search('nothing like it'), []);
      assert.deepEqual((await search('')).sort(), [ha, hb].sort());
      const list = JSON.parse((await get(t.port, '/api/torrents?q=photos')).body.toString()) as { files: { path: string }[]; fileCount: number; length: number; torrent: string }[];
      assert.deepEqual(list[0]!.files.map((f) => f.path), ['Holiday Photos/2024/beach.jpg', 'Holiday Photos/2024/mountain.png']);
      assert.equal(list[0]!.fileCount, 2);
      assert.equal(list[0]!.length, 1000);
      assert.equal(list[0]!.torrent, `/api/torrents/${hb}`);

      const file = await get(t.port, `/api/torrents/${ha}`);
      assert.equal(file.status, 200);
      assert.equal(file.headers['content-type'], 'application/x-bittorrent');
      assert.deepEqual(file.body, a);
      assert.equal((await get(t.port, `/api/torrents/${ha.toUpperCase()}.torrent`)).status, 200);
      assert.equal((await get(t.port, `/api/torrents/${'f'.repeat(40)}`)).status, 404);
    });
    // The memory store's catalogue survives a restart with the same --data-dir.
    const t2 = await startTracker({ host: '127.0.0.1', port: 0, dataDir: dir });
    try {
      assert.deepEqual((await get(t2.port, `/api/torrents/${hb}`)).body, b);
    } finally {
      await t2.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('GET / is a readable status page with totals and the busiest swarms, escaped', () =>
  withTracker({}, async (t) => {
    const evil = torrent('<img src=x onerror=alert(1)> & co');
    const h = parseTorrent(evil).infoHash;
    await httpRequest(t.port, 'POST', '/api/torrents', evil);
    for (let i = 1; i <= 3; i++) await get(t.port, announcePath(announceReq(h, i)));
    await get(t.port, announcePath(announceReq(H, 9)));
    const res = await get(t.port, '/');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /text\/html/);
    const html = res.body.toString();
    assert.match(html, /<title>sta tracker<\/title>/);
    assert.match(html, /Torrents<\/td><td>2</);
    assert.match(html, /Leechers<\/td><td>4</);
    assert.ok(!html.includes('<img'), 'names are escaped');
    assert.ok(html.includes('&#60;img src=x onerror=alert(1)&#62; &#38; co'));
    assert.ok(html.indexOf(h.toString('hex')) < html.indexOf(H.toString('hex')), 'busiest first');
  }));
