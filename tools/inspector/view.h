/* backstage-inspector's screen (ncurses). */
#ifndef BSI_VIEW_H
#define BSI_VIEW_H

#include <stdbool.h>

#include "model.h"

typedef struct bsi_ui {
  const char *endpoint;  /* "host:port" as given */
  char sort[16];         /* rate | id | type | mailbox */
  char filter[128];
  bool editing;          /* typing a filter after '/' */
  char edit[128];
  unsigned offset;       /* first row shown */
  bool connected;
  char status[160];      /* error while disconnected */
  unsigned updates;
} bsi_ui;

void bsi_view_open(void);
void bsi_view_close(void);
/* Rows of actors that fit on the screen. */
int bsi_view_rows(void);
void bsi_view_draw(const bsi_ui *ui, const bsi_model *m);

#endif
