#include "names.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "emit.h"

/* One generated name: who makes it (the declaration an error points at),
 * and what it is, for messages. */
typedef struct gen_name {
  const char *name;
  gen_ns ns;            /* ORDINARY or TAG */
  const char *owner;    /* "actor Foo", "method Foo_bar", "struct Point" */
  const char *role;     /* "the proxy type of actor Foo" */
  gen_loc loc;          /* the owner's declaration */
  const void *actor;    /* the actor it belongs to, NULL for structs */
} gen_name;

/* Open addressing over a power-of-two table; the run is short and the
 * names few, so it only grows. */
typedef struct name_table {
  gen_name **slots;
  size_t cap, len;
} name_table;

static size_t slot_of(const name_table *t, const char *name, gen_ns ns) {
  size_t i = (gen_fnv1a32(name) ^ (uint32_t)ns) & (t->cap - 1);
  while (t->slots[i] != NULL &&
         (t->slots[i]->ns != ns || strcmp(t->slots[i]->name, name) != 0))
    i = (i + 1) & (t->cap - 1);
  return i;
}

static gen_name *find(const name_table *t, const char *name, gen_ns ns) {
  return t->cap ? t->slots[slot_of(t, name, ns)] : NULL;
}

static void grow(name_table *t) {
  name_table n = {gen_alloc(sizeof(gen_name *) * (t->cap ? t->cap * 2 : 256)),
                  t->cap ? t->cap * 2 : 256, t->len};
  for (size_t i = 0; i < t->cap; i++)
    if (t->slots[i] != NULL)
      n.slots[slot_of(&n, t->slots[i]->name, t->slots[i]->ns)] = t->slots[i];
  *t = n;
}

/* ---- Registering ------------------------------------------------------------ */

typedef struct registry {
  name_table table;
  const char *owner;
  const char *role;
  gen_loc loc;
  const void *actor;
  bool method;          /* the owner is a method's primary proxy */
  gen_vec told;         /* "owner|first owner" pairs already reported */
} registry;

/* Two generated names are the same: reported at the one added later, once
 * per pair of owners (two actors named alike clash in every name). A
 * method's proxy against another name of its own actor keeps the short
 * message that says what to rename. */
static void report_twice(registry *r, const gen_name *first,
                         const char *name) {
  char *pair = gen_printf("%s:%u:%u %s|%s:%u:%u %s", r->loc.file, r->loc.line,
                          r->loc.col, r->owner, first->loc.file,
                          first->loc.line, first->loc.col, first->owner);
  for (size_t i = 0; i < r->told.len; i++)
    if (strcmp(r->told.items[i], pair) == 0) return;
  gen_vec_push(&r->told, pair);
  if (r->method && first->actor == r->actor)
    gen_error(r->loc, "%s would clash with the generated %s: rename it",
              r->owner, name);
  else
    gen_error(r->loc, "%s would generate %s, which is already %s (%s:%u:%u): "
              "rename one of them", r->owner, name, first->role,
              first->loc.file, first->loc.line, first->loc.col);
}

static void add(registry *r, gen_ns ns, const char *name) {
  gen_name *first = find(&r->table, name, ns);
  if (first != NULL) {
    report_twice(r, first, name);
    return;
  }
  if (2 * (r->table.len + 1) > r->table.cap) grow(&r->table);
  gen_name *n = gen_alloc(sizeof *n);
  *n = (gen_name){name, ns, r->owner, r->role, r->loc, r->actor};
  r->table.slots[slot_of(&r->table, name, ns)] = n;
  r->table.len++;
}

static void addf(registry *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void addf(registry *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  gen_sbuf b = {0};
  sb_vprintf(&b, fmt, ap);
  va_end(ap);
  add(r, GEN_NS_ORDINARY, gen_strndup(b.data, b.len));
  sb_free(&b);
}

/* A typedef of a struct of the same name: both namespaces. */
static void add_type(registry *r, const char *name) {
  add(r, GEN_NS_ORDINARY, name);
  add(r, GEN_NS_TAG, name);
}

static void own(registry *r, const char *owner, const char *role, gen_loc loc) {
  r->owner = owner;
  r->role = role;
  r->loc = loc;
  r->method = false;
}

/* What emit_actor_header / emit_actor_source write at file scope. */
static void add_actor(registry *r, const gen_actor *a) {
  const char *n = a->name, *owner = gen_printf("actor %s", n);
  r->actor = a;
  own(r, owner, gen_printf("the proxy type of actor %s", n), a->loc);
  add_type(r, gen_printf("%sProxy", n));
  own(r, owner, gen_printf("the type descriptor of actor %s", n), a->loc);
  addf(r, "%s_actor_type", n);
  own(r, owner, gen_printf("the state encoder of actor %s", n), a->loc);
  addf(r, "%s__encode_state", n);
  if (a->persistent) {
    own(r, owner, gen_printf("the state codec of persistent actor %s", n), a->loc);
    addf(r, "%s__save_state", n);
    addf(r, "%s__load_state", n);
  }
  own(r, owner, gen_printf("a function of actor %s", n), a->loc);
  addf(r, "%s__init", n);
  addf(r, "%s__deinit", n);
  if (a->methods.len > 0) addf(r, "%s__methods", n);
  own(r, owner, gen_printf("a proxy function of actor %s", n), a->loc);
  static const char *const fixed[] = {"get", "stop", "from_ref", "self", NULL};
  for (const char *const *f = fixed; *f; f++) addf(r, "%sProxy_%s", n, *f);
}

/* Everything a method makes besides its proxy: registered for every
 * method first, so that a method named like another's helper (x_await
 * next to a request x) is the one reported. */
static void add_method_helpers(registry *r, const gen_actor *a,
                               const gen_method *m) {
  const char *n = a->name, *x = m->name;
  own(r, gen_printf("method %s", m->cname),
      gen_printf("a generated function of method %s", m->cname), m->loc);
  addf(r, "%s__invoke_%s", n, x);
  if (m->request) {
    addf(r, "%sProxy_%s_cont", n, x);
    addf(r, "%sProxy_%s_await", n, x);
    addf(r, "%sProxy_%s_await_timeout", n, x);
    addf(r, "%sProxy__reply_%s", n, x);
    addf(r, "%sProxy__await_%s", n, x);
  }
  if (m->params.len > 0) addf(r, "%sProxy_%s__args", n, x);
  if (m->elem_token) addf(r, "%sProxy_%s__subscriber", n, x);
}

static void add_methods(registry *r, const gen_actor *a) {
  for (size_t i = 0; i < a->in_source_order.len; i++)
    add_method_helpers(r, a, a->in_source_order.items[i]);
  for (size_t i = 0; i < a->in_source_order.len; i++) {
    const gen_method *m = a->in_source_order.items[i];
    own(r, gen_printf("method %s", m->cname),
        gen_printf("the proxy of method %s", m->cname), m->loc);
    r->method = true;
    addf(r, "%sProxy_%s", a->name, m->name);
  }
}

/* BS_DECLARE_STREAM_TYPE / BS_IMPLEMENT_STREAM_TYPE of token `t`. */
static void add_stream_type(registry *r, const char *t) {
  addf(r, "bs_elem_%s", t);
  add_type(r, gen_printf("bs_subscriber_%s", t));
  add_type(r, gen_printf("bs__stream_vt_%s", t));
  addf(r, "bs__stream_vtable_%s", t);
  add_type(r, gen_printf("bs_stream_%s", t));
  addf(r, "bs_stream_%s_get", t);
  addf(r, "bs_stream_%s_from", t);
  addf(r, "bs__stream_next_%s", t);
  addf(r, "bs__stream_sub_%s", t);
  addf(r, "bs__stream_unsub_%s", t);
}

static void add_struct(registry *r, const gen_struct *st) {
  const char *owner = gen_printf("struct %s", st->name);
  r->actor = NULL;
  own(r, owner, gen_printf("the codec of struct %s", st->name), st->loc);
  addf(r, "%s__encode", st->name);
  addf(r, "%s__decode", st->name);
  if (st->state_used) addf(r, "%s__encode_named", st->name);
  const char *tok = emit_struct_token(st);
  if (tok == NULL) return;
  own(r, owner, gen_printf("a stream element type of struct %s", st->name),
      st->loc);
  addf(r, "%s__encode_elem", st->name);
  addf(r, "%s__encode_array_elem", st->name);
  add_stream_type(r, tok);
  add_type(r, gen_printf("bs_array_%s", tok));
  add_stream_type(r, gen_printf("%s_array", tok));
}

/* ---- Checking declarations -------------------------------------------------- */

static bool is_input(const gen_vec *inputs, const char *file) {
  char *real = realpath(file, NULL);
  bool found = false;
  for (size_t i = 0; real && i < inputs->len && !found; i++)
    found = strcmp(((const gen_input *)inputs->items[i])->real, real) == 0;
  free(real);
  return found;
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* The names generated code uses for its own parameters and locals (see
 * emit_actor.c, emit_codec.c, emit_value.c, and the decoders' aN, aN_n,
 * tN, nN, iN, pN). Declarations of the same names are shadowed there, but
 * an object-like macro would be expanded inside the generated code. */
static const char *const LOCALS[] = {
    "self", "call", "r", "w", "v", "n", "i", "key", "known", "rc", "ret",
    "proxy", "k", "ud", "out", "arena", "slot", "timeout_ms", "status",
    "value", "fn", "copy", "args", "sub", "actor_id", "e", "id", "ref", NULL};

static bool is_local(const char *name) {
  for (const char *const *l = LOCALS; *l; l++)
    if (strcmp(name, *l) == 0) return true;
  if (strchr("atnip", name[0]) == NULL || name[1] < '0' || name[1] > '9')
    return false;
  const char *s = name + 1;
  while (*s >= '0' && *s <= '9') s++;
  return *s == '\0' || (name[0] == 'a' && strcmp(s, "_n") == 0);
}

/* A name declared in a scanned header is reported there. One declared
 * elsewhere (the library, a system header) cannot be renamed: the error
 * goes to the owner of the generated name, once per owner. */
static void check_decl(const name_table *t, const gen_vec *inputs,
                       const gen_input *in, const gen_decl *d,
                       gen_vec *owners_told) {
  /* Every macro in->decls holds is visible in in's .bs.c (it includes the
   * header that parse started from). */
  if (d->ns == GEN_NS_MACRO && !d->function_like && is_local(d->name) &&
      in->actors.len > 0 && is_input(inputs, d->loc.file)) {
    gen_error_once(d->loc, gen_printf("macro %s would be expanded inside the "
                                      "generated code, where %s is a local "
                                      "name: rename it", d->name, d->name));
    return;
  }
  const gen_name *g = NULL;
  if (d->ns == GEN_NS_MACRO) {
    g = find(t, d->name, GEN_NS_ORDINARY);
    if (g == NULL) g = find(t, d->name, GEN_NS_TAG);
  } else {
    g = find(t, d->name, d->ns);
  }
  if (g == NULL) return;
  if (is_input(inputs, d->loc.file)) {
    gen_error_once(d->loc, gen_printf("%s %s would clash with the generated "
                                      "%s (%s): rename it", d->kind, d->name,
                                      g->name, g->role));
    return;
  }
  for (size_t i = 0; i < owners_told->len; i++)
    if (owners_told->items[i] == g->owner) return;
  gen_vec_push(owners_told, (void *)g->owner);
  gen_error(g->loc, "%s would generate %s, which clashes with the %s %s in "
            "%s: rename it", g->owner, g->name, d->kind, d->name,
            base_name(d->loc.file));
}

void gen_names_check(const gen_vec *inputs) {
  registry r = {0};
  for (size_t i = 0; i < inputs->len; i++) {
    const gen_input *in = inputs->items[i];
    for (size_t j = 0; j < in->actors.len; j++) {
      add_actor(&r, in->actors.items[j]);
      add_methods(&r, in->actors.items[j]);
    }
  }
  for (size_t i = 0; i < inputs->len; i++) {
    const gen_input *in = inputs->items[i];
    for (size_t j = 0; j < in->structs.len; j++)
      add_struct(&r, in->structs.items[j]);
  }
  gen_vec owners_told = {0};
  for (size_t i = 0; i < inputs->len; i++) {
    const gen_input *in = inputs->items[i];
    for (size_t j = 0; j < in->decls.len; j++)
      check_decl(&r.table, inputs, in, in->decls.items[j], &owners_told);
  }
}
