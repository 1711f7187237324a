// A UDP reader thread of a tracker (udp-threads.ts): it polls the tracker's own UDP socket
// (the same file descriptor as the main thread's), answers connects and bad connection ids
// itself, and queues verified announces and scrapes for the thread that owns the swarm
// store. Everything it needs comes in workerData; it touches no store and no file.
import { createSocket, type SocketType } from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import { ConnectionIds } from './udp-connection-id.js';
import { literalLookup } from './udp-lookup.js';
import { UdpRingWriter } from './udp-ring.js';
import { udpGate, type UdpSend } from './udp.js';

export interface UdpWorkerData {
  fd: number;
  type: SocketType;
  secret: Uint8Array;
  ring: SharedArrayBuffer;
}

const data = workerData as UdpWorkerData;
const ids = new ConnectionIds(data.secret);
const ring = new UdpRingWriter(data.ring);
const socket = createSocket({ type: data.type, lookup: literalLookup as never });
const send: UdpSend = (buf, port, address) => socket.send(buf, port, address);
let stopped = false;

socket.on('message', (msg, rinfo) => {
  if (stopped) return;
  try {
    const src = udpGate(ids, Date.now(), msg, rinfo.address, rinfo.port, send);
    if (src) ring.push(msg, src, rinfo.address, rinfo.port);
  } catch {
    // a malformed packet: dropped, as on the main thread
  }
});
// Send errors (an unreachable client) are the client's problem, as on the main thread.
socket.on('error', () => {});
socket.bind({ fd: data.fd }, () => parentPort!.postMessage('ready'));
parentPort!.on('message', (m) => {
  if (m !== 'stop') return;
  // The socket is neither closed nor unref'd: its file descriptor is the main thread's too,
  // and a thread whose loop runs dry exits and closes its handles (udp-threads.ts). The
  // thread idles until the process exits; the main thread unrefs it.
  stopped = true;
  parentPort!.postMessage('stopped');
});
