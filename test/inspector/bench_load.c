/* insp-bench-load: N clients that ask the inspector the same question as
 * fast as they can, for the load benchmark (bench_load.sh).
 *
 *   insp-bench-load PORT CLIENTS SECONDS PATH
 *
 * Each client loops: connect to 127.0.0.1:PORT, GET PATH, read the answer
 * to the end, close. Prints one line:
 *
 *   insp_load clients=N seconds=S requests=R ok=K bytes=B rps=X
 *
 * (ok: answers with status 200). Never asserts anything. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int port;
static const char *path;
static double end_at;
static atomic_long requests, ok, bytes;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void one(char *buf, size_t cap) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  struct timeval tv = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", path, port);
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) == n) {
      ssize_t r;
      size_t total = 0;
      while ((r = recv(fd, buf, cap, 0)) > 0) {
        if (total == 0 && r >= 12 && !memcmp(buf, "HTTP/1.1 200", 12)) atomic_fetch_add(&ok, 1);
        else if (total == 0 && getenv("LOAD_DEBUG")) fprintf(stderr, "%.*s\n", (int)(r < 60 ? r : 60), buf);
        total += (size_t)r;
      }
      if (total == 0 && getenv("LOAD_DEBUG")) perror("recv");
      atomic_fetch_add(&bytes, (long)total);
      atomic_fetch_add(&requests, 1);
    }
  }
  close(fd);
}

static void *client(void *arg) {
  (void)arg;
  size_t cap = 1 << 16;
  char *buf = malloc(cap);
  while (buf && now_s() < end_at) one(buf, cap);
  free(buf);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: insp-bench-load PORT CLIENTS SECONDS PATH\n");
    return 2;
  }
  port = atoi(argv[1]);
  int n = atoi(argv[2]);
  double secs = atof(argv[3]);
  path = argv[4];
  double t0 = now_s();
  end_at = t0 + secs;
  pthread_t t[64];
  if (n > 64) n = 64;
  for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, client, NULL);
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  double el = now_s() - t0;
  printf("insp_load clients=%d seconds=%.1f requests=%ld ok=%ld bytes=%ld rps=%.1f\n", n, el,
         atomic_load(&requests), atomic_load(&ok), atomic_load(&bytes),
         (double)atomic_load(&requests) / el);
  return 0;
}
