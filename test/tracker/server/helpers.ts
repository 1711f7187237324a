// Test helpers for the tracker server: a tracker on 127.0.0.1 and a free port, raw HTTP
// GET/POST, a small BEP 15 client, and announce builders.
import { request } from 'node:http';
import { createSocket, type Socket } from 'node:dgram';
import {
  buildAnnounceQuery,
  decodeUdpReply,
  encodeUdpAnnounceRequest,
  encodeUdpConnectRequest,
  EVENT_NONE,
  type AnnounceRequest,
  type UdpReply,
} from '../../../src/tracker/protocol/index.js';
import { loadUdpBatch, startTracker, type TrackerOptions, type TrackerServer } from '../../../src/tracker/server/index.js';

export async function withTracker(o: TrackerOptions, fn: (t: TrackerServer) => Promise<void>): Promise<void> {
  const t = await startTracker({ host: '127.0.0.1', port: 0, ...o });
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw request: the path is sent exactly as given (no URL normalization). */
export function httpRequest(port: number, method: string, path: string, body?: Uint8Array, headers: Record<string, string> = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

export function get(port: number, path: string, headers: Record<string, string> = {}): Promise<HttpReply> {
  return httpRequest(port, 'GET', path, undefined, headers);
}

export function peerIdOf(n: number): Buffer {
  return Buffer.from(`-ST0001-${String(n).padStart(12, '0')}`, 'latin1');
}

export function announceReq(infoHash: Buffer, n: number, o: Partial<AnnounceRequest> = {}): AnnounceRequest {
  return {
    infoHash,
    peerId: peerIdOf(n),
    port: 10000 + n,
    uploaded: 0,
    downloaded: 0,
    left: 100,
    event: EVENT_NONE,
    numwant: -1,
    compact: true,
    noPeerId: false,
    ...o,
  };
}

export function announcePath(r: AnnounceRequest): string {
  return `/announce?${buildAnnounceQuery(r)}`;
}

/** A BEP 15 client bound to 127.0.0.1 (one socket, one request at a time). */
export class UdpClient {
  private constructor(readonly socket: Socket, readonly port: number) {}

  static async open(port: number): Promise<UdpClient> {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    return new UdpClient(s, port);
  }

  /** Sends a packet and waits for one reply, or undefined after `timeoutMs`. */
  exchange(packet: Buffer, timeoutMs = 1000): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const onMsg = (m: Buffer) => {
        clearTimeout(timer);
        this.socket.off('message', onMsg);
        resolve(m);
      };
      const timer = setTimeout(() => {
        this.socket.off('message', onMsg);
        resolve(undefined);
      }, timeoutMs);
      this.socket.on('message', onMsg);
      this.socket.send(packet, this.port, '127.0.0.1');
    });
  }

  async request(packet: Buffer, timeoutMs = 1000): Promise<UdpReply> {
    const r = await this.exchange(packet, timeoutMs);
    if (!r) throw new Error('no UDP reply');
    return decodeUdpReply(r, 6);
  }

  async connect(): Promise<Buffer> {
    const r = await this.request(encodeUdpConnectRequest(0x1234));
    if (r.action !== 0) throw new Error(`connect got action ${r.action}`);
    return r.connectionId;
  }

  async announce(req: AnnounceRequest): Promise<UdpReply> {
    const cid = await this.connect();
    return this.request(encodeUdpAnnounceRequest(cid, 0x5678, req));
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

/** The UDP I/O paths every UDP test runs on: node:dgram, and the batch addon
 *  (native/udp-batch.c) when it is built. CI (STA_REQUIRE_INTEROP=1) requires the addon. */
export const UDP_IOS = ['dgram', 'batch'] as const;
export type UdpIo = (typeof UDP_IOS)[number];

/** A test's skip option for an I/O path: false, or why it cannot run here. */
export function udpIoSkip(io: UdpIo): false | string {
  if (io === 'dgram' || process.env.STA_REQUIRE_INTEROP === '1') return false;
  const load = loadUdpBatch();
  return load.ok ? false : `batched UDP I/O not built: ${load.reason}`;
}
