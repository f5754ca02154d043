/* Backstage: virtual actors for C on a libuv loop.
 *
 * Umbrella header. See docs/ for the guide and each module's header for the
 * exact contracts.
 */
#ifndef BACKSTAGE_H
#define BACKSTAGE_H

#define BACKSTAGE_VERSION_MAJOR 0
#define BACKSTAGE_VERSION_MINOR 1
#define BACKSTAGE_VERSION_PATCH 0

#include "backstage/error.h"
#include "backstage/alloc.h"
#include "backstage/codec.h"
#include "backstage/blob.h"
#include "backstage/actor.h"
#include "backstage/engine.h"
#include "backstage/gen.h"
#include "backstage/stream.h"
#include "backstage/inspector.h"
#include "backstage/cluster.h"

/* bs_get_actor(engine_or_ctx, Type, "id", &proxy): the generated
 * TypeProxy_get, from outside or inside an actor. */
#define bs_get_actor(src, Type, id, out)                                       \
  Type##Proxy_get(bs_engine_of(src), (id), (out))

#endif
