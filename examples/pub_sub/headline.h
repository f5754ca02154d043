/* The element type of the "news" stream. Any struct the generator
 * supports can be a stream element: it gets a typed handle,
 * bs_stream_Headline, in headline.bs.h. */
#ifndef HEADLINE_H
#define HEADLINE_H

#include <backstage.h>

typedef struct Headline {
  uint32_t seq;
  char desk[16];
  const char *title;
} Headline;

#endif
