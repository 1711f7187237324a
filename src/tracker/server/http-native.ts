// The native HTTP path (native/http-batch.c, built by scripts/build-native.mjs into
// dist/native/http-batch.node): the addon owns the listening socket and the keep-alive and
// Connection: close connections of announces and scrapes; each wakeup brings every complete
// request head it read in one call here. Each head goes through the lean front's parser
// (http-front.ts parseRequest) and the shared cores (http.ts); the reply bytes go back to
// the addon, which writes them (and closes when the request asked to). A head the front
// would hand over (the API, the status page, a POST, malformed or oversized) is detached:
// its fd becomes a net.Socket with the bytes read so far pushed back, and the lean front
// takes it, so everything but the announce/scrape fast path keeps its node:http behaviour.
//
// Only over a synchronous store (memory): a reply must be written during its batch.
// Missing or failing to load (no C compiler at build time, not Linux, another Node ABI) is
// not an error: the tracker then serves HTTP through the lean front on a net.Server, and
// says which path it uses (/api/stats http.io, the status page).
import { loadNativeAddon, type NativeLoad } from './native-addon.js';
import { Socket } from 'node:net';
import { compactIpText } from '../protocol/index.js';
import type { HttpBatchStats, TrackerContext } from './context.js';
import { INTERNAL_ERROR, parseRequest, response, ROUTE_ANNOUNCE, ROUTE_NONE } from './http-front.js';
import type { AnnounceCore, ScrapeCore, TrackerBody } from './http.js';

/** An open server (an external the addon owns). */
export type HttpServerHandle = { readonly __httpBatch: unique symbol };

export interface HttpBatchAddon {
  readonly MAX_BATCH: number;
  readonly MAX_HEAD: number;
  /** A nonblocking listening TCP socket on host:port (IPv6 dual-stack): [fd, port, 4 | 6].
   *  Throws an Error whose code is the errno name (EADDRINUSE, ...). */
  listenSocket(host: string, port: number, backlog: number): [number, number, 4 | 6];
  closeFd(fd: number): void;
  createServer(
    listenFd: number,
    input: Buffer,
    meta: Buffer,
    stats: Buffer,
    onBatch: (count: number) => void,
    idleMs: number,
    requestMs: number,
    maxConns: number,
  ): HttpServerHandle;
  reply(s: HttpServerHandle, conn: number, bytes: Buffer, close: boolean): void;
  detach(s: HttpServerHandle, conn: number): [number, Buffer];
  closeServer(s: HttpServerHandle): void;
}

export type HttpBatchLoad = NativeLoad<HttpBatchAddon>;

let loaded: HttpBatchLoad | undefined;

export function loadHttpBatch(): HttpBatchLoad {
  return (loaded ??= loadNativeAddon<HttpBatchAddon>('http-batch', ['createServer', 'listenSocket']));
}

const META = 32;
const STATS = 8;

export interface HttpBatchServer {
  stats(): HttpBatchStats;
  /** Stops listening and closes the listening socket and every connection the addon holds
   *  (handed-over sockets are the lean front's). Idempotent. */
  close(): void;
}

/**
 * Serves the listening socket `fd` (from addon.listenSocket) on this thread's loop.
 * `adopt` takes a handed-over connection: a net.Socket and the bytes already read from it.
 */
export function startHttpBatch(
  addon: HttpBatchAddon,
  fd: number,
  ctx: TrackerContext,
  announce: AnnounceCore,
  scrape: ScrapeCore,
  adopt: (socket: Socket, head: Buffer) => void,
  maxConns: number,
): HttpBatchServer {
  const slot = addon.MAX_HEAD;
  const input = Buffer.alloc(addon.MAX_BATCH * slot);
  const meta = Buffer.alloc(addon.MAX_BATCH * META);
  const statsBuf = Buffer.alloc(STATS * 8);
  const stats = new Float64Array(statsBuf.buffer, statsBuf.byteOffset, STATS);
  let handle: HttpServerHandle | undefined;

  function handOver(s: HttpServerHandle, id: number, head: Buffer): void {
    const [sfd, rest] = addon.detach(s, id);
    const socket = new Socket({ fd: sfd, readable: true, writable: true });
    socket.setNoDelay(true);
    adopt(socket, head.length === 0 ? rest : rest.length === 0 ? Buffer.from(head) : Buffer.concat([head, rest]));
  }

  const onBatch = (count: number): void => {
    const s = handle;
    if (!s) return;
    for (let i = 0; i < count; i++) {
      const m = i * META;
      const id = meta.readUInt32LE(m);
      const len = meta.readUInt32LE(m + 4);
      const off = i * slot;
      try {
        if (len === 0) {
          // No head within MAX_HEAD bytes: node:http answers 431.
          handOver(s, id, input.subarray(off, off));
          continue;
        }
        const req = parseRequest(input, off, off + len);
        if (req.route === ROUTE_NONE) {
          handOver(s, id, input.subarray(off, off + len));
          continue;
        }
        let body: TrackerBody;
        if (req.route === ROUTE_ANNOUNCE) {
          const alen = meta[m + 8]!;
          const xff = req.xff;
          body = announce(req.query, compactIpText(meta, m + 12, alen as 6 | 18), () => xff);
        } else {
          body = scrape(req.query);
        }
        if (body instanceof Promise) throw new Error('an asynchronous store on the native HTTP path');
        addon.reply(s, id, response(body, req.keepAlive, req.http10), !req.keepAlive);
      } catch {
        // A bug must not take the tracker down: 500 for this connection only.
        ctx.counters.errors++;
        try {
          addon.reply(s, id, INTERNAL_ERROR, true);
        } catch {
          // already answered (a hand-over that failed half way): the addon closes it
        }
      }
    }
  };
  handle = addon.createServer(fd, input, meta, statsBuf, onBatch, ctx.opts.httpKeepAliveMs, ctx.opts.httpRequestTimeoutMs, maxConns);
  return {
    stats: () => ({
      accepted: stats[0]!,
      requests: stats[1]!,
      handedOver: stats[2]!,
      timeouts: stats[3]!,
      refused: stats[4]!,
      wakeups: stats[5]!,
      batches: stats[6]!,
      open: stats[7]!,
    }),
    close() {
      if (handle) addon.closeServer(handle);
      handle = undefined;
    },
  };
}
