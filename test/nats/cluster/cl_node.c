/* A cluster node for the tests: joins, registers the test actors, optionally
 * subscribes a node-local Sink to a stream, says READY on --ready-fd, and
 * serves until SIGTERM (a graceful leave) or until killed.
 *
 *   cl_node --url nats://127.0.0.1:P --node n1 [--cluster C] [--shards N]
 *           [--log FILE] [--lease MS] [--heartbeat MS] [--park MS]
 *           [--partitions P] [--sink STREAM] [--blob-sink STREAM] [--ready-fd FD]
 *
 * --sink subscribes Sink "sink-<node>" to an i64 stream, --blob-sink Sink
 * "blobs-<node>" to a blob stream. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "cl_actors.bs.h"
#include "cl_actors.h"

static bs_engine *engine;

static void on_signal(uv_signal_t *s, int signum) {
  (void)signum;
  uv_signal_stop(s);
  bs_engine_stop(engine);
}

/* Dead letters go to the node's output (<dir>/<node>.out, kept with
 * CL_KEEP=1): what a failing test looks at first. */
static void on_dead(void *ud, const bs_dead_letter *dl) {
  (void)ud;
  fprintf(stderr, "DEAD %s %s %s %s\n", dl->target_id ? dl->target_id : "-",
          bs_dead_letter_reason_name(dl->reason), dl->method_name ? dl->method_name : "-",
          bs_errname(dl->code));
}

int main(int argc, char **argv) {
  const char *url = NULL, *node = NULL, *cluster = "bst", *log = NULL, *sink = NULL;
  const char *blob_sink = NULL;
  uint32_t shards = 1, lease = 0, hb = 0, park = 0, parts = 0;
  int ready_fd = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--url")) url = v;
    else if (!strcmp(k, "--node")) node = v;
    else if (!strcmp(k, "--cluster")) cluster = v;
    else if (!strcmp(k, "--log")) log = v;
    else if (!strcmp(k, "--sink")) sink = v;
    else if (!strcmp(k, "--blob-sink")) blob_sink = v;
    else if (!strcmp(k, "--shards")) shards = (uint32_t)atoi(v);
    else if (!strcmp(k, "--lease")) lease = (uint32_t)atoi(v);
    else if (!strcmp(k, "--heartbeat")) hb = (uint32_t)atoi(v);
    else if (!strcmp(k, "--park")) park = (uint32_t)atoi(v);
    else if (!strcmp(k, "--partitions")) parts = (uint32_t)atoi(v);
    else if (!strcmp(k, "--ready-fd")) ready_fd = atoi(v);
    else {
      fprintf(stderr, "cl_node: unknown option %s\n", k);
      return 64;
    }
  }
  if (!url || !node) {
    fprintf(stderr, "cl_node: --url and --node are required\n");
    return 64;
  }
  signal(SIGPIPE, SIG_IGN);
  cl_log_open(log, node);
  static const bs_actor_type *const types[] = {&Counter_actor_type};
  bs_cluster_options co;
  bs_cluster_options_init(&co);
  co.servers = url;
  co.name = cluster;
  co.node = node;
  co.types = types;
  co.ntypes = 1;
  if (lease) co.lease_ms = lease;
  if (hb) co.heartbeat_ms = hb;
  if (park) co.park_ms = park;
  if (parts) co.partitions = parts;
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.shards = shards;
  o.cluster = &co;
  o.on_dead_letter = on_dead;
  int rc = bs_engine_new(&engine, &o);
  if (rc < 0) {
    char msg[64];
    int n = snprintf(msg, sizeof msg, "JOIN %s\n", bs_errname(rc));
    if (ready_fd >= 0 && write(ready_fd, msg, (size_t)n) < 0) return 3;
    return 2;
  }
  if (sink) {
    bs_stream_i64 s;
    char id[96];
    snprintf(id, sizeof id, "sink-%s", node);
    if (bs_stream_i64_get(engine, sink, &s) < 0 ||
        bs_stream_subscribe(s, bs_subscriber(id, SinkProxy_tick)) < 0) {
      fprintf(stderr, "cl_node: cannot subscribe to %s\n", sink);
      return 2;
    }
  }
  if (blob_sink) {
    bs_stream_blob s;
    char id[96];
    snprintf(id, sizeof id, "blobs-%s", node);
    if (bs_stream_blob_get(engine, blob_sink, &s) < 0 ||
        bs_stream_subscribe(s, bs_subscriber(id, SinkProxy_blob)) < 0) {
      fprintf(stderr, "cl_node: cannot subscribe to %s\n", blob_sink);
      return 2;
    }
  }
  uv_signal_t sig;
  uv_signal_init(bs_engine_loop(engine), &sig);
  uv_signal_start(&sig, on_signal, SIGTERM);
  uv_unref((uv_handle_t *)&sig);
  if (ready_fd >= 0) {
    char msg[160], insp[96] = "-";
    bs_inspector_url(engine, insp, sizeof insp); /* if $BACKSTAGE_INSPECTOR started one */
    int n = snprintf(msg, sizeof msg, "READY %s %s\n", node, insp);
    if (write(ready_fd, msg, (size_t)n) < 0) return 3;
    close(ready_fd);
  }
  bs_engine_run(engine, BS_RUN_UNTIL_DONE);
  uv_close((uv_handle_t *)&sig, NULL);
  bs_engine_run(engine, BS_RUN_NOWAIT);
  bs_engine_free(engine);
  cl_log_close();
  return 0;
}
