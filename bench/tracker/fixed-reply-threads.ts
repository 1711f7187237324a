// fixed-reply (see fixed-reply.ts) with its UDP side served by TWO threads on one port:
// the main thread binds the socket, then a worker thread wraps the SAME file descriptor
// with dgram's `bind({ fd })`. Both event loops poll the fd; whichever wakes first reads
// the datagrams, and both reply from the bound port. The HTTP side is unchanged (main only).
// Node 20 has no reusePort and worker threads cannot share handles; this is the one way
// found to put two JS threads on one UDP port in one process (measured: docs/bench-tracker.md).
// Caveats: the fd comes from dgram's internal state (the 'state symbol' -> handle.fd,
// Node 20 internals, not public API), and Node has no dup(): each handle closes the fd on
// close, so the second close hits a closed (or, in a busy process, reused) fd number.
// This server therefore never closes its UDP sockets; it exits the process on SIGTERM.
// Usage: node --import tsx bench/tracker/fixed-reply-threads.ts PORT
import dgram from 'node:dgram';
import http from 'node:http';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { httpBody, udpAnnounce, udpConnect } from './fixed-replies.js';


/** Answers every datagram on udp with the fixed replies (each thread has its own buffers). */
function serveUdp(udp: dgram.Socket, counter: { n: number }): void {
  udp.on('message', (msg, rinfo) => {
    if (msg.length < 16) return;
    counter.n++;
    const reply = msg.length === 16 ? udpConnect : udpAnnounce;
    msg.copy(reply, 4, 12, 16); // the transaction id; the send below copies the bytes out
    udp.send(reply, rinfo.port, rinfo.address);
  });
}

/** The OS file descriptor of a bound dgram socket, from Node 20's internal socket state. */
function fdOf(sock: dgram.Socket): number {
  const sym = Object.getOwnPropertySymbols(sock).find((s) => s.description === 'state symbol');
  const state = sym ? (sock as unknown as Record<symbol, { handle?: { fd?: unknown } }>)[sym] : undefined;
  const fd = state?.handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('no fd on the dgram socket (Node internals changed?)');
  return fd;
}

if (!isMainThread) {
  // Worker: wrap the main thread's fd. No sizes here: the buffers belong to the one socket.
  const counter = { n: 0 };
  const udp = dgram.createSocket('udp4');
  serveUdp(udp, counter);
  udp.bind({ fd: (workerData as { fd: number }).fd }, () => {
    parentPort!.postMessage({ ready: udp.address().port });
  });
  parentPort!.on('message', (m) => {
    if (m === 'count') parentPort!.postMessage({ count: counter.n });
  });
} else {
  const port = Number(process.argv[2]);
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': httpBody.length });
    res.end(httpBody);
  });
  server.keepAliveTimeout = 60_000;
  const mainCount = { n: 0 };
  const udp = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  serveUdp(udp, mainCount);
  let ready = 0;
  const onReady = (): void => {
    if (++ready === 3) process.stdout.write(`fixed-reply-threads listening on 127.0.0.1:${port}\n`);
  };
  let worker: Worker | null = null;
  server.listen(port, '127.0.0.1', onReady);
  udp.bind(port, '127.0.0.1', () => {
    onReady();
    // tsx's `--import tsx` does not reach worker threads on Node 20: the worker registers it.
    const boot = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    worker = new Worker(boot, { eval: true, workerData: { fd: fdOf(udp) } });
    worker.on('error', (e) => {
      process.stderr.write(`udp worker failed: ${e.message}\n`);
      process.exit(1);
    });
    worker.on('message', (m: { ready?: number; count?: number }) => {
      if (m.ready !== undefined) {
        if (m.ready !== port) throw new Error(`worker socket is on port ${m.ready}, not ${port}`);
        onReady();
      } else if (m.count !== undefined) {
        // Datagrams each thread answered: both must be above zero for the trick to be real.
        process.stderr.write(`fixed-reply-threads: main thread ${mainCount.n} datagrams, worker ${m.count}\n`);
        process.exit(0);
      }
    });
  });
  // Exit without closing either UDP socket (see the header: no double close of the fd).
  process.on('SIGTERM', () => {
    if (!worker) process.exit(0);
    worker.postMessage('count');
    setTimeout(() => process.exit(0), 500).unref();
  });
}
