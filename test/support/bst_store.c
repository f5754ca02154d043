/* Temporary stores for the persistence tests. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bst.h"

#define BST_STORE_DIRS 32

static char dirs[BST_STORE_DIRS][64];
static char paths[BST_STORE_DIRS][96];
static int ndirs;
static pid_t owner;

static void remove_dirs(void) {
  if (getpid() != owner) return; /* a forked child leaves them to its parent */
  for (int i = 0; i < ndirs; i++) {
    DIR *d = opendir(dirs[i]);
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      char p[400];
      snprintf(p, sizeof p, "%.63s/%.255s", dirs[i], e->d_name);
      unlink(p);
    }
    if (d) closedir(d);
    rmdir(dirs[i]);
  }
  ndirs = 0;
}

const char *bst_store_path(void) {
  if (ndirs == BST_STORE_DIRS) return NULL;
  const char *tmp = getenv("TMPDIR");
  snprintf(dirs[ndirs], sizeof dirs[ndirs], "%s/bst-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dirs[ndirs])) return NULL;
  if (ndirs == 0 || owner != getpid()) {
    owner = getpid();
    atexit(remove_dirs);
  }
  snprintf(paths[ndirs], sizeof paths[ndirs], "%s/state.db", dirs[ndirs]);
  return paths[ndirs++];
}
