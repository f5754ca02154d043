/* Drawing: a header, the engine's totals, the actor table, a key line. */
#include "view.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

enum { FOOT_ROWS = 1 };

/* Rows above the table: title, rates, totals, the cluster's line on a
 * cluster node, the column names. */
static int head_rows = 4;

void bsi_view_open(void) {
  initscr();
  cbreak();
  noecho();
  keypad(stdscr, TRUE);
  curs_set(0);
  timeout(100);
  if (has_colors()) {
    start_color();
    use_default_colors();
    init_pair(1, COLOR_CYAN, -1);
    init_pair(2, COLOR_GREEN, -1);
    init_pair(3, COLOR_RED, -1);
    init_pair(4, COLOR_BLACK, COLOR_CYAN);
  }
}

void bsi_view_close(void) { endwin(); }

int bsi_view_rows(void) {
  int n = LINES - head_rows - FOOT_ROWS;
  return n > 1 ? n : 1;
}

static const char *human(double v, char *buf, size_t cap) {
  if (v >= 1e9) snprintf(buf, cap, "%.2fG", v / 1e9);
  else if (v >= 1e6) snprintf(buf, cap, "%.2fM", v / 1e6);
  else if (v >= 1e4) snprintf(buf, cap, "%.1fk", v / 1e3);
  else if (v == (double)(long long)v) snprintf(buf, cap, "%lld", (long long)v);
  else snprintf(buf, cap, "%.1f", v);
  return buf;
}

static void header(const bsi_ui *ui, const bsi_model *m) {
  char a[32], b[32], c[32], d[32];
  attron(A_BOLD | COLOR_PAIR(1));
  mvprintw(0, 0, "backstage-inspector");
  attroff(A_BOLD | COLOR_PAIR(1));
  printw("  %s  ", ui->endpoint);
  if (ui->connected) {
    attron(COLOR_PAIR(2));
    printw("live");
    attroff(COLOR_PAIR(2));
    printw("  up %.0fs", m->uptime_ms / 1000);
  } else {
    attron(COLOR_PAIR(3));
    printw("disconnected: %s (retrying)", ui->status);
    attroff(COLOR_PAIR(3));
  }
  mvprintw(1, 0, "msg/s %s   avg 1s/10s/60s %s / %s / %s", human(m->rate, a, sizeof a),
           human(m->avg1, b, sizeof b), human(m->avg10, c, sizeof c), human(m->avg60, d, sizeof d));
  mvprintw(2, 0, "delivered %s   actors %s (%s active)   dead letters %s",
           human(m->delivered, a, sizeof a), human(m->actors, b, sizeof b),
           human(m->active, c, sizeof c), human(m->dead_letters, d, sizeof d));
}

static void column(int x, const char *name, const char *key, const char *sort, bool right, int w) {
  bool on = key && !strcmp(key, sort);
  if (on) attron(A_REVERSE);
  int y = head_rows - 1;
  if (right) mvprintw(y, x, "%*s", w, name); else mvprintw(y, x, "%-*s", w, name);
  if (on) attroff(A_REVERSE);
}

static void table(const bsi_ui *ui, const bsi_model *m) {
  attron(A_BOLD);
  column(0, "ID", "id", ui->sort, false, 28);
  column(29, "TYPE", "type", ui->sort, false, 16);
  column(46, "MSG/S", "rate", ui->sort, true, 9);
  column(56, "1S", NULL, ui->sort, true, 9);
  column(66, "10S", NULL, ui->sort, true, 9);
  column(76, "60S", NULL, ui->sort, true, 9);
  column(86, "MAILBOX", "mailbox", ui->sort, true, 8);
  column(95, "SHARD", NULL, ui->sort, true, 5);
  column(101, "STORED", NULL, ui->sort, true, 8);
  attroff(A_BOLD);
  int rows = bsi_view_rows();
  for (int i = 0; i < rows && (size_t)i < m->nrows; i++) {
    const bsi_row *r = &m->rows[i];
    char a[32], b[32], c[32], d[32], e[32], v[32], id[4 * 28 + 16], type[4 * 16 + 16];
    bsi_fit(r->id, 28, id, sizeof id);
    bsi_fit(r->type, 16, type, sizeof type);
    bsi_stored(r->persistent, r->version, r->store_failed, v, sizeof v);
    mvprintw(head_rows + i, 0, "%s %s %9s %9s %9s %9s %8s %5.0f %8s", id, type,
             human(r->rate, a, sizeof a), human(r->avg1, b, sizeof b),
             human(r->avg10, c, sizeof c), human(r->avg60, d, sizeof d),
             human(r->mailbox, e, sizeof e), r->shard, v);
  }
}

static void footer(const bsi_ui *ui, const bsi_model *m) {
  int y = LINES - 1;
  if (ui->editing) {
    mvprintw(y, 0, "filter: %s", ui->edit);
    curs_set(1);
    return;
  }
  curs_set(0);
  attron(A_DIM);
  mvprintw(y, 0, "%u-%u of %.0f  sort:%s%s%s  [r]ate [i]d [t]ype [m]ailbox  [/]filter [c]lear  "
           "[j/k] scroll  [q]uit",
           m->nrows ? ui->offset + 1 : 0, ui->offset + (unsigned)m->nrows, m->total, ui->sort,
           ui->filter[0] ? "  filter:" : "", ui->filter);
  attroff(A_DIM);
}

void bsi_view_draw(const bsi_ui *ui, const bsi_model *m) {
  erase();
  head_rows = m->cluster.on ? 5 : 4;
  header(ui, m);
  if (m->cluster.on) {
    char line[512];
    bsi_cluster_line(&m->cluster, line, sizeof line);
    if (!m->cluster.serving) attron(COLOR_PAIR(3));
    mvprintw(3, 0, "%s", line);
    if (!m->cluster.serving) attroff(COLOR_PAIR(3));
  }
  table(ui, m);
  footer(ui, m);
  refresh();
}
