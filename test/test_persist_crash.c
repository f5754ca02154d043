/* Crash safety of persistent state (docs/persistence.md, "What is
 * guaranteed"): a writer process runs a request storm against persistent
 * actors on two shards and logs every reply it receives; it is killed with
 * SIGKILL in the middle. Afterwards every request the log shows as
 * acknowledged is in the stored states, and no state is torn.
 *
 * The writer sends account k its j-th deposit with amount j, so the k-th
 * account's stored state after n deposits must be ops = n and balance =
 * n(n+1)/2 (and its check field must match: the Ledger's decoder refuses
 * a record whose check does not). The log is written with write(2) per
 * reply, so what the writer saw survives its death. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "bst.h"

enum { ACCOUNTS = 64, WINDOW = 512 };

static int log_fd = -1;
static int outstanding;

static void on_reply(void *ud, int status, int64_t balance) {
  outstanding--;
  if (status != 0) return; /* not acknowledged: nothing promised */
  uint64_t tag = (uint64_t)(uintptr_t)ud;
  char line[64];
  int n = snprintf(line, sizeof line, "%u %llu %lld\n", (unsigned)(tag >> 40),
                   (unsigned long long)(tag & ((1ull << 40) - 1)), (long long)balance);
  if (write(log_fd, line, (size_t)n) != n) _exit(3);
}

/* The writer: never returns. */
static void writer(const char *path, const char *log_path) {
  log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (log_fd < 0) _exit(2);
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.shards = 2;
  o.store_path = path;
  bs_engine *e = NULL;
  if (bs_engine_new(&e, &o) != 0) _exit(2);
  bs_ref acct[ACCOUNTS];
  uint64_t sent[ACCOUNTS] = {0};
  for (int k = 0; k < ACCOUNTS; k++) {
    char id[16];
    snprintf(id, sizeof id, "acct-%d", k);
    bs_actor_get(e, &bst_ledger_type, id, &acct[k]);
  }
  uint32_t rnd = 12345;
  for (;;) {
    while (outstanding < WINDOW) {
      rnd = rnd * 1103515245u + 12345u;
      int k = (int)((rnd >> 8) % ACCOUNTS);
      uint64_t j = ++sent[k];
      bs_writer w;
      bs_send_begin(&acct[k], &bst_ledger_methods[BST_LEDGER_DEPOSIT], &w);
      bs_write_int(&w, (int64_t)j);
      void *tag = (void *)(uintptr_t)((uint64_t)k << 40 | j);
      if (bs_request_end(&w, bst_reply_i64, (bs_fnptr)on_reply, tag) != 0) _exit(4);
      outstanding++;
    }
    bs_engine_run(e, BS_RUN_ONCE);
  }
}

static size_t file_size(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 ? (size_t)st.st_size : 0;
}

Test(persist_crash, acknowledged_writes_survive_kill_9, .timeout = 120) {
  const char *path = bst_store_path();
  char log_path[128];
  snprintf(log_path, sizeof log_path, "%s.log", path);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) writer(path, log_path);
  /* Kill it in the middle of the storm: once a good number of replies
   * are in (each line is ~20 bytes), plus a random few milliseconds. */
  for (int i = 0; i < 3000 && file_size(log_path) < 20 * 20000; i++) usleep(10000);
  usleep((useconds_t)(getpid() % 20) * 1000);
  cr_assert_eq(kill(pid, SIGKILL), 0);
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the writer died by the kill");

  /* The client's log: the highest acknowledged deposit per account. */
  uint64_t acked[ACCOUNTS] = {0};
  size_t lines = 0;
  FILE *f = fopen(log_path, "r");
  cr_assert_not_null(f);
  unsigned k;
  unsigned long long j;
  long long balance;
  while (fscanf(f, "%u %llu %lld", &k, &j, &balance) == 3) {
    cr_assert_lt(k, ACCOUNTS);
    cr_assert_eq(balance, (long long)(j * (j + 1) / 2), "the reply itself is consistent");
    if (j > acked[k]) acked[k] = j;
    lines++;
  }
  fclose(f);
  unlink(log_path);
  cr_assert_gt(lines, 1000, "a storm, not a trickle: %zu replies", lines);

  /* After the restart: every acknowledged deposit is there, none torn. */
  bs_engine_options o = bst_options(NULL);
  o.store_path = path;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  uint64_t stored_total = 0;
  for (int a = 0; a < ACCOUNTS; a++) {
    char id[16];
    snprintf(id, sizeof id, "acct-%d", a);
    bs_ref r;
    cr_assert_eq(bs_actor_get(e, &bst_ledger_type, id, &r), 0);
    int64_t b = -1;
    int rc = bst_await0_i64(r, &bst_ledger_methods[BST_LEDGER_GET], &b, 10000);
    cr_assert_eq(rc, 0, "%s loads: %s", id, bs_errname(rc)); /* a torn record would not */
    /* b = n(n+1)/2 for the n deposits stored: find n. */
    uint64_t n = 0;
    while ((int64_t)((n + 1) * (n + 2) / 2) <= b) n++;
    cr_assert_eq((int64_t)(n * (n + 1) / 2), b, "%s: balance %lld is no prefix of the deposits",
                 id, (long long)b);
    cr_assert_geq(n, acked[a], "%s: %llu deposits stored, %llu acknowledged", id,
                  (unsigned long long)n, (unsigned long long)acked[a]);
    stored_total += n;
  }
  cr_assert_eq(bst_stats(e).store_errors, 0);
  bs_engine_free(e);
  cr_log_info("persist_crash: %zu acknowledged replies before the kill, %llu deposits stored",
              lines, (unsigned long long)stored_total);
}
