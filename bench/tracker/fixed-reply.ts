// The runtime's own limit: an HTTP and a UDP server on one port that parse nothing and
// store nothing, answering every announce with the same 50-peer compact reply (and a UDP
// connect with a fixed connection id; the transaction id is copied so clients can match).
// Usage: node --import tsx bench/tracker/fixed-reply.ts PORT
import dgram from 'node:dgram';
import http from 'node:http';
import { httpBody, udpAnnounce, udpConnect } from './fixed-replies.js';

const port = Number(process.argv[2]);

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': httpBody.length });
  res.end(httpBody);
});
server.keepAliveTimeout = 60_000;
const udp = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
udp.on('message', (msg, rinfo) => {
  if (msg.length < 16) return;
  const reply = msg.length === 16 ? udpConnect : udpAnnounce;
  msg.copy(reply, 4, 12, 16); // the transaction id; the send below copies the bytes out
  udp.send(reply, rinfo.port, rinfo.address);
});
let ready = 0;
const onReady = (): void => {
  if (++ready === 2) process.stdout.write(`fixed-reply listening on 127.0.0.1:${port}\n`);
};
server.listen(port, '127.0.0.1', onReady);
udp.bind(port, '127.0.0.1', onReady);
process.on('SIGTERM', () => process.exit(0));
