// BEP 3: a bitfield is only ever the first message after the handshake; BEP 6: have-all /
// have-none take its place. A peer we dial often writes its handshake and its bitfield in
// one go (libtorrent does), so both reach us in one read: we must still send our own
// availability before reacting to theirs (INTERESTED, REQUESTs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StaNode } from '../../src/node/index.js';
import { createTorrent } from '../../src/torrent/index.js';
import { makeGeometry } from '../../src/peer/wire/index.js';
import { makeFile, payloadBytes } from '../interop/helpers/payload.js';
import { listenScripted } from './scripted-peer.js';

for (const fast of [true, false]) {
  test(`our availability goes first even when the dialled peer's bitfield came with its handshake (${fast ? 'have-none, BEP 6' : 'bitfield, no BEP 6'})`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sta-order-'));
    const node = await StaNode.start({ port: 0, host: '127.0.0.1' });
    try {
      const SIZE = 1_000_000;
      await makeFile(join(dir, 'src', 'o.bin'), SIZE, 'order');
      const { meta } = await createTorrent({ path: join(dir, 'src', 'o.bin'), pieceLength: 32768, creationDate: null });
      await mkdir(join(dir, 'dst'));
      if (!fast) {
        // Without BEP 6 an empty availability is not sent at all: give the node the second
        // half so it has a bitfield to send.
        const half = payloadBytes(SIZE, 'order');
        half.fill(0, 0, 16 * 32768);
        await writeFile(join(dir, 'dst', 'o.bin'), half);
      }
      // The peer has the first 8 pieces and unchokes at once, all in the handshake's write.
      const bits = Buffer.alloc(Math.ceil(meta.pieceCount / 8));
      bits[0] = 0xff;
      const l = await listenScripted({
        infoHash: meta.infoHash,
        geometry: makeGeometry(meta.pieceCount, meta.pieceLength, meta.length),
        fast,
        eager: true,
        hello: [{ type: 'bitfield', bytes: bits }, { type: 'unchoke' }],
      });
      try {
        await node.add({ kind: 'metainfo', meta }, { dir: join(dir, 'dst'), noTracker: true, peers: [`127.0.0.1:${l.port}`] });
        const p = await l.accepted;
        await p.waitFor((m) => m.type === 'request', 5000);
        const types = p.received.map((r) => r.m.type);
        assert.equal(types[0], fast ? 'have-none' : 'bitfield', `first messages: ${types.slice(0, 4).join(', ')}`);
        assert.equal(types.filter((t) => t === 'bitfield' || t === 'have-none' || t === 'have-all').length, 1);
        p.close();
      } finally {
        l.server.close();
      }
    } finally {
      await node.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
}
