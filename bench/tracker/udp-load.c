// A native UDP tracker load generator (BEP 15) for bench/tracker, the same workload as
// udp-load-worker.ts (1000 torrents x 10,000 peers, one in five a seeder, numwant 50), but
// cheap: batched sendmmsg/recvmmsg on connected sockets, a few hundred nanoseconds per
// datagram instead of the ~8 us a Node dgram round costs. On a 2-core box the generator
// shares the CPU with the target, so a cheaper generator leaves more of the box to the
// target and the figures say more about the target. It is a measuring instrument, not part
// of sta; run.ts compiles it with the system's cc when it is asked for (--udp-gen native).
//
// usage: udp-load HOST PORT THREADS INFLIGHT DURATION_MS REUSE(0|1) HASHES_FILE
// HASHES_FILE: 1000 info hashes, 40 hex digits a line (the opentracker whitelist).
// Prints one JSON line: {"announces":N,"connects":N,"errors":N,"lost":N,"peersReturned":N,"elapsedMs":N}
// Bounded: it stops after DURATION_MS (and every slot's reply waits at most 1 s).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TORRENTS 1000
#define PEERS 10000
#define NUMWANT 50
#define PORT_BASE 10000
#define SLOT_BITS 12
#define BATCH 64
#define TIMEOUT_NS 1000000000LL

static uint8_t hashes[TORRENTS][20];
static struct sockaddr_in target;
static int inflight, reuse;
static long long duration_ns;

struct result {
  unsigned long long announces, connects, errors, lost, peers;
  double elapsed_ms;
};

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}
static void put64(uint8_t *p, uint64_t v) {
  put32(p, (uint32_t)(v >> 32)); put32(p + 4, (uint32_t)v);
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct gen {
  int fd;
  uint32_t seq, rng;
  uint32_t *tid;
  long long *sent_at;
  uint8_t (*conn)[8];
  uint8_t *has_conn;
  // the pending send batch
  uint8_t out[BATCH][100];
  struct iovec oiov[BATCH];
  struct mmsghdr omsg[BATCH];
  int nout;
  struct result r;
};

static uint32_t rnd(struct gen *g) {
  uint32_t x = g->rng;
  x ^= x << 13; x ^= x >> 17; x ^= x << 5;
  return g->rng = x;
}

static void flush(struct gen *g) {
  int off = 0;
  while (off < g->nout) {
    int n = sendmmsg(g->fd, g->omsg + off, g->nout - off, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      // ENOBUFS/ECONNREFUSED: the datagrams are lost; their slots time out and start over
      break;
    }
    off += n;
  }
  g->nout = 0;
}

static uint8_t *slot_packet(struct gen *g, int slot, size_t len) {
  if (g->nout == BATCH) flush(g);
  uint8_t *b = g->out[g->nout];
  g->oiov[g->nout].iov_base = b;
  g->oiov[g->nout].iov_len = len;
  g->nout++;
  g->seq = (g->seq + 1) & 0xfffff;
  uint32_t t = (g->seq << SLOT_BITS) | (uint32_t)slot;
  g->tid[slot] = t;
  g->sent_at[slot] = now_ns();
  put32(b + 12, t);
  return b;
}

static void send_connect(struct gen *g, int slot) {
  uint8_t *b = slot_packet(g, slot, 16);
  put64(b, 0x41727101980ULL);
  put32(b + 8, 0);
}

static void send_announce(struct gen *g, int slot, const uint8_t *conn) {
  uint8_t *b = slot_packet(g, slot, 98);
  uint32_t t = rnd(g) % TORRENTS, p = rnd(g) % PEERS;
  memcpy(b, conn, 8);
  put32(b + 8, 1);
  memcpy(b + 16, hashes[t], 20);
  char id[21];
  snprintf(id, sizeof id, "-BN0001-%012u", p);
  memcpy(b + 36, id, 20);
  put64(b + 56, 0);                        // downloaded
  put64(b + 64, p % 5 == 0 ? 0 : 1000);    // left: one peer in five seeds
  put64(b + 72, 0);                        // uploaded
  put32(b + 80, 0);                        // event none
  put32(b + 84, 0);                        // ip: the source's
  put32(b + 88, p);                        // key
  put32(b + 92, NUMWANT);
  b[96] = (PORT_BASE + p) >> 8; b[97] = (PORT_BASE + p) & 0xff;
}

static void *run(void *arg) {
  struct gen *g = arg;
  int slots = inflight < (1 << SLOT_BITS) ? inflight : (1 << SLOT_BITS);
  g->fd = socket(AF_INET, SOCK_DGRAM, 0);
  int sz = 4 << 20;
  setsockopt(g->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
  setsockopt(g->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  struct timeval tv = {0, 20000};
  setsockopt(g->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(g->fd, (struct sockaddr *)&target, sizeof target) != 0) { perror("connect"); exit(1); }
  g->tid = calloc(slots, sizeof *g->tid);
  g->sent_at = calloc(slots, sizeof *g->sent_at);
  g->conn = calloc(slots, 8);
  g->has_conn = calloc(slots, 1);
  for (int i = 0; i < BATCH; i++) {
    g->omsg[i].msg_hdr.msg_iov = &g->oiov[i];
    g->omsg[i].msg_hdr.msg_iovlen = 1;
  }
  static __thread uint8_t in[BATCH][2048];
  struct iovec iiov[BATCH];
  struct mmsghdr imsg[BATCH];
  long long start = now_ns(), end = start + duration_ns, last_sweep = start;
  // Ramp up in batches of 16 a millisecond apart: a burst of every slot at once overflows
  // the target's receive buffer, which says nothing about the target.
  for (int s = 0; s < slots; s++) {
    send_connect(g, s);
    if (s % 16 == 15) { flush(g); usleep(1000); }
  }
  flush(g);
  for (;;) {
    long long now = now_ns();
    if (now >= end) break;
    for (int i = 0; i < BATCH; i++) {
      iiov[i].iov_base = in[i];
      iiov[i].iov_len = sizeof in[i];
      memset(&imsg[i].msg_hdr, 0, sizeof imsg[i].msg_hdr);
      imsg[i].msg_hdr.msg_iov = &iiov[i];
      imsg[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(g->fd, imsg, BATCH, MSG_WAITFORONE, NULL);
    for (int i = 0; i < n; i++) {
      const uint8_t *m = in[i];
      unsigned len = imsg[i].msg_len;
      if (len < 8) continue;
      uint32_t action = get32(m), t = get32(m + 4);
      int slot = t & ((1 << SLOT_BITS) - 1);
      if (slot >= slots || g->tid[slot] != t) continue; // a reply after its timeout
      if (action == 0 && len >= 16) {
        g->r.connects++;
        memcpy(g->conn[slot], m + 8, 8);
        g->has_conn[slot] = reuse;
        send_announce(g, slot, m + 8);
      } else if (action == 1 && len >= 20) {
        g->r.announces++;
        g->r.peers += (len - 20) / 6;
        if (g->has_conn[slot]) send_announce(g, slot, g->conn[slot]);
        else send_connect(g, slot);
      } else {
        g->r.errors++;
        g->has_conn[slot] = 0;
        send_connect(g, slot);
      }
    }
    flush(g);
    now = now_ns();
    if (now - last_sweep > 50000000LL) {
      last_sweep = now;
      for (int s = 0; s < slots; s++) {
        if (now - g->sent_at[s] > TIMEOUT_NS) {
          g->r.lost++;
          g->has_conn[s] = 0;
          send_connect(g, s);
        }
      }
      flush(g);
    }
  }
  g->r.elapsed_ms = (now_ns() - start) / 1e6;
  close(g->fd);
  return NULL;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: udp-load HOST PORT THREADS INFLIGHT DURATION_MS REUSE HASHES_FILE\n");
    return 2;
  }
  memset(&target, 0, sizeof target);
  target.sin_family = AF_INET;
  target.sin_port = htons((uint16_t)atoi(argv[2]));
  if (inet_pton(AF_INET, argv[1], &target.sin_addr) != 1) { fprintf(stderr, "bad host %s\n", argv[1]); return 2; }
  int threads = atoi(argv[3]);
  inflight = atoi(argv[4]);
  long long dur = atoll(argv[5]);
  reuse = atoi(argv[6]) != 0;
  if (threads < 1 || threads > 64 || inflight < 1 || dur < 1 || dur > 3600000) { fprintf(stderr, "bad arguments\n"); return 2; }
  duration_ns = dur * 1000000LL;
  FILE *f = fopen(argv[7], "r");
  if (!f) { perror(argv[7]); return 2; }
  char line[128];
  int nh = 0;
  while (nh < TORRENTS && fgets(line, sizeof line, f)) {
    if (strlen(line) < 40) continue;
    for (int i = 0; i < 20; i++) {
      int hi = hexval(line[2 * i]), lo = hexval(line[2 * i + 1]);
      if (hi < 0 || lo < 0) { fprintf(stderr, "bad hash line %d\n", nh + 1); return 2; }
      hashes[nh][i] = (uint8_t)(hi << 4 | lo);
    }
    nh++;
  }
  fclose(f);
  if (nh != TORRENTS) { fprintf(stderr, "need %d hashes, got %d\n", TORRENTS, nh); return 2; }
  struct gen *gens = calloc(threads, sizeof *gens);
  pthread_t *tids = calloc(threads, sizeof *tids);
  for (int i = 0; i < threads; i++) {
    gens[i].rng = 0x9e3779b9u * (uint32_t)(i + 1) ^ (uint32_t)now_ns();
    if (!gens[i].rng) gens[i].rng = 1;
    pthread_create(&tids[i], NULL, run, &gens[i]);
  }
  struct result t = {0};
  for (int i = 0; i < threads; i++) {
    pthread_join(tids[i], NULL);
    t.announces += gens[i].r.announces;
    t.connects += gens[i].r.connects;
    t.errors += gens[i].r.errors;
    t.lost += gens[i].r.lost;
    t.peers += gens[i].r.peers;
    if (gens[i].r.elapsed_ms > t.elapsed_ms) t.elapsed_ms = gens[i].r.elapsed_ms;
  }
  printf("{\"announces\":%llu,\"connects\":%llu,\"errors\":%llu,\"lost\":%llu,\"peersReturned\":%llu,\"elapsedMs\":%.1f}\n",
         t.announces, t.connects, t.errors, t.lost, t.peers, t.elapsed_ms);
  return 0;
}
