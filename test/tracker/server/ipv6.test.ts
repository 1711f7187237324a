// Dual stack on `--host ::`: IPv6 and IPv4 clients on one port; UDP replies in the format
// of the request's family (BEP 15), HTTP replies with `peers6` (BEP 7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import {
  ACTION_ANNOUNCE,
  buildAnnounceQuery,
  decodeAnnounceReply,
  decodeUdpReply,
  encodeUdpAnnounceRequest,
  encodeUdpConnectRequest,
} from '../../../src/tracker/protocol/index.js';
import { announceReq, UDP_IOS, udpIoSkip, withTracker } from './helpers.js';

const H = Buffer.alloc(20, 0x66);
const hasV6Loopback = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === '::1'));

async function udpAnnounce(port: number, host: string, n: number): Promise<{ peers: { ip: string; port: number }[] }> {
  const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  try {
    const ask = (b: Buffer) =>
      new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no UDP reply')), 2000);
        s.once('message', (m) => {
          clearTimeout(timer);
          resolve(m);
        });
        s.send(b, port, host);
      });
    const c = decodeUdpReply(await ask(encodeUdpConnectRequest(1)));
    assert.ok(c.action === 0);
    const a = decodeUdpReply(await ask(encodeUdpAnnounceRequest(c.connectionId, 2, announceReq(H, n))), host.includes(':') ? 18 : 6);
    assert.ok(a.action === ACTION_ANNOUNCE);
    return a;
  } finally {
    s.close();
  }
}

for (const [udpIo, udpThreads] of UDP_IOS.flatMap((io) => [[io, 1], [io, 2]] as const)) {
  test(`[${udpIo}] dual stack, ${udpThreads} UDP thread(s): UDP replies follow the request family, HTTP lists both`, { skip: hasV6Loopback || process.env.STA_REQUIRE_INTEROP === '1' ? udpIoSkip(udpIo) : 'no IPv6 loopback here' }, () =>
    withTracker({ host: '::', udpThreads, udpIo }, async (t) => {
      assert.equal(t.udpIo, udpIo);
      assert.equal(t.udpThreads, udpThreads);
      assert.equal(t.udpAnnounceUrl, `udp://[::1]:${t.port}`);
      // Repeated, so that with two threads both read IPv4 and IPv6 datagrams (a re-announce
      // changes nothing in the swarm).
      for (let i = 0; i < (udpThreads > 1 ? 20 : 1); i++) {
        await udpAnnounce(t.port, '::1', 1);
        await udpAnnounce(t.port, '127.0.0.1', 2);
      }
      // An IPv4 client is handed only the IPv4 peer, an IPv6 client only the IPv6 one.
      assert.deepEqual((await udpAnnounce(t.port, '127.0.0.1', 3)).peers, [{ ip: '127.0.0.1', port: 10002 }]);
      assert.deepEqual((await udpAnnounce(t.port, '::1', 4)).peers.map((p) => `${p.ip}:${p.port}`).sort(), ['::1:10001']);
      const r = await fetch(`http://[::1]:${t.port}/announce?${buildAnnounceQuery(announceReq(H, 5))}`);
      const peers = decodeAnnounceReply(Buffer.from(await r.arrayBuffer())).peers.map((p) => `${p.ip}:${p.port}`);
      assert.deepEqual(peers.sort(), ['127.0.0.1:10002', '127.0.0.1:10003', '::1:10001', '::1:10004'].sort());
    }),
  );
}
