// `sta seed` unchokes a transmission-daemon leecher as soon as its INTERESTED arrives,
// measured on the wire: sta seed dials Transmission through a proxy here that timestamps
// every message in both directions. (Transmission's own debug log shows ~2-3 s between
// "Sending Interested" and "got Unchoke": Transmission holds INTERESTED in its outgoing
// batch for up to 2 s before writing it; see README.md.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { FrameParser, HANDSHAKE_LENGTH, type WireMessageType } from '../../src/peer/wire/index.js';
import { assertStaBuilt, makeTorrent, needPrograms, staSeed, Transmission, withWorkspace } from './helpers/clients.js';
import { makeFile } from './helpers/payload.js';
import { startRelay } from './helpers/relay.js';

const LATENCY_MS = 200;

interface Seen {
  at: number;
  dir: 'to-tr' | 'to-sta';
  type: WireMessageType;
}

/** Forwards 127.0.0.1:<its port> to `target`, logging each message's type and arrival time. */
async function wireLog(target: number, seen: Seen[]): Promise<{ port: number; server: Server }> {
  const parse = (dir: Seen['dir']) => {
    const p = new FrameParser({});
    let head: Buffer | null = Buffer.alloc(0);
    return (chunk: Buffer) => {
      const at = performance.now();
      if (head) {
        head = Buffer.concat([head, chunk]);
        if (head.length < HANDSHAKE_LENGTH) return;
        chunk = head.subarray(HANDSHAKE_LENGTH);
        head = null;
      }
      p.push(Buffer.from(chunk));
      for (let m = p.next(); m; m = p.next()) seen.push({ at, dir, type: m.type });
    };
  };
  return startRelay(target, {
    tap: () => {
      const toTr = parse('to-tr');
      const toSta = parse('to-sta');
      return (dir, c) => (dir === 'in' ? toTr(c) : toSta(c));
    },
  });
}

test('sta seed unchokes a transmission-daemon leecher within 200 ms of its INTERESTED on the wire', { timeout: 90_000 }, async (t) => {
  if (!needPrograms(t, ['transmission-daemon', 'mktorrent'])) return;
  assertStaBuilt();
  await withWorkspace('sta-unchoke-tr-', async (ws) => {
    const data = await ws.mkdir('data');
    await makeFile(join(data, 'u.bin'), 4 * 1024 * 1024 + 17, 'unchoke-tr');
    const torrent = ws.path('u.torrent');
    await makeTorrent(ws, join(data, 'u.bin'), torrent, { pieceLength: 262144, trackers: ['http://127.0.0.1:9/announce'] });
    const tr = await Transmission.start(ws, { downloadDir: await ws.mkdir('down') });
    const id = await tr.add(torrent);
    const seen: Seen[] = [];
    const proxy = await wireLog(tr.peerPort, seen);
    try {
      await staSeed(ws, { torrent, dir: data, noTracker: true, peers: [`127.0.0.1:${proxy.port}`] });
      await tr.waitComplete(id, 60_000);
      const interested = seen.find((s) => s.dir === 'to-sta' && s.type === 'interested');
      assert.ok(interested, `Transmission sent INTERESTED (saw ${seen.map((s) => `${s.dir}:${s.type}`).join(' ')})`);
      const unchoke = seen.find((s) => s.dir === 'to-tr' && s.type === 'unchoke');
      assert.ok(unchoke, 'sta sent UNCHOKE');
      const ms = unchoke.at - interested.at;
      if (process.env.STA_DEBUG) console.log(`UNCHOKE ${ms.toFixed(1)} ms after INTERESTED`);
      assert.ok(ms >= 0 && ms < LATENCY_MS, `UNCHOKE ${ms.toFixed(0)} ms after INTERESTED`);
    } finally {
      proxy.server.close();
    }
  });
});
