/* API checks: functions called from a thread (or a place) that may not
 * call them. Release builds return BS_EWRONGTHREAD (or do nothing, for void
 * functions); debug and sanitizer builds abort with a message naming the
 * function, so misuse is caught where it happens.
 *
 * Each misuse runs in a child process; the parent checks how it ended and,
 * for the aborting builds, that stderr names the function. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <uv.h>

#include "bst.h"

#ifdef BST_API_ABORTS
static const bool aborts = true;
#else
static const bool aborts = false;
#endif

/* Runs fn in a child with stderr captured. The child exits 0 if fn's own
 * checks (release behaviour) held, 1 if not; an API check may abort it. */
static void misuse(void (*fn)(void), const char *function) {
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  fflush(NULL);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    dup2(fds[1], 2);
    close(fds[0]);
    fn();
    _exit(0);
  }
  close(fds[1]);
  char err[4096];
  size_t n = 0;
  ssize_t k;
  while (n < sizeof err - 1 && (k = read(fds[0], err + n, sizeof err - 1 - n)) > 0) n += (size_t)k;
  err[n] = '\0';
  close(fds[0]);
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  if (aborts) {
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "no abort; stderr: %s", err);
    char want[128];
    snprintf(want, sizeof want, "backstage: %s: ", function);
    cr_assert_not_null(strstr(err, want), "stderr does not name %s: %s", function, err);
  } else {
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "release checks failed: %s", err);
  }
}

#define EXPECT(cond)                                                           \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);               \
      _exit(1);                                                                \
    }                                                                          \
  } while (0)

static bs_engine *g_e;
static bs_ref g_r;

static void setup(uint32_t shards) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.shards = shards;
  EXPECT(bs_engine_new(&g_e, &o) == 0);
  EXPECT(bs_actor_get(g_e, &bst_echo_type, "x", &g_r) == 0);
}

static void *on_thread(void *arg) {
  void (*fn)(void) = (void (*)(void))(uintptr_t)arg;
  fn();
  return NULL;
}

static void from_thread(void (*fn)(void)) {
  pthread_t t;
  EXPECT(pthread_create(&t, NULL, on_thread, (void *)(uintptr_t)fn) == 0);
  EXPECT(pthread_join(t, NULL) == 0);
}

static void run_there(void) { EXPECT(bs_engine_run(g_e, BS_RUN_NOWAIT) == BS_EWRONGTHREAD); }
static void run_from_another_thread(void) {
  setup(1);
  from_thread(run_there);
}
Test(api_checks, run_from_another_thread, .timeout = 10) {
  misuse(run_from_another_thread, "bs_engine_run");
}

static void send_there(void) {
  EXPECT(bst_send_bytes(g_r, &bst_echo_methods[BST_ECHO_TAKE], "x", 1) == BS_EWRONGTHREAD);
}
static void send_from_a_foreign_thread(void) {
  setup(2);
  from_thread(send_there);
  EXPECT(bst_stats(g_e).sent == 0);
}
Test(api_checks, send_from_a_foreign_thread, .timeout = 10) {
  misuse(send_from_a_foreign_thread, "bs_send_begin");
}

static void stop_there(void) { EXPECT(bs_stop(&g_r) == BS_EWRONGTHREAD); }
static void stop_from_a_foreign_thread(void) {
  setup(1);
  from_thread(stop_there);
}
Test(api_checks, stop_from_a_foreign_thread, .timeout = 10) {
  misuse(stop_from_a_foreign_thread, "bs_stop");
}

static bs_timer g_t;
static void tick(bs_timer *t) { (void)t; }
static void timer_there(void) {
  EXPECT(bs_timer_start(&g_t, tick, 10, 0) == BS_EWRONGTHREAD);
}
static void timer_started_from_another_thread(void) {
  setup(1);
  EXPECT(bs_timer_init(g_e, &g_t) == 0);
  from_thread(timer_there);
  EXPECT(!bs_timer_active(&g_t));
}
Test(api_checks, timer_started_from_another_thread, .timeout = 10) {
  misuse(timer_started_from_another_thread, "bs_timer_start");
}

static void init_there(void) { EXPECT(bs_timer_init(g_e, &g_t) == BS_EWRONGTHREAD); }
static void timer_init_on_a_foreign_thread(void) {
  setup(1);
  from_thread(init_there);
}
Test(api_checks, timer_init_on_a_foreign_thread, .timeout = 10) {
  misuse(timer_init_on_a_foreign_thread, "bs_timer_init");
}

static void free_there(void) { bs_engine_free(g_e); }
static void free_from_another_thread(void) {
  setup(2);
  from_thread(free_there);
  /* release: nothing happened, the engine still works */
  EXPECT(bst_send_bytes(g_r, &bst_echo_methods[BST_ECHO_TAKE], "x", 1) == 0);
  EXPECT(bs_engine_run(g_e, BS_RUN_UNTIL_DONE) == 0);
  bs_engine_free(g_e);
}
Test(api_checks, free_from_another_thread, .timeout = 10) {
  misuse(free_from_another_thread, "bs_engine_free");
}

static void await_there(void) {
  int64_t v = 0;
  bs_ref c;
  EXPECT(bs_actor_get(g_e, &bst_counter_type, "c", &c) == 0);
  EXPECT(bst_await0_i64(c, &bst_counter_methods[BST_COUNTER_GET], &v, 0) == BS_EWRONGTHREAD);
}
static void await_from_a_foreign_thread(void) {
  setup(1);
  from_thread(await_there);
}
Test(api_checks, await_from_a_foreign_thread, .timeout = 10) {
  misuse(await_from_a_foreign_thread, "bs_send_begin");
}

static void hold_there(void) { bs_engine_hold(g_e); }
static void hold_from_another_thread(void) {
  setup(1);
  from_thread(hold_there);
  EXPECT(bs_engine_run(g_e, BS_RUN_UNTIL_DONE) == 0); /* not held: returns */
  bs_engine_free(g_e);
}
Test(api_checks, hold_from_another_thread, .timeout = 10) {
  misuse(hold_from_another_thread, "bs_engine_hold");
}

/* What a foreign thread may do: post, get refs, read statistics. */
static void *allowed(void *arg) {
  (void)arg;
  bs_ref r;
  bs_engine_stats st;
  if (bs_actor_get(g_e, &bst_echo_type, "y", &r) != 0) return (void *)1;
  bs_engine_stats_get(g_e, &st);
  return NULL;
}

Test(api_checks, refs_and_statistics_are_fine_from_any_thread, .timeout = 10) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  cr_assert_eq(bs_engine_new(&g_e, &o), 0);
  pthread_t t;
  void *ret = (void *)2;
  cr_assert_eq(pthread_create(&t, NULL, allowed, NULL), 0);
  cr_assert_eq(pthread_join(t, &ret), 0);
  cr_assert_null(ret);
  bs_engine_free(g_e);
}

/* Issue 13, item 11: freeing an engine from a callback of the user's own
 * uv_run on the engine's loop used to close and free that loop under
 * uv_run (SEGV). Refused now; the engine can be freed after uv_run. */
static void free_in_users_timer(uv_timer_t *t) {
  bs_engine_free(g_e); /* refused */
  uv_close((uv_handle_t *)t, NULL);
}
static void free_inside_the_users_uv_run(void) {
  setup(1);
  uv_timer_t t;
  EXPECT(uv_timer_init(bs_engine_loop(g_e), &t) == 0);
  EXPECT(uv_timer_start(&t, free_in_users_timer, 1, 0) == 0);
  EXPECT(uv_run(bs_engine_loop(g_e), UV_RUN_DEFAULT) == 0);
  EXPECT(bst_send_bytes(g_r, &bst_echo_methods[BST_ECHO_TAKE], "x", 1) == 0);
  EXPECT(bs_engine_run(g_e, BS_RUN_UNTIL_DONE) == 0);
  bs_engine_free(g_e);
}
Test(api_checks, free_inside_the_users_uv_run_on_the_engines_loop, .timeout = 10) {
  misuse(free_inside_the_users_uv_run, "bs_engine_free");
}

/* The engine's own loop still carrying a handle of the user's: freeing
 * would close a loop that is not empty. */
static void free_with_user_handles_left(void) {
  setup(1);
  uv_timer_t t;
  EXPECT(uv_timer_init(bs_engine_loop(g_e), &t) == 0);
  bs_engine_free(g_e); /* refused */
  uv_close((uv_handle_t *)&t, NULL);
  EXPECT(uv_run(bs_engine_loop(g_e), UV_RUN_DEFAULT) == 0);
  bs_engine_free(g_e);
}
Test(api_checks, free_with_the_users_handles_on_the_engines_loop, .timeout = 10) {
  misuse(free_with_user_handles_left, "bs_engine_free");
}
