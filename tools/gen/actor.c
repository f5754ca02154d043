#include "actor.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "emit.h"
#include "types.h"

/* Names the proxy functions use for their own parameters and locals; a
 * user parameter with one of these names is renamed with a trailing '_'. */
static const char *const RESERVED[] = {"proxy", "w",    "rc",    "k",
                                       "ud",    "out",  "arena", "slot",
                                       "timeout_ms", NULL};

static const char *param_name(CXCursor p, unsigned i) {
  char *name = gen_cx_string(clang_getCursorSpelling(p));
  if (name[0] == '\0') return gen_printf("arg%u", i);
  for (const char *const *r = RESERVED; *r; r++)
    if (strcmp(name, *r) == 0) return gen_printf("%s_", name);
  return name;
}

/* The proxy declares each parameter with the method's own type, so the
 * compiler checks a proxy call exactly as it would check a direct call. An
 * array parameter keeps its qualifiers ("const int32_t v[4]"). */
static const char *param_decl(CXType t, const gen_param *p) {
  if (clang_getCanonicalType(t).kind != CXType_ConstantArray)
    return emit_decl(p->type, p->name);
  char *s = gen_code_spelling(t);
  char *bracket = strchr(s, '[');
  return gen_printf("%.*s%s%s", (int)(bracket - s),
                    s, bracket > s && bracket[-1] == ' ' ? "" : " ",
                    gen_printf("%s%s", p->name, bracket));
}

/* A parameter `const double m[2][3]` is really `const double (*)[3]`, and
 * ISO C (before C23) does not convert `double (*)[3]` to it implicitly:
 * the thunk passes its decoded local through this cast. NULL otherwise. */
static const char *decayed_cast(CXType t) {
  if (clang_getCanonicalType(t).kind != CXType_ConstantArray) return NULL;
  CXType et = clang_getArrayElementType(t);
  if (clang_getCanonicalType(et).kind != CXType_ConstantArray) return NULL;
  char *s = gen_code_spelling(et);
  char *bracket = strchr(s, '[');
  return gen_printf("%.*s(*)%s", (int)(bracket - s), s, bracket);
}

static bool is_struct(CXType t, CXCursor def) {
  CXCursor d = clang_getCursorDefinition(
      clang_getTypeDeclaration(clang_getCanonicalType(t)));
  return clang_equalCursors(d, def);
}

static CXType first_param(CXCursor fn) {
  return clang_getCanonicalType(
      clang_getCursorType(clang_Cursor_getArgument(fn, 0)));
}

/* true if `fn`'s first parameter is a pointer to the struct `def`. */
static bool takes_self(CXCursor fn, CXCursor def) {
  if (clang_Cursor_getNumArguments(fn) < 1) return false;
  CXType t = first_param(fn);
  return t.kind == CXType_Pointer && is_struct(clang_getPointeeType(t), def);
}

/* `int T_bump(T self, int by)` looks like a method but would get a copy of
 * the state: not one, and the user most likely meant `T *self`. */
static bool takes_self_by_value(CXCursor fn, CXCursor def) {
  return clang_Cursor_getNumArguments(fn) >= 1 &&
         is_struct(first_param(fn), def);
}

static bool is_context_ptr(CXType t) {
  t = clang_getCanonicalType(t);
  if (t.kind != CXType_Pointer) return false;
  CXCursor d = clang_getTypeDeclaration(
      clang_getCanonicalType(clang_getPointeeType(t)));
  return strcmp(gen_cx_string(clang_getCursorSpelling(d)), "bs_context") == 0;
}

static void check_init(const gen_actor *a, CXCursor fn) {
  CXType rt = clang_getCursorResultType(fn);
  if (rt.kind == CXType_Int && clang_Cursor_getNumArguments(fn) == 2 &&
      is_context_ptr(clang_getCursorType(clang_Cursor_getArgument(fn, 1))))
    return;
  gen_error(gen_cursor_loc(fn),
            "%s_init must be declared as 'int %s_init(%s *self, bs_context "
            "*ctx)'", a->name, a->name, a->spelling);
}

static void check_deinit(const gen_actor *a, CXCursor fn) {
  CXType rt = clang_getCanonicalType(clang_getCursorResultType(fn));
  if (rt.kind == CXType_Void && clang_Cursor_getNumArguments(fn) == 1) return;
  gen_error(gen_cursor_loc(fn),
            "%s_deinit must be declared as 'void %s_deinit(%s *self)'",
            a->name, a->name, a->spelling);
}

static bool add_params(gen_method *m, CXCursor fn) {
  int n = clang_Cursor_getNumArguments(fn);
  bool ok = true;
  for (int i = 1; i < n; i++) {
    CXCursor pc = clang_Cursor_getArgument(fn, (unsigned)i);
    gen_param *p = gen_alloc(sizeof *p);
    p->name = param_name(pc, (unsigned)i);
    CXType next = i + 1 < n ? clang_getCursorType(clang_Cursor_getArgument(
                                  fn, (unsigned)i + 1))
                            : (CXType){0};
    const char *what = gen_printf("parameter '%s' of %s",
                                  gen_cx_string(clang_getCursorSpelling(pc)),
                                  m->cname);
    bool pair = false;
    gen_err err;
    p->type = gen_resolve(clang_getCursorType(pc), i + 1 < n ? &next : NULL,
                          gen_cursor_loc(pc), what, &pair, &err);
    if (p->type == NULL) {
      gen_error_once(err.loc, err.msg);
      ok = false;
      continue;
    }
    p->decl = param_decl(clang_getCursorType(pc), p);
    p->cast = decayed_cast(clang_getCursorType(pc));
    if (pair) {
      i++;
      p->count_name = param_name(clang_Cursor_getArgument(fn, (unsigned)i),
                                 (unsigned)i);
    }
    gen_vec_push(&m->params, p);
  }
  return ok;
}

/* int and void methods are fire-and-forget (an int is the method's status,
 * seen by the engine); any other return type makes a request/reply. */
static bool set_return(gen_method *m, CXCursor fn) {
  CXType rt = clang_getCursorResultType(fn);
  if (clang_getCanonicalType(rt).kind == CXType_Void) return true;
  if (rt.kind == CXType_Int) {
    m->ret_is_int = true;
    m->ret = gen_alloc(sizeof *m->ret);
    m->ret->kind = GEN_INT;
    m->ret->bits = 32;
    m->ret->spelling = "int";
    return true;
  }
  bool pair = false;
  gen_err err;
  m->ret = gen_resolve(rt, NULL, gen_cursor_loc(fn),
                       gen_printf("the return value of %s", m->cname), &pair,
                       &err);
  m->request = m->ret != NULL;
  if (m->ret == NULL) gen_error_once(err.loc, err.msg);
  if (m->ret != NULL && m->ret->kind != GEN_BLOB && emit_holds_blob(m->ret)) {
    /* An await hands the caller a reference of its own, which it must
     * release: only a blob returned as such makes that plain. */
    gen_error(gen_cursor_loc(fn), "the return value of %s holds a blob inside: "
              "return a 'const bs_blob *' itself (an await hands it to the "
              "caller as a reference to release)", m->cname);
    m->ret = NULL;
  }
  return m->ret != NULL;
}

static gen_method *build_method(CXCursor fn, const char *cname,
                                const char *name) {
  gen_method *m = gen_alloc(sizeof *m);
  m->cname = cname;
  m->name = name;
  m->id = gen_fnv1a32(name);
  m->loc = gen_cursor_loc(fn);
  if (clang_isFunctionTypeVariadic(clang_getCursorType(fn))) {
    gen_error(m->loc, "%s is variadic: variadic methods are not supported "
              "(every argument needs a known type)", cname);
    return NULL;
  }
  bool ok = add_params(m, fn);
  ok = set_return(m, fn) && ok;
  for (size_t i = 0; ok && i < m->params.len; i++)
    gen_type_mark_used(((gen_param *)m->params.items[i])->type);
  if (ok) gen_type_mark_used(m->ret);
  if (ok) m->elem_token = emit_method_token(m);
  return ok ? m : NULL;
}

static bool seen_name(const gen_vec *fns, const char *name) {
  for (size_t i = 0; i < fns->len; i++)
    if (strcmp(fns->items[i], name) == 0) return true;
  return false;
}

/* Visits the file's non-static functions named <Actor>_<name> that take
 * the actor as first parameter: lifecycle or methods. */
static void collect_methods(gen_actor *a, CXCursor def, const gen_vec *tops,
                            bool *init, bool *deinit) {
  const char *prefix = gen_printf("%s_", a->name);
  gen_vec seen = {0};
  for (size_t i = 0; i < tops->len; i++) {
    CXCursor fn = ((const top_decl *)tops->items[i])->cursor;
    if (clang_getCursorKind(fn) != CXCursor_FunctionDecl ||
        clang_Cursor_getStorageClass(fn) == CX_SC_Static)
      continue;
    char *cname = gen_cx_string(clang_getCursorSpelling(fn));
    if (strncmp(cname, prefix, strlen(prefix)) != 0 ||
        cname[strlen(prefix)] == '\0' || seen_name(&seen, cname))
      continue;
    gen_vec_push(&seen, cname);
    if (!takes_self(fn, def)) {
      if (takes_self_by_value(fn, def))
        gen_warning(gen_cursor_loc(fn), "%s takes the actor by value, so it "
                    "is not a method and gets no proxy (a method's first "
                    "parameter is '%s *self' or 'const %s *self')", cname,
                    a->spelling, a->spelling);
      continue;
    }
    const char *name = cname + strlen(prefix);
    if (strcmp(name, "init") == 0) {
      *init = true;
      check_init(a, fn);
    } else if (strcmp(name, "deinit") == 0) {
      *deinit = true;
      check_deinit(a, fn);
    } else {
      gen_method *m = build_method(fn, cname, name);
      if (m != NULL) gen_vec_push(&a->in_source_order, m);
    }
  }
}

static int by_id(const void *x, const void *y) {
  const gen_method *a = *(gen_method *const *)x, *b = *(gen_method *const *)y;
  return a->id < b->id ? -1 : a->id > b->id;
}

/* Ids are hashes: two names may collide, and a table with a duplicate id
 * would make one method unreachable. */
static bool sort_methods(gen_actor *a) {
  for (size_t i = 0; i < a->in_source_order.len; i++)
    gen_vec_push(&a->methods, a->in_source_order.items[i]);
  if (a->methods.len > 1)
    qsort(a->methods.items, a->methods.len, sizeof(void *), by_id);
  bool ok = true;
  for (size_t i = 0; i < a->methods.len; i++) {
    gen_method *m = a->methods.items[i];
    m->index = i;
    if (i > 0 && ((gen_method *)a->methods.items[i - 1])->id == m->id) {
      gen_error(m->loc, "the wire ids of methods '%s' and '%s' collide "
                "(0x%08x): rename one of them",
                ((gen_method *)a->methods.items[i - 1])->name, m->name, m->id);
      ok = false;
    }
  }
  return ok;
}

static void name_actor(gen_actor *a, CXCursor marked, CXCursor def) {
  a->loc = gen_cursor_loc(def);
  if (clang_getCursorKind(marked) == CXCursor_TypedefDecl) {
    a->name = gen_cx_string(clang_getCursorSpelling(marked));
    a->spelling = a->name;
  } else {
    a->name = gen_cx_string(clang_getCursorSpelling(def));
    a->spelling = gen_printf("struct %s", a->name);
  }
}

gen_actor *gen_actor_build(CXCursor marked, CXCursor def, const gen_vec *tops,
                           const gen_input *in, bool persistent) {
  gen_actor *a = gen_alloc(sizeof *a);
  name_actor(a, marked, def);
  if (a->name[0] == '\0') {
    gen_error(a->loc, "an actor struct needs a name");
    return NULL;
  }
  unsigned before = gen_error_count();
  bool init = false, deinit = false;
  collect_methods(a, def, tops, &init, &deinit);
  if (!init)
    gen_error(a->loc, "actor '%s' has no %s_init: declare 'int %s_init(%s "
              "*self, bs_context *ctx);' in the same header",
              a->name, a->name, a->name, a->spelling);
  if (!deinit)
    gen_error(a->loc, "actor '%s' has no %s_deinit: declare 'void "
              "%s_deinit(%s *self);' in the same header",
              a->name, a->name, a->name, a->spelling);
  if (!sort_methods(a) || gen_error_count() != before)
    return NULL;
  gen_resolve_lenient_fields(def, &a->state_fields);
  a->persistent = persistent;
  if (persistent &&
      !gen_resolve_persist_fields(def, in, a->name, &a->persist_fields))
    return NULL;
  return a;
}
