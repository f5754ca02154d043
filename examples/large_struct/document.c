#include "document.h"

#include <string.h>

/* FNV-1a, 64 bits, over every value of the document in a fixed order. */
typedef struct Hash {
  uint64_t h;
} Hash;

static void hash_bytes(Hash *s, const void *p, size_t n) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++) s->h = (s->h ^ b[i]) * 1099511628211u;
}

/* Integers hashed as 8 little-endian bytes, whatever the host order. */
static void hash_u64(Hash *s, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
  hash_bytes(s, b, sizeof b);
}

static void hash_str(Hash *s, const char *str) {
  size_t n = str ? strlen(str) : 0;
  hash_u64(s, n);
  hash_bytes(s, str ? str : "", n);
}

static void hash_double(Hash *s, double d) {
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  hash_u64(s, bits);
}

static void hash_tile(Hash *s, const Tile *t) {
  hash_u64(s, (uint64_t)(int64_t)t->bounds.min.x);
  hash_u64(s, (uint64_t)(int64_t)t->bounds.min.y);
  hash_u64(s, (uint64_t)(int64_t)t->bounds.max.x);
  hash_u64(s, (uint64_t)(int64_t)t->bounds.max.y);
  hash_u64(s, t->index);
  hash_u64(s, t->pixels.len);
  hash_bytes(s, t->pixels.data, t->pixels.len);
}

static void hash_layer(Hash *s, const Layer *l) {
  hash_str(s, l->name);
  hash_double(s, (double)l->opacity);
  hash_bytes(s, l->blend, sizeof l->blend);
  hash_u64(s, l->tiles_count);
  for (size_t i = 0; i < l->tiles_count; i++) hash_tile(s, &l->tiles[i]);
}

uint64_t document_checksum(const Document *doc) {
  Hash s = {14695981039346656037u};
  hash_str(&s, doc->meta.title);
  hash_str(&s, doc->meta.author);
  hash_u64(&s, doc->meta.created);
  hash_u64(&s, doc->meta.keyword_count);
  for (size_t i = 0; i < doc->meta.keyword_count; i++)
    hash_str(&s, doc->meta.keywords[i]);
  hash_u64(&s, doc->layers_count);
  for (size_t i = 0; i < doc->layers_count; i++) hash_layer(&s, &doc->layers[i]);
  for (size_t i = 0; i < 64; i++) hash_double(&s, doc->histogram[i]);
  return s.h;
}

uint64_t document_pixel_bytes(const Document *doc) {
  uint64_t n = 0;
  for (size_t i = 0; i < doc->layers_count; i++)
    for (size_t j = 0; j < doc->layers[i].tiles_count; j++)
      n += doc->layers[i].tiles[j].pixels.len;
  return n;
}

size_t document_tile_count(const Document *doc) {
  size_t n = 0;
  for (size_t i = 0; i < doc->layers_count; i++) n += doc->layers[i].tiles_count;
  return n;
}
