/* The inspector compiled out (-DBACKSTAGE_INSPECTOR=OFF): every public
 * call says so with BS_ENOTSUP; the engine's hooks do nothing, and the
 * engine option and environment variable are ignored. */
#include "inspector/insp.h"

void bs_inspector_options_init(bs_inspector_options *o) {
  if (o) memset(o, 0, sizeof *o);
}

bool bs_inspector_available(void) { return false; }

int bs_inspector_start(bs_engine *e, const bs_inspector_options *o) {
  (void)e, (void)o;
  return BS_ENOTSUP;
}

int bs_inspector_stop(bs_engine *e) {
  (void)e;
  return BS_ENOTSUP;
}

int bs_inspector_url(const bs_engine *e, char *buf, size_t cap) {
  (void)e, (void)cap;
  if (buf && cap) buf[0] = '\0';
  return BS_ENOTSUP;
}

int bs_inspector_trace(bs_engine *e, const char *actor_id, bool on) {
  (void)e, (void)actor_id, (void)on;
  return BS_ENOTSUP;
}

int bs_inspector_trace_get(bs_engine *e, const char *actor_id, const char **names,
                           size_t cap) {
  (void)e, (void)actor_id, (void)names, (void)cap;
  return BS_ENOTSUP;
}

int bs_inspector_actor_get(bs_engine *e, const char *actor_id, bs_inspector_actor *out) {
  (void)e, (void)actor_id, (void)out;
  return BS_ENOTSUP;
}

int bs_inspector_totals_get(bs_engine *e, bs_inspector_totals *out) {
  (void)e, (void)out;
  return BS_ENOTSUP;
}

int bs__insp_engine_start(bs_engine *e) {
  (void)e;
  return 0;
}

void bs__insp_engine_stop(bs_engine *e) { (void)e; }
