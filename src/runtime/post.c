/* Foreign threads: an MPSC list of caller-owned bs_post nodes behind a
 * mutex, drained on the home thread when the home shard's async handle
 * fires. The mutex is held only to link or to take the whole list, never
 * while running posts. */
#include "internal.h"

int bs_engine_post(bs_engine *e, bs_post *post, bs_post_fn fn) {
  if (!e || !post || !fn) return BS_EINVAL;
  post->fn = fn;
  post->next = NULL;
  uv_mutex_lock(&e->post_lock);
  if (e->post_tail) e->post_tail->next = post; else e->post_head = post;
  e->post_tail = post;
  /* The wake-up under the lock too: once the post is linked, the home
   * thread may run it, stop and close its handles; it clears them under
   * this lock (close_handles), so the handle is never used after. With
   * none, the post waits for bs_engine_free, which gives it back. */
  bs__handles *h = e->shards[0]->h;
  int rc = h ? uv_async_send(&h->async) : 0;
  uv_mutex_unlock(&e->post_lock);
  return rc == 0 ? 0 : BS_EUV;
}

/* Runs every queued post, including ones posted meanwhile. With `run`
 * false (engine gone) owners get fn(NULL, post) to release their memory. */
void bs__post_flush(bs_engine *e, bool run) {
  for (;;) {
    uv_mutex_lock(&e->post_lock);
    bs_post *p = e->post_head;
    e->post_head = e->post_tail = NULL;
    uv_mutex_unlock(&e->post_lock);
    if (!p) return;
    while (p) {
      bs_post *next = p->next;
      p->fn(run ? e : NULL, p);
      p = next;
    }
  }
}

bool bs__post_pending(bs_engine *e) {
  uv_mutex_lock(&e->post_lock);
  bool pending = e->post_head != NULL;
  uv_mutex_unlock(&e->post_lock);
  return pending;
}
