/* What backstage-inspector shows: one /api/snapshot, parsed with cJSON.
 * Anything missing or of the wrong type reads as empty or zero: bad input
 * never crashes the viewer. */
#ifndef BSI_MODEL_H
#define BSI_MODEL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct bsi_row {
  char id[96];
  char type[48];
  double rate, avg1, avg10, avg60;
  double mailbox, processed;
  double shard;
  /* Persistent actors (docs/persistence.md): the stored version, and
   * whether the last load or write failed. */
  bool persistent;
  double version;
  bool store_failed;
} bsi_row;

/* A cluster node's figures (the snapshot's `cluster`, docs/inspector.md). */
typedef struct bsi_cluster {
  bool on;             /* the engine is a member of a cluster */
  char node[64];
  bool leader, serving;
  double nodes, partitions, owned;
  double out_per_s, in_per_s;
  double moved_out, moved_in, unreachable, lost;
} bsi_cluster;

typedef struct bsi_model {
  double rate, avg1, avg10, avg60;
  double delivered, actors, active, dead_letters, uptime_ms;
  double total;      /* actors matching the filter */
  double offset;
  char sort[16];
  bsi_row *rows;
  size_t nrows;
  bsi_cluster cluster;
} bsi_model;

/* Replaces *m with the snapshot in json[0..len). Returns 0, or -1 (m is
 * left as it was) when it is not a snapshot. */
int bsi_model_parse(bsi_model *m, const char *json, size_t len);
void bsi_model_free(bsi_model *m);

#endif
