/* Cluster test harness: node processes (cl_node), an engine in the test
 * process that joins the same cluster, running it for a while, and the
 * checks over the shared event log (cl_actors.h). */
#ifndef CL_HARNESS_H
#define CL_HARNESS_H

#include <backstage.h>
#include <stdbool.h>
#include <sys/types.h>

#include "bst_natsd.h"

typedef struct cl_proc {
  pid_t pid;
  char name[32];
} cl_proc;

/* Where a test keeps its files: a fresh temporary directory. */
const char *cl_dir(void);
/* <dir>/<name>, in a static buffer per call site's copy. */
void cl_path(char *out, size_t cap, const char *name);

/* Starts cl_node --url url --node name --log <dir>/events.log plus `args`
 * (NULL-terminated) and waits (up to 30 s) for it to join. 0 with its
 * "READY <name> <inspector URL or ->" line in *why, or -1 with p->pid 0
 * (a node that failed to join: its JOIN line in *why). */
int cl_spawn(cl_proc *p, const char *url, const char *name, char *why, size_t cap, ...);
/* The same for any node program: `args` (program first, NULL-terminated;
 * "--ready-fd N" is added) with its output in <dir>/<name>.out, waiting
 * for the READY line it writes to that fd. */
int cl_spawn_argv(cl_proc *p, const char *name, const char *const *args, char *why, size_t cap);
void cl_signal(cl_proc *p, int sig);
/* Stops it with SIGTERM (a graceful leave); its exit status, or -1. */
int cl_stop(cl_proc *p);
/* Waits until the process is really stopped (SIGSTOP is asynchronous). */
void cl_wait_stopped(cl_proc *p);

/* An engine in the test process, joined to the cluster as node `name`,
 * with the test types registered; `shards`; `tweak` may adjust the
 * options before the join. Logs to the shared event log. */
typedef void (*cl_tweak_fn)(bs_cluster_options *co, bs_engine_options *o);
int cl_engine(bs_engine **out, const char *url, const char *name, uint32_t shards,
              cl_tweak_fn tweak);
/* Runs the engine's loop for `ms` milliseconds. */
void cl_run_ms(bs_engine *e, uint64_t ms);
/* Runs until fn(ud) is true or `ms` pass; whether it became true. */
bool cl_run_until(bs_engine *e, uint64_t ms, bool (*fn)(bs_engine *e, void *ud), void *ud);

/* Where the actor `id` runs now (a request, waited for up to 2 s): the
 * node's name into out, or the error. */
int cl_where(bs_engine *e, const char *id, char *out, size_t cap);

/* Checks the event log: no actor with two instances processing at once
 * (an instance processes from its activation to its last message; one on
 * a node that was killed or fenced ends there), no message delivered
 * twice, and with `order`, per sender -> actor, messages in order within
 * an instance (promised only while the owner does not change). 0, or -1
 * with the first violation in `why`. Fills the counts. */
typedef struct cl_log_stats {
  unsigned long activations, messages, elems;
} cl_log_stats;
int cl_check_log(char *why, size_t cap, cl_log_stats *st, bool order);
/* Events of kind `what` (ACT, MSG, ELEM...) by node `node` (NULL: any)
 * for actor `id` (NULL: any). */
unsigned long cl_count(const char *what, const char *node, const char *id);
/* Events of kind `what` by node `node` (NULL: any) with sequence number
 * `seq` (a blob sink logs the size it got there). */
unsigned long cl_count_seq(const char *what, const char *node, unsigned long long seq);

#endif
