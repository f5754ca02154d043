/* Cluster: virtual actors across machines, on NATS (docs/cluster.md).
 *
 * Engines that join the same cluster (one NATS server or NATS cluster with
 * JetStream, one cluster name) share their registered actor types: an
 * actor of a registered type lives on exactly one node at a time, chosen by
 * the partition its key hashes into, and the same proxies reach it from
 * every node. Membership and the partition table live in JetStream
 * key-value buckets; actor mail travels as batched NATS messages on one
 * subject per node; stream elements on one subject per stream.
 *
 *   bs_cluster_options co;
 *   bs_cluster_options_init(&co);
 *   co.servers = "nats://127.0.0.1:4222";
 *   co.node = "node-1";
 *   static const bs_actor_type *const types[] = {&Account_actor_type};
 *   co.types = types;
 *   co.ntypes = 1;
 *   bs_engine_options o;
 *   bs_engine_options_init(&o);
 *   o.cluster = &co;
 *   bs_engine_new(&e, &o);               // joins; BS_EVERSION, BS_EUNREACHABLE...
 *
 * Off by default: an engine without opts.cluster (and without
 * $BACKSTAGE_CLUSTER) never touches NATS. A build without libnats
 * (-DBACKSTAGE_CLUSTER=OFF) returns BS_ENOTSUP for a cluster request.
 *
 * Promise: at-most-once, in order per sender -> actor while the actor's
 * owner does not change; every loss is counted (dead letters with a
 * reason, bs_cluster_stats, the inspector), never silent.
 */
#ifndef BACKSTAGE_CLUSTER_H
#define BACKSTAGE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest node or cluster name, in bytes. Names are [A-Za-z0-9_-]. */
#define BS_CLUSTER_NAME_MAX 64

typedef struct bs_cluster_options {
  /* NATS server URLs, comma-separated ("nats://h1:4222,nats://h2:4222");
   * required. */
  const char *servers;
  /* The cluster's name: the prefix of its subjects and key-value buckets,
   * so several clusters can share one NATS. NULL: "backstage". */
  const char *name;
  /* This node's name, unique among the live members. NULL: the host name
   * and the process id ("host-1234", other characters replaced by '-'). */
  const char *node;
  /* Actor types placed across the cluster (also bs_engine_register_type).
   * Types not registered stay node-local, as in a plain engine. */
  const bs_actor_type *const *types;
  size_t ntypes;

  /* Passed through to libnats (natsOptions); NULL/false: unused. */
  const char *user;
  const char *password;
  const char *token;
  const char *creds_file;     /* natsOptions_SetUserCredentialsFromFiles */
  const char *nkey_seed_file; /* with nkey_public: natsOptions_SetNKeyFromSeed */
  const char *nkey_public;
  bool tls;                   /* natsOptions_SetSecure */
  const char *tls_ca_file;    /* natsOptions_LoadCATrustedCertificates */
  const char *tls_cert_file;  /* with tls_key_file: LoadCertificatesChain */
  const char *tls_key_file;
  const char *tls_hostname;   /* natsOptions_SetExpectedHostname */
  bool tls_skip_verify;       /* natsOptions_SkipServerVerification */

  /* Partitions the actor keys hash into; every node of a cluster must use
   * the same number (a mismatch is refused at join: BS_EVERSION). 0: 1024. */
  uint32_t partitions;
  /* Membership: a node refreshes its key every heartbeat_ms (0: 1000); the
   * key expires lease_ms after its last refresh (0: 5000), and then the
   * node's partitions are reassigned. A node that has not refreshed for
   * 3/5 of lease_ms stops serving (fencing), before anyone can take over. */
  uint32_t heartbeat_ms;
  uint32_t lease_ms;
  /* Most partitions moved per round (one round per heartbeat) when nodes
   * join: rebalancing is gradual. 0: 128. */
  uint32_t rebalance_step;
  /* bs_engine_new waits this long for the node's name to be free (a
   * previous process of the same name must have expired). 0: 15000. */
  uint32_t join_timeout_ms;
  /* Mail for a partition without a serving owner (during a hand-off or a
   * failover) waits this long before it is a dead letter (UNREACHABLE).
   * 0: 10000. */
  uint32_t park_ms;
  /* Deadline of requests that have none (request_timeout_ms = 0 and no
   * await timeout) in a clustered engine, so a request to a node that dies
   * or drops it never hangs. 0: 30000. */
  uint64_t request_timeout_ms;
  /* Free text other nodes' inspectors show for this node (its inspector
   * URL, say). NULL: none. */
  const char *advertise;
} bs_cluster_options;

/* Fills `o` with the defaults above (servers NULL). */
void bs_cluster_options_init(bs_cluster_options *o);

/* Registers `type` as placed across the cluster: its actors live on the
 * node that owns their partition. Every node that may host such actors must
 * register the type (mail for an unregistered type is a dead letter,
 * NOT_REGISTERED). The wire names a type by the FNV-1a hash of its name, so
 * two types whose names hash alike are refused (BS_ETYPE). Home thread;
 * harmless without a cluster (the registration waits for nothing). 0,
 * BS_EINVAL, BS_ETYPE, BS_ENOMEM. */
int bs_engine_register_type(bs_engine *e, const bs_actor_type *type);

/* bs_register_actor(e, Account): registers the generated Account type. */
#define bs_register_actor(e, Type) bs_engine_register_type((e), &Type##_actor_type)

/* Whether `e` is a member of a cluster. */
bool bs_cluster_joined(const bs_engine *e);

typedef struct bs_cluster_stats {
  const char *node;          /* this node's name */
  uint32_t nodes;            /* live members, this one included */
  uint32_t partitions;       /* partitions in the cluster */
  uint32_t owned;            /* partitions this node serves */
  bool leader;               /* this node assigns partitions */
  bool serving;              /* its lease is valid (not fenced) */
  uint32_t generation;       /* incremented each time it was fenced */
  uint64_t msgs_out;         /* envelopes sent to other nodes */
  uint64_t msgs_in;          /* envelopes received from other nodes */
  uint64_t batches_out;      /* NATS messages published */
  uint64_t batches_in;       /* NATS messages received */
  uint64_t bytes_out;
  uint64_t bytes_in;
  uint64_t moved_out;        /* mail answered "moved" to its sender */
  uint64_t moved_in;         /* "moved" answers received (then re-routed) */
  uint64_t parked;           /* mail held while its partition had no owner */
  uint64_t unreachable;      /* dead letters UNREACHABLE */
  uint64_t lost;             /* envelopes lost in transit (counted, see docs) */
  uint64_t undecodable;      /* remote messages refused as malformed */
  uint64_t stale;            /* messages for an earlier process of this name */
  uint64_t handoffs;         /* partitions this node gave to another */
  uint64_t fenced;           /* times this node stopped serving (lease lost) */
  uint64_t stream_out;       /* stream elements published to other nodes */
  uint64_t stream_in;        /* stream elements received from other nodes */
} bs_cluster_stats;

/* This node's cluster figures, from any thread. BS_ENOTFOUND if the engine
 * is not in a cluster, BS_EINVAL. */
int bs_cluster_stats_get(const bs_engine *e, bs_cluster_stats *out);

typedef struct bs_cluster_node {
  const char *name;          /* valid until bs_engine_free */
  const char *advertise;     /* its bs_cluster_options.advertise, or "" */
  uint32_t generation;
  uint32_t shards;
  uint32_t partitions;       /* partitions it owns in this node's table */
  bool alive;                /* a current member */
  bool self;
  uint64_t msgs_out;         /* envelopes this node sent to it */
  uint64_t msgs_in;          /* envelopes this node received from it */
} bs_cluster_node;

/* The members this node knows (live ones first, then up to the most
 * recently departed), at most `cap` of them into `out`. Returns how many
 * there are (may exceed cap), BS_ENOTFOUND without a cluster, BS_EINVAL. */
int bs_cluster_nodes(const bs_engine *e, bs_cluster_node *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
