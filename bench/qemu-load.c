/*
 * qemu-load: a QEMU socket/stream netdev endpoint that goes as fast as the loopback
 * allows, for `npm run bench -- qemu`. It speaks what QEMU's -netdev socket/stream
 * speaks (each frame a 4-byte big-endian length, then the frame) over TCP or a UNIX
 * stream, connecting like a guest's netdev (or, for the direct pair, listening), and
 * stands in for a VM whose virtio-net runs at KVM speed: no emulator in the way.
 * Built by bench/qemu-load.ts with the system C compiler; never run as a test.
 *
 *   qemu-load send  (--connect H:P | --unix PATH | --listen H:P) --size N --seconds S [--src MAC --dst MAC]
 *       frames of N bytes back to back for S seconds, written in batches
 *   qemu-load recv  (...) [--idle-ms MS] [--src MAC]
 *       counts frames until none came for MS ms after the first; prints the rate
 *       between the first and the last frame. With --src it first sends one broadcast
 *       from MAC, so a switch learns where MAC is, and counts only frames to MAC
 *   qemu-load ping  (...) --size N --count K [--src MAC --dst MAC]
 *       one frame, waits for the answer, K times; prints the round trips' median and
 *       percentiles in microseconds
 *   qemu-load echo  (...)
 *       answers every frame with its MACs swapped, until the peer hangs up
 *
 * Each prints one JSON line on stdout. Frames carry the local experimental ethertype
 * 0x88b5, so no host stack reacts to them.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAME 65535
#define BUF (4 << 20)

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "qemu-load: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int parse_mac(const char *s, unsigned char *out) {
  return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &out[0], &out[1], &out[2], &out[3], &out[4], &out[5]) == 6 ? 0 : -1;
}

static void nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* host:port or [v6]:port into a sockaddr. */
static socklen_t inet_addr_of(const char *spec, struct sockaddr_storage *ss) {
  char host[256];
  const char *colon = strrchr(spec, ':');
  if (colon == NULL) return 0;
  size_t n = (size_t)(colon - spec);
  if (spec[0] == '[') {
    spec++;
    n -= 2;
  }
  if (n >= sizeof host) return 0;
  memcpy(host, spec, n);
  host[n] = 0;
  int port = atoi(colon + 1);
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    return sizeof *a4;
  }
  if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    return sizeof *a6;
  }
  return 0;
}

static int open_stream(const char *connect_to, const char *unix_path, const char *listen_on) {
  struct sockaddr_storage ss;
  socklen_t len;
  int fd;
  if (unix_path != NULL) {
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    strncpy(un.sun_path, unix_path, sizeof un.sun_path - 1);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    for (int i = 0; connect(fd, (struct sockaddr *)&un, sizeof un) < 0; i++) {
      if (i > 200) die("connect");
      usleep(10000);
    }
    return fd;
  }
  const char *spec = connect_to != NULL ? connect_to : listen_on;
  if (spec == NULL || (len = inet_addr_of(spec, &ss)) == 0) {
    fprintf(stderr, "qemu-load: give --connect H:P, --unix PATH or --listen H:P\n");
    exit(2);
  }
  fd = socket(ss.ss_family, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  if (listen_on != NULL) {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) die("bind");
    if (listen(fd, 1) < 0) die("listen");
    /* Tell the caller it may connect now. */
    fprintf(stderr, "listening\n");
    int c = accept(fd, NULL, NULL);
    if (c < 0) die("accept");
    close(fd);
    nodelay(c);
    return c;
  }
  for (int i = 0; connect(fd, (struct sockaddr *)&ss, len) < 0; i++) {
    if (i > 200) die("connect");
    usleep(10000);
    close(fd);
    fd = socket(ss.ss_family, SOCK_STREAM, 0);
  }
  nodelay(fd);
  return fd;
}

static void write_all(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      die("write");
    }
    p += w;
    n -= (size_t)w;
  }
}

/* A frame of `size` bytes from src to dst, its length in front, at out. */
static size_t put_frame(unsigned char *out, size_t size, const unsigned char *dst, const unsigned char *src, uint32_t seq) {
  uint32_t be = htonl((uint32_t)size);
  memcpy(out, &be, 4);
  unsigned char *f = out + 4;
  memset(f, 0, size);
  memcpy(f, dst, 6);
  memcpy(f + 6, src, 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  if (size >= 18) memcpy(f + 14, &seq, 4);
  return size + 4;
}

/* The stream reader: frames out of reads that end anywhere. */
struct reader {
  int fd;
  unsigned char *buf;
  size_t have, at;
};

/* The next frame (its length in *len), or NULL at EOF. Blocks. */
static unsigned char *next_frame(struct reader *r, uint32_t *len) {
  for (;;) {
    if (r->have - r->at >= 4) {
      uint32_t n;
      memcpy(&n, r->buf + r->at, 4);
      n = ntohl(n);
      if (n > MAX_FRAME) {
        fprintf(stderr, "qemu-load: bad length %u\n", n);
        exit(1);
      }
      if (r->have - r->at >= 4 + (size_t)n) {
        unsigned char *f = r->buf + r->at + 4;
        r->at += 4 + n;
        *len = n;
        return f;
      }
    }
    if (r->at > 0) {
      memmove(r->buf, r->buf + r->at, r->have - r->at);
      r->have -= r->at;
      r->at = 0;
    }
    ssize_t got = read(r->fd, r->buf + r->have, BUF - r->have);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return NULL;
    r->have += (size_t)got;
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: qemu-load send|recv|ping|echo [--connect H:P|--unix PATH|--listen H:P] [--size N] [--seconds S] [--count K] [--idle-ms MS] [--src MAC] [--dst MAC]\n");
    return 2;
  }
  const char *mode = argv[1], *connect_to = NULL, *unix_path = NULL, *listen_on = NULL;
  size_t size = 64;
  double seconds = 5;
  long count = 10000, idle_ms = 500;
  unsigned char src[6] = {2, 0, 0, 0, 0xaa, 1}, dst[6] = {2, 0, 0, 0, 0xaa, 2};
  int have_src = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--connect")) connect_to = v;
    else if (!strcmp(k, "--unix")) unix_path = v;
    else if (!strcmp(k, "--listen")) listen_on = v;
    else if (!strcmp(k, "--size")) size = (size_t)atol(v);
    else if (!strcmp(k, "--seconds")) seconds = atof(v);
    else if (!strcmp(k, "--count")) count = atol(v);
    else if (!strcmp(k, "--idle-ms")) idle_ms = atol(v);
    else if (!strcmp(k, "--src")) { if (parse_mac(v, src) < 0) return 2; have_src = 1; }
    else if (!strcmp(k, "--dst")) { if (parse_mac(v, dst) < 0) return 2; }
    else { fprintf(stderr, "qemu-load: unknown option %s\n", k); return 2; }
  }
  if (size < 14 || size > MAX_FRAME) { fprintf(stderr, "qemu-load: --size must be 14..65535\n"); return 2; }
  int fd = open_stream(connect_to, unix_path, listen_on);
  unsigned char *buf = malloc(BUF);
  if (buf == NULL) die("malloc");

  if (!strcmp(mode, "send")) {
    /* As many whole frames as fit in 256 KiB, written again and again. */
    size_t per = size + 4, batch = (256 * 1024) / per;
    if (batch < 1) batch = 1;
    uint32_t seq = 0;
    for (size_t i = 0; i < batch; i++) put_frame(buf + i * per, size, dst, src, seq++);
    double start = now(), end = start + seconds;
    unsigned long frames = 0;
    while (now() < end) {
      write_all(fd, buf, batch * per);
      frames += batch;
    }
    double took = now() - start;
    printf("{\"mode\":\"send\",\"size\":%zu,\"frames\":%lu,\"seconds\":%.3f,\"fps\":%.0f}\n", size, frames, took, frames / took);
  } else if (!strcmp(mode, "recv")) {
    struct reader r = {fd, buf, 0, 0};
    struct pollfd p = {fd, POLLIN, 0};
    unsigned long frames = 0, bytes = 0;
    if (have_src) {
      static const unsigned char bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
      unsigned char hello[64];
      write_all(fd, hello, put_frame(hello, 60, bcast, src, 0));
    }
    double first = 0, last = 0;
    for (;;) {
      /* Wait for input with the idle timeout once frames have begun, else up to 20 s. */
      if (r.have - r.at < 4 && poll(&p, 1, frames == 0 ? 20000 : (int)idle_ms) == 0) break;
      uint32_t len;
      unsigned char *f = next_frame(&r, &len);
      if (f == NULL) break;
      if (have_src && memcmp(f, src, 6) != 0) continue;
      if (frames == 0) first = now();
      last = now();
      frames++;
      bytes += len;
    }
    double span = last - first;
    printf("{\"mode\":\"recv\",\"frames\":%lu,\"bytes\":%lu,\"seconds\":%.3f,\"fps\":%.0f,\"gbps\":%.3f}\n", frames, bytes, span,
           span > 0 ? frames / span : 0.0, span > 0 ? bytes * 8 / span / 1e9 : 0.0);
  } else if (!strcmp(mode, "ping")) {
    struct reader r = {fd, buf, 0, 0};
    unsigned char out[MAX_FRAME + 4];
    double *rtt = malloc(sizeof(double) * (size_t)count);
    if (rtt == NULL) die("malloc");
    long got = 0;
    for (long i = 0; i < count; i++) {
      size_t n = put_frame(out, size, dst, src, (uint32_t)i);
      double t0 = now();
      write_all(fd, out, n);
      uint32_t len;
      if (next_frame(&r, &len) == NULL) break;
      rtt[got++] = (now() - t0) * 1e6;
    }
    qsort(rtt, (size_t)got, sizeof(double), cmp_double);
    double sum = 0;
    for (long i = 0; i < got; i++) sum += rtt[i];
    printf("{\"mode\":\"ping\",\"size\":%zu,\"count\":%ld,\"medianUs\":%.1f,\"p90Us\":%.1f,\"p99Us\":%.1f,\"meanUs\":%.1f}\n", size, got,
           got ? rtt[got / 2] : 0.0, got ? rtt[got * 9 / 10] : 0.0, got ? rtt[got * 99 / 100] : 0.0, got ? sum / got : 0.0);
  } else if (!strcmp(mode, "echo")) {
    struct reader r = {fd, buf, 0, 0};
    unsigned char out[MAX_FRAME + 4];
    unsigned long frames = 0;
    uint32_t len;
    unsigned char *f;
    while ((f = next_frame(&r, &len)) != NULL) {
      uint32_t be = htonl(len);
      memcpy(out, &be, 4);
      memcpy(out + 4, f + 6, 6);
      memcpy(out + 10, f, 6);
      memcpy(out + 16, f + 12, len - 12);
      write_all(fd, out, len + 4);
      frames++;
    }
    printf("{\"mode\":\"echo\",\"frames\":%lu}\n", frames);
  } else {
    fprintf(stderr, "qemu-load: unknown mode %s\n", mode);
    return 2;
  }
  close(fd);
  return 0;
}
