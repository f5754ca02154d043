/* backstage-inspector: a terminal view of a running engine's inspector.
 *
 *   backstage-inspector HOST:PORT [--token T] [--interval MS] [--once]
 *
 * Polls /api/snapshot (one page of actors, sorted and filtered on the
 * server) every interval and draws the table; reconnects when the engine
 * goes away. --once prints one snapshot as plain text and exits (0, or 1
 * when the endpoint cannot be read). Keys: r/i/t/m sort, / filter, c clears
 * it, j/k or arrows scroll, PgUp/PgDn page, q quits. Ids and type names
 * are shown through bsi_fit in every mode: escaped, and aligned by display
 * width. */
#include <curses.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "net.h"
#include "text.h"
#include "view.h"

#define MAX_BODY (16u << 20)

typedef struct opts {
  char host[256];
  char port[8];
  const char *token;
  int interval_ms;
  int once;
} opts;

static int parse_endpoint(const char *s, opts *o) {
  if (!strncmp(s, "http://", 7)) s += 7;
  const char *colon = strrchr(s, ':');
  if (!colon || colon == s) return -1;
  size_t hlen = (size_t)(colon - s);
  if (s[0] == '[' && hlen > 2 && s[hlen - 1] == ']') s++, hlen -= 2;
  if (hlen >= sizeof o->host) return -1;
  memcpy(o->host, s, hlen);
  o->host[hlen] = '\0';
  snprintf(o->port, sizeof o->port, "%.*s", (int)strcspn(colon + 1, "/"), colon + 1);
  return o->port[0] ? 0 : -1;
}

static int parse_args(int argc, char **argv, opts *o) {
  memset(o, 0, sizeof *o);
  o->interval_ms = 1000;
  o->token = getenv("BACKSTAGE_INSPECTOR_TOKEN");
  int have = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--token") && i + 1 < argc) o->token = argv[++i];
    else if (!strcmp(argv[i], "--interval") && i + 1 < argc) o->interval_ms = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--once")) o->once = 1;
    else if (!have && parse_endpoint(argv[i], o) == 0) have = 1;
    else return -1;
  }
  if (o->interval_ms < 100) o->interval_ms = 100;
  return have ? 0 : -1;
}

/* Query-string safe: the filter is typed by the user. */
static void url_escape(const char *s, char *out, size_t cap) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  for (; *s && o + 4 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        c == '-' || c == '_' || c == '.') {
      out[o++] = (char)c;
    } else {
      out[o++] = '%', out[o++] = hex[c >> 4], out[o++] = hex[c & 15];
    }
  }
  out[o] = '\0';
}

static int fetch(const opts *o, bsi_ui *ui, bsi_model *m, int rows) {
  char q[400], path[600];
  url_escape(ui->filter, q, sizeof q);
  snprintf(path, sizeof path, "/api/snapshot?sort=%s&limit=%d&offset=%u&q=%s", ui->sort, rows,
           ui->offset, q);
  bsi_response r;
  int rc = bsi_get(o->host, o->port, path, o->token, 3000, MAX_BODY, &r);
  if (rc == 0 && r.status != 200) {
    snprintf(ui->status, sizeof ui->status, "HTTP %d", r.status);
    rc = -1;
  } else if (rc == 0 && bsi_model_parse(m, r.body, r.len) < 0) {
    snprintf(ui->status, sizeof ui->status, "not a snapshot");
    rc = -1;
  } else if (rc < 0) {
    snprintf(ui->status, sizeof ui->status, "%s", r.err);
  }
  bsi_response_free(&r);
  ui->connected = rc == 0;
  if (rc == 0) ui->updates++;
  return rc;
}

static int print_once(const opts *o, bsi_ui *ui) {
  bsi_model m = {0};
  if (fetch(o, ui, &m, 50) < 0) {
    fprintf(stderr, "backstage-inspector: %s:%s: %s\n", o->host, o->port, ui->status);
    return 1;
  }
  printf("msg/s %.1f  delivered %.0f  actors %.0f\n", m.rate, m.delivered, m.actors);
  if (m.cluster.on) {
    char line[512];
    bsi_cluster_line(&m.cluster, line, sizeof line);
    printf("%s\n", line);
  }
  printf("%-28s %-16s %9s %9s %9s %9s %8s %5s %8s\n", "ID", "TYPE", "MSG/S", "1S", "10S", "60S",
         "MAILBOX", "SHARD", "STORED");
  for (size_t i = 0; i < m.nrows; i++) {
    const bsi_row *r = &m.rows[i];
    char id[4 * 28 + 16], type[4 * 16 + 16], v[32];
    bsi_fit(r->id, 28, id, sizeof id);
    bsi_fit(r->type, 16, type, sizeof type);
    bsi_stored(r->persistent, r->version, r->store_failed, v, sizeof v);
    printf("%s %s %9.1f %9.1f %9.1f %9.1f %8.0f %5.0f %8s\n", id, type, r->rate, r->avg1,
           r->avg10, r->avg60, r->mailbox, r->shard, v);
  }
  bsi_model_free(&m);
  return 0;
}

static void set_sort(bsi_ui *ui, const char *s) {
  snprintf(ui->sort, sizeof ui->sort, "%s", s);
  ui->offset = 0;
}

/* Filter entry after '/': Enter applies, Esc cancels. */
static void edit_key(bsi_ui *ui, int ch) {
  size_t n = strlen(ui->edit);
  if (ch == '\n' || ch == KEY_ENTER) {
    snprintf(ui->filter, sizeof ui->filter, "%s", ui->edit);
    ui->editing = false;
    ui->offset = 0;
  } else if (ch == 27) {
    ui->editing = false;
  } else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n > 0) {
    ui->edit[n - 1] = '\0';
  } else if (ch >= 32 && ch < 127 && n + 1 < sizeof ui->edit) {
    ui->edit[n] = (char)ch;
    ui->edit[n + 1] = '\0';
  }
}

/* Returns 1 to quit, 2 when the view must be fetched again. */
static int key(bsi_ui *ui, int ch, int rows) {
  if (ui->editing) {
    edit_key(ui, ch);
    return ui->editing ? 0 : 2;
  }
  switch (ch) {
  case 'q': case 'Q': return 1;
  case 'r': set_sort(ui, "rate"); return 2;
  case 'i': set_sort(ui, "id"); return 2;
  case 't': set_sort(ui, "type"); return 2;
  case 'm': set_sort(ui, "mailbox"); return 2;
  case 'c': ui->filter[0] = '\0'; ui->offset = 0; return 2;
  case '/': ui->editing = true; snprintf(ui->edit, sizeof ui->edit, "%s", ui->filter); return 0;
  case 'j': case KEY_DOWN: ui->offset++; return 2;
  case 'k': case KEY_UP: if (ui->offset) ui->offset--; return 2;
  case KEY_NPAGE: ui->offset += (unsigned)rows; return 2;
  case KEY_PPAGE: ui->offset = ui->offset > (unsigned)rows ? ui->offset - (unsigned)rows : 0; return 2;
  case KEY_RESIZE: return 2;
  default: return 0;
  }
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void run(const opts *o, bsi_ui *ui) {
  bsi_model m = {0};
  long next = 0;
  bsi_view_open();
  for (;;) {
    if (now_ms() >= next) {
      fetch(o, ui, &m, bsi_view_rows());
      next = now_ms() + o->interval_ms;
      bsi_view_draw(ui, &m);
    }
    int ch = getch();
    if (ch == ERR) continue;
    int act = key(ui, ch, bsi_view_rows());
    if (act == 1) break;
    if (act == 2) next = 0;
    bsi_view_draw(ui, &m);
  }
  bsi_view_close();
  bsi_model_free(&m);
}

int main(int argc, char **argv) {
  opts o;
  if (parse_args(argc, argv, &o) < 0) {
    fprintf(stderr, "usage: backstage-inspector HOST:PORT [--token T] [--interval MS] [--once]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  setlocale(LC_ALL, ""); /* UTF-8 ids are drawn as characters in a UTF-8 terminal */
  bsi_ui ui = {0};
  char endpoint[300];
  snprintf(endpoint, sizeof endpoint, "%s:%s", o.host, o.port);
  ui.endpoint = endpoint;
  set_sort(&ui, "rate");
  if (o.once) return print_once(&o, &ui);
  run(&o, &ui);
  return 0;
}
