// Batched UDP I/O for the tracker (N-API addon, Linux): recvmmsg a batch of datagrams into
// buffers JavaScript shares, call one JS function with the count, sendmmsg the replies it
// wrote. Node's dgram pays ~10 us of runtime per datagram (a recv callback, a Buffer and an
// rinfo object, a send wrap); here one wakeup and one JS call serve up to MAX_BATCH
// datagrams, and no object is made per datagram. All tracker logic stays in JavaScript
// (udp-batch.ts); this file only moves bytes.
//
// The socket is our own (bindSocket): created nonblocking and close-on-exec, so no other
// handle (a dgram socket) polls or closes it behind our back. Every thread that reads it
// calls createPoller with the same fd: each gets a uv_poll on its own loop (the loop of the
// thread that loaded the addon), the kernel hands a datagram to whichever reads first, and
// the loser of a wakeup gets EAGAIN. closeSocket closes the fd once every poller is closed.
//
// Shared buffers (allocated by JS, kept alive by references here):
//   in      slots * inSlot bytes: datagram i at i * inSlot
//   inMeta  slots * 32 bytes: u16 LE length (0 = dropped: truncated or an unknown family),
//           u8 compact source length (6 IPv4 or 18 IPv6; an IPv4-mapped IPv6 source is 6),
//           then at +8 the compact source: IP bytes, port big-endian
//   out     slots * outSlot bytes: reply k at k * outSlot
//   outMeta slots * 4 bytes: u16 LE reply length, u16 LE input slot it answers
//   stats   8 doubles the poller adds to (STAT_* below)
// The JS function gets (count) and returns how many replies it wrote (0..count).
#define _GNU_SOURCE
// napi_add_async_cleanup_hook (N-API 8, Node >= 14.10): a worker's loop must not close
// with our handle open.
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "napi-common.h"

/** Most datagrams one recvmmsg takes (and one JS call sees). */
#define MAX_BATCH 64
/** recvmmsg rounds per wakeup before yielding to the rest of the loop (timers, HTTP). */
#define MAX_ROUNDS 16
#define IN_META 32
#define OUT_META 4

enum { STAT_RECEIVED, STAT_SENT, STAT_SEND_DROPPED, STAT_TRUNCATED, STAT_WAKEUPS, STAT_BATCHES, STAT_RECV_ERRORS, STAT_COUNT };

typedef struct {
  uv_poll_t poll;
  napi_env env;
  int fd;
  int family;
  uint32_t batch;
  uint32_t in_slot;
  uint32_t out_slot;
  uint8_t *in;
  uint8_t *in_meta;
  uint8_t *out;
  uint8_t *out_meta;
  double *stats;
  napi_ref fn_ref;
  napi_ref bufs_ref[5];
  napi_async_context async;
  int in_callback;
  int closing;
  int closed;
  /** The thread's environment is being torn down: its references go with it. */
  int env_gone;
  /** Registered until the handle is closed: the environment's teardown waits for it, so
   *  its loop is never closed with this handle open. */
  napi_async_cleanup_hook_handle cleanup;
  struct mmsghdr rmsg[MAX_BATCH];
  struct iovec riov[MAX_BATCH];
  struct sockaddr_storage raddr[MAX_BATCH];
  struct mmsghdr smsg[MAX_BATCH];
  struct iovec siov[MAX_BATCH];
} poller_t;

#define CHECK(call)                                                                    \
  do {                                                                                 \
    if ((call) != napi_ok) {                                                           \
      const napi_extended_error_info *info_ = NULL;                                    \
      napi_get_last_error_info(env, &info_);                                           \
      napi_throw_error(env, NULL, info_ && info_->error_message ? info_->error_message \
                                                               : "napi call failed");  \
      return NULL;                                                                     \
    }                                                                                  \
  } while (0)

/** Writes the compact form of a source address to meta (+2 length, +8 bytes); 0 when the
 *  family is not IPv4 or IPv6. */
static int compact_source(const struct sockaddr_storage *sa, socklen_t len, uint8_t *meta) { return compact_address(sa, len, meta + 8); }

/** A compact address (6 or 18 bytes) as a sockaddr for a socket of `family`; its length, 0
 *  when it cannot be sent there (IPv6 to an IPv4 socket). */
static socklen_t sockaddr_of(int family, const uint8_t *c, size_t clen, struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  if (clen == 6 && family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)out;
    a->sin_family = AF_INET;
    memcpy(&a->sin_addr, c, 4);
    memcpy(&a->sin_port, c + 4, 2);
    return sizeof *a;
  }
  if ((clen == 6 || clen == 18) && family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
    a->sin6_family = AF_INET6;
    if (clen == 6) {
      // IPv4 on a dual-stack socket: the IPv4-mapped form.
      a->sin6_addr.s6_addr[10] = 0xff;
      a->sin6_addr.s6_addr[11] = 0xff;
      memcpy(&a->sin6_addr.s6_addr[12], c, 4);
      memcpy(&a->sin6_port, c + 4, 2);
    } else {
      memcpy(&a->sin6_addr, c, 16);
      memcpy(&a->sin6_port, c + 16, 2);
    }
    return sizeof *a;
  }
  return 0;
}

/** Sends smsg[0, count) with sendmmsg; a full buffer (EAGAIN, ENOBUFS) drops the rest, as
 *  a UDP tracker does; any other error skips the one datagram it hit. */
static void send_all(poller_t *p, unsigned count) {
  unsigned off = 0;
  while (off < count) {
    int r = sendmmsg(p->fd, p->smsg + off, count - off, MSG_DONTWAIT);
    if (r > 0) {
      off += (unsigned)r;
      p->stats[STAT_SENT] += r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      p->stats[STAT_SEND_DROPPED] += count - off;
      return;
    }
    p->stats[STAT_SEND_DROPPED] += 1;
    off++;
  }
}

static void on_close(uv_handle_t *h) {
  poller_t *p = (poller_t *)h->data;
  napi_env env = p->env;
  // Unregisters the hook, or, when teardown called it, tells Node the cleanup is done.
  if (p->cleanup) napi_remove_async_cleanup_hook(p->cleanup);
  if (p->env_gone) {
    free(p);
    return;
  }
  if (p->fn_ref) napi_delete_reference(env, p->fn_ref);
  for (int i = 0; i < 5; i++)
    if (p->bufs_ref[i]) napi_delete_reference(env, p->bufs_ref[i]);
  if (p->async) napi_async_destroy(env, p->async);
  free(p);
}

static void stop_poller(poller_t *p) {
  if (p->closed) return;
  p->closed = 1;
  uv_poll_stop(&p->poll);
  uv_close((uv_handle_t *)&p->poll, on_close);
}

/** The thread's environment is going away (a worker exits, the process ends): the handle
 *  is closed (if close() has not already begun it), and Node waits for on_close. */
static void cleanup_hook(napi_async_cleanup_hook_handle h, void *arg) {
  poller_t *p = (poller_t *)arg;
  (void)h;
  p->env_gone = 1;
  stop_poller(p);
}

/** Hands `n` received datagrams to JS and sends the replies it wrote. */
static void serve_batch(poller_t *p, unsigned n) {
  napi_env env = p->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, argv[1], result;
  uint32_t replies = 0;
  napi_get_reference_value(env, p->fn_ref, &fn);
  napi_get_global(env, &recv);
  napi_create_uint32(env, n, &argv[0]);
  p->in_callback = 1;
  napi_status st = napi_make_callback(env, p->async, recv, fn, 1, argv, &result);
  p->in_callback = 0;
  if (st == napi_ok) {
    if (napi_get_value_uint32(env, result, &replies) != napi_ok) replies = 0;
  } else {
    // The JS side catches its own errors; should one escape, it is the process's
    // uncaught exception, as for any other callback.
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
      napi_fatal_exception(env, e);
    }
  }
  napi_close_handle_scope(env, scope);
  if (replies > n) replies = n;
  unsigned count = 0;
  for (uint32_t k = 0; k < replies; k++) {
    const uint8_t *m = p->out_meta + (size_t)k * OUT_META;
    uint32_t len = (uint32_t)m[0] | ((uint32_t)m[1] << 8);
    uint32_t slot = (uint32_t)m[2] | ((uint32_t)m[3] << 8);
    if (len == 0 || len > p->out_slot || slot >= n) continue;
    struct mmsghdr *s = &p->smsg[count];
    p->siov[count].iov_base = p->out + (size_t)k * p->out_slot;
    p->siov[count].iov_len = len;
    memset(&s->msg_hdr, 0, sizeof s->msg_hdr);
    s->msg_hdr.msg_name = &p->raddr[slot];
    s->msg_hdr.msg_namelen = p->rmsg[slot].msg_hdr.msg_namelen;
    s->msg_hdr.msg_iov = &p->siov[count];
    s->msg_hdr.msg_iovlen = 1;
    count++;
  }
  if (count) send_all(p, count);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  poller_t *p = (poller_t *)h->data;
  (void)events;
  if (p->closing || p->closed) return;
  if (status < 0) {
    p->stats[STAT_RECV_ERRORS] += 1;
    return;
  }
  p->stats[STAT_WAKEUPS] += 1;
  for (int round = 0; round < MAX_ROUNDS && !p->closing; round++) {
    for (uint32_t i = 0; i < p->batch; i++) {
      p->riov[i].iov_base = p->in + (size_t)i * p->in_slot;
      p->riov[i].iov_len = p->in_slot;
      memset(&p->rmsg[i].msg_hdr, 0, sizeof p->rmsg[i].msg_hdr);
      p->rmsg[i].msg_hdr.msg_name = &p->raddr[i];
      p->rmsg[i].msg_hdr.msg_namelen = sizeof p->raddr[i];
      p->rmsg[i].msg_hdr.msg_iov = &p->riov[i];
      p->rmsg[i].msg_hdr.msg_iovlen = 1;
      p->rmsg[i].msg_len = 0;
    }
    int n = recvmmsg(p->fd, p->rmsg, p->batch, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      // EAGAIN: another thread took them, or there are no more. Anything else (an ICMP
      // error queued on the socket, say) is counted and left for the next wakeup.
      if (errno != EAGAIN && errno != EWOULDBLOCK) p->stats[STAT_RECV_ERRORS] += 1;
      break;
    }
    if (n == 0) break;
    for (int i = 0; i < n; i++) {
      uint8_t *m = p->in_meta + (size_t)i * IN_META;
      unsigned len = p->rmsg[i].msg_len;
      int clen = compact_source(&p->raddr[i], p->rmsg[i].msg_hdr.msg_namelen, m);
      if ((p->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) || len > p->in_slot || len > 0xffff) {
        // Longer than any request we read: dropped.
        p->stats[STAT_TRUNCATED] += 1;
        len = 0;
      }
      if (clen == 0) len = 0;
      m[0] = (uint8_t)(len & 0xff);
      m[1] = (uint8_t)(len >> 8);
      m[2] = (uint8_t)clen;
    }
    p->stats[STAT_RECEIVED] += n;
    p->stats[STAT_BATCHES] += 1;
    serve_batch(p, (unsigned)n);
    if ((uint32_t)n < p->batch) break;
  }
  if (p->closing) stop_poller(p);
}

/** bindSocket(host, port, bufferBytes) -> [fd, boundPort, family 4|6]. IPv6 hosts are
 *  dual-stack (IPV6_V6ONLY off), as dgram's ipv6Only: false. */
static napi_value bind_socket(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char host[64];
  size_t hlen = 0;
  uint32_t port = 0, bufbytes = 0;
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], host, sizeof host, &hlen) != napi_ok ||
      !u32_arg(env, argv[1], &port) || port > 65535 || !u32_arg(env, argv[2], &bufbytes)) {
    napi_throw_type_error(env, NULL, "bindSocket(host, port, bufferBytes)");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t sslen;
  int family = ip_sockaddr(host, (uint16_t)port, &ss, &sslen);
  if (!family) {
    napi_throw_error(env, "EINVAL", "bindSocket: not an IP address");
    return NULL;
  }
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int off = 0, size = (int)(bufbytes > 0x7fffffff ? 0x7fffffff : bufbytes);
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  if (size > 0) {
    // The kernel caps these at net.core.rmem_max / wmem_max.
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  }
  if (bind(fd, (struct sockaddr *)&ss, sslen) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind", e);
  }
  uint16_t bport = bound_port(fd, family);
  if (!bport) {
    int e = errno;
    close(fd);
    return throw_errno(env, "getsockname", e);
  }
  return socket_triple(env, fd, bport, family);
}

/** socketFamily(fd) -> 4 | 6 (what getsockname says). */
static int fd_family(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return 0;
  return ss.ss_family == AF_INET ? AF_INET : ss.ss_family == AF_INET6 ? AF_INET6 : 0;
}

/** createPoller(fd, batch, inSlot, outSlot, in, inMeta, out, outMeta, stats, fn) -> handle */
static napi_value create_poller(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t fd, batch, in_slot, out_slot;
  if (argc < 10 || !u32_arg(env, argv[0], &fd) || !u32_arg(env, argv[1], &batch) || !u32_arg(env, argv[2], &in_slot) ||
      !u32_arg(env, argv[3], &out_slot) || batch < 1 || batch > MAX_BATCH || in_slot < 16 || in_slot > 65536 || out_slot < 16 ||
      out_slot > 65535) {
    napi_throw_range_error(env, NULL, "createPoller: bad fd, batch or slot size");
    return NULL;
  }
  napi_valuetype t;
  if (napi_typeof(env, argv[9], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "createPoller: the last argument must be a function");
    return NULL;
  }
  size_t lens[5];
  uint8_t *bufs[5];
  const char *names[5] = {"in must be a Buffer", "inMeta must be a Buffer", "out must be a Buffer", "outMeta must be a Buffer", "stats must be a Buffer"};
  for (int i = 0; i < 5; i++) {
    bufs[i] = buffer_arg(env, argv[4 + i], &lens[i], names[i]);
    if (!bufs[i]) return NULL;
  }
  if (lens[0] < (size_t)batch * in_slot || lens[1] < (size_t)batch * IN_META || lens[2] < (size_t)batch * out_slot ||
      lens[3] < (size_t)batch * OUT_META || lens[4] < STAT_COUNT * sizeof(double) || ((uintptr_t)bufs[4] % sizeof(double)) != 0) {
    napi_throw_range_error(env, NULL, "createPoller: a buffer is too small (or stats unaligned)");
    return NULL;
  }
  int family = fd_family((int)fd);
  if (!family) return throw_errno(env, "createPoller: not a bound IPv4/IPv6 socket", EBADF);
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  poller_t *p = calloc(1, sizeof *p);
  if (!p) return throw_errno(env, "createPoller", ENOMEM);
  p->env = env;
  p->fd = (int)fd;
  p->family = family;
  p->batch = batch;
  p->in_slot = in_slot;
  p->out_slot = out_slot;
  p->in = bufs[0];
  p->in_meta = bufs[1];
  p->out = bufs[2];
  p->out_meta = bufs[3];
  p->stats = (double *)bufs[4];
  napi_value name;
  if (napi_create_reference(env, argv[9], 1, &p->fn_ref) != napi_ok || napi_create_string_utf8(env, "sta:udp-batch", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &p->async) != napi_ok) {
    if (p->fn_ref) napi_delete_reference(env, p->fn_ref);
    free(p);
    napi_throw_error(env, NULL, "createPoller: napi setup failed");
    return NULL;
  }
  for (int i = 0; i < 5; i++) napi_create_reference(env, argv[4 + i], 1, &p->bufs_ref[i]);
  int r = uv_poll_init_socket(loop, &p->poll, p->fd);
  if (r != 0) {
    // Not yet a handle: the references are dropped by hand.
    for (int i = 0; i < 5; i++) napi_delete_reference(env, p->bufs_ref[i]);
    napi_delete_reference(env, p->fn_ref);
    napi_async_destroy(env, p->async);
    free(p);
    napi_throw_error(env, uv_err_name(r), uv_strerror(r));
    return NULL;
  }
  p->poll.data = p;
  r = uv_poll_start(&p->poll, UV_READABLE, on_readable);
  if (r != 0) {
    p->closed = 1;
    uv_close((uv_handle_t *)&p->poll, on_close);
    napi_throw_error(env, uv_err_name(r), uv_strerror(r));
    return NULL;
  }
  napi_add_async_cleanup_hook(env, cleanup_hook, p, &p->cleanup);
  napi_value ext;
  CHECK(napi_create_external(env, p, NULL, NULL, &ext));
  return ext;
}

static poller_t *poller_arg(napi_env env, napi_value v) {
  void *p = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &p) != napi_ok || !p) {
    napi_throw_type_error(env, NULL, "not a poller");
    return NULL;
  }
  return (poller_t *)p;
}

/** closePoller(handle): stops polling; the handle is freed once libuv has closed it. A
 *  poller closed from inside its own callback stops when the callback returns. */
static napi_value close_poller(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return undefined(env);
  poller_t *p = poller_arg(env, argv[0]);
  if (!p) return NULL;
  if (p->closed || p->closing) return undefined(env);
  if (p->in_callback) p->closing = 1;
  else stop_poller(p);
  return undefined(env);
}

/** refPoller(handle, ref): whether the poller keeps its loop alive. */
static napi_value ref_poller(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  poller_t *p = argc >= 1 ? poller_arg(env, argv[0]) : NULL;
  if (!p) return NULL;
  bool ref = true;
  if (argc >= 2) napi_get_value_bool(env, argv[1], &ref);
  if (!p->closed) {
    if (ref) uv_ref((uv_handle_t *)&p->poll);
    else uv_unref((uv_handle_t *)&p->poll);
  }
  return undefined(env);
}

/** sendTo(fd, buf, compactAddress) -> 0 or an errno: one datagram now (a reply that was
 *  not ready during its batch, e.g. after a store round trip). Never blocks; a full buffer
 *  drops it (EAGAIN), as sendmmsg does. */
static napi_value send_to(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t fd;
  size_t blen, alen;
  if (argc < 3 || !u32_arg(env, argv[0], &fd)) {
    napi_throw_type_error(env, NULL, "sendTo(fd, buf, compactAddress)");
    return NULL;
  }
  uint8_t *buf = buffer_arg(env, argv[1], &blen, "sendTo: buf must be a Buffer");
  if (!buf) return NULL;
  uint8_t *addr = buffer_arg(env, argv[2], &alen, "sendTo: compactAddress must be a Buffer");
  if (!addr) return NULL;
  struct sockaddr_storage ss;
  socklen_t sslen = sockaddr_of(fd_family((int)fd), addr, alen, &ss);
  if (!sslen) return num(env, EAFNOSUPPORT);
  ssize_t r;
  do r = sendto((int)fd, buf, blen, MSG_DONTWAIT, (struct sockaddr *)&ss, sslen);
  while (r < 0 && errno == EINTR);
  return num(env, r < 0 ? errno : 0);
}

/** closeSocket(fd): after every poller on it is closed. */
static napi_value close_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t fd;
  if (argc < 1 || !u32_arg(env, argv[0], &fd)) {
    napi_throw_type_error(env, NULL, "closeSocket(fd)");
    return NULL;
  }
  if (close((int)fd) != 0) return throw_errno(env, "close", errno);
  return undefined(env);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"bindSocket", NULL, bind_socket, NULL, NULL, NULL, napi_default, NULL},
      {"createPoller", NULL, create_poller, NULL, NULL, NULL, napi_default, NULL},
      {"closePoller", NULL, close_poller, NULL, NULL, NULL, napi_default, NULL},
      {"refPoller", NULL, ref_poller, NULL, NULL, NULL, napi_default, NULL},
      {"sendTo", NULL, send_to, NULL, NULL, NULL, napi_default, NULL},
      {"closeSocket", NULL, close_socket, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value maxBatch;
  napi_create_uint32(env, MAX_BATCH, &maxBatch);
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_set_named_property(env, exports, "MAX_BATCH", maxBatch);
  return exports;
}
