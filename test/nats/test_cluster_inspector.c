/* The inspector of a cluster node: the cluster in /api/snapshot (this
 * node, its figures, every member with its partitions and traffic) and
 * the backstage_cluster_* families in /metrics. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cl_actors.bs.h"
#include "cl_harness.h"

static bst_natsd natsd;

static void up(void) { cr_assert_eq(bst_natsd_start(&natsd), 0); }
static void down(void) { bst_natsd_stop(&natsd); }

TestSuite(cluster_inspector, .init = up, .fini = down, .timeout = 120);

/* GET http://127.0.0.1:port/path: the body (malloc'd), or NULL. */
static char *get(int port, const char *path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return NULL;
  }
  char req[256];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n",
                   path, port);
  if (write(fd, req, (size_t)n) != n) {
    close(fd);
    return NULL;
  }
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  ssize_t r;
  while ((r = read(fd, buf + len, cap - 1 - len)) > 0) {
    len += (size_t)r;
    if (len + 1 == cap) buf = realloc(buf, cap *= 2);
  }
  close(fd);
  buf[len] = '\0';
  char *body = strstr(buf, "\r\n\r\n");
  if (!body) {
    free(buf);
    return NULL;
  }
  memmove(buf, body + 4, strlen(body + 4) + 1);
  return buf;
}

static bool has_members(bs_engine *e, void *ud) {
  (void)e;
  int port = *(int *)ud;
  char *s = get(port, "/api/snapshot");
  bool ok = s && strstr(s, "\"name\":\"t\"") && strstr(s, "\"name\":\"a\"");
  free(s);
  return ok;
}

Test(cluster_inspector, a_node_shows_the_cluster) {
  setenv("BACKSTAGE_INSPECTOR", "127.0.0.1:0", 1);
  cl_proc a;
  char line[160];
  cr_assert_eq(cl_spawn(&a, natsd.url, "a", line, sizeof line, NULL), 0, "%s", line);
  unsetenv("BACKSTAGE_INSPECTOR");
  int port = 0;
  const char *colon = strrchr(line, ':');
  cr_assert_not_null(colon, "%s", line);
  port = atoi(colon + 1);
  cr_assert_gt(port, 0, "%s", line);
  bs_engine *e;
  cr_assert_eq(cl_engine(&e, natsd.url, "t", 1, NULL), 0);
  cr_assert(cl_run_until(e, 20000, has_members, &port), "the members never showed");
  /* Some traffic to and from a. */
  for (int i = 0; i < 20; i++) {
    char id[16], where[32];
    snprintf(id, sizeof id, "i-%d", i);
    cr_assert_eq(cl_where(e, id, where, sizeof where), 0);
  }
  cl_run_ms(e, 1200); /* a sample */
  char *s = get(port, "/api/snapshot");
  cr_assert_not_null(s);
  cr_assert_not_null(strstr(s, "\"cluster\":{\"node\":\"a\""), "%.400s", s);
  cr_assert_not_null(strstr(s, "\"partitions\":1024"));
  cr_assert_not_null(strstr(s, "\"msgs_in_per_s\":"));
  cr_assert_not_null(strstr(s, "\"members\":["));
  free(s);
  char *m = get(port, "/metrics");
  cr_assert_not_null(m);
  cr_assert_not_null(strstr(m, "backstage_cluster_nodes 2"), "%.2000s", m);
  cr_assert_not_null(strstr(m, "backstage_cluster_partitions_owned "));
  cr_assert_not_null(strstr(m, "backstage_cluster_node_partitions{node=\"t\"}"));
  cr_assert_not_null(strstr(m, "backstage_cluster_messages_per_second{direction=\"in\"}"));
  cr_assert_not_null(strstr(m, "backstage_cluster_lost_total 0"));
  free(m);
#ifdef BSI_EXE
  /* The terminal UI's one-shot table has the cluster's line. */
  char cmd[512], out[4096];
  snprintf(cmd, sizeof cmd, "%s 127.0.0.1:%d --once", BSI_EXE, port);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  cr_assert_eq(pclose(p), 0, "%s", out);
  cr_assert_not_null(strstr(out, "cluster: node a ("), "%s", out);
  cr_assert_not_null(strstr(out, "serving)  nodes 2  owns "), "%s", out);
  cr_assert_not_null(strstr(out, " of 1024 partitions"), "%s", out);
#endif
  bs_engine_free(e);
  cr_assert_eq(cl_stop(&a), 0);
}
