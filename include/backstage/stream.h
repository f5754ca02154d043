/* Typed pub/sub streams.
 *
 * A stream is a named, typed channel inside one engine. Publishing encodes
 * the element once; every subscriber gets a message that shares that one
 * encoded body (reference counted) and calls one method of a subscriber
 * actor, activating it if needed.
 *
 * Users work with typed handles, one per element type: bs_stream_cstr for
 * `const char *`, bs_stream_i64 for int64_t, bs_stream_i64_array for a
 * dynamic array of int64_t, ... and, emitted by backstage-gen,
 * bs_stream_Headline for a struct Headline (bs_stream_Headline_array for
 * arrays of it). They are used through four macros that check types at
 * compile time:
 *
 *   bs_stream_cstr news;
 *   bs_get_stream(ctx, cstr, "news", &news);        // get-or-create
 *   bs_stream_next(news, "headline");                 // publish
 *   bs_stream_subscribe(news, bs_subscriber("reader-1", ReaderProxy_handleNews));
 *   bs_stream_unsubscribe(news, bs_subscriber("reader-1", ReaderProxy_handleNews));
 *
 * The handle holds a pointer to a table of functions whose prototypes carry
 * the element type, so publishing a value of another type, or subscribing a
 * method whose single parameter has another type, does not compile.
 *
 * Guarantees (docs/streams.md): in-process, at-most-once; each subscriber
 * receives the elements published after it subscribed, in publish order;
 * elements that cannot be delivered are dead letters with a reason.
 */
#ifndef BACKSTAGE_STREAM_H
#define BACKSTAGE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor.h"
#include "codec.h"
#include "gen.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bs_stream bs_stream;

/* An element type: identity (compared by address) and encoder. `value`
 * points at one ValueT, the type bs_stream_next takes: for `const char *`
 * elements a `const char **`, for int64_t an `int64_t *`, for a struct S
 * (ValueT `const S *`) a `const S **`. */
typedef struct bs_elem_type {
  const char *name;
  int (*encode)(bs_writer *w, const void *value);
} bs_elem_type;

/* ---- Untyped runtime API (what the typed handles call) ------------------ */

/* Get-or-create the stream `id` with element type `type`. BS_ETYPE if it
 * exists with another element type; BS_EIDLEN, BS_EINVAL, BS_ENOMEM. */
int bs_stream_get(bs_engine *e, const bs_elem_type *type, const char *id,
                  bs_stream **out);

/* Encodes *value once and queues one message per subscriber. All or
 * nothing: on BS_ENOMEM or an encoding error nothing is queued. Returns
 * the number of subscribers the element was queued for. With no
 * subscribers nothing is encoded (so a bad value goes unnoticed) and 0 is
 * returned. */
int bs_stream_publish(bs_stream *s, const void *value);

/* Subscribes method `m` (one parameter of the stream's element type) of the
 * actor `actor_id` of `type`. Subscribing the same (actor, method) again is
 * a no-op returning 0. BS_EINVAL if `m` is not a one-argument method of
 * `type`; BS_ETYPE if the id exists with another type. */
int bs_stream_add_subscriber(bs_stream *s, const bs_actor_type *type,
                             const char *actor_id, const bs_method *m);
/* BS_ENOTFOUND if there was no such subscription. Elements already queued
 * to the subscriber are still delivered. */
int bs_stream_remove_subscriber(bs_stream *s, const bs_actor_type *type,
                                const char *actor_id, const bs_method *m);

const char *bs_stream_id(const bs_stream *s);
const bs_elem_type *bs_stream_elem_type(const bs_stream *s);

typedef struct bs_stream_stats {
  uint64_t published;   /* elements published (with or without subscribers) */
  uint64_t deliveries;  /* messages queued to subscribers */
  uint64_t encodes;     /* element encodings (one per publish with subscribers) */
  uint32_t subscribers; /* current subscriptions */
} bs_stream_stats;

void bs_stream_stats_get(const bs_stream *s, bs_stream_stats *out);

/* ---- Typed layer ---------------------------------------------------------- */

/* BS_DECLARE_STREAM_TYPE(T, ValueT), in a header, for element token T:
 *   bs_subscriber_T  what bs_subscriber() makes for a method taking it
 *   bs_stream_T      the typed handle; publishing takes ValueT
 *   bs_stream_T_get  get-or-create
 *   bs_stream_T_from the typed handle of an untyped bs_stream * (below)
 * BS_IMPLEMENT_STREAM_TYPE(T, ValueT), in one .c file, defines the handle's
 * function table; bs_elem_T (the encoder) is defined next to it. The
 * library does both for the built-ins below; backstage-gen for structs. */
#define BS_DECLARE_STREAM_TYPE(T, ValueT)                                      \
  extern const bs_elem_type bs_elem_##T;                                       \
  typedef struct bs_subscriber_##T {                                           \
    const char *actor_id;                                                      \
    const bs_actor_type *type;                                                 \
    const bs_method *method;                                                   \
  } bs_subscriber_##T;                                                         \
  typedef struct bs__stream_vt_##T {                                           \
    int (*next)(bs_stream *s, ValueT value);                                   \
    int (*subscribe)(bs_stream *s, bs_subscriber_##T sub);                     \
    int (*unsubscribe)(bs_stream *s, bs_subscriber_##T sub);                   \
  } bs__stream_vt_##T;                                                         \
  extern const bs__stream_vt_##T bs__stream_vtable_##T;                        \
  typedef struct bs_stream_##T {                                               \
    bs_stream *s;                                                              \
    const bs__stream_vt_##T *vt;                                               \
  } bs_stream_##T;                                                             \
  static inline int bs_stream_##T##_get(bs_engine *e, const char *id,          \
                                        bs_stream_##T *out) {                  \
    bs_stream *s = NULL;                                                       \
    int rc = bs_stream_get(e, &bs_elem_##T, id, &s);                           \
    if (out) {                                                                 \
      out->s = rc < 0 ? NULL : s;                                              \
      out->vt = &bs__stream_vtable_##T;                                        \
    }                                                                          \
    return rc;                                                                 \
  }                                                                            \
  static inline bs_stream_##T bs_stream_##T##_from(bs_stream *s) {             \
    bs_stream_##T h;                                                           \
    h.s = bs_stream_elem_type(s) == &bs_elem_##T ? s : NULL;                   \
    h.vt = h.s ? &bs__stream_vtable_##T : NULL;                                \
    return h;                                                                  \
  }

#define BS_IMPLEMENT_STREAM_TYPE(T, ValueT)                                    \
  static int bs__stream_next_##T(bs_stream *s, ValueT value) {                 \
    return bs_stream_publish(s, &value);                                       \
  }                                                                            \
  static int bs__stream_sub_##T(bs_stream *s, bs_subscriber_##T sub) {         \
    return bs_stream_add_subscriber(s, sub.type, sub.actor_id, sub.method);    \
  }                                                                            \
  static int bs__stream_unsub_##T(bs_stream *s, bs_subscriber_##T sub) {       \
    return bs_stream_remove_subscriber(s, sub.type, sub.actor_id, sub.method); \
  }                                                                            \
  const bs__stream_vt_##T bs__stream_vtable_##T = {                            \
      bs__stream_next_##T, bs__stream_sub_##T, bs__stream_unsub_##T};

/* Built-in element types: token, C type. Structs get theirs from
 * backstage-gen (token = the struct's codec prefix, value = const S *);
 * dynamic arrays are below. */
#define BS_BUILTIN_STREAM_TYPES(XX)                                            \
  XX(cstr, const char *)                                                       \
  XX(bytes, bs_bytes)                                                          \
  XX(blob, const bs_blob *)                                                    \
  XX(boolean, bool)                                                            \
  XX(i8, int8_t)                                                               \
  XX(i16, int16_t)                                                             \
  XX(i32, int32_t)                                                             \
  XX(i64, int64_t)                                                             \
  XX(u8, uint8_t)                                                              \
  XX(u16, uint16_t)                                                            \
  XX(u32, uint32_t)                                                            \
  XX(u64, uint64_t)                                                            \
  XX(float, float)                                                             \
  XX(double, double)

BS_BUILTIN_STREAM_TYPES(BS_DECLARE_STREAM_TYPE)

/* ---- Dynamic arrays as elements ------------------------------------------ */

/* An array element is one value: `count` items at `items` (NULL when count
 * is 0), of element type T, with token T_array:
 *   typedef struct bs_array_T { ElemT const *items; size_t count; } bs_array_T;
 * It is encoded as one CBOR array of the items, exactly as backstage-gen
 * encodes a `const ElemT *items, size_t count` parameter pair, so the
 * subscriber is a method taking such a pair:
 *
 *   int Sink_onBatch(Sink *self, const int64_t *values, size_t count);
 *
 *   bs_stream_i64_array batches;
 *   bs_get_stream(ctx, i64_array, "batches", &batches);
 *   bs_stream_subscribe(batches, bs_subscriber("sink", SinkProxy_onBatch));
 *   int64_t v[3] = {1, 2, 3};
 *   bs_stream_next(batches, bs_array(i64, v, 3));  // or ((bs_array_i64){v, 3})
 *
 * The items are read during bs_stream_next only (they are encoded then).
 * NULL items with a non-zero count do not encode (BS_EINVAL, when there are
 * subscribers).
 *
 * BS_DECLARE_STREAM_ARRAY_TYPE(T, ElemT) declares bs_array_T and the
 * element type T_array; BS_IMPLEMENT_STREAM_ARRAY_TYPE(T) implements the
 * latter next to its encoder bs_elem_T_array. */
#define BS_DECLARE_STREAM_ARRAY_TYPE(T, ElemT)                                 \
  typedef struct bs_array_##T {                                                \
    ElemT const *items;                                                        \
    size_t count;                                                              \
  } bs_array_##T;                                                              \
  BS_DECLARE_STREAM_TYPE(T##_array, bs_array_##T)

#define BS_IMPLEMENT_STREAM_ARRAY_TYPE(T)                                      \
  BS_IMPLEMENT_STREAM_TYPE(T##_array, bs_array_##T)

/* Built-in array element types: element token, element C type. There is no
 * u8_array: the generator's convention makes `const uint8_t *p, size_t n`
 * a byte buffer (one CBOR byte string), so its element type is `bytes`.
 * backstage-gen adds S_array (bs_array_S) for every struct S it makes an
 * element type. */
#define BS_BUILTIN_STREAM_ARRAY_TYPES(XX)                                      \
  XX(cstr, const char *)                                                       \
  XX(bytes, bs_bytes)                                                          \
  XX(blob, const bs_blob *)                                                    \
  XX(boolean, bool)                                                            \
  XX(i8, int8_t)                                                               \
  XX(i16, int16_t)                                                             \
  XX(i32, int32_t)                                                             \
  XX(i64, int64_t)                                                             \
  XX(u16, uint16_t)                                                            \
  XX(u32, uint32_t)                                                            \
  XX(u64, uint64_t)                                                            \
  XX(float, float)                                                             \
  XX(double, double)

BS_BUILTIN_STREAM_ARRAY_TYPES(BS_DECLARE_STREAM_ARRAY_TYPE)

/* bs_get_stream(engine_or_ctx, T, "id", &handle) */
#define bs_get_stream(src, T, id, out)                                         \
  bs_stream_##T##_get(bs_engine_of(src), (id), (out))
/* bs_stream_from(T, s): the bs_stream_T handle of `s`, an untyped
 * bs_stream * (a handle's .s), if the stream's element type is T; otherwise
 * (or for NULL) a zeroed handle, on which every call is BS_EINVAL. This is
 * how an actor keeps a stream in its state: the state's header is parsed
 * before the generator writes the handle types of its structs, so the
 * state holds the bs_stream * and a method re-types it:
 *   self->headlines = h.s;                                         (init)
 *   bs_stream_next(bs_stream_from(Headline, self->headlines), &x); (method) */
#define bs_stream_from(T, s) bs_stream_##T##_from(s)
/* bs_stream_next(handle, value): publish; value must convert to the
 * element type as a function argument would. */
#define bs_stream_next(h, value)                                               \
  ((h).vt ? (h).vt->next((h).s, (value)) : BS_EINVAL)
#define bs_stream_subscribe(h, sub)                                            \
  ((h).vt ? (h).vt->subscribe((h).s, (sub)) : BS_EINVAL)
#define bs_stream_unsubscribe(h, sub)                                          \
  ((h).vt ? (h).vt->unsubscribe((h).s, (sub)) : BS_EINVAL)
/* bs_stream_stats(handle, &stats): the counters of a typed handle's stream. */
#define bs_stream_stats(h, out) bs_stream_stats_get((h).s, (out))
/* bs_array(T, items, count): a bs_array_T, for bs_stream_next on a T_array
 * stream: bs_stream_next(batches, bs_array(i64, v, 3)). (A compound literal
 * needs parentheses of its own there, its comma would split the macro's
 * arguments: bs_stream_next(batches, ((bs_array_i64){v, 3})).) In C++, which
 * has no compound literals, it is the same value list-initialised. */
#ifdef __cplusplus
#define bs_array(T, items, count) (bs_array_##T{(items), (size_t)(count)})
#else
#define bs_array(T, items, count) ((bs_array_##T){(items), (count)})
#endif
/* bs_subscriber("actor-id", TypeProxy_method): the generated
 * TypeProxy_method__subscriber, a bs_subscriber_T for the method's
 * parameter type T. */
#define bs_subscriber(actor_id, proxy_method) proxy_method##__subscriber(actor_id)

#ifdef __cplusplus
}
#endif
#endif
