#define _GNU_SOURCE
#include "cl_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "cl_actors.bs.h"
#include "cl_actors.h"

static char dir[256];

static void remove_dir(void) {
  if (!dir[0] || getenv("CL_KEEP")) return;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) {
  }
}

const char *cl_dir(void) {
  if (!dir[0]) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/bst-cluster-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) dir[0] = '\0';
    else atexit(remove_dir);
  }
  return dir;
}

void cl_path(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", cl_dir(), name); }

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cl_spawn_argv(cl_proc *p, const char *name, const char *const *args, char *why, size_t cap) {
  memset(p, 0, sizeof *p);
  snprintf(p->name, sizeof p->name, "%s", name);
  if (why && cap) why[0] = '\0';
  char outpath[300], fdarg[16];
  snprintf(outpath, sizeof outpath, "%s/%s.out", cl_dir(), name);
  const char *argv[64];
  int n = 0;
  while (args[n] && n < 60) {
    argv[n] = args[n];
    n++;
  }
  int fds[2];
  if (pipe(fds) != 0) return -1;
  snprintf(fdarg, sizeof fdarg, "%d", fds[1]);
  argv[n++] = "--ready-fd";
  argv[n++] = fdarg;
  argv[n] = NULL;
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    close(fds[0]);
    int fd = open(outpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  close(fds[1]);
  p->pid = pid;
  char buf[128];
  size_t got = 0;
  double until = now_s() + 30;
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  while (now_s() < until && got < sizeof buf - 1) {
    ssize_t r = read(fds[0], buf + got, sizeof buf - 1 - got);
    if (r > 0) {
      got += (size_t)r;
      buf[got] = '\0';
      if (strchr(buf, '\n')) break;
    } else if (r == 0) {
      break;
    } else if (errno != EAGAIN) {
      break;
    }
    usleep(10 * 1000);
  }
  close(fds[0]);
  buf[got] = '\0';
  if (strncmp(buf, "READY", 5) == 0) {
    if (why && cap) snprintf(why, cap, "%s", buf); /* the line, with its inspector URL */
    return 0;
  }
  if (why && cap) snprintf(why, cap, "%s", got ? buf : "no answer");
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  p->pid = 0;
  return -1;
}

int cl_spawn(cl_proc *p, const char *url, const char *name, char *why, size_t cap, ...) {
  char logpath[300];
  cl_path(logpath, sizeof logpath, "events.log");
  const char *argv[64];
  int n = 0;
  argv[n++] = CL_NODE_BIN;
  argv[n++] = "--url";
  argv[n++] = url;
  argv[n++] = "--node";
  argv[n++] = name;
  argv[n++] = "--log";
  argv[n++] = logpath;
  va_list ap;
  va_start(ap, cap);
  const char *a;
  while ((a = va_arg(ap, const char *)) && n < 60) argv[n++] = a;
  va_end(ap);
  argv[n] = NULL;
  return cl_spawn_argv(p, name, argv, why, cap);
}

void cl_signal(cl_proc *p, int sig) {
  if (p->pid) kill(p->pid, sig);
}

void cl_wait_stopped(cl_proc *p) {
  char path[64], st[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)p->pid);
  for (int i = 0; i < 1000; i++) {
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(st, 1, sizeof st - 1, f) : 0;
    if (f) fclose(f);
    st[n] = '\0';
    const char *paren = strrchr(st, ')');
    if (paren && paren[1] == ' ' && paren[2] == 'T') return;
    usleep(2000);
  }
}

int cl_stop(cl_proc *p) {
  if (!p->pid) return -1;
  kill(p->pid, SIGCONT);
  kill(p->pid, SIGTERM);
  int st = 0;
  double until = now_s() + 20;
  while (waitpid(p->pid, &st, WNOHANG) == 0) {
    if (now_s() > until) {
      kill(p->pid, SIGKILL);
      waitpid(p->pid, &st, 0);
      p->pid = 0;
      return -1;
    }
    usleep(10 * 1000);
  }
  p->pid = 0;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int cl_engine(bs_engine **out, const char *url, const char *name, uint32_t shards,
              cl_tweak_fn tweak) {
  static const bs_actor_type *const types[] = {&Counter_actor_type};
  char logpath[300];
  cl_path(logpath, sizeof logpath, "events.log");
  cl_log_open(logpath, name);
  bs_cluster_options co;
  bs_cluster_options_init(&co);
  co.servers = url;
  co.name = "bst";
  co.node = name;
  co.types = types;
  co.ntypes = 1;
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.shards = shards;
  o.cluster = &co;
  if (tweak) tweak(&co, &o);
  return bs_engine_new(out, &o);
}

static void stop_cb(uv_timer_t *t) { bs_engine_stop(t->data); }

void cl_run_ms(bs_engine *e, uint64_t ms) {
  uv_timer_t t;
  uv_timer_init(bs_engine_loop(e), &t);
  t.data = e;
  uv_timer_start(&t, stop_cb, ms, 0);
  bs_engine_run(e, BS_RUN_UNTIL_DONE);
  uv_close((uv_handle_t *)&t, NULL);
  bs_engine_run(e, BS_RUN_NOWAIT);
}

bool cl_run_until(bs_engine *e, uint64_t ms, bool (*fn)(bs_engine *e, void *ud), void *ud) {
  double until = now_s() + (double)ms / 1000;
  while (!fn(e, ud)) {
    if (now_s() > until) return false;
    cl_run_ms(e, 20);
  }
  return true;
}

int cl_where(bs_engine *e, const char *id, char *out, size_t cap) {
  CounterProxy c;
  int rc = CounterProxy_get(e, id, &c);
  if (rc < 0) return rc;
  const char *where = NULL;
  bs_arena arena;
  bs_arena_init(&arena, (bs_allocator){NULL, NULL});
  rc = CounterProxy_where_await_timeout(c, &arena, &where, 2000);
  if (rc == 0) snprintf(out, cap, "%s", where ? where : "?");
  bs_arena_free(&arena);
  return rc;
}

/* ---- The log ---------------------------------------------------------------------- */

typedef struct ev {
  unsigned long long t;
  char what[8], node[32], id[64], from[32];
  long pid;
  unsigned long long seq;
} ev;

static int read_log(ev **out, size_t *n) {
  char path[300];
  cl_path(path, sizeof path, "events.log");
  FILE *f = fopen(path, "r");
  *out = NULL;
  *n = 0;
  if (!f) return 0;
  size_t cap = 0;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    ev e;
    if (sscanf(line, "%llu %7s %31s %ld %63s %31s %llu", &e.t, e.what, e.node, &e.pid, e.id,
               e.from, &e.seq) != 7)
      continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 1024;
      *out = realloc(*out, cap * sizeof **out);
    }
    (*out)[(*n)++] = e;
  }
  fclose(f);
  return 0;
}

static int by_id_time(const void *a, const void *b) {
  const ev *x = a, *y = b;
  int c = strcmp(x->id, y->id);
  if (c) return c;
  return x->t < y->t ? -1 : x->t > y->t;
}

unsigned long cl_count(const char *what, const char *node, const char *id) {
  ev *evs;
  size_t n;
  read_log(&evs, &n);
  unsigned long k = 0;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(evs[i].what, what) && (!node || !strcmp(evs[i].node, node)) &&
        (!id || !strcmp(evs[i].id, id)))
      k++;
  free(evs);
  return k;
}

unsigned long cl_count_seq(const char *what, const char *node, unsigned long long seq) {
  ev *evs;
  size_t n;
  read_log(&evs, &n);
  unsigned long k = 0;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(evs[i].what, what) && (!node || !strcmp(evs[i].node, node)) && evs[i].seq == seq)
      k++;
  free(evs);
  return k;
}

typedef struct inst {      /* one live instance of the actor being checked */
  char node[32];
  long pid;
  unsigned long long start, last;
  bool open;
} inst;

typedef struct sent {      /* (sender, seq) seen for the actor being checked */
  char from[32];
  unsigned long long seq;
  long pid;                /* instance that got it, for order checks */
  unsigned long long start;
} sent;

static int by_from_seq(const void *a, const void *b) {
  const sent *x = a, *y = b;
  int c = strcmp(x->from, y->from);
  if (c) return c;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int cl_check_log(char *why, size_t cap, cl_log_stats *st, bool order) {
  ev *evs;
  size_t n;
  read_log(&evs, &n);
  if (st) memset(st, 0, sizeof *st);
  qsort(evs, n, sizeof *evs, by_id_time);
  int rc = 0;
  inst insts[64];
  sent *seen = NULL;
  size_t seen_cap = 0;
  for (size_t i = 0; i < n && rc == 0;) {
    size_t j = i;
    while (j < n && !strcmp(evs[j].id, evs[i].id)) j++;
    /* Instances of evs[i].id: an ACT opens one on (node, pid), a DEACT
     * closes it; MSG and ELEM extend it. */
    size_t ninst = 0, nseen = 0;
    for (size_t k = i; k < j && rc == 0; k++) {
      ev *e = &evs[k];
      inst *cur = NULL;
      for (size_t m = 0; m < ninst; m++)
        if (insts[m].open && insts[m].pid == e->pid && !strcmp(insts[m].node, e->node))
          cur = &insts[m];
      if (!strcmp(e->what, "ACT")) {
        if (st) st->activations++;
        if (ninst == 64) memmove(insts, insts + 1, sizeof *insts * --ninst);
        cur = &insts[ninst++];
        snprintf(cur->node, sizeof cur->node, "%s", e->node);
        cur->pid = e->pid;
        cur->start = cur->last = e->t;
        cur->open = true;
      } else if (!strcmp(e->what, "DEACT")) {
        if (cur) cur->open = false;
      } else if (!strcmp(e->what, "MSG")) {
        if (st) st->messages++;
        if (!cur) {
          snprintf(why, cap, "%s: message %s/%llu on %s without an activation", e->id, e->from,
                   e->seq, e->node);
          rc = -1;
          break;
        }
        cur->last = e->t;
        if (nseen == seen_cap) {
          seen_cap = seen_cap ? seen_cap * 2 : 1024;
          seen = realloc(seen, seen_cap * sizeof *seen);
        }
        sent *s = &seen[nseen++];
        snprintf(s->from, sizeof s->from, "%s", e->from);
        s->seq = e->seq;
        s->pid = e->pid;
        s->start = cur->start;
      } else if (!strcmp(e->what, "ELEM")) {
        if (st) st->elems++;
      }
    }
    if (rc) break;
    /* Two instances on different processes overlap if one activated
     * before the other's last message and after its start. */
    for (size_t a = 0; a < ninst && rc == 0; a++)
      for (size_t b = 0; b < ninst && rc == 0; b++) {
        if (a == b || insts[a].pid == insts[b].pid) continue;
        if (insts[b].start > insts[a].start && insts[b].start < insts[a].last) {
          snprintf(why, cap, "%s: two instances at once: %s (pid %ld, %llu..%llu) and %s "
                             "(pid %ld, from %llu)",
                   evs[i].id, insts[a].node, insts[a].pid, insts[a].start, insts[a].last,
                   insts[b].node, insts[b].pid, insts[b].start);
          rc = -1;
        }
      }
    /* Each (sender, seq) once; per sender, increasing within an instance
     * (the log is in time order, so equal or lower later = reordered). */
    if (nseen) qsort(seen, nseen, sizeof *seen, by_from_seq);
    for (size_t k = 1; k < nseen && rc == 0; k++)
      if (!strcmp(seen[k].from, seen[k - 1].from) && seen[k].seq == seen[k - 1].seq) {
        snprintf(why, cap, "%s: message %s/%llu delivered twice", evs[i].id, seen[k].from,
                 seen[k].seq);
        rc = -1;
      }
    for (size_t k = i; k < j && rc == 0 && order; k++) {
      if (strcmp(evs[k].what, "MSG")) continue;
      for (size_t m = k + 1; m < j; m++) {
        if (strcmp(evs[m].what, "MSG") || strcmp(evs[m].from, evs[k].from) ||
            evs[m].pid != evs[k].pid)
          continue;
        if (evs[m].seq < evs[k].seq) {
          /* Same process: reordered unless a new instance began between. */
          bool fresh = false;
          for (size_t q = k + 1; q < m; q++)
            if (!strcmp(evs[q].what, "ACT") && evs[q].pid == evs[k].pid) fresh = true;
          if (!fresh) {
            snprintf(why, cap, "%s: from %s, %llu after %llu on %s", evs[i].id, evs[k].from,
                     evs[m].seq, evs[k].seq, evs[k].node);
            rc = -1;
          }
        }
        break;
      }
    }
    i = j;
  }
  free(seen);
  free(evs);
  return rc;
}
