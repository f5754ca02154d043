#define _GNU_SOURCE
#include "bst_natsd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *bst_natsd_binary(void) {
  static const char *const where[] = {"/usr/sbin/nats-server", "/usr/bin/nats-server",
                                      "/usr/local/bin/nats-server"};
  const char *env = getenv("BST_NATS_SERVER");
  if (env && *env && access(env, X_OK) == 0) return env;
  for (size_t i = 0; i < sizeof where / sizeof *where; i++)
    if (access(where[i], X_OK) == 0) return where[i];
  return NULL;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A port nothing listens on right now (the kernel's choice for port 0). */
static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int port = -1;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

static int connects(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  /* The server greets with INFO once it serves clients. */
  if (ok) {
    char buf[8];
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ok = recv(fd, buf, 4, MSG_WAITALL) == 4 && memcmp(buf, "INFO", 4) == 0;
  }
  close(fd);
  return ok;
}

static int spawn(bst_natsd *d) {
  const char *bin = bst_natsd_binary();
  if (!bin) {
    fprintf(stderr, "bst_natsd: nats-server is not installed (scripts/deps.sh installs it)\n");
    return -1;
  }
  char port[16], store[300], log[300];
  snprintf(port, sizeof port, "%d", d->port);
  snprintf(store, sizeof store, "%s/js", d->dir);
  snprintf(log, sizeof log, "%s/server.log", d->dir);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execl(bin, bin, "-a", "127.0.0.1", "-p", port, "-js", "-sd", store, "-n", "bst", (char *)NULL);
    _exit(127);
  }
  d->pid = pid;
  double until = now_s() + 10;
  while (now_s() < until) {
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      d->pid = 0;
      fprintf(stderr, "bst_natsd: nats-server exited at start (see %s)\n", log);
      return -1;
    }
    if (connects(d->port)) return 0;
    usleep(20 * 1000);
  }
  fprintf(stderr, "bst_natsd: nats-server did not accept connections within 10 s\n");
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  d->pid = 0;
  return -1;
}

/* Servers still running when the process exits (a failed assertion ends a
 * test early) are stopped and their directories removed by an atexit hook. */
#define LIVE_MAX 16
static bst_natsd *live[LIVE_MAX];

static void stop_live(void) {
  for (int i = 0; i < LIVE_MAX; i++)
    if (live[i]) bst_natsd_stop(live[i]);
}

static void track(bst_natsd *d, bool on) {
  static bool hooked;
  if (!hooked) hooked = atexit(stop_live) == 0;
  for (int i = 0; i < LIVE_MAX; i++)
    if (on ? live[i] == NULL : live[i] == d) {
      live[i] = on ? d : NULL;
      return;
    }
}

int bst_natsd_start(bst_natsd *d) {
  memset(d, 0, sizeof *d);
  track(d, true);
  const char *tmp = getenv("TMPDIR");
  snprintf(d->dir, sizeof d->dir, "%s/bst-natsd-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(d->dir)) {
    fprintf(stderr, "bst_natsd: mkdtemp: %s\n", strerror(errno));
    d->dir[0] = '\0';
    return -1;
  }
  for (int attempt = 0; attempt < 5; attempt++) { /* the port may be taken meanwhile */
    d->port = free_port();
    if (d->port <= 0) continue;
    snprintf(d->url, sizeof d->url, "nats://127.0.0.1:%d", d->port);
    if (spawn(d) == 0) return 0;
  }
  bst_natsd_stop(d);
  return -1;
}

static void reap(bst_natsd *d, int sig, double grace) {
  if (!d->pid) return;
  kill(d->pid, SIGCONT); /* a stopped server must see the signal */
  kill(d->pid, sig);
  double until = now_s() + grace;
  int st;
  while (waitpid(d->pid, &st, WNOHANG) == 0) {
    if (now_s() > until) {
      kill(d->pid, SIGKILL);
      waitpid(d->pid, &st, 0);
      break;
    }
    usleep(10 * 1000);
  }
  d->pid = 0;
}

int bst_natsd_restart(bst_natsd *d) {
  reap(d, SIGKILL, 5);
  return spawn(d);
}

int bst_natsd_signal(bst_natsd *d, int sig) { return d->pid ? kill(d->pid, sig) : -1; }

static void remove_tree(const char *dir) {
  if (!dir[0]) return;
  pid_t pid = fork();
  if (pid == 0) {
    execlp("rm", "rm", "-rf", dir, (char *)NULL);
    _exit(127);
  }
  if (pid > 0) waitpid(pid, NULL, 0);
}

void bst_natsd_stop(bst_natsd *d) {
  track(d, false);
  reap(d, SIGTERM, 5);
  remove_tree(d->dir);
  d->dir[0] = '\0';
}
