/* pub_sub: a publisher actor, a typed stream, several subscriber actors. */
#include <inttypes.h>
#include <stdio.h>

#include "headline.bs.h"
#include "newsroom.bs.h"
#include "reader.bs.h"

static int check(int rc, const char *what) {
  if (rc < 0) fprintf(stderr, "%s: %s\n", what, bs_strerror(rc));
  return rc;
}

static int publish(NewsroomProxy newsroom, const char *desk, const char *title) {
  return check(NewsroomProxy_publish(newsroom, desk, title), "publish");
}

static int print_counts(bs_engine *engine) {
  static const char *const readers[] = {"alice", "bob", "carol", "dave"};
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < 4; i++) {
    ReaderProxy r;
    Progress p;
    rc = check(bs_get_actor(engine, Reader, readers[i], &r), "get reader");
    if (rc == 0) rc = check(ReaderProxy_progress_await(r, &p), "progress");
    if (rc == 0)
      printf("main: %s read %" PRIu32 " headlines, last #%" PRIu32 ", %s\n",
             readers[i], p.read, p.last_seq, p.in_order ? "in order" : "OUT OF ORDER");
  }
  return rc;
}

int main(void) {
  bs_engine *engine = NULL;
  if (check(bs_engine_new(&engine, NULL), "bs_engine_new") < 0) return 1;

  /* The stream's element type is part of the handle's type. */
  bs_stream_Headline news;
  int rc = check(bs_get_stream(engine, Headline, "news", &news), "get stream");

  /* Subscribers are (actor id, method) pairs: the readers do not exist yet,
   * their first headline activates them. */
  if (rc == 0) rc = check(bs_stream_subscribe(news, bs_subscriber("alice", ReaderProxy_onHeadline)), "subscribe");
  if (rc == 0) rc = check(bs_stream_subscribe(news, bs_subscriber("bob", ReaderProxy_onHeadline)), "subscribe");
  if (rc == 0) rc = check(bs_stream_subscribe(news, bs_subscriber("carol", ReaderProxy_onHeadline)), "subscribe");

  NewsroomProxy newsroom;
  if (rc == 0) rc = check(bs_get_actor(engine, Newsroom, "newsroom", &newsroom), "get newsroom");
  if (rc == 0) rc = publish(newsroom, "tech", "Backstage ships streams");
  if (rc == 0) rc = publish(newsroom, "world", "Actors everywhere");
  if (rc == 0) rc = publish(newsroom, "sport", "Mailbox wins by one message");
  if (rc == 0) bs_engine_run(engine, BS_RUN_UNTIL_DONE);

  /* Bob leaves, Dave joins: Dave sees only what is published from now on. */
  printf("main: bob unsubscribes, dave subscribes\n");
  if (rc == 0) rc = check(bs_stream_unsubscribe(news, bs_subscriber("bob", ReaderProxy_onHeadline)), "unsubscribe");
  if (rc == 0) rc = check(bs_stream_subscribe(news, bs_subscriber("dave", ReaderProxy_onHeadline)), "subscribe");
  if (rc == 0) rc = publish(newsroom, "tech", "Typed streams compile-checked");
  if (rc == 0) rc = publish(newsroom, "weather", "Clear skies over the loop");
  if (rc == 0) bs_engine_run(engine, BS_RUN_UNTIL_DONE);

  if (rc == 0) rc = print_counts(engine);

  bs_stream_stats st;
  bs_stream_stats_get(news.s, &st);
  printf("main: stream news: %" PRIu64 " published, %" PRIu64 " deliveries, %" PRIu64
         " encodes, %" PRIu32 " subscribers\n", st.published, st.deliveries,
         st.encodes, st.subscribers);

  bs_engine_free(engine);
  return rc == 0 ? 0 : 1;
}
