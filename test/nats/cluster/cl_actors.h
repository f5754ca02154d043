/* Actors for the cluster tests, shared by the test processes and the node
 * program (cl_node.c). Every activation, deactivation and counted message
 * is written to an event log that all the processes of a test share, so a
 * test can look for duplicate activations, duplicate deliveries and
 * reordering from outside (cl_harness.c, cl_check_log). */
#ifndef CL_ACTORS_H
#define CL_ACTORS_H

#include <backstage.h>

/* The log: one line per event, appended (O_APPEND) by every process:
 *   <monotonic ns> <event> <node> <pid> <id> [<from> <seq>]  */
void cl_log_open(const char *path, const char *node);
void cl_log_close(void);
const char *cl_node_name(void);

// @generate-proxy
typedef struct Counter {
  bs_context *ctx;
  int64_t total;
  uint64_t msgs;
  uint8_t *blob;
} Counter;

int Counter_init(Counter *self, bs_context *ctx);
void Counter_deinit(Counter *self);
void Counter_add(Counter *self, int64_t v);
int64_t Counter_total(Counter *self);
/* The node it runs on. */
const char *Counter_where(Counter *self);
/* Logged: message `n` from sender `from` (order and duplicates). */
void Counter_seq(Counter *self, const char *from, uint64_t n);
/* Answers after sleeping `ms` (a slow callee, for deadlines). */
int64_t Counter_slow(Counter *self, uint32_t ms);
/* The size of what it was given; `n` bytes back (large messages). */
uint64_t Counter_measure(Counter *self, bs_bytes blob);
bs_bytes Counter_blob(Counter *self, uint32_t n);

/* Node-local (never registered with the cluster): stream subscribers. */
// @generate-proxy
typedef struct Sink {
  bs_context *ctx;
  int64_t sum;
  uint64_t n;
} Sink;

int Sink_init(Sink *self, bs_context *ctx);
void Sink_deinit(Sink *self);
void Sink_tick(Sink *self, int64_t v);
uint64_t Sink_count(Sink *self);
int64_t Sink_sum(Sink *self);

#endif
