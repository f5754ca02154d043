/* multicore: one engine over every core.
 *
 * A bank of accounts takes deposits from clients; each deposit does about a
 * microsecond of work. The same workload runs on an engine with one shard
 * and on one with a shard per core (opts.shards = 0), and the program
 * prints both times, the speed-up, and what each shard did. Nothing in the
 * actors' code knows about shards: an account lives on the shard its id
 * hashes to and only ever runs there.
 *
 *   multicore [--shards N] [--deposits N] [--accounts N] [--quick]
 *             [--seconds S] [--inspector host:port]
 *
 * --seconds runs the sharded engine alone, round after round, for S
 * seconds, with the inspector on (default 127.0.0.1:9465): watch the
 * shards at the URL it prints, or with backstage-inspector. */
#define _POSIX_C_SOURCE 200809L /* <uv.h> under strict C11 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "bank.bs.h"

typedef struct Options {
  uint32_t shards;       /* 0: one per core */
  uint32_t deposits;
  uint32_t accounts;
  double seconds;        /* > 0: the inspector mode */
  const char *inspector;
} Options;

static int check(int rc, const char *what) {
  if (rc < 0) fprintf(stderr, "multicore: %s: %s\n", what, bs_strerror(rc));
  return rc;
}

static int parse(int argc, char **argv, Options *o) {
  *o = (Options){.shards = 0, .deposits = 2000000, .accounts = 100000};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--quick") == 0) {
      o->deposits = 40000;
      o->accounts = 2000;
    } else if (strcmp(a, "--shards") == 0 && v) {
      o->shards = (uint32_t)strtoul(v, NULL, 10), i++;
    } else if (strcmp(a, "--deposits") == 0 && v) {
      o->deposits = (uint32_t)strtoul(v, NULL, 10), i++;
    } else if (strcmp(a, "--accounts") == 0 && v) {
      o->accounts = (uint32_t)strtoul(v, NULL, 10), i++;
    } else if (strcmp(a, "--seconds") == 0 && v) {
      o->seconds = strtod(v, NULL), i++;
    } else if (strcmp(a, "--inspector") == 0 && v) {
      o->inspector = v, i++;
    } else {
      fprintf(stderr, "usage: multicore [--shards N] [--deposits N] [--accounts N] "
                      "[--quick] [--seconds S] [--inspector host:port]\n");
      return -1;
    }
  }
  if (o->seconds > 0 && !o->inspector) o->inspector = "127.0.0.1:9465";
  if (o->accounts == 0 || o->deposits == 0) return -1;
  return 0;
}

/* ---- One engine, one workload ----------------------------------------------- */

enum { CLIENTS_PER_SHARD = 2, MAX_CLIENTS = 2 * 1024 };

typedef struct Bank {
  bs_engine *engine;
  uint32_t shards;
  ClientProxy clients[MAX_CLIENTS];
  uint32_t nclients;
} Bank;

static int bank_open(Bank *b, uint32_t shards, const char *inspector) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.shards = shards;
  o.inspector_addr = inspector;
  if (check(bs_engine_new(&b->engine, &o), "bs_engine_new") < 0) return -1;
  b->shards = bs_engine_shards(b->engine);
  /* Clients on every shard: ids are picked by the shard they hash to. */
  uint32_t per[1024] = {0};
  b->nclients = 0;
  for (uint32_t k = 0; b->nclients < CLIENTS_PER_SHARD * b->shards && k < 1000000; k++) {
    char id[32];
    snprintf(id, sizeof id, "client-%u", (unsigned)k);
    ClientProxy c;
    if (check(ClientProxy_get(b->engine, id, &c), "ClientProxy_get") < 0) return -1;
    uint32_t s = bs_ref_shard(&c.ref);
    if (per[s] == CLIENTS_PER_SHARD) continue;
    per[s]++;
    b->clients[b->nclients++] = c;
  }
  return 0;
}

/* Runs one round of `deposits`; returns the seconds it took, or < 0. */
static double bank_round(Bank *b, uint32_t deposits, uint32_t accounts) {
  uint64_t t0 = uv_hrtime();
  for (uint32_t i = 0; i < b->nclients; i++) {
    uint32_t share = deposits / b->nclients + (i < deposits % b->nclients);
    if (check(ClientProxy_start(b->clients[i], share, accounts), "Client.start") < 0)
      return -1;
  }
  if (check(bs_engine_run(b->engine, BS_RUN_UNTIL_DONE), "bs_engine_run") < 0) return -1;
  return (double)(uv_hrtime() - t0) / 1e9;
}

/* Every deposit reached an account exactly once: the balances add up. */
static int bank_audit(Bank *b, uint64_t want, uint32_t accounts) {
  int64_t total = 0;
  uint64_t sent = 0;
  for (uint32_t i = 0; i < accounts; i++) {
    char id[32];
    snprintf(id, sizeof id, "acct-%u", (unsigned)i);
    AccountProxy a;
    int64_t v = 0;
    if (check(AccountProxy_get(b->engine, id, &a), "AccountProxy_get") < 0 ||
        check(AccountProxy_balance_await(a, &v), "Account.balance") < 0)
      return -1;
    total += v;
  }
  for (uint32_t i = 0; i < b->nclients; i++) {
    uint64_t v = 0;
    if (check(ClientProxy_sent_await(b->clients[i], &v), "Client.sent") < 0) return -1;
    sent += v;
  }
  printf("balances: %" PRId64 " in %u accounts, %" PRIu64 " sent: %s\n", total,
         (unsigned)accounts, sent,
         (uint64_t)total == want && sent == want ? "all deposits accounted for"
                                                 : "MISMATCH");
  return (uint64_t)total == want && sent == want ? 0 : -1;
}

static void bank_report(Bank *b) {
  for (uint32_t i = 0; i < b->shards; i++) {
    bs_engine_stats st;
    bs_engine_shard_stats(b->engine, i, &st);
    printf("  shard %u: %" PRIu64 " messages, %" PRIu64 " actors, %" PRIu64
           " from other shards\n",
           (unsigned)i, st.delivered, st.actors, st.remote_in);
  }
}

static double rate(uint32_t n, double s) { return s > 0 ? (double)n / s / 1e6 : 0; }

/* ---- The two modes ------------------------------------------------------------ */

static int compare(const Options *o) {
  printf("multicore: %u accounts, %u deposits of about 1 us of work each, %u cores\n",
         (unsigned)o->accounts, (unsigned)o->deposits, (unsigned)uv_available_parallelism());
  Bank one, many;
  if (bank_open(&one, 1, NULL) < 0) return 1;
  double t1 = bank_round(&one, o->deposits, o->accounts);
  if (t1 < 0 || bank_audit(&one, o->deposits, o->accounts) < 0) return 1;
  printf("1 shard: %u deposits in %.2f s, %.2fM/s\n", (unsigned)o->deposits, t1,
         rate(o->deposits, t1));
  bs_engine_free(one.engine);

  if (bank_open(&many, o->shards, o->inspector) < 0) return 1;
  double tn = bank_round(&many, o->deposits, o->accounts);
  if (tn < 0) return 1;
  printf("%u shards: %u deposits in %.2f s, %.2fM/s, %.2fx\n", (unsigned)many.shards,
         (unsigned)o->deposits, tn, rate(o->deposits, tn), tn > 0 ? t1 / tn : 0);
  bank_report(&many);
  int rc = bank_audit(&many, o->deposits, o->accounts);
  bs_engine_free(many.engine);
  return rc < 0 ? 1 : 0;
}

static int watch(const Options *o) {
  Bank b;
  if (bank_open(&b, o->shards, o->inspector) < 0) return 1;
  char url[128];
  if (bs_inspector_url(b.engine, url, sizeof url) == 0)
    printf("inspector: %s (or: backstage-inspector %s)\n", url, o->inspector);
  uint64_t total = 0, start = uv_hrtime();
  while ((double)(uv_hrtime() - start) / 1e9 < o->seconds) {
    double t = bank_round(&b, o->deposits, o->accounts);
    if (t < 0) return 1;
    total += o->deposits;
    printf("%u shards: %u deposits in %.2f s, %.2fM/s\n", (unsigned)b.shards,
           (unsigned)o->deposits, t, rate(o->deposits, t));
    fflush(stdout);
  }
  bank_report(&b);
  int rc = bank_audit(&b, total, o->accounts);
  bs_engine_free(b.engine);
  return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv) {
  Options o;
  if (parse(argc, argv, &o) < 0) return 2;
  return o.seconds > 0 ? watch(&o) : compare(&o);
}
