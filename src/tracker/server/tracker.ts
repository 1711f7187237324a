// startTracker: binds one port number for HTTP and UDP (UDP first, then HTTP on the same
// number, retrying when port 0 gave a number whose TCP side is taken), opens the store,
// and closes all of it cleanly.
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { createServer } from 'node:http';
import type { Server } from 'node:net';
import { isIP, isIPv6 } from 'node:net';
import { availableParallelism } from 'node:os';
import { openStore, type PeerStore } from '../store/index.js';
import { collectStats } from './api.js';
import type { TrackerContext, TrackerStats } from './context.js';
import { TrackerServerError } from './errors.js';
import { createAnnounceCore, createHttpHandler, createScrapeCore, type AnnounceCore, type ScrapeCore } from './http.js';
import { createHttpFront, type HttpFront } from './http-front.js';
import { loadHttpBatch, startHttpBatch, type HttpBatchAddon, type HttpBatchServer } from './http-native.js';
import {
  HTTP_MAX_CONNECTIONS,
  resolveOptions,
  type ResolvedOptions,
  type TrackerOptions,
} from './options.js';
import { RateMeter } from './rates.js';
import { ConnectionIds } from './udp-connection-id.js';
import { createDgramUdpHandler, createUdpCore } from './udp.js';
import { startBatchReader, type BatchReader } from './udp-batch.js';
import { loadUdpBatch, type UdpBatchAddon } from './udp-native.js';
import { literalLookup } from './udp-lookup.js';
import { startUdpThreads, type UdpThreads } from './udp-threads.js';
import { loadWhitelist } from './whitelist.js';

export interface TrackerServer {
  /** The bound port number (HTTP and UDP). */
  readonly port: number;
  readonly host: string;
  /** http://HOST:PORT (a wildcard host shown as loopback). */
  readonly url: string;
  /** http://HOST:PORT/announce */
  readonly announceUrl: string;
  /** udp://HOST:PORT */
  readonly udpAnnounceUrl: string;
  readonly store: PeerStore;
  stats(): Promise<TrackerStats>;
  /** Threads reading the UDP socket (1 unless `udpThreads` asked for more and the store
   *  is synchronous). */
  readonly udpThreads: number;
  /** How UDP datagrams move: 'batch' (native addon), 'dgram', or 'none' (no UDP). */
  readonly udpIo: 'batch' | 'dgram' | 'none';
  /** How HTTP connections are accepted and read: 'batch' (native addon), 'node'
   *  (net.Server), or 'none' (no HTTP). */
  readonly httpIo: 'batch' | 'node' | 'none';
  /** Stops listening, ends connections, closes the store if the tracker opened it. With
   *  more than one UDP thread the UDP port stays bound until the process exits. */
  close(): Promise<void>;
}

const UDP_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/** Bind attempts when port 0 hands UDP a number whose TCP side is taken. */
const BIND_ATTEMPTS = 20;

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return isIPv6(host) ? `[${host}]` : host;
}

/** The tracker's UDP socket: a node:dgram socket, or one the batch addon made (an fd). */
type BoundUdp =
  | { io: 'dgram'; socket: Socket; port: number }
  | { io: 'batch'; addon: UdpBatchAddon; fd: number; port: number };

function closeBoundUdp(u: BoundUdp): void {
  if (u.io === 'dgram') u.socket.close();
  else u.addon.closeSocket(u.fd);
}

async function bindUdpAny(host: string, port: number, addon: UdpBatchAddon | undefined): Promise<BoundUdp> {
  if (!addon) {
    const socket = await bindUdp(host, port);
    return { io: 'dgram', socket, port: socket.address().port };
  }
  const [fd, bound] = addon.bindSocket(host, port, UDP_SOCKET_BUFFER_BYTES);
  return { io: 'batch', addon, fd, port: bound };
}

/** The batch addon when `udpIo` wants it and it loads (an IP literal host: the addon does
 *  not resolve names); undefined for node:dgram. */
function udpAddon(o: TrackerOptions, host: string): UdpBatchAddon | undefined {
  const want = o.udpIo ?? 'auto';
  if (want === 'dgram') return undefined;
  const load = loadUdpBatch();
  if (load.ok && isIP(host) !== 0) return load.addon;
  if (want === 'batch') throw new TrackerServerError('LISTEN_FAILED', `batched UDP I/O unavailable: ${load.ok ? `host ${host} is not an IP address` : load.reason}`, 1);
  return undefined;
}

/** The native HTTP addon when `httpIo` wants it, it loads, the host is an IP literal and
 *  the store answers synchronously (a reply is written during its batch); undefined for
 *  net.Server. */
function httpAddon(o: TrackerOptions, host: string, store: PeerStore): HttpBatchAddon | undefined {
  const want = o.httpIo ?? 'auto';
  if (want === 'node') return undefined;
  const load = loadHttpBatch();
  if (load.ok && isIP(host) !== 0 && store.kind === 'memory') return load.addon;
  if (want === 'batch') {
    const why = !load.ok ? load.reason : isIP(host) === 0 ? `host ${host} is not an IP address` : `the ${store.kind} store is asynchronous`;
    throw new TrackerServerError('LISTEN_FAILED', `native HTTP I/O unavailable: ${why}`, 1);
  }
  return undefined;
}

function httpAddonOrError(o: TrackerOptions, host: string, store: PeerStore): HttpBatchAddon | Error | undefined {
  try {
    return httpAddon(o, host, store);
  } catch (e) {
    return e as Error;
  }
}

function bindUdp(host: string, port: number): Promise<Socket> {
  // Big kernel buffers: a burst of announces queues instead of being dropped (each drop costs
  // a client a retransmit timeout of 15 s or more, BEP 15). The kernel caps them at
  // net.core.rmem_max / wmem_max.
  const socket = createSocket({
    type: isIPv6(host) ? 'udp6' : 'udp4',
    ipv6Only: false,
    recvBufferSize: UDP_SOCKET_BUFFER_BYTES,
    sendBufferSize: UDP_SOCKET_BUFFER_BYTES,
    lookup: literalLookup as never,
  });
  return new Promise((resolve, reject) => {
    socket.once('error', (e) => {
      socket.close();
      reject(e);
    });
    socket.bind(port, host, () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

function listenHttp(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen({ host, port, backlog: 4096 }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

async function bindBoth(
  o: ResolvedOptions,
  server: Server | undefined,
  wantUdp: boolean,
  addon: UdpBatchAddon | undefined,
  http: HttpBatchAddon | undefined,
): Promise<{ port: number; udp: BoundUdp | undefined; httpFd: number | undefined }> {
  for (let attempt = 0; ; attempt++) {
    let udp: BoundUdp | undefined;
    let port = o.port;
    try {
      if (wantUdp) {
        udp = await bindUdpAny(o.host, o.port, addon);
        port = udp.port;
      }
      let httpFd: number | undefined;
      if (server && http) {
        [httpFd, port] = http.listenSocket(o.host, port, 4096);
      } else if (server) {
        await listenHttp(server, o.host, port);
        port = (server.address() as { port: number }).port;
      }
      return { port, udp, httpFd };
    } catch (e) {
      if (udp) closeBoundUdp(udp);
      const code = (e as NodeJS.ErrnoException).code;
      if (o.port === 0 && code === 'EADDRINUSE' && attempt < BIND_ATTEMPTS) continue;
      throw new TrackerServerError('LISTEN_FAILED', `cannot listen on ${o.host}:${o.port}: ${(e as Error).message}`, 1, { cause: e });
    }
  }
}

export async function startTracker(options: TrackerOptions = {}): Promise<TrackerServer> {
  let opts: ResolvedOptions;
  try {
    opts = resolveOptions(options);
  } catch (e) {
    throw new TrackerServerError('BAD_OPTION', (e as Error).message);
  }
  const whitelist = options.whitelist === undefined ? undefined : await loadWhitelist(options.whitelist);
  const ownsStore = typeof options.store !== 'object';
  // One key for every UDP thread's connection ids.
  const udpSecret = options.udpSecret ?? randomBytes(16);
  const store =
    typeof options.store === 'object'
      ? options.store
      : await openStore(options.store, {
          limits: { peerTtlS: 2 * opts.intervalS, ...options.limits },
          ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
        });
  const ctx: TrackerContext = {
    opts,
    store,
    whitelist,
    connectionIds: new ConnectionIds(udpSecret),
    httpAnnounces: new RateMeter(),
    udpAnnounces: new RateMeter(),
    startedMs: opts.now(),
    counters: { scrapes: 0, errors: 0 },
    udpServed: options.udp !== false,
  };

  const wantHttp = options.http !== false;
  const wantUdp = options.udp !== false;
  let server: Server | undefined;
  let front: HttpFront | undefined;
  let httpServer: ReturnType<typeof createServer> | undefined;
  let httpCores: { announce: AnnounceCore; scrape: ScrapeCore } | undefined;
  if (wantHttp) {
    const announce = createAnnounceCore(ctx);
    const scrape = createScrapeCore(ctx);
    httpCores = { announce, scrape };
    // node:http answers what the lean front (http-front.ts) hands over: the API, the status
    // page, the catalogue, and any request the front does not parse itself.
    httpServer = createServer(
      {
        keepAliveTimeout: opts.httpKeepAliveMs,
        requestTimeout: opts.httpRequestTimeoutMs,
        headersTimeout: opts.httpRequestTimeoutMs,
        // Node's default 16 KiB header cap answers a 1 MB query string with 431 by itself.
        maxHeaderSize: 16 * 1024,
      },
      createHttpHandler(ctx, announce, scrape),
    );
    httpServer.maxHeadersCount = 64;
    // A client error (bad request line, oversized headers) closes that connection only.
    httpServer.on('clientError', (e: NodeJS.ErrnoException, socket) => {
      const status = e.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      else socket.destroy();
    });
    front = createHttpFront(ctx, httpServer, announce, scrape);
    server = front.server;
  }
  let bound: { port: number; udp: BoundUdp | undefined; httpFd: number | undefined };
  const nativeAddon = wantHttp ? httpAddonOrError(options, opts.host, store) : undefined;
  try {
    if (nativeAddon instanceof Error) throw nativeAddon;
    bound = await bindBoth(opts, server, wantUdp, wantUdp ? udpAddon(options, opts.host) : undefined, nativeAddon);
  } catch (e) {
    if (ownsStore) await store.close();
    throw e;
  }
  let nativeHttp: HttpBatchServer | undefined;
  if (wantHttp) ctx.httpIo = 'node';
  if (bound.httpFd !== undefined && nativeAddon && !(nativeAddon instanceof Error) && front) {
    const f = front;
    nativeHttp = startHttpBatch(nativeAddon, bound.httpFd, ctx, httpCores!.announce, httpCores!.scrape, (socket, head) => f.adopt(socket, head), HTTP_MAX_CONNECTIONS);
    const nh = nativeHttp;
    ctx.httpIo = 'batch';
    ctx.httpBatchStats = () => nh.stats();
  }
  const bu = bound.udp;
  const udp = bu?.io === 'dgram' ? bu.socket : undefined;
  let threads: UdpThreads | undefined;
  let batch: BatchReader | undefined;
  if (bu) ctx.udpIo = bu.io;
  if (bu?.io === 'batch') {
    const { addon, fd } = bu;
    // A reply that waited for the store goes out on its own (sendmmsg is per batch).
    const core = createUdpCore(ctx, (reply, src) => {
      if (addon.sendTo(fd, reply, src) !== 0) ctx.counters.errors++;
    });
    batch = startBatchReader(addon, fd, core.serve, () => threads?.afterMainPacket());
    const reader = batch;
    ctx.udpBatchStats = () => reader.stats();
    const want = options.udpThreads === 'auto' ? 1 : (options.udpThreads ?? 1);
    if (want > 1 && store.kind === 'memory') {
      try {
        threads = await startUdpThreads({ io: 'batch', addon, fd }, core, udpSecret, want - 1);
        if (threads) ctx.udpThreads = threads;
      } catch (e) {
        batch.close();
        nativeHttp?.close();
        server?.close();
        setImmediate(() => addon.closeSocket(fd));
        if (ownsStore) await store.close();
        throw new TrackerServerError('LISTEN_FAILED', `cannot start UDP threads: ${(e as Error).message}`, 1, { cause: e });
      }
    }
  }
  if (udp) {
    const handler = createDgramUdpHandler(ctx, udp, udp.address().family === 'IPv6' ? 'udp6' : 'udp4');
    udp.on('message', (msg, rinfo) => {
      handler(msg, rinfo);
      threads?.afterMainPacket();
    });
    udp.on('error', () => {
      ctx.counters.errors++;
    });
    // More threads on the one UDP port: only over a synchronous store (udp-threads.ts).
    const want = options.udpThreads === 'auto' ? Math.min(2, availableParallelism()) : (options.udpThreads ?? 1);
    if (want > 1 && store.kind === 'memory') {
      try {
        threads = await startUdpThreads({ io: 'dgram', socket: udp }, handler.core, udpSecret, want - 1);
        if (threads) ctx.udpThreads = threads;
      } catch (e) {
        udp.close();
        nativeHttp?.close();
        server?.close();
        if (ownsStore) await store.close();
        throw new TrackerServerError('LISTEN_FAILED', `cannot start UDP threads: ${(e as Error).message}`, 1, { cause: e });
      }
    }
  }
  const timer = setInterval(() => {
    const now = opts.now();
    ctx.httpAnnounces.sample(now);
    ctx.udpAnnounces.sample(now);
  }, 1000);
  timer.unref();

  const base = `http://${urlHost(opts.host)}:${bound.port}`;
  let closing: Promise<void> | undefined;
  return {
    port: bound.port,
    host: opts.host,
    url: base,
    announceUrl: `${base}/announce`,
    udpAnnounceUrl: `udp://${urlHost(opts.host)}:${bound.port}`,
    store,
    udpThreads: bu ? (threads?.count ?? 1) : 0,
    udpIo: bu ? bu.io : 'none',
    httpIo: ctx.httpIo ?? 'none',
    stats: () => collectStats(ctx),
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        // The native server closes its listening socket and connections at once.
        nativeHttp?.close();
        const httpClosed = server
          ? new Promise<void>((resolve) => {
              server.close(() => resolve());
              front?.closeAll();
              // It never listened: this only stops its timeout timer.
              httpServer?.close(() => {});
              httpServer?.closeAllConnections();
            })
          : Promise.resolve();
        // A socket other threads read too is not closed (its fd would be closed twice):
        // those threads stop, and the port is released when the process exits.
        const udpClosed = !bu
          ? Promise.resolve()
          : bu.io === 'batch'
            ? (threads ? threads.stop() : Promise.resolve()).then(
                () =>
                  new Promise<void>((resolve) => {
                    // Every worker's poller is closed; the main thread's handle closes on
                    // the next loop turn, the fd after it: the port is free when this
                    // resolves.
                    batch?.close();
                    setImmediate(() => {
                      bu.addon.closeSocket(bu.fd);
                      resolve();
                    });
                  }),
              )
            : !udp
              ? Promise.resolve()
              : threads
            ? threads.stop().then(() => {
                udp.removeAllListeners('message');
                udp.unref();
              })
            : new Promise<void>((resolve) => udp.close(() => resolve()));
        await Promise.all([httpClosed, udpClosed]);
        if (ownsStore) await store.close();
      })();
      return closing;
    },
  };
}
