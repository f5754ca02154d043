/* The stream fixture actors' methods (fixtures/news.h), for
 * test_gen_stream.c. Every Reader method appends a line describing the
 * element it got to the log of its actor id, which outlives the actor's
 * instances (a stopped reader keeps its log). */
#ifndef GEN_STREAMS_IMPL_H
#define GEN_STREAMS_IMPL_H

#include "news.h"

#define NEWS_LOGS_MAX 128
#define NEWS_LINES_MAX 64

typedef struct news_log {
  char id[32];
  int inits;
  int deinits;
  int n; /* elements received, by every instance */
  char lines[NEWS_LINES_MAX][160];
} news_log;

extern news_log news_logs[NEWS_LOGS_MAX];
extern int news_nlogs;
/* The Reader that stops itself (bs_stop on its own ref) after an element
 * whose text is this one; NULL for none. */
extern const char *news_stop_after;

/* The log of `id`, created on first use. */
news_log *news_log_for(const char *id);
void news_reset(void);

#endif
