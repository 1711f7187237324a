// Hand-written fake trackers on 127.0.0.1 for the client's error paths: an HTTP server whose
// handler the test writes, and a UDP socket whose replies the test scripts.
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeHttp {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

export async function fakeHttp(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<FakeHttp> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/announce`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface FakeUdp {
  url: string;
  port: number;
  received: Buffer[];
  send(b: Buffer, to: dgram.RemoteInfo): void;
  close(): Promise<void>;
}

/** `reply` gets each packet and its sender; it may answer with fake.send, or not. */
export async function fakeUdp(reply: (msg: Buffer, from: dgram.RemoteInfo, fake: FakeUdp) => void): Promise<FakeUdp> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const port = sock.address().port;
  const fake: FakeUdp = {
    url: `udp://127.0.0.1:${port}`,
    port,
    received: [],
    send: (b, to) => sock.send(b, to.port, to.address),
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
  sock.on('message', (msg, from) => {
    fake.received.push(msg);
    reply(msg, from, fake);
  });
  return fake;
}

export function connectReply(tid: number, id = Buffer.from('0123456789abcdef', 'hex')): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(0, 0);
  b.writeUInt32BE(tid, 4);
  id.copy(b, 8);
  return b;
}

export function announceReply(tid: number, peers: Buffer, intervalS = 1800): Buffer {
  const b = Buffer.alloc(20 + peers.length);
  b.writeUInt32BE(1, 0);
  b.writeUInt32BE(tid, 4);
  b.writeUInt32BE(intervalS, 8);
  b.writeUInt32BE(3, 12);
  b.writeUInt32BE(2, 16);
  peers.copy(b, 20);
  return b;
}

export function errorReply(tid: number, message: string): Buffer {
  const m = Buffer.from(message);
  const b = Buffer.alloc(8 + m.length);
  b.writeUInt32BE(3, 0);
  b.writeUInt32BE(tid, 4);
  m.copy(b, 8);
  return b;
}

export const params = {
  infoHash: Buffer.alloc(20, 7),
  peerId: Buffer.from('-ST0001-abcdefghijkl'),
  port: 6881,
  uploaded: 0,
  downloaded: 0,
  left: 100,
  key: 0x1234abcd,
};
