/* Blobs: immutable, reference-counted byte payloads, for large data that
 * messages share instead of copying (Erlang's refc binaries).
 *
 *   void *p;
 *   const bs_blob *frame = bs_blob_new(len, &p);   // the one writable view
 *   memcpy(p, pixels, len);                         // fill it, then share it
 *   CameraProxy_show(camera, frame);                // the message takes a ref
 *   StoreProxy_keep(store, frame);                  // so does this one
 *   bs_blob_release(frame);                         // ours: done with it
 *
 * A blob in a message parameter, a return value or a stream element is sent
 * as a reference: on the same shard and across shards the receiver sees the
 * same bytes, with one atomic increment per message instead of a copy and a
 * CBOR encoding of every byte. Its bytes never change after creation: the
 * API hands out only const pointers, so what a receiver reads is what the
 * sender filled in. The last release frees it, on whichever thread that is,
 * through the allocator it was made with.
 *
 * What a method receives is borrowed: valid for its call (or its
 * continuation's); bs_blob_retain it to keep it longer (in the actor's
 * state, say), and release it when done. Handing a blob to the engine - as
 * an argument, a return value or a stream element - never takes the
 * caller's reference: the message takes one of its own. Messages that end
 * without being delivered (dead letters, rejected or unsent ones, an engine
 * freed with mail pending) release theirs.
 *
 * Where a message must be a self-contained byte string (another node, a
 * store), each blob in it is written as a CBOR byte string of its contents
 * (docs/wire-format.md), and decoded back into a new blob on arrival. A
 * writer of your own (bs_writer_init) writes blobs that way too.
 *
 * bs_bytes (gen.h) keeps copy semantics: its bytes are encoded into the
 * message, which suits small buffers; use a blob from a few KiB up, or when
 * the same bytes go to several receivers. docs/actors.md has the details. */
#ifndef BACKSTAGE_BLOB_H
#define BACKSTAGE_BLOB_H

#include <stddef.h>

#include "alloc.h"
#include "codec.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bs_blob bs_blob; /* opaque */

/* A new blob of `size` bytes (0 allowed), with one reference, the caller's.
 * *data receives the only writable pointer to its bytes, uninitialised:
 * fill them before the blob is shared (with `data` NULL the bytes are
 * zeroed instead). NULL when out of memory (or `size`
 * too large). _new uses malloc; _alloc the allocator `a` ({NULL, NULL}:
 * malloc), which must be callable from any thread that may drop the last
 * reference. */
const bs_blob *bs_blob_new(size_t size, void **data);
const bs_blob *bs_blob_alloc(bs_allocator a, size_t size, void **data);
/* A new blob holding a copy of the `size` bytes at `p` (malloc). */
const bs_blob *bs_blob_from(const void *p, size_t size);

/* Its bytes (16-byte aligned) and their number. NULL / 0 for NULL. */
const void *bs_blob_data(const bs_blob *b);
size_t bs_blob_size(const bs_blob *b);

/* One more reference (an atomic increment); returns b. NULL: no-op. */
const bs_blob *bs_blob_retain(const bs_blob *b);
/* Drops one reference; the last frees the blob. NULL: no-op. Releasing
 * more often than it was retained is undefined, like a double free. */
void bs_blob_release(const bs_blob *b);

/* ---- Codec ---------------------------------------------------------------- */

/* Writes `b` (NULL: a CBOR null). Into a message the engine is writing,
 * as a reference the message holds; into any other writer, as a byte
 * string of its contents. */
int bs_write_blob(bs_writer *w, const bs_blob *b);
/* Reads a blob written by bs_write_blob (or a plain byte string, or null:
 * *out = NULL). *out is borrowed: valid while the message being read is
 * (the call, the continuation), or for a byte string, until the reader's
 * arena is reset (the engine's: after the call); retain it to keep it. A
 * byte string is copied into a new blob: BS_ENOMEM without an arena or
 * memory, BS_ETOOBIG past the arena's limit. A reference outside a
 * message is BS_EDECODE. */
int bs_read_blob(bs_reader *r, const bs_blob **out);

#ifdef __cplusplus
}
#endif
#endif
