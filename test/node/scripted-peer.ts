// A scripted peer for node tests: raw TCP, speaks the handshake and whatever messages the
// test sends, and records every message it receives with the time it arrived. It either
// dials a node (an "incoming" peer for the node) or listens and waits to be dialled (a
// peer the node dialled, as a seeder dials a Transmission leecher).
import { connect, createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { FrameParser, HANDSHAKE_LENGTH, encodeHandshake, encodeMessage, parseHandshake, type TorrentGeometry, type WireMessage } from '../../src/peer/wire/index.js';

export interface Received {
  at: number;
  m: WireMessage;
}

export interface ScriptedPeer {
  /** Messages received, in order (piece blocks are copied). */
  readonly received: Received[];
  /** When the remote handshake arrived (performance.now()). */
  handshakeAt: number;
  send(m: WireMessage): number;
  /** Resolves with the first received message matching `pred` after index `from`. */
  waitFor(pred: (m: WireMessage) => boolean, ms: number, from?: number): Promise<Received>;
  close(): void;
  readonly socket: Socket;
}

export interface ScriptOptions {
  infoHash: Buffer;
  geometry: TorrentGeometry;
  /** BEP 6 bit in our handshake (default true). */
  fast?: boolean;
  /** What to send right after the handshake (default: have-none with BEP 6). */
  hello?: WireMessage[];
  /** Send `hello` in the same write as our handshake, before the remote's arrives (so
   *  it reaches the remote in the same read as the handshake). */
  eager?: boolean;
}

function drive(socket: Socket, opts: ScriptOptions, onReady: (p: ScriptedPeer) => void): void {
  const received: Received[] = [];
  const waiters: { pred: (m: WireMessage) => boolean; from: number; resolve: (r: Received) => void }[] = [];
  const parser = new FrameParser({ geometry: opts.geometry });
  let head: Buffer | null = Buffer.alloc(0);
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  const peer: ScriptedPeer = {
    received,
    handshakeAt: 0,
    socket,
    send(m) {
      if (!socket.destroyed) socket.write(encodeMessage(m));
      return performance.now();
    },
    waitFor(pred, ms, from = 0) {
      for (let i = from; i < received.length; i++) if (pred(received[i]!.m)) return Promise.resolve(received[i]!);
      return new Promise((resolve, reject) => {
        const w = { pred, from, resolve: (r: Received) => (clearTimeout(timer), resolve(r)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no matching message in ${ms} ms; got ${received.map((r) => r.m.type).join(', ')}`));
        }, ms);
        waiters.push(w);
      });
    },
    close() {
      socket.destroy();
    },
  };
  const fast = opts.fast ?? true;
  const hello = opts.hello ?? (fast ? [{ type: 'have-none' } as const] : []);
  const hs = encodeHandshake({ infoHash: opts.infoHash, peerId: Buffer.concat([Buffer.from('-SC0001-'), randomBytes(12)]), extensions: { fast, extended: false } });
  socket.write(opts.eager ? Buffer.concat([hs, ...hello.map((m) => encodeMessage(m))]) : hs);
  socket.on('data', (chunk: Buffer) => {
    const at = performance.now();
    if (head) {
      head = Buffer.concat([head, chunk]);
      if (head.length < HANDSHAKE_LENGTH) return;
      parseHandshake(head.subarray(0, HANDSHAKE_LENGTH));
      peer.handshakeAt = at;
      chunk = head.subarray(HANDSHAKE_LENGTH);
      head = null;
      if (!opts.eager) for (const m of hello) peer.send(m);
      onReady(peer);
    }
    parser.push(chunk);
    try {
      for (let m = parser.next(); m; m = parser.next()) {
        const kept: WireMessage = m.type === 'piece' ? { ...m, block: Buffer.from(m.block) } : m.type === 'bitfield' ? { ...m, bytes: Buffer.from(m.bytes) } : m;
        const r = { at, m: kept };
        received.push(r);
        for (const w of [...waiters]) {
          if (received.length - 1 >= w.from && w.pred(kept)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(r);
          }
        }
      }
    } catch {
      socket.destroy();
    }
  });
}

/** Dials host:port and handshakes; resolves once the node's handshake arrived. */
export function dialScripted(port: number, opts: ScriptOptions, ms = 5000): Promise<ScriptedPeer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => (socket.destroy(), reject(new Error('no handshake from the node'))), ms);
    socket.once('error', (e) => (clearTimeout(timer), reject(e)));
    socket.once('connect', () =>
      drive(socket, opts, (p) => {
        clearTimeout(timer);
        resolve(p);
      }),
    );
  });
}

/** Listens on 127.0.0.1 for the node to dial; `accepted` resolves with the first peer. */
export async function listenScripted(opts: ScriptOptions): Promise<{ port: number; server: Server; accepted: Promise<ScriptedPeer> }> {
  let done: (p: ScriptedPeer) => void = () => undefined;
  const accepted = new Promise<ScriptedPeer>((r) => (done = r));
  const server = createServer((socket) => drive(socket, opts, done));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, server, accepted };
}
