// Scripted hostile peers for test/peer/hostile.test.ts: raw TCP listeners that speak just
// enough of the wire protocol (handshake, availability) to be dialled by a downloader,
// then misbehave in one chosen way. Each records what it saw, so a test can check that
// the downloader cut it off and did not come back after banning it.
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import {
  FrameParser,
  HANDSHAKE_LENGTH,
  encodeHandshake,
  encodeMessage,
  encodePieceHeader,
  encodeRequest,
  parseHandshake,
  type TorrentGeometry,
} from '../../src/peer/wire/index.js';

export type HostileKind =
  /** Claims every piece, unchokes, answers every request at once with random bytes. */
  | 'corrupt'
  /** Claims every piece, then sends a 2 GiB length prefix followed by junk. */
  | 'oversized'
  /** Asks for blocks outside the torrent and blocks of 1 MiB. */
  | 'bad-request'
  /** Floods valid haves (and keep-alives) without end, then one have past the last piece. */
  | 'have-flood'
  /** Claims nothing, and pushes piece messages nobody asked for, without end. */
  | 'push';

export interface HostileStats {
  connections: number;
  /** Connections the downloader closed (or reset) on us. */
  closedByPeer: number;
  requestsSeen: number;
  bytesSent: number;
  /** The downloader's handshake reserved bytes, hex. */
  reserved: string;
}

export interface HostilePeer {
  kind: HostileKind;
  port: number;
  address: string;
  stats: HostileStats;
  close(): Promise<void>;
}

export async function startHostilePeer(kind: HostileKind, infoHash: Buffer, geometry: TorrentGeometry, floodHaves = 2_000_000): Promise<HostilePeer> {
  const stats: HostileStats = { connections: 0, closedByPeer: 0, requestsSeen: 0, bytesSent: 0, reserved: '' };
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    stats.connections++;
    sockets.add(socket);
    socket.setNoDelay(true);
    let ended = false;
    const onEnd = () => {
      if (!ended) stats.closedByPeer++;
      ended = true;
      sockets.delete(socket);
    };
    socket.on('error', onEnd);
    socket.on('close', onEnd);
    const send = (b: Buffer): boolean => {
      if (socket.destroyed) return false;
      stats.bytesSent += b.length;
      return socket.write(b);
    };
    let head = Buffer.alloc(0);
    let handshaken = false;
    const parser = new FrameParser({ geometry });
    socket.on('data', (chunk: Buffer) => {
      if (!handshaken) {
        head = Buffer.concat([head, chunk]);
        if (head.length < HANDSHAKE_LENGTH) return;
        const h = parseHandshake(head);
        stats.reserved = h.reserved.toString('hex');
        handshaken = true;
        send(encodeHandshake({ infoHash, peerId: Buffer.concat([Buffer.from('-HO0001-'), randomBytes(12)]), extensions: { fast: h.extensions.fast, extended: false } }));
        begin(h.extensions.fast);
        chunk = head.subarray(HANDSHAKE_LENGTH);
      }
      parser.push(chunk);
      try {
        for (let m = parser.next(); m; m = parser.next()) {
          if (m.type === 'request') {
            stats.requestsSeen++;
            if (kind === 'corrupt') {
              send(encodePieceHeader(m.index, m.begin, m.length));
              send(randomBytes(m.length));
            }
          }
        }
      } catch {
        socket.destroy();
      }
    });

    const fullBitfield = () => {
      const bytes = Buffer.alloc(Math.ceil(geometry.pieceCount / 8), 0xff);
      if (geometry.pieceCount % 8) bytes[bytes.length - 1] = (0xff << (8 - (geometry.pieceCount % 8))) & 0xff;
      return encodeMessage({ type: 'bitfield', bytes });
    };

    const begin = (fast: boolean) => {
      switch (kind) {
        case 'corrupt':
          send(fullBitfield());
          send(encodeMessage({ type: 'unchoke' }));
          return;
        case 'oversized': {
          send(fullBitfield());
          send(encodeMessage({ type: 'unchoke' }));
          const h = Buffer.alloc(5);
          h.writeUInt32BE(0x7fffffff, 0);
          h[4] = 7;
          send(h);
          // Then junk, as if the body were coming: the downloader must not buffer it.
          const junk = randomBytes(64 * 1024);
          let n = 0;
          const pump = () => {
            while (n < 256 && !socket.destroyed) {
              n++;
              if (!send(junk)) return void socket.once('drain', pump);
            }
          };
          pump();
          return;
        }
        case 'bad-request':
          send(fast ? encodeMessage({ type: 'have-none' }) : Buffer.alloc(0));
          send(encodeMessage({ type: 'interested' }));
          send(encodeRequest(geometry.pieceCount + 5, 0, 16384));
          send(encodeRequest(0, 0, 1 << 20));
          return;
        case 'push': {
          if (fast) send(encodeMessage({ type: 'have-none' }));
          const piece = Buffer.concat([encodePieceHeader(0, 0, 16384), randomBytes(16384)]);
          const batch = Buffer.concat(Array.from({ length: 16 }, () => piece));
          const pump = () => {
            while (!socket.destroyed) if (!send(batch)) return void socket.once('drain', pump);
          };
          pump();
          return;
        }
        case 'have-flood': {
          if (fast) send(encodeMessage({ type: 'have-none' }));
          // Batches of valid haves (all for piece 0, so it never looks like a seed that a
          // finished downloader would drop) and keep-alives, as fast as the socket takes them.
          const batch = Buffer.alloc(9 * 4096 + 4 * 64);
          let o = 0;
          for (let i = 0; i < 4096; i++) {
            batch.writeUInt32BE(5, o);
            batch[o + 4] = 4;
            batch.writeUInt32BE(0, o + 5);
            o += 9;
          }
          // the rest of the batch is zeros: keep-alives
          let sent = 0;
          const pump = () => {
            while (sent < floodHaves && !socket.destroyed) {
              sent += 4096;
              if (!send(batch)) return void socket.once('drain', pump);
            }
            if (!socket.destroyed) send(encodeMessage({ type: 'have', index: geometry.pieceCount }));
          };
          pump();
          return;
        }
      }
    };
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    kind,
    port,
    address: `127.0.0.1:${port}`,
    stats,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
