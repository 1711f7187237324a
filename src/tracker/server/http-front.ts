// The lean HTTP front: a net.Server that answers `GET /announce` and `GET /scrape` with its
// own small HTTP/1.1 parser, and hands every other connection state to node:http.
//
// Why: node:http costs most of an announce (a fixed-reply node:http server that parses and
// stores nothing measured ~108 us of CPU per Connection: close request and ~19 us kept
// alive, sta on it 143 / 37). An announce is one short GET whose reply is a few hundred
// bytes; what it needs of HTTP/1.1 is small: the request line, two or three headers,
// keep-alive and pipelining.
//
// What the front accepts itself (anything else is handed over, see below):
//   GET /announce?... HTTP/1.1 or HTTP/1.0 (and /scrape), the target printable ASCII, every
//   header line `name: value` with a token name and no control bytes in the value, no
//   request body (no Transfer-Encoding, no Content-Length other than 0), no Upgrade.
// Requests are parsed as bytes arrive, so pipelined requests are answered in order; a
// request split across packets is buffered (at most MAX_HEADER_BYTES). `Connection: close`
// (and HTTP/1.0 without keep-alive) is answered with `Connection: close` and the socket is
// ended. With an asynchronous store (Redis) the connection reads nothing more until the
// reply is written, so replies keep the requests' order.
//
// Hand-over: the first request the front does not take (the API, the status page, a POST,
// a malformed or oversized request) and everything after it on that connection go to the
// node:http server, which answers exactly as before (400, 431, 404, JSON, keep-alive...):
// the unread bytes are pushed back into the socket (`unshift`) and the socket is emitted
// as the http server's 'connection'. The http server never listens itself.
//
// Timeouts: a connection idle for HTTP_KEEPALIVE_MS (5 s) is closed, also in the middle of
// a request; a request must arrive whole within HTTP_REQUEST_TIMEOUT_MS (15 s) of its
// first byte (slowloris: a client trickling bytes keeps the idle timer fresh, so this is
// checked as bytes arrive; it gets 408 and the connection is closed). At most
// HTTP_MAX_CONNECTIONS connections at once.
import type { Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { AnnounceCore, ScrapeCore, TrackerBody } from './http.js';
import type { TrackerContext } from './context.js';
import { HTTP_MAX_CONNECTIONS } from './options.js';

/** Request line and headers at most (node:http's default, which the handed-over path keeps). */
export const MAX_HEADER_BYTES = 16 * 1024;

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;

/** RFC 9110 tchar: the bytes a header name may have. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

export const ROUTE_NONE = 0;
export const ROUTE_ANNOUNCE = 1;
export const ROUTE_SCRAPE = 2;

/** What parseRequest found in buf[start, headEnd). */
export interface ParsedRequest {
  /** ROUTE_ANNOUNCE or ROUTE_SCRAPE; ROUTE_NONE: not ours (hand over). */
  route: number;
  /** The query string (after `?`), latin1. */
  query: string;
  keepAlive: boolean;
  http10: boolean;
  /** X-Forwarded-For (several joined with ', ', as node:http does), or undefined. */
  xff: string | undefined;
}

const NOT_OURS: ParsedRequest = { route: ROUTE_NONE, query: '', keepAlive: false, http10: false, xff: undefined };

/** True when buf[s, s + str.length) is `str` (ASCII, exact). */
function bytesAre(buf: Buffer, s: number, str: string): boolean {
  for (let i = 0; i < str.length; i++) if (buf[s + i] !== str.charCodeAt(i)) return false;
  return true;
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/** True when buf[s, e) is `name`, ASCII case-insensitively (`name` is lower case). */
function nameIs(buf: Buffer, s: number, e: number, name: string): boolean {
  if (e - s !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (lower(buf[s + i]!) !== name.charCodeAt(i)) return false;
  return true;
}

/** The connection options of a Connection header value: bit 1 close, bit 2 keep-alive. */
function connectionTokens(buf: Buffer, s: number, e: number): number {
  let flags = 0;
  let i = s;
  while (i < e) {
    while (i < e && (buf[i] === SP || buf[i] === HT || buf[i] === 0x2c)) i++;
    let j = i;
    while (j < e && buf[j] !== 0x2c) j++;
    let k = j;
    while (k > i && (buf[k - 1] === SP || buf[k - 1] === HT)) k--;
    if (nameIs(buf, i, k, 'close')) flags |= 1;
    else if (nameIs(buf, i, k, 'keep-alive')) flags |= 2;
    i = j;
  }
  return flags;
}

/**
 * Parses the request in buf[start, headEnd) where headEnd is just past its `\r\n\r\n`.
 * Returns NOT_OURS for anything the front does not answer itself; pure (exported for tests).
 */
export function parseRequest(buf: Buffer, start: number, headEnd: number): ParsedRequest {
  // Request line: `GET /announce?... HTTP/1.1\r\n`.
  if (headEnd - start < 16 || buf[start] !== 0x47 || buf[start + 1] !== 0x45 || buf[start + 2] !== 0x54 || buf[start + 3] !== SP) return NOT_OURS;
  const ts = start + 4;
  let i = ts;
  while (i < headEnd) {
    const c = buf[i]!;
    if (c === SP) break;
    if (c < 0x21 || c > 0x7e) return NOT_OURS;
    i++;
  }
  const te = i;
  // ` HTTP/1.x\r\n`
  if (
    te + 11 > headEnd ||
    buf[te + 1] !== 0x48 ||
    buf[te + 2] !== 0x54 ||
    buf[te + 3] !== 0x54 ||
    buf[te + 4] !== 0x50 ||
    buf[te + 5] !== 0x2f ||
    buf[te + 6] !== 0x31 ||
    buf[te + 7] !== 0x2e ||
    (buf[te + 8] !== 0x31 && buf[te + 8] !== 0x30) ||
    buf[te + 9] !== CR ||
    buf[te + 10] !== LF
  ) {
    return NOT_OURS;
  }
  const http10 = buf[te + 8] === 0x30;
  let route: number;
  let qs: number;
  if (te - ts >= 9 && bytesAre(buf, ts, '/announce') && (te === ts + 9 || buf[ts + 9] === 0x3f)) {
    route = ROUTE_ANNOUNCE;
    qs = ts + 10;
  } else if (te - ts >= 7 && bytesAre(buf, ts, '/scrape') && (te === ts + 7 || buf[ts + 7] === 0x3f)) {
    route = ROUTE_SCRAPE;
    qs = ts + 8;
  } else {
    return NOT_OURS;
  }
  // Header lines, up to the empty line at headEnd - 2.
  let conn = 0;
  let host = false;
  let xff: string | undefined;
  let p = te + 11;
  const last = headEnd - 2;
  while (p < last) {
    const ns = p;
    while (p < last && buf[p] !== COLON) {
      const c = buf[p]!;
      if (c > 0x7f || TCHAR[c] !== 1) return NOT_OURS; // includes obs-fold, bare CR/LF
      p++;
    }
    if (p === ns || p >= last) return NOT_OURS;
    const ne = p;
    p++;
    while (p < last && (buf[p] === SP || buf[p] === HT)) p++;
    const vs = p;
    while (buf[p] !== CR) {
      const c = buf[p]!;
      if ((c < 0x20 && c !== HT) || c === 0x7f) return NOT_OURS;
      p++;
    }
    if (buf[p + 1] !== LF) return NOT_OURS;
    let ve = p;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HT)) ve--;
    p += 2;
    const n0 = lower(buf[ns]!);
    if (n0 === 0x63) {
      if (nameIs(buf, ns, ne, 'connection')) conn |= connectionTokens(buf, vs, ve);
      else if (nameIs(buf, ns, ne, 'content-length') && !(ve - vs === 1 && buf[vs] === 0x30)) return NOT_OURS;
    } else if (n0 === 0x74) {
      if (nameIs(buf, ns, ne, 'transfer-encoding')) return NOT_OURS;
    } else if (n0 === 0x75) {
      if (nameIs(buf, ns, ne, 'upgrade')) return NOT_OURS;
    } else if (n0 === 0x68) {
      if (nameIs(buf, ns, ne, 'host')) host = true;
    } else if (n0 === 0x78 && nameIs(buf, ns, ne, 'x-forwarded-for')) {
      const v = buf.toString('latin1', vs, ve);
      xff = xff === undefined ? v : `${xff}, ${v}`;
    }
  }
  // HTTP/1.1 without Host is invalid (RFC 9112 3.2): node:http answers it 400.
  if (!http10 && !host) return NOT_OURS;
  const keepAlive = http10 ? (conn & 2) !== 0 && (conn & 1) === 0 : (conn & 1) === 0;
  return { route, query: qs < te ? buf.toString('latin1', qs, te) : '', keepAlive, http10, xff };
}

/** `HTTP/1.1 200 OK` with the body, in one buffer (one write). Shared with the native path
 *  (http-native.ts). */
export function response(body: Buffer, keepAlive: boolean, http10: boolean): Buffer {
  const head =
    `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n` +
    (keepAlive ? (http10 ? 'Connection: keep-alive\r\n\r\n' : '\r\n') : 'Connection: close\r\n\r\n');
  const out = Buffer.allocUnsafe(head.length + body.length);
  out.write(head, 0, 'latin1');
  out.set(body, head.length);
  return out;
}

export const INTERNAL_ERROR = Buffer.from('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 'latin1');
const REQUEST_TIMEOUT = Buffer.from('HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 'latin1');

/** One connection's state while the front owns it. */
class Conn {
  /** Bytes of an incomplete request (or of requests waiting behind an async reply). */
  pending: Buffer | null = null;
  /** When the incomplete request's first byte came (0: none pending). */
  partialSinceMs = 0;
  /** An asynchronous reply is in flight, or the client does not read its replies (the
   *  socket's write buffer is full): read nothing more until that is over. */
  waiting = false;
  /** The reply with Connection: close was written, or the socket was handed over. */
  done = false;
  /** Bytes came after `done`: the socket is destroyed at the keep-alive timeout. */
  lingering = false;
  onData: (chunk: Buffer) => void = () => {};
  constructor(readonly socket: Socket) {}
}

export interface HttpFront {
  server: NetServer;
  /** Destroys every connection (the front's and those handed to node:http). */
  closeAll(): void;
  /** Takes a connection accepted elsewhere (the native path's hand-over): `head`, the bytes
   *  already read from it, is served first, exactly as if it had just arrived. */
  adopt(socket: Socket, head: Buffer): void;
}

export function createHttpFront(ctx: TrackerContext, httpServer: HttpServer, announce: AnnounceCore, scrape: ScrapeCore): HttpFront {
  const sockets = new Set<Socket>();
  const requestTimeoutMs = ctx.opts.httpRequestTimeoutMs;
  // node:http enforces headersTimeout / requestTimeout from a timer it starts when it
  // listens; it never listens here (the front does), so it is told it does.
  httpServer.emit('listening');

  function handOver(c: Conn, rest: Buffer | null): void {
    const s = c.socket;
    c.done = true;
    s.removeListener('data', c.onData);
    s.removeListener('timeout', onTimeout);
    s.removeListener('error', onError);
    s.setTimeout(0);
    s.pause();
    if (rest && rest.length > 0) s.unshift(rest);
    httpServer.emit('connection', s);
    s.resume();
  }

  /** Writes a reply. `last`: nothing else was received after this request (so far). */
  function write(c: Conn, body: Buffer, keepAlive: boolean, http10: boolean, last: boolean): void {
    const s = c.socket;
    if (s.destroyed) return;
    if (keepAlive) {
      s.write(response(body, true, http10));
      return;
    }
    c.done = true;
    s.write(response(body, false, http10));
    // Written at once and nothing more was sent: close now. The kernel still delivers the
    // reply, then a FIN; this saves the shutdown() call and the wait for the client's FIN
    // (a tenth of a Connection: close announce's CPU). A client that broke its own
    // `Connection: close` by sending more gets end() instead (close() with unread input
    // would reset the connection and could lose the reply).
    if (last && s.writableLength === 0) s.destroy();
    else s.end();
  }

  /** Stops reading (an async reply or a full write buffer); unblock() serves what came
   *  meanwhile. */
  function block(c: Conn, rest: Buffer | null): void {
    c.waiting = true;
    c.pending = rest && rest.length > 0 ? rest : null;
    c.socket.pause();
  }

  function unblock(c: Conn): void {
    c.waiting = false;
    if (c.done || c.socket.destroyed) return;
    c.socket.resume();
    const rest = c.pending;
    c.pending = null;
    if (rest) serve(c, rest);
  }

  /** Answers the complete requests at the head of buf; keeps the rest. */
  function serve(c: Conn, buf: Buffer, scanFrom = 0): void {
    let off = 0;
    const len = buf.length;
    while (off < len && !c.done) {
      // The first request may have been searched already up to scanFrom (a split request).
      const hdrEnd = buf.indexOf(CRLFCRLF, off === 0 && scanFrom > 3 ? scanFrom - 3 : off);
      if (hdrEnd < 0) {
        if (len - off > MAX_HEADER_BYTES) {
          // Oversized: node:http answers it (431) and closes.
          handOver(c, buf.subarray(off));
          return;
        }
        // Copied: a view would keep the whole read's memory alive while a slow client
        // dawdles (thousands of connections may each hold a partial request).
        c.pending = Buffer.from(buf.subarray(off));
        if (c.partialSinceMs === 0) c.partialSinceMs = Date.now();
        return;
      }
      const end = hdrEnd + 4;
      if (end - off > MAX_HEADER_BYTES) {
        handOver(c, buf.subarray(off));
        return;
      }
      c.partialSinceMs = 0;
      let req: ParsedRequest;
      let body: TrackerBody;
      try {
        req = parseRequest(buf, off, end);
        if (req.route === ROUTE_NONE) {
          handOver(c, buf.subarray(off));
          return;
        }
        const xff = req.xff;
        body = req.route === ROUTE_ANNOUNCE ? announce(req.query, c.socket.remoteAddress ?? '', () => xff) : scrape(req.query);
      } catch {
        // A bug must not take the tracker down: 500 for this connection only.
        ctx.counters.errors++;
        c.done = true;
        c.socket.end(INTERNAL_ERROR);
        return;
      }
      off = end;
      if (body instanceof Promise) {
        block(c, buf.subarray(off));
        const { keepAlive, http10 } = req;
        body.then(
          (b) => {
            write(c, b, keepAlive, http10, c.pending === null);
            if (c.socket.writableNeedDrain) c.socket.once('drain', () => unblock(c));
            else unblock(c);
          },
          () => {
            ctx.counters.errors++;
            c.done = true;
            c.socket.end(INTERNAL_ERROR);
          },
        );
        return;
      }
      write(c, body, req.keepAlive, req.http10, off === len);
      if (!c.done && c.socket.writableNeedDrain) {
        // A client pipelining without reading its replies: wait until it reads (also when
        // this read ended with the request: one request per packet must not queue either).
        block(c, buf.subarray(off));
        c.socket.once('drain', () => unblock(c));
        return;
      }
    }
  }

  function onTimeout(this: Socket): void {
    // Idle keep-alive, or a request that stalls: closed.
    this.destroy();
  }

  function onError(this: Socket): void {
    this.destroy();
  }

  function onClose(this: Socket): void {
    sockets.delete(this);
  }

  const server = createNetServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', onClose);
    const c = new Conn(socket);
    c.onData = (chunk: Buffer) => {
      if (c.done) {
        // A client that goes on sending after a closing reply (408, Connection: close, 500)
        // would keep the idle timer fresh forever: it gets the keep-alive timeout to leave.
        if (!c.lingering) {
          c.lingering = true;
          setTimeout(() => socket.destroy(), ctx.opts.httpKeepAliveMs).unref();
        }
        return;
      }
      if (c.waiting) {
        // Bounded: the socket is paused, so at most a read or two arrive meanwhile.
        c.pending = c.pending ? Buffer.concat([c.pending, chunk]) : chunk;
        return;
      }
      if (c.pending) {
        if (Date.now() - c.partialSinceMs > requestTimeoutMs) {
          c.done = true;
          socket.end(REQUEST_TIMEOUT);
          return;
        }
        const scanFrom = c.pending.length;
        const buf = Buffer.concat([c.pending, chunk]);
        c.pending = null;
        serve(c, buf, scanFrom);
      } else {
        serve(c, chunk);
      }
    };
    socket.on('data', c.onData);
    socket.on('error', onError);
    socket.on('timeout', onTimeout);
    socket.setTimeout(ctx.opts.httpKeepAliveMs);
  });
  server.maxConnections = HTTP_MAX_CONNECTIONS;

  return {
    server,
    closeAll() {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    adopt(socket, head) {
      if (head.length > 0) socket.unshift(head);
      server.emit('connection', socket);
    },
  };
}
