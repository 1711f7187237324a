import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSource, apiBases, generatePeerId, CLIENT_PREFIX } from '../../src/node/index.js';
import { createTorrent } from '../../src/torrent/index.js';

test('peer ids are Azureus style -SA0100- and random', () => {
  const a = generatePeerId();
  assert.equal(a.length, 20);
  assert.equal(a.subarray(0, 8).toString('latin1'), '-SA0100-');
  assert.equal(CLIENT_PREFIX, '-SA0100-');
  assert.notDeepEqual(a, generatePeerId());
});

test('API bases come from HTTP trackers only', () => {
  assert.deepEqual(apiBases(['http://h:8000/announce', 'udp://h:8000', 'http://h:8000/x', 'nonsense']), ['http://h:8000']);
});

test('a file, a magnet, a name and an info hash resolve; unknown input is bad input', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sta-resolve-'));
  await writeFile(join(dir, 'f.bin'), 'hello world');
  const { torrent, meta } = await createTorrent({ path: join(dir, 'f.bin'), creationDate: null });
  await writeFile(join(dir, 'f.torrent'), torrent);
  const server = createServer((req, res) => {
    if (req.url === `/api/torrents/${meta.infoHashHex}`) {
      res.end(torrent);
    } else if (req.url?.startsWith('/api/torrents?q=')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ torrents: [{ name: 'f.bin', infoHash: meta.infoHashHex }, { name: 'f.bin.old', infoHash: 'a'.repeat(40) }] }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const tracker = `http://127.0.0.1:${(server.address() as { port: number }).port}/announce`;
  try {
    const fromFile = await resolveSource(join(dir, 'f.torrent'), []);
    assert.equal(fromFile.kind === 'metainfo' && fromFile.meta.infoHashHex, meta.infoHashHex);
    const fromMagnet = await resolveSource(`magnet:?xt=urn:btih:${meta.infoHashHex}`, []);
    assert.equal(fromMagnet.kind, 'magnet');
    const byName = await resolveSource('f.bin', [tracker]);
    assert.equal(byName.kind === 'metainfo' && byName.meta.infoHashHex, meta.infoHashHex);
    const byHash = await resolveSource(meta.infoHashHex.toUpperCase(), [tracker]);
    assert.equal(byHash.kind, 'metainfo');
    const unknownHash = await resolveSource('b'.repeat(40), [tracker]);
    assert.equal(unknownHash.kind === 'magnet' && unknownHash.magnet.trackers[0], tracker);
    await assert.rejects(resolveSource('no-such-name', []), (e: { exitCode?: number }) => e.exitCode === 2);
    await assert.rejects(resolveSource('b'.repeat(40), []), (e: { exitCode?: number }) => e.exitCode === 2);
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a catalogue reply without a length that never ends is cut off at the cap, not read whole', async () => {
  let sent = 0;
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json'); // chunked: no Content-Length
    const chunk = Buffer.alloc(1 << 20, 0x20);
    const pump = (): void => {
      while (!res.destroyed && sent < 1 << 30) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const tracker = `http://127.0.0.1:${(server.address() as { port: number }).port}/announce`;
  try {
    await assert.rejects(resolveSource('anything', [tracker]), (e: { code?: string; message: string }) => {
      assert.equal(e.code, 'NODE_TRACKER_API');
      assert.match(e.message, /passed \d+ bytes/);
      return true;
    });
    // Cut off near the 64 MiB cap: far from the 1 GiB the server would send.
    assert.ok(sent < 256 << 20, `server wrote ${sent} bytes before the client gave up`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
