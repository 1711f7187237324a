// A UDP reader thread of a tracker (udp-threads.ts): it polls the tracker's own UDP socket
// (the same file descriptor as the main thread's), answers connects and bad connection ids
// itself, and queues verified announces and scrapes for the thread that owns the swarm
// store. Everything it needs comes in workerData; it touches no store and no file. It reads
// through node:dgram, or in batches through the native addon (udp-batch.ts) when the
// tracker's socket is the addon's.
import { createSocket, type SocketType } from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import { compactPeer } from '../protocol/index.js';
import { startBatchReader, type BatchReader } from './udp-batch.js';
import { ConnectionIds } from './udp-connection-id.js';
import { literalLookup } from './udp-lookup.js';
import { loadUdpBatch } from './udp-native.js';
import { UdpRingWriter } from './udp-ring.js';
import { GATE_VERIFIED, MAX_UDP_REPLY, udpGate } from './udp.js';

export interface UdpWorkerData {
  fd: number;
  /** The socket's type for node:dgram, or 'batch' for the addon's poller. */
  type: SocketType | 'batch';
  secret: Uint8Array;
  ring: SharedArrayBuffer;
}

const data = workerData as UdpWorkerData;
const ids = new ConnectionIds(data.secret);
const ring = new UdpRingWriter(data.ring);
let stopped = false;
let onStop = (): void => {};

if (data.type === 'batch') {
  const load = loadUdpBatch();
  if (!load.ok) throw new Error(`UDP thread: ${load.reason}`);
  const reader: BatchReader = startBatchReader(load.addon, data.fd, (msg, len, src, out, off) => {
    try {
      const n = udpGate(ids, Date.now(), msg, len, src, out, off);
      if (n !== GATE_VERIFIED) return n;
      // No address text: the main thread replies to `src` itself.
      ring.push(msg.subarray(0, len), src, '', 0);
    } catch {
      // a malformed packet: dropped, as on the main thread
    }
    return 0;
  });
  onStop = () => reader.close();
  parentPort!.postMessage('ready');
} else {
  const socket = createSocket({ type: data.type, lookup: literalLookup as never });
  const scratch = Buffer.allocUnsafe(MAX_UDP_REPLY);
  socket.on('message', (msg, rinfo) => {
    if (stopped) return;
    try {
      const src = compactPeer(rinfo.address, rinfo.port);
      if (!src) return;
      const n = udpGate(ids, Date.now(), msg, msg.length, src, scratch, 0);
      if (n === GATE_VERIFIED) ring.push(msg, src, rinfo.address, rinfo.port);
      // A copy: libuv may queue the send with a pointer to its bytes.
      else if (n > 0) socket.send(Buffer.from(scratch.subarray(0, n)), rinfo.port, rinfo.address);
    } catch {
      // a malformed packet: dropped, as on the main thread
    }
  });
  // Send errors (an unreachable client) are the client's problem, as on the main thread.
  socket.on('error', () => {});
  socket.bind({ fd: data.fd }, () => parentPort!.postMessage('ready'));
}
parentPort!.on('message', (m) => {
  if (m !== 'stop') return;
  // A dgram socket is neither closed nor unref'd: its file descriptor is the main thread's
  // too, and a thread whose loop runs dry exits and closes its handles (udp-threads.ts); the
  // thread idles until the process exits, and the main thread unrefs it. A batch poller
  // closes without closing the fd.
  stopped = true;
  onStop();
  parentPort!.postMessage('stopped');
});
