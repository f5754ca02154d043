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

/* Blobs between nodes: a blob's bytes are a function of its size (so a
 * receiver can check every byte), and a digest "<size>:<FNV-1a 64>" (or
 * "null") names what arrived. */
void cl_fill(unsigned char *p, size_t n);
bool cl_filled(const bs_blob *b);
uint64_t cl_fnv1a(const bs_blob *b);
void cl_digest(const bs_blob *b, char *out, size_t cap);

/* A blob inside a struct, with what its receiver should find in it. */
typedef struct Parcel {
  uint64_t size;
  uint64_t fnv;
  const bs_blob *data;
} Parcel;

// @generate-proxy
typedef struct Counter {
  bs_context *ctx;
  int64_t total;
  uint64_t msgs;
  uint8_t *blob;
  const bs_blob *made;     /* lent by make() */
  uint64_t blobs_ok, blobs_bad;
  char digest[256];
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
/* Blobs: take() checks the parcel's blob against its size and FNV-1a,
 * eat() (a blob stream's subscriber) checks every byte against cl_fill
 * (NULL: ignored), tally() says how many passed and failed. digest() and
 * digests() name what arrived; make() returns a blob of `n` cl_fill bytes
 * (lent: the actor keeps it until the next make()). */
void Counter_take(Counter *self, Parcel p);
void Counter_eat(Counter *self, const bs_blob *b);
const char *Counter_tally(Counter *self);
const char *Counter_digest(Counter *self, const bs_blob *b);
const char *Counter_digests(Counter *self, const bs_blob *const *items, size_t count);
const bs_blob *Counter_make(Counter *self, uint32_t n);

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
/* A blob stream's subscriber: logs BLOB (every byte as cl_fill made it),
 * BADBLOB or NOBLOB, with the blob's size as the sequence number. */
void Sink_blob(Sink *self, const bs_blob *b);

#endif
