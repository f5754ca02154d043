/* API checks and ids: the argument and usage checks shared by the public
 * functions, and the hash that names an actor's place. */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

int bs__api_fail(const char *fn, const char *what, int code) {
  if (BS__API_ABORTS) {
    fprintf(stderr, "backstage: %s: %s\n", fn, what);
    fflush(stderr);
    abort();
  }
  return code;
}

int bs__check_id(const char *id, size_t *len) {
  if (!id) return BS_EINVAL;
  size_t n = strnlen(id, BS_ID_MAX + 1);
  if (n == 0 || n > BS_ID_MAX) return BS_EIDLEN;
  *len = n;
  return 0;
}

/* Ids are short strings: eight bytes at a time through a multiply-xorshift
 * mix, then a final avalanche so that both the low bits (registry slots) and
 * the high bits (the shard, see bs__shard_of) are well spread. */
uint32_t bs__hash_id(const char *id, size_t len) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    memcpy(&w, id + i, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  memcpy(&tail, id + i, len - i);
  h = (h ^ tail) * 0x94d049bb133111ebull;
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ull;
  h ^= h >> 32;
  return (uint32_t)h;
}

uint32_t bs__fnv1a32(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}
