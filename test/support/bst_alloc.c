/* Counting, failure-injecting allocator for the tests. */
#include <stdlib.h>
#include <string.h>

#include "bst.h"

#define BST_MAGIC 0x5b57a6e1u
#define BST_DEAD 0xdeadf4eeu

/* Keeps the user pointer aligned like malloc's. */
typedef union bst_hdr {
  max_align_t align;
  struct {
    size_t size;
    uint32_t magic;
  } h;
} bst_hdr;

void bst_alloc_init(bst_alloc *a) { memset(a, 0, sizeof *a); }

bs_allocator bst_allocator(bst_alloc *a) {
  bs_allocator al = {bst_alloc_fn, a};
  return al;
}

static bool should_fail(bst_alloc *a) {
  a->attempts++;
  if (a->fail_at == 0) return false;
  if (a->attempts == a->fail_at || (a->fail_from && a->attempts > a->fail_at)) {
    a->failures++;
    return true;
  }
  return false;
}

static bst_hdr *hdr_of(bst_alloc *a, void *ptr, size_t old_size) {
  bst_hdr *h = (bst_hdr *)ptr - 1;
  if (h->h.magic != BST_MAGIC) {
    a->bad_frees++;
    return NULL;
  }
  if (h->h.size != old_size) a->size_mismatches++;
  return h;
}

static void account_free(bst_alloc *a, size_t size) {
  a->bytes_live -= size;
  a->blocks_live--;
}

static void account_alloc(bst_alloc *a, size_t size) {
  a->bytes_live += size;
  if (a->bytes_live > a->bytes_peak) a->bytes_peak = a->bytes_live;
  a->blocks_live++;
}

static void *do_free(bst_alloc *a, void *ptr, size_t old_size) {
  if (ptr == NULL) return NULL;
  bst_hdr *h = hdr_of(a, ptr, old_size);
  if (h == NULL) return NULL; /* leak it rather than crash; counted */
  a->frees++;
  account_free(a, h->h.size);
  h->h.magic = BST_DEAD;
  free(h);
  return NULL;
}

static void *do_alloc(bst_alloc *a, size_t n) {
  if (should_fail(a)) return NULL;
  bst_hdr *h = malloc(sizeof(bst_hdr) + n);
  if (h == NULL) return NULL;
  h->h.size = n;
  h->h.magic = BST_MAGIC;
  a->allocs++;
  account_alloc(a, n);
  return h + 1;
}

static void *do_resize(bst_alloc *a, void *ptr, size_t old_size, size_t n) {
  bst_hdr *h = hdr_of(a, ptr, old_size);
  if (h == NULL) return NULL;
  if (should_fail(a)) return NULL;
  size_t was = h->h.size;
  bst_hdr *nh = realloc(h, sizeof(bst_hdr) + n);
  if (nh == NULL) return NULL;
  nh->h.size = n;
  a->allocs++;
  account_free(a, was);
  account_alloc(a, n);
  return nh + 1;
}

void *bst_alloc_fn(void *ud, void *ptr, size_t old_size, size_t new_size) {
  bst_alloc *a = ud;
  if (new_size == 0) return do_free(a, ptr, old_size);
  if (ptr == NULL) return do_alloc(a, new_size);
  return do_resize(a, ptr, old_size, new_size);
}
