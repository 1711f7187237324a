// What both I/O addons (udp-batch.c, http-batch.c) need the same way: N-API argument and
// result helpers, an IP literal as a socket address, a socket address in the compact form
// the tracker stores (IP bytes, then the port big-endian; IPv4-mapped IPv6 as IPv4).
// Included once by each addon (static functions: each .node is its own shared object).
#ifndef STA_NAPI_COMMON_H
#define STA_NAPI_COMMON_H
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/** Throws an Error whose code is the errno's name (EADDRINUSE...); returns NULL. */
static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  const char *name = strerrorname_np(err);
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, name ? name : "EIO", msg);
  return NULL;
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

static bool u32_arg(napi_env env, napi_value v, uint32_t *out) { return napi_get_value_uint32(env, v, out) == napi_ok; }

/** Buffer data and length of argument `v`, or NULL with a TypeError saying `what`. */
static uint8_t *buffer_arg(napi_env env, napi_value v, size_t *len, const char *what) {
  bool ok = false;
  void *data = NULL;
  if (napi_is_buffer(env, v, &ok) != napi_ok || !ok || napi_get_buffer_info(env, v, &data, len) != napi_ok) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  return (uint8_t *)data;
}

/** `host` (an IPv4 or IPv6 literal) and `port` as a socket address in `ss`, its length in
 *  `len`; returns AF_INET or AF_INET6, or 0 when `host` is not an IP literal. */
static int ip_sockaddr(const char *host, uint16_t port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    *len = sizeof *a4;
    return AF_INET;
  }
  if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    *len = sizeof *a6;
    return AF_INET6;
  }
  return 0;
}

/** The port a bound socket of `family` got. */
static uint16_t bound_port(int fd, int family) {
  struct sockaddr_storage bound;
  socklen_t blen = sizeof bound;
  if (getsockname(fd, (struct sockaddr *)&bound, &blen) != 0) return 0;
  return family == AF_INET ? ntohs(((struct sockaddr_in *)&bound)->sin_port) : ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
}

/** [fd, port, 4|6]: what bindSocket / listenSocket return. */
static napi_value socket_triple(napi_env env, int fd, uint16_t port, int family) {
  napi_value arr;
  if (napi_create_array_with_length(env, 3, &arr) != napi_ok) return NULL;
  napi_set_element(env, arr, 0, num(env, fd));
  napi_set_element(env, arr, 1, num(env, port));
  napi_set_element(env, arr, 2, num(env, family == AF_INET ? 4 : 6));
  return arr;
}

/** Writes the compact form of a source address (`len` bytes of sockaddr) to `out` (room
 *  for 18 bytes); its length, 6 or 18, or 0 when the family is not IPv4 or IPv6. */
static int compact_address(const struct sockaddr_storage *sa, socklen_t len, uint8_t *out) {
  if (sa->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
    memcpy(out, &a->sin_addr, 4);
    memcpy(out + 4, &a->sin_port, 2);
    return 6;
  }
  if (sa->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
      memcpy(out, &a->sin6_addr.s6_addr[12], 4);
      memcpy(out + 4, &a->sin6_port, 2);
      return 6;
    }
    memcpy(out, &a->sin6_addr, 16);
    memcpy(out + 16, &a->sin6_port, 2);
    return 18;
  }
  return 0;
}
#endif
