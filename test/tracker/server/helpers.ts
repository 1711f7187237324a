// Test helpers for the tracker server: a tracker on 127.0.0.1 and a free port, raw HTTP
// GET/POST, a small BEP 15 client, and announce builders.
import { request } from 'node:http';
import { createSocket, type Socket } from 'node:dgram';
import { connect, type Socket as NetSocket } from 'node:net';
import {
  buildAnnounceQuery,
  decodeUdpReply,
  encodeUdpAnnounceRequest,
  encodeUdpConnectRequest,
  EVENT_NONE,
  type AnnounceRequest,
  type UdpReply,
} from '../../../src/tracker/protocol/index.js';
import { loadHttpBatch, loadUdpBatch, startTracker, type TrackerOptions, type TrackerServer } from '../../../src/tracker/server/index.js';

/** The HTTP I/O path withTracker uses unless a test names one: STA_TEST_HTTP_IO (set by
 *  http-io-node.test.ts, which runs the HTTP test files again on net.Server), else 'auto'
 *  (the native addon when built). */
export function defaultHttpIo(): 'auto' | 'batch' | 'node' {
  const v = process.env.STA_TEST_HTTP_IO;
  return v === 'node' || v === 'batch' ? v : 'auto';
}

export async function withTracker(o: TrackerOptions, fn: (t: TrackerServer) => Promise<void>): Promise<void> {
  const t = await startTracker({ host: '127.0.0.1', port: 0, httpIo: defaultHttpIo(), ...o });
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

/** A raw connection that collects everything the server sends and notes when it closes. */
export class Raw {
  data = Buffer.alloc(0);
  closed = false;
  private waiters: (() => void)[] = [];
  private constructor(readonly s: NetSocket) {
    s.on('data', (d: Buffer) => {
      this.data = Buffer.concat([this.data, d]);
      this.wake();
    });
    s.on('close', () => {
      this.closed = true;
      this.wake();
    });
    s.on('error', () => {});
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  static open(port: number): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(new Raw(s)));
      s.once('error', reject);
    });
  }
  write(b: string | Buffer): Promise<void> {
    return new Promise((r) => this.s.write(b, () => r()));
  }
  /** Waits until `pred` holds (bounded). */
  async until(pred: () => boolean, what: string, ms = 3000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.data.toString('latin1').slice(0, 300))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }
  /** Parses the responses received so far (Content-Length framed). */
  responses(): { status: number; headers: string; body: Buffer }[] {
    const out: { status: number; headers: string; body: Buffer }[] = [];
    let off = 0;
    for (;;) {
      const he = this.data.indexOf('\r\n\r\n', off);
      if (he < 0) break;
      const headers = this.data.toString('latin1', off, he);
      const len = Number(/content-length: (\d+)/i.exec(headers)?.[1] ?? 0);
      if (/transfer-encoding: chunked/i.test(headers)) {
        const end = this.data.indexOf('0\r\n\r\n', he + 4);
        if (end < 0) break;
        out.push({ status: Number(headers.slice(9, 12)), headers, body: Buffer.alloc(0) });
        off = end + 5;
        continue;
      }
      if (this.data.length < he + 4 + len) break;
      out.push({ status: Number(headers.slice(9, 12)), headers, body: this.data.subarray(he + 4, he + 4 + len) });
      off = he + 4 + len;
    }
    return out;
  }
  close(): void {
    this.s.destroy();
  }
}

export function req(path: string, headers = 'Host: t\r\n', version = '1.1'): string {
  return `GET ${path} HTTP/${version}\r\n${headers}\r\n`;
}

/** A test's skip option for the native HTTP path: false, or why it cannot run here. CI
 *  (STA_REQUIRE_INTEROP=1) requires the addon. */
export function httpBatchSkip(): false | string {
  if (process.env.STA_REQUIRE_INTEROP === '1') return false;
  const load = loadHttpBatch();
  return load.ok ? false : `native HTTP I/O not built: ${load.reason}`;
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
