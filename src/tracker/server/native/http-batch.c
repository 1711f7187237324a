// Native HTTP I/O for the tracker's announce/scrape path (N-API addon, Linux). Node pays
// ~100 us of runtime per Connection: close request (a net.Socket, its stream machinery,
// several callbacks and close events) on top of the kernel's TCP work; here the listening
// socket, accept4, read, write and close are plain syscalls driven from uv_poll handles on
// the thread's loop, and each complete request head goes to JavaScript in a batch (one JS
// call for every head found in a wakeup: an accept loop brings many). All HTTP and tracker
// logic stays in JavaScript (http-native.ts): it answers each head with
//   reply(server, conn, bytes, close)  written here at once (EAGAIN: the rest is kept and
//                                      written when the socket is writable), or
//   detach(server, conn) -> [fd, rest] the connection is no longer ours: JS wraps the fd in
//                                      a net.Socket, pushes back the bytes and hands it to
//                                      the lean front / node:http (API, status page, POSTs,
//                                      malformed or oversized requests...).
// A head JS answers neither way closes its connection. Keep-alive connections stay here;
// pipelined heads are handed to JS one per connection per round, so replies keep order.
//
// The listening socket is our own (listenSocket): libuv refuses two watchers of one fd on
// a loop, so a net.Server's socket cannot be polled here, and a socket we create has no
// other owner. Closing the server closes it and every connection still ours.
//
// Shared buffers (allocated by JS, kept alive by references):
//   in     MAX_BATCH * SLOT bytes: head i at i * SLOT (SLOT = MAX_HEAD)
//   meta   MAX_BATCH * 32 bytes: u32 LE connection id, u32 LE head length (0: no complete
//          head within MAX_HEAD bytes: oversized, hand it over), u8 compact peer address
//          length (6 or 18), at +12 the compact address (IP bytes, port big-endian)
//   stats  STAT_COUNT doubles
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "napi-common.h"

/** Request line and headers at most (http-front.ts MAX_HEADER_BYTES). */
#define MAX_HEAD (16 * 1024)
/** A connection's read buffer: one byte more than a head may have tells "oversized". */
#define BUF_MAX (MAX_HEAD + 1)
#define BUF_INIT 2048
#define MAX_BATCH 64
#define META 32
/** Reply bytes kept for a client that does not read (then it is closed). */
#define MAX_OUT (256 * 1024)
/** Accepts per listener wakeup before yielding to the rest of the loop. */
#define MAX_ACCEPTS 256
#define SWEEP_MS 500

enum { STAT_ACCEPTED, STAT_REQUESTS, STAT_HANDED, STAT_TIMEOUTS, STAT_REFUSED, STAT_WAKEUPS, STAT_BATCHES, STAT_OPEN, STAT_COUNT };

struct server;

typedef struct conn {
  uv_poll_t poll;
  struct server *s;
  int fd;
  uint32_t idx;
  uint8_t *buf;
  uint32_t len, cap;
  uint8_t addr[18];
  uint8_t alen;
  uint64_t last_ms;
  /** When the first byte of the head now buffered came (0: nothing buffered). */
  uint64_t partial_ms;
  uint8_t *out;
  uint32_t out_len, out_off;
  int close_after_out;
  /** Closing reply written but more bytes had come: read and dropped until the client
   *  closes or the idle timeout. */
  int lingering;
  int in_batch, answered, detached, closing;
  /** The client half-closed after sending: its heads are answered, then it is closed. */
  int eof;
  int events;
} conn_t;

typedef struct server {
  uv_poll_t listen;
  uv_timer_t timer;
  /** Runs after each poll phase: the heads every readable connection of that turn
   *  brought go to JS in one call. */
  uv_check_t check;
  napi_env env;
  int lfd;
  uint32_t max_conns, nconns;
  conn_t **conns;
  uint32_t *free_idx;
  uint32_t nfree;
  uint64_t idle_ms, request_ms;
  uint8_t *in, *meta;
  double *stats;
  napi_ref fn_ref, in_ref, meta_ref, stats_ref;
  napi_async_context async;
  conn_t *batch[MAX_BATCH];
  uint32_t nbatch;
  int in_callback, closing, env_gone;
  /** Handles not yet closed (listener, timer, connections): freed at 0. */
  uint32_t handles;
  napi_async_cleanup_hook_handle cleanup;
} server_t;

static const char REQUEST_TIMEOUT[] = "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

static uint64_t now_ms(server_t *s) { return uv_now(uv_handle_get_loop((uv_handle_t *)&s->timer)); }

static void server_free_if_done(server_t *s) {
  if (s->handles > 0) return;
  if (s->cleanup) napi_remove_async_cleanup_hook(s->cleanup);
  if (!s->env_gone) {
    napi_env env = s->env;
    if (s->fn_ref) napi_delete_reference(env, s->fn_ref);
    if (s->in_ref) napi_delete_reference(env, s->in_ref);
    if (s->meta_ref) napi_delete_reference(env, s->meta_ref);
    if (s->stats_ref) napi_delete_reference(env, s->stats_ref);
    if (s->async) napi_async_destroy(env, s->async);
  }
  free(s->conns);
  free(s->free_idx);
  free(s);
}

static void on_conn_close(uv_handle_t *h) {
  conn_t *c = (conn_t *)h->data;
  server_t *s = c->s;
  if (!c->detached) close(c->fd);
  free(c->buf);
  free(c->out);
  free(c);
  s->handles--;
  server_free_if_done(s);
}

/** Forgets the connection (its slot is free at once) and closes it once libuv let go. */
static void conn_close(conn_t *c) {
  if (c->closing) return;
  server_t *s = c->s;
  c->closing = 1;
  s->conns[c->idx] = NULL;
  s->free_idx[s->nfree++] = c->idx;
  s->nconns--;
  s->stats[STAT_OPEN] = s->nconns;
  uv_poll_stop(&c->poll);
  uv_close((uv_handle_t *)&c->poll, on_conn_close);
}

static void on_conn_event(uv_poll_t *h, int status, int events);

static void conn_watch(conn_t *c, int events) {
  if (c->closing || c->events == events) return;
  c->events = events;
  if (events) uv_poll_start(&c->poll, events, on_conn_event);
  else uv_poll_stop(&c->poll);
}

/** Writes bytes; what the socket does not take now is kept (bounded) and written when it
 *  is writable. Returns 0, or -1 when the connection was closed. */
static int conn_write(conn_t *c, const uint8_t *data, size_t len) {
  size_t off = 0;
  if (c->out_len == 0) {
    while (off < len) {
      ssize_t r = send(c->fd, data + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (r > 0) {
        off += (size_t)r;
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      conn_close(c);
      return -1;
    }
    if (off == len) return 0;
  }
  size_t rest = len - off;
  if (c->out_len - c->out_off + rest > MAX_OUT) {
    conn_close(c);
    return -1;
  }
  if (c->out_off > 0) {
    memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
    c->out_len -= c->out_off;
    c->out_off = 0;
  }
  uint8_t *n = realloc(c->out, c->out_len + rest);
  if (!n) {
    conn_close(c);
    return -1;
  }
  c->out = n;
  memcpy(c->out + c->out_len, data + off, rest);
  c->out_len += (uint32_t)rest;
  // Nothing more is read until the client takes its replies.
  conn_watch(c, UV_WRITABLE);
  return 0;
}

/** After a closing reply is written: closed now when nothing more came, else half-closed
 *  (a close with unread input would reset the connection and could lose the reply). */
static void conn_finish(conn_t *c) {
  if (c->len == 0) {
    conn_close(c);
    return;
  }
  shutdown(c->fd, SHUT_WR);
  c->lingering = 1;
  c->len = 0;
  c->last_ms = now_ms(c->s);
  conn_watch(c, UV_READABLE);
}

/** Finds a complete head in c->buf: its length, 0 when oversized, -1 when incomplete. */
static int head_length(conn_t *c) {
  uint8_t *e = memmem(c->buf, c->len, "\r\n\r\n", 4);
  if (e) {
    size_t n = (size_t)(e - c->buf) + 4;
    return n > MAX_HEAD ? 0 : (int)n;
  }
  return c->len > MAX_HEAD ? 0 : -1;
}

static void flush(server_t *s);

/** After the heads of a half-closed connection were served: closed (once its replies are
 *  out). */
static void eof_done(conn_t *c) {
  if (!c->eof || c->closing || c->in_batch) return;
  if (c->out_len > c->out_off) c->close_after_out = 1;
  else conn_close(c);
}

/** Queues c's next head for JS when it has one; flushes a full batch. */
static void maybe_queue(conn_t *c) {
  server_t *s = c->s;
  if (c->closing || c->in_batch || c->lingering || c->out_len > c->out_off || s->closing) return;
  int n = head_length(c);
  if (n < 0) return;
  uint32_t k = s->nbatch;
  uint8_t *m = s->meta + (size_t)k * META;
  memset(m, 0, META);
  m[0] = c->idx & 0xff;
  m[1] = (c->idx >> 8) & 0xff;
  m[2] = (c->idx >> 16) & 0xff;
  m[3] = (c->idx >> 24) & 0xff;
  m[4] = n & 0xff;
  m[5] = (n >> 8) & 0xff;
  m[8] = c->alen;
  memcpy(m + 12, c->addr, c->alen);
  if (n > 0) {
    memcpy(s->in + (size_t)k * MAX_HEAD, c->buf, (size_t)n);
    memmove(c->buf, c->buf + n, c->len - (uint32_t)n);
    c->len -= (uint32_t)n;
    c->partial_ms = c->len ? c->last_ms : 0;
    if (c->len == 0 && c->cap > BUF_INIT) {
      // A big head grew the buffer: an idle keep-alive connection holds 2 KiB, not 16.
      uint8_t *small = realloc(c->buf, BUF_INIT);
      if (small) {
        c->buf = small;
        c->cap = BUF_INIT;
      }
    }
  }
  c->in_batch = 1;
  c->answered = 0;
  s->batch[s->nbatch++] = c;
  if (s->nbatch == MAX_BATCH) flush(s);
}

/** Hands the queued heads to JS; connections with another head buffered go again. */
static void flush(server_t *s) {
  while (s->nbatch > 0 && !s->closing) {
    uint32_t n = s->nbatch;
    conn_t *batch[MAX_BATCH];
    memcpy(batch, s->batch, n * sizeof batch[0]);
    s->nbatch = 0;
    s->stats[STAT_BATCHES] += 1;
    s->stats[STAT_REQUESTS] += n;
    napi_env env = s->env;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value fn, recv, argv[1], result;
    napi_get_reference_value(env, s->fn_ref, &fn);
    napi_get_global(env, &recv);
    napi_create_uint32(env, n, &argv[0]);
    s->in_callback = 1;
    napi_status st = napi_make_callback(env, s->async, recv, fn, 1, argv, &result);
    s->in_callback = 0;
    if (st != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value e;
        napi_get_and_clear_last_exception(env, &e);
        napi_fatal_exception(env, e);
      }
    }
    napi_close_handle_scope(env, scope);
    for (uint32_t i = 0; i < n; i++) {
      conn_t *c = batch[i];
      c->in_batch = 0;
      if (c->closing) continue;
      if (!c->answered) {
        conn_close(c);
        continue;
      }
    }
    if (s->closing) break;
    // Pipelined heads: the next of each connection, in a new round; a half-closed one
    // with none left is closed.
    for (uint32_t i = 0; i < n; i++) {
      if (batch[i]->closing) continue;
      maybe_queue(batch[i]);
      eof_done(batch[i]);
    }
  }
}

/** Reads what the socket has; 0, 1 at end of input (with bytes buffered), or -1 when the
 *  connection was closed. */
static int conn_read(conn_t *c) {
  for (;;) {
    if (c->lingering) {
      uint8_t junk[4096];
      ssize_t r = recv(c->fd, junk, sizeof junk, MSG_DONTWAIT);
      if (r > 0) continue;
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
      conn_close(c);
      return -1;
    }
    if (c->len == c->cap) {
      if (c->cap >= BUF_MAX) return 0; // full: a complete or an oversized head is there
      uint32_t ncap = c->cap * 4 > BUF_MAX ? BUF_MAX : c->cap * 4;
      uint8_t *nb = realloc(c->buf, ncap);
      if (!nb) {
        conn_close(c);
        return -1;
      }
      c->buf = nb;
      c->cap = ncap;
    }
    ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
    if (r > 0) {
      if (c->len == 0) c->partial_ms = now_ms(c->s);
      c->len += (uint32_t)r;
      c->last_ms = now_ms(c->s);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    if (r == 0 && c->len > 0) {
      // A client that half-closes after its request (HTTP/1.0 tools) still gets answers.
      c->eof = 1;
      conn_watch(c, 0);
      return 1;
    }
    // EOF with nothing buffered, or an error (a reset).
    conn_close(c);
    return -1;
  }
}


static void on_conn_event(uv_poll_t *h, int status, int events) {
  conn_t *c = (conn_t *)h->data;
  server_t *s = c->s;
  if (c->closing || s->closing) return;
  if (status < 0) {
    conn_close(c);
    return;
  }
  s->stats[STAT_WAKEUPS] += 1;
  if (events & UV_WRITABLE) {
    while (c->out_off < c->out_len) {
      ssize_t r = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (r > 0) {
        c->out_off += (uint32_t)r;
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      conn_close(c);
      return;
    }
    c->out_off = c->out_len = 0;
    c->last_ms = now_ms(s);
    if (c->close_after_out) {
      conn_finish(c);
      return;
    }
    if (c->eof) {
      maybe_queue(c);
      eof_done(c);
      return;
    }
    conn_watch(c, UV_READABLE);
    maybe_queue(c);
    return;
  }
  int r = conn_read(c);
  if (r < 0) return;
  maybe_queue(c);
  if (r > 0) eof_done(c);
}

static void on_listen(uv_poll_t *h, int status, int events) {
  server_t *s = (server_t *)h->data;
  if (s->closing || status < 0) return;
  s->stats[STAT_WAKEUPS] += 1;
  uv_loop_t *loop = uv_handle_get_loop((uv_handle_t *)h);
  for (int i = 0; i < MAX_ACCEPTS && !s->closing; i++) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      break; // EAGAIN, or EMFILE and the like: tried again at the next wakeup
    }
    s->stats[STAT_ACCEPTED] += 1;
    uint8_t addr[18];
    uint8_t alen = (uint8_t)compact_address(&ss, sl, addr);
    conn_t *c = NULL;
    if (alen && s->nfree > 0) c = calloc(1, sizeof *c);
    if (c) c->buf = malloc(BUF_INIT);
    if (!c || !c->buf || uv_poll_init_socket(loop, &c->poll, fd) != 0) {
      // Over the connection limit (or out of memory): closed at once, as net.Server's
      // maxConnections does.
      if (c) free(c->buf);
      free(c);
      close(fd);
      s->stats[STAT_REFUSED] += 1;
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->s = s;
    c->fd = fd;
    c->cap = BUF_INIT;
    c->poll.data = c;
    memcpy(c->addr, addr, alen);
    c->alen = alen;
    c->last_ms = now_ms(s);
    c->idx = s->free_idx[--s->nfree];
    s->conns[c->idx] = c;
    s->nconns++;
    s->handles++;
    s->stats[STAT_OPEN] = s->nconns;
    conn_watch(c, UV_READABLE);
    // On loopback and on most real networks the request is there with the connection:
    // read it now (no wakeup per connection); else the poll above brings it.
    int r = conn_read(c);
    if (r < 0) continue;
    maybe_queue(c);
    if (r > 0) eof_done(c);
  }
}

static void on_check(uv_check_t *h) {
  server_t *s = (server_t *)h->data;
  if (s->nbatch > 0) flush(s);
}

static void on_timer(uv_timer_t *t) {
  server_t *s = (server_t *)t->data;
  if (s->closing) return;
  uint64_t now = now_ms(s);
  for (uint32_t i = 0; i < s->max_conns; i++) {
    conn_t *c = s->conns[i];
    if (!c || c->in_batch) continue;
    if (c->len > 0 && !c->lingering && c->partial_ms && now - c->partial_ms > s->request_ms && c->out_len == 0) {
      // A head trickled in for longer than the request timeout (slowloris): 408.
      s->stats[STAT_TIMEOUTS] += 1;
      c->len = 0;
      if (conn_write(c, (const uint8_t *)REQUEST_TIMEOUT, sizeof REQUEST_TIMEOUT - 1) == 0) {
        if (c->out_len > 0) c->close_after_out = 1;
        else conn_close(c);
      }
      continue;
    }
    if (now - c->last_ms > s->idle_ms) {
      s->stats[STAT_TIMEOUTS] += 1;
      conn_close(c);
    }
  }
}

static void on_server_handle_close(uv_handle_t *h) {
  server_t *s = (server_t *)h->data;
  s->handles--;
  server_free_if_done(s);
}

static void server_close(server_t *s) {
  if (s->closing) return;
  s->closing = 1;
  uv_poll_stop(&s->listen);
  uv_close((uv_handle_t *)&s->listen, on_server_handle_close);
  uv_timer_stop(&s->timer);
  uv_close((uv_handle_t *)&s->timer, on_server_handle_close);
  uv_check_stop(&s->check);
  uv_close((uv_handle_t *)&s->check, on_server_handle_close);
  close(s->lfd);
  for (uint32_t i = 0; i < s->max_conns; i++)
    if (s->conns[i]) conn_close(s->conns[i]);
}

static void cleanup_hook(napi_async_cleanup_hook_handle h, void *arg) {
  server_t *s = (server_t *)arg;
  (void)h;
  s->env_gone = 1;
  server_close(s);
}

/** listenSocket(host, port, backlog) -> [fd, boundPort, 4|6]. IPv6 hosts are dual-stack. */
static napi_value listen_socket(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char host[64];
  size_t hlen = 0;
  uint32_t port = 0, backlog = 0;
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], host, sizeof host, &hlen) != napi_ok || !u32_arg(env, argv[1], &port) || port > 65535 ||
      !u32_arg(env, argv[2], &backlog)) {
    napi_throw_type_error(env, NULL, "listenSocket(host, port, backlog)");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t sslen;
  int family = ip_sockaddr(host, (uint16_t)port, &ss, &sslen);
  if (!family) {
    napi_throw_error(env, "EINVAL", "listenSocket: not an IP address");
    return NULL;
  }
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int off = 0, one = 1;
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&ss, sslen) != 0 || listen(fd, (int)(backlog ? backlog : 511)) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "listen", e);
  }
  return socket_triple(env, fd, bound_port(fd, family), family);
}

/** closeFd(fd): a listening socket no server took (a failed start). */
static napi_value close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  uint32_t fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || !u32_arg(env, argv[0], &fd)) {
    napi_throw_type_error(env, NULL, "closeFd(fd)");
    return NULL;
  }
  close((int)fd);
  return undefined(env);
}

/** createServer(listenFd, in, meta, stats, onBatch, idleMs, requestMs, maxConns) -> handle.
 *  The server owns listenFd from here on (closeServer closes it). */
static napi_value create_server(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t lfd, idle, request, maxc;
  if (argc < 8 || !u32_arg(env, argv[0], &lfd) || !u32_arg(env, argv[5], &idle) || !u32_arg(env, argv[6], &request) || !u32_arg(env, argv[7], &maxc) ||
      maxc < 1 || maxc > 1000000 || idle < 1 || request < 1) {
    napi_throw_range_error(env, NULL, "createServer(listenFd, in, meta, stats, onBatch, idleMs, requestMs, maxConns)");
    return NULL;
  }
  napi_valuetype t;
  if (napi_typeof(env, argv[4], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "createServer: onBatch must be a function");
    return NULL;
  }
  size_t lin, lmeta, lstats;
  uint8_t *in = buffer_arg(env, argv[1], &lin, "in must be a Buffer");
  if (!in) return NULL;
  uint8_t *meta = buffer_arg(env, argv[2], &lmeta, "meta must be a Buffer");
  if (!meta) return NULL;
  uint8_t *stats = buffer_arg(env, argv[3], &lstats, "stats must be a Buffer");
  if (!stats) return NULL;
  if (lin < (size_t)MAX_BATCH * MAX_HEAD || lmeta < (size_t)MAX_BATCH * META || lstats < STAT_COUNT * sizeof(double) || ((uintptr_t)stats % sizeof(double)) != 0) {
    napi_throw_range_error(env, NULL, "createServer: a buffer is too small (or stats unaligned)");
    return NULL;
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_errno(env, "createServer", EINVAL);
  server_t *s = calloc(1, sizeof *s);
  if (!s) return throw_errno(env, "createServer", ENOMEM);
  s->conns = calloc(maxc, sizeof *s->conns);
  s->free_idx = malloc(maxc * sizeof *s->free_idx);
  if (!s->conns || !s->free_idx) {
    free(s->conns);
    free(s->free_idx);
    free(s);
    return throw_errno(env, "createServer", ENOMEM);
  }
  for (uint32_t i = 0; i < maxc; i++) s->free_idx[i] = maxc - 1 - i;
  s->nfree = maxc;
  s->max_conns = maxc;
  s->env = env;
  s->lfd = (int)lfd;
  s->idle_ms = idle;
  s->request_ms = request;
  s->in = in;
  s->meta = meta;
  s->stats = (double *)stats;
  int r = uv_poll_init_socket(loop, &s->listen, s->lfd);
  if (r != 0) {
    free(s->conns);
    free(s->free_idx);
    free(s);
    napi_throw_error(env, uv_err_name(r), uv_strerror(r));
    return NULL;
  }
  napi_value name;
  napi_create_reference(env, argv[4], 1, &s->fn_ref);
  napi_create_reference(env, argv[1], 1, &s->in_ref);
  napi_create_reference(env, argv[2], 1, &s->meta_ref);
  napi_create_reference(env, argv[3], 1, &s->stats_ref);
  napi_create_string_utf8(env, "sta:http-batch", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &s->async);
  s->listen.data = s;
  uv_timer_init(loop, &s->timer);
  s->timer.data = s;
  uv_check_init(loop, &s->check);
  s->check.data = s;
  uv_check_start(&s->check, on_check);
  uv_unref((uv_handle_t *)&s->check);
  s->handles = 3;
  uv_timer_start(&s->timer, on_timer, SWEEP_MS, SWEEP_MS);
  uv_unref((uv_handle_t *)&s->timer);
  uv_poll_start(&s->listen, UV_READABLE, on_listen);
  napi_add_async_cleanup_hook(env, cleanup_hook, s, &s->cleanup);
  napi_value ext;
  napi_create_external(env, s, NULL, NULL, &ext);
  return ext;
}

static server_t *server_arg(napi_env env, napi_value v) {
  void *p = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &p) != napi_ok || !p) {
    napi_throw_type_error(env, NULL, "not an http-batch server");
    return NULL;
  }
  return (server_t *)p;
}

/** The connection `id` of a head in the batch being served, not yet answered; NULL with
 *  an exception otherwise. */
static conn_t *batch_conn(napi_env env, server_t *s, napi_value v) {
  uint32_t id;
  conn_t *c = NULL;
  if (u32_arg(env, v, &id) && id < s->max_conns) c = s->conns[id];
  if (!c || !c->in_batch || c->answered || !s->in_callback) {
    napi_throw_error(env, "EINVAL", "not a connection with a head waiting in this batch");
    return NULL;
  }
  return c;
}

/** reply(server, conn, bytes, close): answers the connection's head. */
static napi_value reply(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "reply(server, conn, bytes, close)");
    return NULL;
  }
  server_t *s = server_arg(env, argv[0]);
  if (!s) return NULL;
  conn_t *c = batch_conn(env, s, argv[1]);
  if (!c) return NULL;
  size_t len;
  uint8_t *data = buffer_arg(env, argv[2], &len, "reply: bytes must be a Buffer");
  if (!data) return NULL;
  bool closing = false;
  napi_get_value_bool(env, argv[3], &closing);
  c->answered = 1;
  c->last_ms = now_ms(s);
  if (conn_write(c, data, len) != 0) return undefined(env);
  if (closing) {
    if (c->out_len > 0) c->close_after_out = 1;
    else conn_finish(c);
  }
  return undefined(env);
}

/** detach(server, conn) -> [fd, rest]: the connection is JS's from now (the fd stays open);
 *  rest is what was read after the head (the whole buffer for an oversized head). */
static napi_value detach(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "detach(server, conn)");
    return NULL;
  }
  server_t *s = server_arg(env, argv[0]);
  if (!s) return NULL;
  conn_t *c = batch_conn(env, s, argv[1]);
  if (!c) return NULL;
  napi_value rest, arr;
  void *copy;
  if (napi_create_buffer_copy(env, c->len, c->buf, &copy, &rest) != napi_ok) return NULL;
  c->answered = 1;
  c->detached = 1;
  int fd = c->fd;
  s->stats[STAT_HANDED] += 1;
  conn_close(c);
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, num(env, fd));
  napi_set_element(env, arr, 1, rest);
  return arr;
}

/** closeServer(server): stops listening, closes the listening socket and every connection
 *  still ours (handed-over ones are JS's). Idempotent. */
static napi_value close_server(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) return undefined(env);
  server_t *s = server_arg(env, argv[0]);
  if (!s) return NULL;
  server_close(s);
  return undefined(env);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"listenSocket", NULL, listen_socket, NULL, NULL, NULL, napi_default, NULL},
      {"closeFd", NULL, close_fd, NULL, NULL, NULL, napi_default, NULL},
      {"createServer", NULL, create_server, NULL, NULL, NULL, napi_default, NULL},
      {"reply", NULL, reply, NULL, NULL, NULL, napi_default, NULL},
      {"detach", NULL, detach, NULL, NULL, NULL, napi_default, NULL},
      {"closeServer", NULL, close_server, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value v;
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_create_uint32(env, MAX_BATCH, &v);
  napi_set_named_property(env, exports, "MAX_BATCH", v);
  napi_create_uint32(env, MAX_HEAD, &v);
  napi_set_named_property(env, exports, "MAX_HEAD", v);
  return exports;
}
