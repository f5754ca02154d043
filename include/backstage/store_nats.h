/* The NATS JetStream key-value store for persistent actors
 * (docs/persistence.md, "The NATS store"): the store a cluster's nodes
 * share, so an actor that fails over to another node reloads its state
 * there with nothing more to run than the NATS server.
 *
 * Library backstage_nats (Backstage::backstage_nats), built when libnats
 * is found (Debian: libnats-dev); the core library does not need it.
 *
 * A record is the KV entry "<type>.<id in base64url>" of the bucket, and
 * its version is the entry's revision: a save is a KV create (version 0)
 * or an update expecting the revision the instance loaded, so a stale
 * instance's write is refused by the server (BS_ECONFLICT). NATS KV has no
 * transactions: writes are made one by one, each acknowledged by the
 * server's JetStream store before it counts as committed. */
#ifndef BACKSTAGE_STORE_NATS_H
#define BACKSTAGE_STORE_NATS_H

#include <stdint.h>

#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

struct __natsConnection; /* libnats' natsConnection */

typedef struct bs_store_nats_options {
  /* Either a server URL ("nats://127.0.0.1:4222"; the store connects and
   * reconnects on its own) or a connection of yours, which must outlive
   * the store. */
  const char *url;
  struct __natsConnection *connection;
  const char *bucket;   /* created if missing (history 1); required */
  int replicas;         /* for a created bucket; 0: 1 */
  int64_t timeout_ms;   /* per request to the server (5000) */
} bs_store_nats_options;

void bs_store_nats_options_init(bs_store_nats_options *o);

/* BS_EINVAL (no bucket, neither or both of url and connection),
 * BS_ESTORE (no server, no JetStream, bucket not usable; the reason goes
 * to stderr), BS_ENOMEM. */
int bs_store_nats_open(bs_store **out, const bs_store_nats_options *opts);

#ifdef __cplusplus
}
#endif
#endif
