// One side of the peer-wire benchmark, run as its own process: `seed PORT_FILE` listens and
// serves a fixed 16 KiB block to every request; `leech PORT BYTES DEPTH` downloads BYTES
// with DEPTH requests in flight and prints one JSON line (seconds, CPU, RSS).
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { PeerConnection, readHandshake, makeGeometry } from '../../src/peer/index.js';
import { Bitfield } from '../../src/util/index.js';

const infoHash = Buffer.alloc(20, 7);
const BLOCK = 16384;
const [, , role, a1, a2, a3] = process.argv;

if (role === 'seed') {
  const bytes = Number(a2 ?? 1 << 30);
  const geometry = makeGeometry(bytes / (1 << 20), 1 << 20, bytes);
  const block = randomBytes(BLOCK);
  const server = createServer((socket) => {
    void readHandshake(socket).then(({ handshake, rest }) => {
      const c = PeerConnection.accept({ socket, handshake, rest, infoHash, peerId: randomBytes(20), geometry });
      const queue: [number, number][] = [];
      const serve = () => {
        while (queue.length && !c.needsDrain) {
          const [i, b] = queue.shift()!;
          c.sendPiece(i, b, block);
        }
      };
      c.on('request', (i, b) => {
        queue.push([i, b]);
        serve();
      });
      c.on('drain', serve);
      c.on('interested', () => c.sendUnchoke());
      c.start();
      c.sendAvailability(Bitfield.full(geometry.pieceCount));
    });
  });
  server.listen(0, '127.0.0.1', () => writeFileSync(a1!, String((server.address() as { port: number }).port)));
} else {
  const port = Number(a1);
  const bytes = Number(a2);
  const depth = Number(a3 ?? 256);
  // Refill the pipeline only once this many requests can go out together (1 = every piece).
  const batch = Number(process.argv[6] ?? 1);
  const geometry = makeGeometry(bytes / (1 << 20), 1 << 20, bytes);
  const conn = await PeerConnection.connect({ host: '127.0.0.1', port, infoHash, peerId: randomBytes(20), geometry });
  const total = bytes / BLOCK;
  let next = 0;
  let got = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let peakRss = 0;
  const fill = () => {
    if (conn.requestsInFlight > depth - batch && next < total - batch) return;
    while (conn.requestsInFlight < depth && next < total) {
      conn.sendRequest(next >> 6, (next & 63) * BLOCK, BLOCK);
      next++;
    }
  };
  conn.on('unchoke', fill);
  conn.on('piece', () => {
    if (++got === total) {
      const s = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      console.log(JSON.stringify({ seconds: s, cpuS: (cpu.user + cpu.system) / 1e6, rssMB: peakRss / 1048576, rateMBs: conn.downloadRate() / 1e6 }));
      conn.close();
      process.exit(0);
    }
    if ((got & 1023) === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
    fill();
  });
  conn.start();
  conn.sendAvailability(null);
  conn.sendInterested();
}
