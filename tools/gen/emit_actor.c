/* Per actor: the proxy type and functions, the dispatch thunks, the method
 * table, the bs_actor_type descriptor, and the argument decoders that test
 * kit probes use (TProxy_name__args). */
#include <string.h>

#include "emit.h"

/* ---- Signatures ------------------------------------------------------------ */

static void param_list(gen_sbuf *b, const gen_method *m) {
  for (size_t i = 0; i < m->params.len; i++) {
    const gen_param *p = m->params.items[i];
    sb_printf(b, ", %s", p->decl);
    if (p->count_name) sb_printf(b, ", size_t %s", p->count_name);
  }
}

static const char *out_ptr(const gen_method *m) {
  return emit_decl(m->ret, "*out");
}

static void await_signature(gen_sbuf *b, const gen_actor *a,
                            const gen_method *m, bool timeout) {
  sb_printf(b, "int %sProxy_%s_await%s(%sProxy proxy", a->name, m->name,
            timeout ? "_timeout" : "", a->name);
  param_list(b, m);
  if (emit_await_arena(m->ret)) sb_puts(b, ", bs_arena *arena");
  sb_printf(b, ", %s%s)", out_ptr(m), timeout ? ", uint64_t timeout_ms" : "");
}

static void request_signature(gen_sbuf *b, const gen_actor *a,
                              const gen_method *m) {
  sb_printf(b, "int %sProxy_%s(%sProxy proxy", a->name, m->name, a->name);
  param_list(b, m);
  sb_printf(b, ", %sProxy_%s_cont k, void *ud)", a->name, m->name);
}

static void send_signature(gen_sbuf *b, const gen_actor *a,
                           const gen_method *m) {
  sb_printf(b, "int %sProxy_%s(%sProxy proxy", a->name, m->name, a->name);
  param_list(b, m);
  sb_puts(b, ")");
}

/* ---- Argument decoders (test kit probes) ------------------------------------ */

/* The locals a0, a1, ... (a0_n for pairs) and the statements decoding
 * every argument into them from the bs_reader * expression `r`, then the
 * early return on a decoding error. Shared by the dispatch thunk and the
 * TProxy_name__args decoder, so both decode exactly the same way. */
static void decode_params(gen_sbuf *c, const gen_method *m, const char *r) {
  for (size_t i = 0; i < m->params.len; i++) {
    const gen_param *p = m->params.items[i];
    emit_arg_local(c, p->type, gen_printf("a%zu", i), 1);
  }
  for (size_t i = 0; i < m->params.len; i++) {
    const gen_param *p = m->params.items[i];
    emit_decode(c, p->type, r, gen_printf("a%zu", i),
                p->count_name ? gen_printf("a%zu_n", i) : NULL, 0, 1);
  }
  sb_printf(c, "  if (%s->err != 0) return %s->err;\n", r, r);
}

static bool is_fixed_array(const gen_type *t) {
  return t->kind == GEN_ARRAY || t->kind == GEN_CHARBUF ||
         t->kind == GEN_FIXBYTES;
}

/* A parameter's name in TProxy_name__args: the decoder's own names (its
 * reader `args`, the locals aN / aN_n, and the tN, nN, iN, pN of nested
 * decoding blocks) get a trailing '_'. */
static const char *decoder_name(const char *name) {
  if (strcmp(name, "args") == 0) return gen_printf("%s_", name);
  if (strchr("atnip", name[0]) == NULL || name[1] < '0' || name[1] > '9')
    return name;
  const char *s = name + 1;
  while (*s >= '0' && *s <= '9') s++;
  if (*s == '\0' || (name[0] == 'a' && strcmp(s, "_n") == 0))
    return gen_printf("%s_", name);
  return name;
}

/* One out-pointer per parameter, of the parameter's type: `int64_t
 * *amount`, `const char **name`, `const T **items, size_t *count`, and for
 * a fixed array a pointer to the whole array, `int32_t (*v)[4]`. */
static void args_signature(gen_sbuf *b, const gen_actor *a,
                           const gen_method *m) {
  sb_printf(b, "int %sProxy_%s__args(bs_reader *args", a->name, m->name);
  for (size_t i = 0; i < m->params.len; i++) {
    const gen_param *p = m->params.items[i];
    const char *name = decoder_name(p->name);
    sb_printf(b, ", %s", emit_decl(p->type, gen_printf(
                             is_fixed_array(p->type) ? "(*%s)" : "*%s", name)));
    if (p->count_name)
      sb_printf(b, ", size_t *%s", decoder_name(p->count_name));
  }
  sb_puts(b, ")");
}

static bool has_pointer_params(const gen_method *m) {
  for (size_t i = 0; i < m->params.len; i++)
    if (emit_has_pointers(((const gen_param *)m->params.items[i])->type))
      return true;
  return false;
}

static void header_args(gen_sbuf *h, const gen_actor *a, const gen_method *m) {
  sb_printf(h, "/* %s's arguments, decoded as its dispatch thunk decodes "
            "them, from a\n * reader at the first one (bs_probed.args, "
            "backstage/testkit.h). 0, or the\n * reader's error (outputs "
            "then untouched). NULL skips an output.%s */\n", m->cname,
            has_pointer_params(m)
                ? "\n * Pointers point into the reader's arena or its "
                  "message (a probe's:\n * until its next bs_probe_next)."
                : "");
  args_signature(h, a, m);
  sb_puts(h, ";\n\n");
}

/* Decodes into the thunk's locals, then copies out: on an error the
 * outputs keep their values. */
static void emit_args_decoder(gen_sbuf *c, const gen_actor *a,
                              const gen_method *m) {
  args_signature(c, a, m);
  sb_puts(c, " {\n  if (args == NULL) return BS_EINVAL;\n");
  decode_params(c, m, "args");
  for (size_t i = 0; i < m->params.len; i++) {
    const gen_param *p = m->params.items[i];
    const char *name = decoder_name(p->name);
    if (is_fixed_array(p->type))
      sb_printf(c, "  if (%s != NULL) memcpy(*%s, a%zu, sizeof a%zu);\n",
                name, name, i, i);
    else
      sb_printf(c, "  if (%s != NULL) *%s = a%zu;\n", name, name, i);
    if (p->count_name) {
      const char *count = decoder_name(p->count_name);
      sb_printf(c, "  if (%s != NULL) *%s = a%zu_n;\n", count, count, i);
    }
  }
  sb_puts(c, "  return 0;\n}\n\n");
}

/* ---- Header ---------------------------------------------------------------- */

static void header_request(gen_sbuf *h, const gen_actor *a,
                           const gen_method *m) {
  sb_printf(h,
            "/* %s: request/reply. `k` runs exactly once, later, with status "
            "0\n * and the return value, or a negative BS_E* status (the "
            "value is then\n * unspecified). Strings, bytes and arrays in "
            "`value` are valid until k\n * returns. The _await variants run "
            "the loop until the reply (outside\n * actor turns only: inside "
            "one they return BS_EDEADLK)%s. */\n",
            m->cname,
            m->ret->kind == GEN_BLOB
                ? "; *out is a\n * reference of the caller's own: "
                  "bs_blob_release it"
            : emit_has_pointers(m->ret)
                ? "; pointers in *out\n * point into `arena`, which the "
                  "caller owns"
                : "");
  sb_printf(h, "typedef void (*%sProxy_%s_cont)(void *ud, int status, %s);\n",
            a->name, m->name, emit_decl(m->ret, "value"));
  request_signature(h, a, m);
  sb_puts(h, ";\n");
  await_signature(h, a, m, false);
  sb_puts(h, ";\n");
  await_signature(h, a, m, true);
  sb_puts(h, ";\n\n");
}

void emit_actor_header(gen_sbuf *h, const gen_actor *a) {
  const char *n = a->name;
  sb_printf(h, "/* ---- %s ", n);
  for (size_t i = strlen(n); i < 66; i++) sb_puts(h, "-");
  sb_puts(h, " */\n\n");
  sb_printf(h,
            "/* A reference to a %s actor. Each actor type has its own proxy "
            "type, so\n * passing one where another is expected does not "
            "compile. Copy freely. */\n",
            n);
  sb_printf(h, "typedef struct %sProxy {\n  bs_ref ref;\n} %sProxy;\n\n", n, n);
  sb_printf(h, "extern const bs_actor_type %s_actor_type;\n", n);
  sb_printf(h, "int %s__encode_state(const void *self, bs_writer *w);\n", n);
  if (a->persistent)
    sb_printf(h, "/* Persistent: its stored state (docs/persistence.md). */\n"
              "int %s__save_state(const void *self, bs_writer *w);\n"
              "int %s__load_state(void *self, bs_reader *r);\n", n, n);
  sb_puts(h, "\n");
  sb_printf(h, "/* A proxy of the %s `id` (bs_actor_get): a reference by "
            "key; activation\n * waits for its first message. On an error "
            "*out is zeroed (sends to it fail\n * with BS_EINVAL). */\n", n);
  sb_printf(h, "int %sProxy_get(bs_engine *e, const char *id, %sProxy *out);\n",
            n, n);
  sb_printf(h, "/* Stops it after the mail already queued (bs_stop). */\n");
  sb_printf(h, "int %sProxy_stop(%sProxy proxy);\n", n, n);
  sb_printf(h, "/* `ref` (from bs_context_self, a stored bs_ref, ...) as a "
            "%sProxy, if it\n * refers to a %s; otherwise a zeroed proxy, "
            "to which sends fail with\n * BS_EINVAL. */\n", n, n);
  sb_printf(h, "%sProxy %sProxy_from_ref(bs_ref ref);\n", n, n);
  sb_printf(h, "/* The proxy of the actor whose context is `ctx`, from "
            "inside its own turn:\n * 0, BS_EINVAL (NULL argument) or "
            "BS_ETYPE (not a %s; *out is then\n * zeroed). */\n", n);
  sb_printf(h, "int %sProxy_self(const bs_context *ctx, %sProxy *out);\n\n",
            n, n);
  for (size_t i = 0; i < a->in_source_order.len; i++) {
    const gen_method *m = a->in_source_order.items[i];
    if (m->request) {
      header_request(h, a, m);
    } else {
      sb_printf(h, "/* %s: fire-and-forget. Returns 0 once queued, or a "
                "negative BS_E* code. */\n", m->cname);
      send_signature(h, a, m);
      sb_puts(h, ";\n\n");
    }
    if (m->params.len > 0) header_args(h, a, m);
    if (m->elem_token) emit_subscriber(h, a, m);
  }
}

/* ---- Dispatch thunks ------------------------------------------------------- */

static void call_args(gen_sbuf *c, const gen_method *m) {
  for (size_t i = 0; i < m->params.len; i++) {
    const gen_param *p = m->params.items[i];
    /* An array decodes into a plain local; the method may take it as
     * const, which for arrays of arrays needs the cast in ISO C. */
    if (p->cast)
      sb_printf(c, ", (%s)a%zu", p->cast, i);
    else
      sb_printf(c, ", a%zu", i);
    if (p->count_name) sb_printf(c, ", a%zu_n", i);
  }
}

static void thunk_call(gen_sbuf *c, const gen_method *m) {
  if (m->ret == NULL) {
    sb_printf(c, "  %s(self", m->cname);
    call_args(c, m);
    sb_puts(c, ");\n  call->result = 0;\n  return 0;\n}\n\n");
    return;
  }
  sb_printf(c, "  %s(self", emit_decl(m->ret, gen_printf("ret = %s", m->cname)));
  call_args(c, m);
  sb_puts(c, ");\n");
  sb_printf(c, "  call->result = %s;\n", m->ret_is_int ? "ret" : "0");
  sb_puts(c, "  if (call->reply == NULL) return 0;\n");
  emit_encode(c, m->ret, "call->reply", "ret", NULL, 0, 1);
  sb_puts(c, "  return call->reply->err;\n}\n\n");
}

/* Decodes every argument before calling: a message that does not decode
 * never reaches the method (the engine dead-letters it). */
static void emit_thunk(gen_sbuf *c, const gen_actor *a, const gen_method *m) {
  sb_printf(c, "static int %s__invoke_%s(void *self, bs_call *call) {\n",
            a->name, m->name);
  if (m->params.len > 0) {
    sb_puts(c, "  bs_reader *r = &call->args;\n");
    decode_params(c, m, "r");
  }
  thunk_call(c, m);
}

static void emit_table(gen_sbuf *c, const gen_actor *a) {
  const char *n = a->name;
  if (a->methods.len > 0) {
    sb_printf(c, "/* Sorted by id: ids are FNV-1a hashes of the method names, "
              "stable when\n * methods are added or reordered. */\n");
    sb_printf(c, "static const bs_method %s__methods[] = {\n", n);
    for (size_t i = 0; i < a->methods.len; i++) {
      const gen_method *m = a->methods.items[i];
      sb_printf(c, "  {\"%s\", 0x%08xu, %zuu, %s__invoke_%s},\n", m->name,
                m->id, m->params.len, n, m->name);
    }
    sb_puts(c, "};\n\n");
  }
  sb_printf(c, "static int %s__init(void *self, bs_context *ctx) {\n"
            "  return %s_init(self, ctx);\n}\n\n", n, n);
  sb_printf(c, "static void %s__deinit(void *self) {\n  %s_deinit(self);\n}\n\n",
            n, n);
  sb_printf(c, "const bs_actor_type %s_actor_type = {\n", n);
  sb_printf(c, "  .name = \"%s\",\n", n);
  sb_printf(c, "  .state_size = sizeof(%s),\n", a->spelling);
  sb_printf(c, "  .state_align = _Alignof(%s),\n", a->spelling);
  sb_printf(c, "  .init = %s__init,\n  .deinit = %s__deinit,\n", n, n);
  if (a->methods.len > 0)
    sb_printf(c, "  .methods = %s__methods,\n", n);
  else
    sb_puts(c, "  .methods = NULL,\n");
  sb_printf(c, "  .method_count = %zu,\n", a->methods.len);
  sb_printf(c, "  .encode_state = %s__encode_state,\n", n);
  if (a->persistent)
    sb_printf(c, "  .save_state = %s__save_state,\n"
              "  .load_state = %s__load_state,\n", n, n);
  sb_puts(c, "};\n\n");
}

/* ---- Proxies --------------------------------------------------------------- */

static void begin_message(gen_sbuf *c, const gen_actor *a, const gen_method *m) {
  sb_puts(c, "  bs_writer w;\n");
  sb_printf(c, "  int rc = bs_send_begin(&proxy.ref, &%s__methods[%zu], &w);\n",
            a->name, m->index);
  sb_puts(c, "  if (rc < 0) return rc;\n");
  for (size_t i = 0; i < m->params.len; i++) {
    const gen_param *p = m->params.items[i];
    emit_encode(c, p->type, "&w", p->name, p->count_name, 0, 1);
  }
}

static void emit_reply_thunk(gen_sbuf *c, const gen_actor *a,
                             const gen_method *m) {
  sb_printf(c, "static int %sProxy__reply_%s(int status, bs_reader *value, "
            "bs_fnptr fn,\n    void *ud) {\n", a->name, m->name);
  emit_local(c, m->ret, "v", 1);
  sb_puts(c, "  if (status == 0) {\n");
  emit_decode(c, m->ret, "value", "v", NULL, 0, 2);
  sb_puts(c, "    status = value->err;\n  }\n");
  sb_printf(c, "  if (fn != NULL) ((%sProxy_%s_cont)fn)(ud, status, v);\n",
            a->name, m->name);
  sb_puts(c, "  return status;\n}\n\n");
}

static void emit_await_thunk(gen_sbuf *c, const gen_actor *a,
                             const gen_method *m) {
  bool arena = emit_await_arena(m->ret);
  sb_printf(c, "static int %sProxy__await_%s(int status, bs_reader *value, "
            "bs_fnptr fn,\n    void *ud) {\n", a->name, m->name);
  if (arena)
    sb_puts(c, "  bs_gen_await_slot *slot = ud;\n  bs_reader copy, *r = "
               "&copy;\n");
  else
    sb_puts(c, "  bs_reader *r = value;\n");
  emit_local(c, m->ret, "v", 1);
  sb_puts(c, "  (void)fn;\n  if (status != 0) return status;\n");
  if (arena)
    sb_puts(c, "  status = bs_gen_reader_rebase(value, slot->arena, &copy);\n"
               "  if (status != 0) return status;\n");
  emit_decode(c, m->ret, "r", "v", NULL, 0, 1);
  sb_puts(c, "  if (r->err != 0) return r->err;\n");
  sb_printf(c, "  *(%s)%s = %s;\n  return 0;\n}\n\n",
            emit_decl(m->ret, "*"), arena ? "slot->out" : "ud",
            m->ret->kind == GEN_BLOB ? "bs_blob_retain(v)" : "v");
}

static void emit_await(gen_sbuf *c, const gen_actor *a, const gen_method *m) {
  bool arena = emit_await_arena(m->ret);
  await_signature(c, a, m, true);
  sb_printf(c, " {\n");
  if (arena) sb_puts(c, "  bs_gen_await_slot slot = {out, arena};\n");
  sb_printf(c, "  if (out == NULL%s) return BS_EINVAL;\n",
            arena ? " || arena == NULL" : "");
  begin_message(c, a, m);
  sb_printf(c, "  return bs_request_await(&w, %sProxy__await_%s, %s, "
            "timeout_ms);\n}\n\n", a->name, m->name, arena ? "&slot" : "out");
  await_signature(c, a, m, false);
  sb_printf(c, " {\n  return %sProxy_%s_await_timeout(proxy", a->name,
            m->name);
  for (size_t i = 0; i < m->params.len; i++) {
    const gen_param *p = m->params.items[i];
    sb_printf(c, ", %s", p->name);
    if (p->count_name) sb_printf(c, ", %s", p->count_name);
  }
  sb_printf(c, "%s, out, 0);\n}\n\n", arena ? ", arena" : "");
}

static void emit_proxy(gen_sbuf *c, const gen_actor *a, const gen_method *m) {
  if (!m->request) {
    send_signature(c, a, m);
    sb_puts(c, " {\n");
    begin_message(c, a, m);
    sb_puts(c, "  return bs_send_end(&w);\n}\n\n");
    return;
  }
  emit_reply_thunk(c, a, m);
  emit_await_thunk(c, a, m);
  request_signature(c, a, m);
  sb_puts(c, " {\n");
  begin_message(c, a, m);
  sb_printf(c, "  return bs_request_end(&w, %sProxy__reply_%s, (bs_fnptr)k, "
            "ud);\n}\n\n", a->name, m->name);
  emit_await(c, a, m);
}

void emit_actor_source(gen_sbuf *c, const gen_actor *a) {
  const char *n = a->name;
  sb_printf(c, "/* ---- %s ", n);
  for (size_t i = strlen(n); i < 66; i++) sb_puts(c, "-");
  sb_puts(c, " */\n\n");
  emit_state_encoder(c, a);
  if (a->persistent) emit_persist_codec(c, a);
  for (size_t i = 0; i < a->methods.len; i++)
    emit_thunk(c, a, a->methods.items[i]);
  emit_table(c, a);
  sb_printf(c, "int %sProxy_get(bs_engine *e, const char *id, %sProxy *out) "
            "{\n  if (out == NULL) return BS_EINVAL;\n"
            "  memset(out, 0, sizeof *out);\n"
            "  return bs_actor_get(e, &%s_actor_type, id, &out->ref);\n}\n\n",
            n, n, n);
  sb_printf(c, "int %sProxy_stop(%sProxy proxy) {\n  return bs_stop(&proxy.ref);"
            "\n}\n\n", n, n);
  sb_printf(c, "%sProxy %sProxy_from_ref(bs_ref ref) {\n"
            "  %sProxy p;\n"
            "  memset(&p, 0, sizeof p);\n"
            "  if (bs_ref_type(&ref) == &%s_actor_type) p.ref = ref;\n"
            "  return p;\n}\n\n", n, n, n, n);
  sb_printf(c, "int %sProxy_self(const bs_context *ctx, %sProxy *out) {\n"
            "  if (out == NULL) return BS_EINVAL;\n"
            "  memset(out, 0, sizeof *out);\n"
            "  if (ctx == NULL) return BS_EINVAL;\n"
            "  bs_ref self = bs_context_self(ctx);\n"
            "  if (bs_ref_type(&self) != &%s_actor_type) return BS_ETYPE;\n"
            "  out->ref = self;\n"
            "  return 0;\n}\n\n",
            n, n, n);
  for (size_t i = 0; i < a->in_source_order.len; i++) {
    const gen_method *m = a->in_source_order.items[i];
    emit_proxy(c, a, m);
    if (m->params.len > 0) emit_args_decoder(c, a, m);
  }
}
