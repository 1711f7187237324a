// More than one thread reading the tracker's one UDP port (BEP 15 traffic is many tiny
// datagrams, and one Node event loop spends most of each on the runtime's per-datagram
// cost: syscalls, buffers, callbacks). Node 20's dgram has no SO_REUSEPORT and worker
// threads cannot share handles, so: the main thread binds the socket, and each worker
// wraps the SAME file descriptor (`bind({ fd })`). Every loop polls that one kernel
// socket; a datagram goes to whichever thread reads first, and all reply from the bound
// port. Workers answer connects and bad connection ids themselves (the ids are a MAC with
// a shared key: no state) and queue verified announces and scrapes through a
// SharedArrayBuffer ring (udp-ring.ts) to the main thread, which owns the swarm store, so
// the store needs no locks. Only a synchronous store (memory) is served this way: ring
// records are valid only during the synchronous handling.
//
// The file descriptor: Node has no dup(), and every dgram handle closes its fd when closed,
// so two handles on one fd would close it twice, and the second close could hit a number
// the process has reused meanwhile (a worker thread also closes its handles when its loop
// runs dry and it exits). So a threaded UDP socket is never closed by close(): the
// threads stop answering and idle, unref'd, until the process exits, which releases the
// port (`sta tracker` exits right after close()). A process that starts and closes many
// threaded trackers keeps one idle thread per extra UDP thread of each. The fd is read from dgram's
// internal state (Node 20: the socket's `state symbol` -> handle.fd); when that is not
// there the tracker runs its UDP on one thread, as before.
//
// With batched I/O (udp-batch.ts) the socket is the addon's: each worker opens its own
// poller on the fd (a uv_poll on its own loop; the loser of a wakeup gets EAGAIN), and the
// main thread replies to queued packets with the addon's sendTo. Pollers close without
// closing the fd, so stop() closes the workers' pollers, then the owner closes the fd and
// the port is released at once.
import type { Socket } from 'node:dgram';
import type { UdpBatchAddon } from './udp-native.js';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../util/worker.js';
import { MAX_UDP_REPLY, type UdpCore } from './udp.js';
import { createUdpRing, UdpRingReader } from './udp-ring.js';
import type { UdpWorkerData } from './udp-worker.js';

/** Most UDP threads (the main thread included). */
export const MAX_UDP_THREADS = 8;

/** The OS file descriptor of a bound dgram socket, from Node's internal socket state, or
 *  undefined when this Node does not expose it. */
export function socketFd(socket: Socket): number | undefined {
  const sym = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = sym ? (socket as unknown as Record<symbol, { handle?: { fd?: unknown } } | undefined>)[sym] : undefined;
  const fd = state?.handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

function startWorker(data: UdpWorkerData): Worker {
  return startModuleWorker(import.meta.url, 'udp-worker', { workerData: data });
}

export interface UdpThreads {
  /** Threads reading the socket, the main thread included. */
  readonly count: number;
  /** Called by the main thread after each datagram it reads itself: drains the workers'
   *  queues while it is awake anyway, so they need not wake it. */
  afterMainPacket(): void;
  /** Verified packets the workers queued to the main thread and it handled. */
  forwarded(): number;
  /** Packets dropped because the main thread fell behind (a full ring). */
  dropped(): number;
  /** Stops the workers answering and unrefs everything. dgram: the fd stays open until
   *  exit; batch: the workers' pollers are closed (the owner may close the fd) and the
   *  workers end. */
  stop(): Promise<void>;
}

/**
 * Starts `extra` worker threads on `socket` (bound, with the main thread's handler over
 * `core` already on its 'message' event). Resolves when every worker polls the socket; undefined when the fd is
 * not reachable (then nothing was started).
 */
export type UdpThreadsSocket = { io: 'dgram'; socket: Socket } | { io: 'batch'; addon: UdpBatchAddon; fd: number };

export async function startUdpThreads(on: UdpThreadsSocket, core: UdpCore, secret: Uint8Array, extra: number): Promise<UdpThreads | undefined> {
  const fd = on.io === 'dgram' ? socketFd(on.socket) : on.fd;
  if (fd === undefined || extra < 1) return undefined;
  const type = on.io === 'batch' ? 'batch' : on.socket.address().family === 'IPv6' ? 'udp6' : 'udp4';
  const workers: { worker: Worker; reader: UdpRingReader }[] = [];
  // The store's half of each queued packet. dgram: the reply is copied out of the scratch
  // buffer (a send libuv queues keeps a pointer to its bytes); the addon's sendTo is done
  // with the bytes when it returns.
  const scratch = Buffer.allocUnsafe(MAX_UDP_REPLY);
  const drain =
    on.io === 'dgram'
      ? (msg: Buffer, src: Buffer, address: string, port: number): void => {
          const n = core.verified(msg, msg.length, src, scratch, 0);
          if (n > 0) on.socket.send(Buffer.from(scratch.subarray(0, n)), port, address);
        }
      : (msg: Buffer, src: Buffer): void => {
          const n = core.verified(msg, msg.length, src, scratch, 0);
          if (n > 0) on.addon.sendTo(on.fd, scratch.subarray(0, n), src);
        };
  try {
    for (let i = 0; i < Math.min(extra, MAX_UDP_THREADS - 1); i++) {
      const ring = createUdpRing();
      const worker = startWorker({ fd, type, secret, ring: ring.sab });
      const reader = new UdpRingReader(ring.sab);
      workers.push({ worker, reader });
      await new Promise<void>((resolve, reject) => {
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`UDP thread exited (${code}) before it started`)));
        worker.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(`UDP thread said ${String(m)}`))));
      });
      worker.removeAllListeners('exit');
      worker.removeAllListeners('error');
      // A worker that dies leaves the others (and the main thread) serving.
      worker.on('error', () => {});
      reader.run(drain);
    }
  } catch (e) {
    // Not terminated: a worker that bound the fd would close it on exit. Stopped, like
    // stop() below (one that already exited holds nothing).
    for (const w of workers) {
      w.reader.stop();
      w.worker.postMessage('stop');
      w.worker.unref();
    }
    throw e;
  }
  // While the main thread reads datagrams itself it is awake: it marks the rings busy
  // (the workers skip their wake-ups), drains them after each datagram, and once the
  // loop's poll phase is over (setImmediate runs right after it) marks them idle again.
  let idleScheduled = false;
  const goIdle = (): void => {
    idleScheduled = false;
    for (const w of workers) w.reader.idle(drain);
  };
  return {
    count: workers.length + 1,
    afterMainPacket() {
      for (const w of workers) {
        if (!idleScheduled) w.reader.busy();
        if (w.reader.pending) w.reader.drain(drain);
      }
      if (!idleScheduled) {
        idleScheduled = true;
        setImmediate(goIdle);
      }
    },
    forwarded: () => workers.reduce((n, w) => n + w.reader.drained, 0),
    dropped: () => workers.reduce((n, w) => n + w.reader.dropped, 0),
    async stop() {
      await Promise.all(
        workers.map(
          ({ worker, reader }) =>
            new Promise<void>((resolve) => {
              reader.stop();
              const t = setTimeout(resolve, 2000);
              worker.once('message', () => {
                clearTimeout(t);
                resolve();
              });
              worker.postMessage('stop');
            }),
        ),
      );
      for (const { worker } of workers) {
        worker.unref();
        // A batch worker holds nothing of the socket once its poller is closed.
        if (on.io === 'batch') void worker.terminate();
      }
    },
  };
}
