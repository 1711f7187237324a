// Reading the 68-byte BEP 3 handshake from a socket, bounded in time and bytes. A listener
// uses it to learn which torrent an incoming peer wants before handing the socket over.
import type { Socket } from 'node:net';
import { isIPv4, isIPv6 } from 'node:net';
import { HANDSHAKE_LENGTH, WireError, checkHandshakePrefix, parseHandshake, type Handshake } from './wire/index.js';
import { PeerConnectionError } from './errors.js';

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface ReadHandshakeResult {
  handshake: Handshake;
  /** Bytes that came after the handshake in the same read (often the bitfield). */
  rest: Buffer;
}

/**
 * Waits for the peer's handshake. On success the socket is left paused, so nothing is lost
 * before a PeerConnection takes it over. On failure (timeout, close, not BitTorrent) the
 * socket is destroyed and the promise rejects with PeerConnectionError or WireError.
 */
export function readHandshake(socket: Socket, timeoutMs = DEFAULT_HANDSHAKE_TIMEOUT_MS): Promise<ReadHandshakeResult> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const done = (err: Error | null, result?: ReadHandshakeResult) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (err) {
        socket.destroy();
        reject(err);
      } else {
        socket.pause();
        resolve(result!);
      }
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      const buf = chunks.length === 1 ? chunk : Buffer.concat(chunks, have);
      try {
        checkHandshakePrefix(buf);
        if (have < HANDSHAKE_LENGTH) return;
        done(null, { handshake: parseHandshake(buf), rest: buf.subarray(HANDSHAKE_LENGTH) });
      } catch (e) {
        done(e instanceof WireError ? e : new WireError('WIRE_BAD_HANDSHAKE', String(e)));
      }
    };
    const onError = (e: Error) => done(new PeerConnectionError('PEER_CLOSED', `connection failed during the handshake: ${e.message}`, { cause: e }));
    const onClose = () => done(new PeerConnectionError('PEER_CLOSED', 'peer closed the connection during the handshake'));
    const timer = setTimeout(() => done(new PeerConnectionError('PEER_HANDSHAKE_TIMEOUT', `no handshake within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.resume();
  });
}

/** An address as the bytes BEP 10 `yourip` carries (4 for IPv4, IPv4-mapped included; 16 for IPv6). */
export function ipToBytes(address: string | undefined): Buffer | undefined {
  if (!address) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const v4 = mapped ? mapped[1]! : address;
  if (isIPv4(v4)) return Buffer.from(v4.split('.').map(Number));
  if (!isIPv6(address)) return undefined;
  const [head, tail] = address.split('::') as [string, string | undefined];
  const parse = (s: string | undefined) => (s ? s.split(':').map((h) => parseInt(h, 16)) : []);
  const a = parse(head);
  const b = parse(tail);
  const words = tail === undefined ? a : [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
  if (words.length !== 8 || words.some((w) => !(w >= 0 && w <= 0xffff))) return undefined;
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}
