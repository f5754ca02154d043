/* Internal declarations shared by the runtime's modules. Names are bs__*:
 * visible across files of the library, never part of the public API.
 *
 * The layers, each with its own header, bottom up:
 *   base/base.h        branch hints, atomics, the heap, API checks, ids
 *   msg/msg.h          the envelope, pooled blocks, mailboxes, the inbox
 *   observe/observe.h  observer hooks (inspector counters, test kit trace)
 *   shard/shard.h      cells, registry, requests, one loop's world
 *   runtime/runtime.h  the engine shared by the shards; every cross-file
 *                      function of shard/, route/, stream/, testkit/
 */
#ifndef BACKSTAGE_INTERNAL_H
#define BACKSTAGE_INTERNAL_H

#include "backstage.h"
#include "base/base.h"
#include "msg/msg.h"
#include "runtime/runtime.h"

#endif
