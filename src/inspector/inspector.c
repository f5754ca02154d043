/* The inspector's public face: start/stop, its URL, actor counters, and the
 * engine's lifecycle hooks (option or environment variable). */
#include <stdio.h>
#include <stdlib.h>

#include "inspector/insp.h"

_Static_assert(BS_INSPECTOR_TRACE_N == BS__INSP_TRACE_N, "trace ring size");

void bs_inspector_options_init(bs_inspector_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->max_clients = 256;
  o->idle_timeout_ms = 10000;
  o->sample_interval_ms = 1000;
  o->slice = 65536;
}

bool bs_inspector_available(void) { return true; }

static int copy_options(bs__inspector *in, const bs_inspector_options *o) {
  bs_inspector_options d;
  bs_inspector_options_init(&d);
  in->o = o ? *o : d;
  if (!in->o.max_clients) in->o.max_clients = d.max_clients;
  if (!in->o.idle_timeout_ms) in->o.idle_timeout_ms = d.idle_timeout_ms;
  if (!in->o.sample_interval_ms) in->o.sample_interval_ms = d.sample_interval_ms;
  if (!in->o.slice) in->o.slice = d.slice;
  in->o.token = in->o.allowed_hosts = NULL;
  if (o && o->allowed_hosts && o->allowed_hosts[0] &&
      !(in->allowed_hosts = strdup(o->allowed_hosts)))
    return BS_ENOMEM;
  if (!o || !o->token || !o->token[0]) return 0;
  if (strlen(o->token) > 256) return BS_EINVAL;
  in->token = strdup(o->token);
  return in->token ? 0 : BS_ENOMEM;
}

int bs_inspector_start(bs_engine *e, const bs_inspector_options *o) {
  if (!e) return BS_EINVAL;
  if (e->inspector) return BS_EBUSY;
  if (bs__freeing(e)) return BS_ECANCELED;
  bs__inspector *in = calloc(1, sizeof *in);
  if (!in) return BS_ENOMEM;
  in->e = e;
  int rc = copy_options(in, o);
  if (rc < 0) goto fail_options;
  e->inspector = in;
  if ((rc = bs__insp_sampler_start(in)) < 0) goto fail_sampler;
  if (in->o.addr && (rc = bs__insp_server_start(in)) < 0) goto fail_sampler;
  return 0;
fail_sampler:
  bs__insp_sampler_stop(in);
  e->inspector = NULL;
fail_options:
  free(in->token);
  free(in->allowed_hosts);
  free(in);
  return rc;
}

int bs_inspector_stop(bs_engine *e) {
  if (!e || !e->inspector) return BS_ENOTFOUND;
  bs__inspector *in = e->inspector;
  bs__insp_server_stop(in);
  bs__insp_sampler_stop(in);
  bs__insp_traces_free(e);
  e->inspector = NULL;
  free(in->token);
  free(in->allowed_hosts);
  free(in);
  return 0;
}

int bs_inspector_url(const bs_engine *e, char *buf, size_t cap) {
  if (!e || !e->inspector || !e->inspector->srv) return BS_ENOTFOUND;
  return bs__insp_server_url(e->inspector->srv, buf, cap);
}

typedef struct actor_call {
  const char *id;
  size_t len;
  uint32_t hash;
  bs_inspector_actor *out;
  int rc;
} actor_call;

static void actor_on_shard(bs__shard *sh, void *arg) {
  actor_call *a = arg;
  bs_cell *c = bs__insp_find(sh, a->id, a->len, a->hash);
  a->rc = c ? 0 : BS_ENOTFOUND;
  if (!c) return;
  bs_inspector_actor *out = a->out;
  const bs__insp_cell *s = &c->insp;
  out->received = s->received;
  out->processed = s->processed;
  out->mailbox = c->mb.len;
  out->activated_at = s->activated_at;
  out->last_activity = s->last_activity;
  out->rate = s->rate;
  out->avg1 = s->avg1;
  out->avg10 = s->avg10;
  out->avg60 = s->avg60;
  out->active = c->state && !(c->flags & BS__CELL_PROBED);
  out->tracing = s->trace != NULL;
}

/* Read on the actor's shard, like everything about a live actor. */
int bs_inspector_actor_get(bs_engine *e, const char *actor_id,
                           bs_inspector_actor *out) {
  if (!e || !out) return BS_EINVAL;
  actor_call a = {actor_id, 0, 0, out, 0};
  int k = bs__insp_shard_of(e, actor_id, &a.len, &a.hash);
  if (k < 0) return BS_ENOTFOUND;
  int rc = bs__shard_call(e, (uint32_t)k, actor_on_shard, &a);
  return rc < 0 ? rc : a.rc;
}

int bs_inspector_totals_get(bs_engine *e, bs_inspector_totals *out) {
  if (!e || !out) return BS_EINVAL;
  if (!e->inspector) return BS_ENOTFOUND;
  out->rate = e->inspector->rate;
  out->avg1 = e->inspector->avg1;
  out->avg10 = e->inspector->avg10;
  out->avg60 = e->inspector->avg60;
  out->samples = e->inspector->samples;
  return 0;
}

/* ---- Engine lifecycle --------------------------------------------------------- */

int bs__insp_engine_start(bs_engine *e) {
  const char *addr = e->opts.inspector_addr;
  bool from_env = !addr;
  if (from_env) addr = getenv("BACKSTAGE_INSPECTOR");
  if (!addr || !addr[0]) return 0;
  bs_inspector_options o;
  bs_inspector_options_init(&o);
  o.addr = addr;
  o.token = getenv("BACKSTAGE_INSPECTOR_TOKEN");
  o.allowed_hosts = getenv("BACKSTAGE_INSPECTOR_HOSTS");
  const char *remote = getenv("BACKSTAGE_INSPECTOR_ALLOW_REMOTE");
  o.allow_remote = remote && !strcmp(remote, "1");
  int rc = bs_inspector_start(e, &o);
  if (!from_env) return rc;
  char url[128];
  if (rc < 0)
    fprintf(stderr, "backstage: BACKSTAGE_INSPECTOR=%s: %s (inspector not started)\n",
            addr, bs_strerror(rc));
  else if (bs_inspector_url(e, url, sizeof url) > 0)
    fprintf(stderr, "backstage: inspector at %s\n", url);
  return 0;
}

void bs__insp_engine_stop(bs_engine *e) { bs_inspector_stop(e); }

void bs__insp_anchor(bs_engine *e, bool on) {
  bs__inspector *in = e->inspector;
  if (!in) return;
  uv_handle_t *h[2] = {(uv_handle_t *)in->rt_tick,
                       in->srv ? bs__insp_server_handle(in->srv) : NULL};
  for (int i = 0; i < 2; i++) {
    if (h[i] && on) uv_ref(h[i]);
    else if (h[i]) uv_unref(h[i]);
  }
}
