/* The TSan scenario runner of bst_mt.h. */
#define _POSIX_C_SOURCE 200809L
#include "bst_mt.h"

#ifdef BST_TSAN
#include <stdbool.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Each scenario in its own process, like Criterion would: one failure does
 * not hide the others. The parent has no threads when it forks. */
int bst_run_isolated(const char *suite, const char *name, void (*fn)(void),
                     unsigned secs) {
  fprintf(stderr, "[RUN ] %s::%s\n", suite, name);
  pid_t pid = fork();
  if (pid == 0) {
    alarm(secs); /* a hang ends as SIGALRM */
    fn();
    exit(0); /* not _exit: TSan sets the exit status at exit */
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return 1;
  bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (ok)
    fprintf(stderr, "[PASS] %s::%s\n", suite, name);
  else if (WIFSIGNALED(status))
    fprintf(stderr, "[FAIL] %s::%s: signal %d\n", suite, name, WTERMSIG(status));
  else
    fprintf(stderr, "[FAIL] %s::%s: exit status %d\n", suite, name, WEXITSTATUS(status));
  return ok ? 0 : 1;
}
#endif
