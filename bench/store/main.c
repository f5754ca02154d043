/* backstage-bench-store: the cost of persistent state, measured in one
 * run (docs/persistence.md, "Performance"; ./dev.sh bench prints it).
 *
 *   backstage-bench-store [--quick] [writes]
 *
 * durable  acknowledged persistent writes through the engine: requests to
 *          ACTORS actors (a window of WINDOW outstanding), each turn
 *          persisting; every reply waits for its write's group commit.
 *          Next to it the same number of raw writes of records of the same
 *          size made with the store's own calls (bs_store_save, versions
 *          checked), in transactions of the engine's average batch.
 * load     activation with a stored state: a fresh engine, one awaited
 *          request per stored actor; latency percentiles.
 * gap      the longest time the loop thread went without dispatching while
 *          it had work (a spinner keeps its run queue busy) during a write
 *          storm: loops never wait for the store.
 *
 * Lines:
 *   store durable writes=N ns_per_write=X writes_per_s=Y commits=C batch=B
 *   store raw writes=N ns_per_write=X batch=B
 *   store ratio durable/raw median=R min=A max=B reps=N   (durable and raw
 *                                               alternate, 5 times)
 *   store load n=K p50_us=A p99_us=B max_us=C
 *   store gap max_us=G over_1ms=K preempted=P stalls=S max_stall_us=M
 *             dispatches=D writes=N
 *   store gap control (...): over_1ms=K preempted=P stalls=S max_stall_us=M */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <backstage/testkit.h> /* bs_test_set_trace: a hook before every dispatch */

#include "wallet.bs.h"

enum { ACTORS = 10000, WINDOW = 4096, BURST = 256 };

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static char dir[64];

static const char *path_of(const char *name) {
  static char p[4][128];
  static int k;
  k = (k + 1) % 4;
  snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
  return p[k];
}

static void remove_store(const char *path) {
  const char *ext[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    char p[160];
    snprintf(p, sizeof p, "%s%s", path, ext[i]);
    remove(p);
  }
}

static bs_engine *engine(const char *path) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.store_path = path;
  bs_engine *e = NULL;
  if (bs_engine_new(&e, &o) < 0) return NULL;
  return e;
}

/* ---- durable writes ------------------------------------------------------- */

static uint64_t outstanding, acked, failed;

static void on_reply(void *ud, int status, int64_t balance) {
  (void)ud;
  (void)balance;
  outstanding--;
  if (status == 0) acked++; else failed++;
}

/* Sends `n` deposits (a window of WINDOW) to actors picked at random, or
 * to each in turn (`each`), and runs until all are answered. */
static int storm_to(bs_engine *e, WalletProxy *w, uint64_t n, bool each) {
  uint64_t sent = 0;
  acked = failed = 0;
  uint32_t rnd = 1;
  while (acked + failed < n) {
    /* At most BURST sends per loop iteration: the client shares the loop
     * thread, and its sending is not the loop waiting. */
    for (int burst = 0; burst < BURST && sent < n && outstanding < WINDOW; burst++) {
      rnd = rnd * 1103515245u + 12345u;
      uint32_t a = each ? (uint32_t)(sent % ACTORS) : (rnd >> 4) % ACTORS;
      if (WalletProxy_deposit(w[a], 1, on_reply, NULL) < 0) return -1;
      outstanding++;
      sent++;
    }
    bs_engine_run(e, BS_RUN_ONCE);
  }
  return failed ? -1 : 0;
}

static int storm(bs_engine *e, WalletProxy *w, uint64_t n) { return storm_to(e, w, n, false); }

static WalletProxy *wallets(bs_engine *e) {
  static WalletProxy w[ACTORS];
  for (int i = 0; i < ACTORS; i++) {
    char id[24];
    snprintf(id, sizeof id, "wallet-%d", i);
    bs_get_actor(e, Wallet, id, &w[i]);
  }
  return w;
}

static int durable(uint64_t n, double *ns_per, double *batch, size_t *rec_len) {
  const char *path = path_of("durable.db");
  bs_engine *e = engine(path);
  if (!e) return -1;
  WalletProxy *w = wallets(e);
  if (storm_to(e, w, ACTORS, true) < 0) return -1; /* warm-up: every actor loaded */
  bs_engine_stats a, b;
  bs_engine_stats_get(e, &a);
  uint64_t t0 = now_ns();
  if (storm(e, w, n) < 0) return -1;
  uint64_t dt = now_ns() - t0;
  bs_engine_stats_get(e, &b);
  uint64_t writes = b.store_writes - a.store_writes, commits = b.store_commits - a.store_commits;
  *ns_per = (double)dt / (double)n;
  *batch = commits ? (double)writes / (double)commits : 0;
  *rec_len = writes ? (size_t)((b.store_bytes - a.store_bytes) / writes) : 0;
  printf("store durable writes=%llu ns_per_write=%.0f writes_per_s=%.0f commits=%llu "
         "batch=%.1f records=%llu\n",
         (unsigned long long)n, *ns_per, 1e9 / *ns_per, (unsigned long long)commits, *batch,
         (unsigned long long)writes);
  bs_engine_free(e);
  remove_store(path);
  return 0;
}

/* The same number of records of the same size, straight into the store. */
static int raw(uint64_t n, double batch, size_t rec_len, double *ns_per) {
  const char *path = path_of("raw.db");
  bs_store *s = NULL;
  if (bs_store_open(&s, path, NULL) < 0) return -1;
  static uint64_t version[ACTORS];
  memset(version, 0, sizeof version);
  uint8_t rec[256];
  memset(rec, 0xab, sizeof rec);
  if (rec_len > sizeof rec) rec_len = sizeof rec;
  uint64_t per = batch >= 1 ? (uint64_t)(batch + 0.5) : 1;
  uint32_t rnd = 1;
  uint64_t t0 = now_ns();
  for (uint64_t i = 0; i < n;) {
    if (bs_store_begin(s) < 0) return -1;
    for (uint64_t k = 0; k < per && i < n; k++, i++) {
      rnd = rnd * 1103515245u + 12345u;
      int a = (int)((rnd >> 4) % ACTORS);
      char id[24];
      snprintf(id, sizeof id, "wallet-%d", a);
      if (bs_store_save(s, "Wallet", id, rec, rec_len, version[a], &version[a]) < 0) return -1;
    }
    if (bs_store_commit(s) < 0) return -1;
  }
  *ns_per = (double)(now_ns() - t0) / (double)n;
  printf("store raw writes=%llu ns_per_write=%.0f batch=%llu record_bytes=%zu\n",
         (unsigned long long)n, *ns_per, (unsigned long long)per, rec_len);
  bs_store_free(s);
  remove_store(path);
  return 0;
}

/* ---- activation with a stored state ------------------------------------------- */

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static int load_latency(uint64_t k) {
  const char *path = path_of("load.db");
  bs_engine *e = engine(path);
  if (!e) return -1;
  WalletProxy *w = wallets(e);
  if (storm_to(e, w, ACTORS, true) < 0) return -1; /* every actor stored */
  bs_engine_free(e);
  e = engine(path);
  w = wallets(e);
  uint64_t *lat = malloc(k * sizeof *lat);
  for (uint64_t i = 0; i < k; i++) {
    int64_t b = 0;
    uint64_t t0 = now_ns();
    if (WalletProxy_balance_await(w[i % ACTORS], &b) < 0 || b <= 0) return -1;
    lat[i] = now_ns() - t0;
  }
  qsort(lat, k, sizeof *lat, cmp_u64);
  printf("store load n=%llu p50_us=%.1f p99_us=%.1f max_us=%.1f\n", (unsigned long long)k,
         lat[k / 2] / 1e3, lat[k * 99 / 100] / 1e3, lat[k - 1] / 1e3);
  free(lat);
  bs_engine_free(e);
  remove_store(path);
  return 0;
}

/* ---- dispatch gaps during a storm ----------------------------------------------- */

/* A gap is the time between two dispatches. On a machine shared with
 * other work the loop thread is also preempted: a gap over 1 ms is
 * counted as preempted when the thread was switched out involuntarily
 * since the last sample (getrusage every 256 dispatches), else as a stall.
 * A virtual machine's host can also take the CPU away without the guest
 * seeing a switch; the control below measures those: the same counting on
 * a plain loop that only reads the clock, for as long as the storm took. */
static uint64_t last_dispatch, max_gap, max_stall, dispatches, over_1ms, stalls;
static long last_ivcsw;

static long involuntary_switches(void) {
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  return ru.ru_nivcsw;
}

static void on_dispatch(void *ud, const char *id, const char *what) {
  (void)ud;
  (void)id;
  (void)what;
  uint64_t t = now_ns(), gap = last_dispatch ? t - last_dispatch : 0;
  if (gap > max_gap) max_gap = gap;
  if (gap > 1000000) {
    over_1ms++;
    long iv = involuntary_switches();
    if (iv == last_ivcsw) {
      stalls++;
      if (gap > max_stall) max_stall = gap;
    }
    last_ivcsw = iv;
  } else if (dispatches % 256 == 0) {
    last_ivcsw = involuntary_switches();
  }
  last_dispatch = now_ns();
  dispatches++;
}

/* The control: stalls of a loop that does nothing but look at the clock. */
static void control(uint64_t ns) {
  uint64_t end = now_ns() + ns, last = now_ns(), gaps_over = 0, unexplained = 0, worst = 0;
  long iv = involuntary_switches();
  for (uint64_t i = 0;; i++) {
    uint64_t t = now_ns();
    if (t > end) break;
    if (t - last > 1000000) {
      gaps_over++;
      long now_iv = involuntary_switches();
      if (now_iv == iv) {
        unexplained++;
        if (t - last > worst) worst = t - last;
      }
      iv = now_iv;
    } else if (i % 256 == 0) {
      iv = involuntary_switches();
    }
    last = now_ns();
  }
  printf("store gap control (a loop reading the clock, same time): over_1ms=%llu preempted=%llu "
         "stalls=%llu max_stall_us=%.1f\n",
         (unsigned long long)gaps_over, (unsigned long long)(gaps_over - unexplained),
         (unsigned long long)unexplained, worst / 1e3);
}

static int gaps(uint64_t n) {
  const char *path = path_of("gap.db");
  bs_engine *e = engine(path);
  if (!e) return -1;
  WalletProxy *w = wallets(e);
  if (storm_to(e, w, ACTORS, true) < 0) return -1;
  SpinnerProxy sp;
  bs_get_actor(e, Spinner, "spinner", &sp);
  bench_spinning = true;
  SpinnerProxy_spin(sp, UINT64_MAX);
  bs_test_set_trace(e, on_dispatch, NULL);
  uint64_t t0 = now_ns();
  int rc = storm(e, w, n);
  uint64_t took = now_ns() - t0;
  bs_test_set_trace(e, NULL, NULL);
  bench_spinning = false;
  bs_engine_run(e, BS_RUN_UNTIL_DONE);
  printf("store gap max_us=%.1f over_1ms=%llu preempted=%llu stalls=%llu max_stall_us=%.1f "
         "dispatches=%llu writes=%llu\n",
         max_gap / 1e3, (unsigned long long)over_1ms, (unsigned long long)(over_1ms - stalls),
         (unsigned long long)stalls, max_stall / 1e3, (unsigned long long)dispatches,
         (unsigned long long)n);
  bs_engine_free(e);
  remove_store(path);
  control(took);
  return rc;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  uint64_t n = 400000, k = 2000;
  int reps = 5;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) {
      n = 20000;
      k = 200;
      reps = 1;
    } else {
      n = strtoull(argv[i], NULL, 10);
    }
  }
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/bs-bench-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) return 1;
  /* Durable and raw alternate, so a machine that gets busier or quieter
   * meanwhile weighs on both; the median ratio is the figure. */
  double ratio[16];
  int rc = 0;
  for (int i = 0; rc == 0 && i < reps && i < 16; i++) {
    double d = 0, r = 0, batch = 0;
    size_t rec_len = 0;
    rc = durable(n, &d, &batch, &rec_len);
    if (rc == 0) rc = raw(n, batch, rec_len, &r);
    ratio[i] = d / r;
  }
  if (rc == 0) {
    qsort(ratio, (size_t)reps, sizeof *ratio, cmp_double);
    printf("store ratio durable/raw median=%.2f min=%.2f max=%.2f reps=%d\n", ratio[reps / 2],
           ratio[0], ratio[reps - 1], reps);
  }
  if (rc == 0) rc = load_latency(k);
  if (rc == 0) rc = gaps(n);
  rmdir(dir);
  if (rc) fprintf(stderr, "backstage-bench-store: FAILED\n");
  return rc ? 1 : 0;
}
