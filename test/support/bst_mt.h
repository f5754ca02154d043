/* Scenario tests that start threads (foreign posting threads, engines with
 * several shards) and must also pass under ThreadSanitizer.
 *
 * Criterion cannot start under TSan (its inheritable arena fails to map:
 * Snaipe/Criterion#274), so a file built with TSan brings its own main():
 * each scenario runs in a forked process with an alarm, like Criterion
 * would, and the run ends with Criterion's kind of summary. Scenarios use
 * CHECK/CHECKM, never cr_assert or the asserting bst_* helpers.
 *
 *   #define BST_SUITE shards
 *   #include "bst_mt.h"
 *   static void my_scenario(void) { CHECK(1 + 1 == 2); }
 *   #define SCENARIOS(X) X(my_scenario, 10)
 *   BST_MAIN(SCENARIOS)
 */
#ifndef BST_MT_H
#define BST_MT_H

#include <stdio.h>
#include <stdlib.h>

#if defined(__SANITIZE_THREAD__)
#define BST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BST_TSAN 1
#endif
#endif

#ifdef BST_TSAN
#define CHECKM(cond, ...)                                                      \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)
#define CHECK(cond) CHECKM(cond, "%s", "")

/* Runs fn in a child process with an alarm of `secs`; 0 if it passed. */
int bst_run_isolated(const char *suite, const char *name, void (*fn)(void),
                     unsigned secs);

#define BST__STR2(x) #x
#define BST__STR(x) BST__STR2(x)
#define BST__RUN(name, secs)                                                   \
  failed += bst_run_isolated(BST__STR(BST_SUITE), #name, name, secs);          \
  n++;
#define BST_MAIN(LIST)                                                         \
  int main(void) {                                                             \
    int failed = 0, n = 0;                                                     \
    LIST(BST__RUN)                                                             \
    fprintf(stderr, "[====] %s (self-hosted under TSan): %d tested, %d failed\n", \
            BST__STR(BST_SUITE), n, failed);                                   \
    return failed ? 1 : 0;                                                     \
  }
#else
#include <criterion/criterion.h>
#define CHECKM(cond, ...) cr_assert(cond, __VA_ARGS__)
#define CHECK(cond) cr_assert(cond)
#define BST__AS_TEST(name, secs)                                               \
  Test(BST_SUITE, name, .timeout = secs) { name(); }
#define BST_MAIN(LIST) LIST(BST__AS_TEST)
#endif

#endif
