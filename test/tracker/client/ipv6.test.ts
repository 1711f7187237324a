// The client over IPv6 loopback: a udp://[::1] tracker answers in BEP 15's IPv6 format
// (18-byte peers), and an http://[::1] tracker is reached. Skipped when ::1 is unavailable.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { encode } from '../../../src/bencode/index.js';
import { announce } from '../../../src/tracker/client/index.js';
import { params } from './fakes.js';

async function udp6(): Promise<dgram.Socket | undefined> {
  const s = dgram.createSocket('udp6');
  return new Promise((resolve) => {
    s.once('error', () => resolve(undefined));
    s.bind(0, '::1', () => resolve(s));
  });
}

const peer6 = Buffer.concat([Buffer.from('20010db8000000000000000000000042', 'hex'), Buffer.from([0x1a, 0xe1])]);

test('udp over IPv6: peers come in the 18-byte format', async (t) => {
  const s = await udp6();
  if (!s) return t.skip('no IPv6 loopback');
  s.on('message', (msg, from) => {
    const action = msg.readUInt32BE(8);
    const tid = msg.readUInt32BE(12);
    const r = Buffer.alloc(action === 0 ? 16 : 20 + 18);
    r.writeUInt32BE(action, 0);
    r.writeUInt32BE(tid, 4);
    if (action === 1) {
      r.writeUInt32BE(600, 8);
      peer6.copy(r, 20);
    }
    s.send(r, from.port, from.address);
  });
  try {
    const res = await announce(`udp://[::1]:${s.address().port}/announce`, params, { timeoutMs: 2000 });
    assert.deepEqual(res.peers, [{ ip: '2001:db8::42', port: 6881 }]);
    assert.equal(res.intervalS, 600);
  } finally {
    s.close();
  }
});

test('http over IPv6: an http://[::1] tracker is reached and its peers6 read', async (t) => {
  const server = http.createServer((_q, res) => res.end(encode({ interval: 60, peers: Buffer.alloc(0), peers6: peer6 })));
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => resolve(true));
  });
  if (!ok) return t.skip('no IPv6 loopback');
  try {
    const res = await announce(`http://[::1]:${(server.address() as AddressInfo).port}/announce`, params, { timeoutMs: 2000 });
    assert.deepEqual(res.peers, [{ ip: '2001:db8::42', port: 6881 }]);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
