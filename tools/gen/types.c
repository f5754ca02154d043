#include "types.h"

#include "diag.h"
#include "emit.h"

#include <stdlib.h>
#include <string.h>

static const gen_vec *g_inputs;
static gen_vec g_structs; /* gen_struct *, every struct resolved so far */

void gen_types_init(const gen_vec *inputs) { g_inputs = inputs; }

gen_vec *gen_struct_all(void) { return &g_structs; }

gen_struct *gen_struct_find(const char *real, unsigned offset) {
  for (size_t i = 0; i < g_structs.len; i++) {
    gen_struct *st = g_structs.items[i];
    if (st->def_offset == offset && strcmp(st->def_real, real) == 0) return st;
  }
  return NULL;
}

void gen_struct_add(gen_struct *st) { gen_vec_push(&g_structs, st); }

/* ---- libclang helpers ---------------------------------------------------- */

char *gen_cx_string(CXString s) {
  char *out = gen_strdup(clang_getCString(s) ? clang_getCString(s) : "");
  clang_disposeString(s);
  return out;
}

gen_loc gen_cursor_loc(CXCursor c) {
  CXFile file;
  unsigned line, col;
  clang_getSpellingLocation(clang_getCursorLocation(c), &file, &line, &col,
                            NULL);
  gen_loc loc = {file ? gen_cx_string(clang_getFileName(file)) : "<unknown>",
                 line, col};
  return loc;
}

static bool starts_with(const char *s, const char *p) {
  return strncmp(s, p, strlen(p)) == 0;
}

/* Strips a trailing qualifier word ("char *const", "int * restrict"). */
static bool strip_suffix(char *s, const char *word) {
  size_t n = strlen(s), m = strlen(word);
  if (n <= m || strcmp(s + n - m, word) != 0 ||
      (s[n - m - 1] != ' ' && s[n - m - 1] != '*'))
    return false;
  for (n -= m; n > 0 && s[n - 1] == ' '; n--) {
  }
  s[n] = '\0';
  return true;
}

static bool ident_char(char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

/* <stdbool.h>'s bool is a macro, so clang spells the type `_Bool`, also
 * inside pointers and arrays ("const _Bool *"). Generated headers must
 * compile as C++ too, which has bool and no _Bool: the code says bool. */
char *gen_code_spelling(CXType t) {
  char *s = gen_cx_string(clang_getTypeSpelling(t));
  gen_sbuf b = {0};
  for (const char *p = s; *p;) {
    if (strncmp(p, "_Bool", 5) == 0 && (p == s || !ident_char(p[-1])) &&
        !ident_char(p[5])) {
      sb_puts(&b, "bool");
      p += 5;
    } else {
      char one[2] = {*p++, '\0'};
      sb_puts(&b, one);
    }
  }
  char *out = gen_strndup(b.data ? b.data : "", b.len);
  sb_free(&b);
  return out;
}

/* clang spells top-level qualifiers in front of plain types ("const int")
 * and behind pointers ("char *const"); locals and codec signatures want the
 * type without them. */
char *gen_type_spelling(CXType t) {
  char *s = gen_code_spelling(t);
  if (clang_getCanonicalType(t).kind == CXType_Pointer) {
    while (strip_suffix(s, "const") || strip_suffix(s, "restrict") ||
           strip_suffix(s, "volatile")) {
    }
  } else {
    while (starts_with(s, "const ") || starts_with(s, "volatile "))
      s = strchr(s, ' ') + 1;
  }
  return s;
}

bool gen_is_size_t(CXType t) {
  char *s = gen_type_spelling(t);
  return strcmp(s, "size_t") == 0;
}

static gen_type *new_type(gen_kind kind, const char *spelling) {
  gen_type *t = gen_alloc(sizeof *t);
  t->kind = kind;
  t->spelling = spelling;
  return t;
}

static gen_type *fail(gen_err *err, gen_loc loc, const char *what,
                      CXType t, const char *why) {
  err->loc = loc;
  err->msg = gen_printf("%s has type '%s': %s", what,
                        gen_cx_string(clang_getTypeSpelling(t)), why);
  return NULL;
}

static bool is_char(enum CXTypeKind k) {
  return k == CXType_Char_S || k == CXType_Char_U;
}

static bool is_signed_int(enum CXTypeKind k) {
  return k == CXType_Char_S || k == CXType_SChar || k == CXType_Short ||
         k == CXType_Int || k == CXType_Long || k == CXType_LongLong;
}

static bool is_unsigned_int(enum CXTypeKind k) {
  return k == CXType_Char_U || k == CXType_UChar || k == CXType_UShort ||
         k == CXType_UInt || k == CXType_ULong || k == CXType_ULongLong;
}

/* ---- Structs --------------------------------------------------------------- */

static gen_input *input_of(const char *real) {
  for (size_t i = 0; g_inputs && i < g_inputs->len; i++) {
    gen_input *in = g_inputs->items[i];
    if (strcmp(in->real, real) == 0) return in;
  }
  return NULL;
}

static gen_type *resolve_fields(gen_struct *st, CXCursor def, gen_err *err);

static enum CXChildVisitResult collect_fields(CXCursor c, CXCursor parent,
                                              CXClientData data) {
  (void)parent;
  /* An anonymous struct/union member shows up as a record declaration,
   * not a field: keep it so that it is reported, never silently dropped. */
  enum CXCursorKind k = clang_getCursorKind(c);
  if (k == CXCursor_FieldDecl ||
      ((k == CXCursor_StructDecl || k == CXCursor_UnionDecl) &&
       clang_Cursor_isAnonymousRecordDecl(c))) {
    CXCursor *copy = gen_alloc(sizeof *copy);
    *copy = c;
    gen_vec_push(data, copy);
  }
  return CXChildVisit_Continue;
}

/* The struct behind `c` (canonical record type), created on first sight.
 * Identity is the definition's file and offset: the same header parsed
 * from several translation units yields one struct. */
static gen_struct *struct_get(CXType c, CXType spelled, CXCursor *def_out) {
  CXCursor def = clang_getCursorDefinition(clang_getTypeDeclaration(c));
  if (clang_Cursor_isNull(def)) return NULL;
  *def_out = def;
  CXFile file;
  unsigned offset;
  clang_getSpellingLocation(clang_getCursorLocation(def), &file, NULL, NULL,
                            &offset);
  char *path = gen_cx_string(clang_getFileName(file));
  char *real = realpath(path, NULL);
  const char *key = real ? gen_strdup(real) : path;
  free(real);
  gen_struct *st = gen_struct_find(key, offset);
  if (st != NULL) return st;
  st = gen_alloc(sizeof *st);
  st->def_real = key;
  st->def_offset = offset;
  st->loc = gen_cursor_loc(def);
  st->home = input_of(key);
  char *tag = gen_cx_string(clang_getCursorSpelling(def));
  if (!clang_Cursor_isAnonymous(def) && tag[0] && !strchr(tag, ' ')) {
    st->name = tag;
    st->spelling = gen_printf("struct %s", tag);
  } else {
    /* Anonymous: only reachable through its typedef name. */
    char *s = gen_type_spelling(spelled);
    st->name = strchr(s, ' ') ? NULL : s;
    st->spelling = st->name;
  }
  gen_struct_add(st);
  return st;
}

/* `t` names the struct (typedef or tag), `shown` is the type the error
 * messages quote (the pointer, for a `const S *`). */
static gen_type *resolve_struct(CXType t, CXType shown, CXType c, gen_loc loc,
                                const char *what, gen_err *err) {
  CXCursor def;
  gen_struct *st = struct_get(c, t, &def);
  if (st == NULL)
    return fail(err, loc, what, shown,
                "incomplete struct types are not supported (the generator "
                "needs the definition)");
  if (st->name == NULL)
    return fail(err, loc, what, shown,
                "anonymous struct types are not supported (give the struct "
                "a tag or a typedef name)");
  if (st->home == NULL) {
    err->loc = loc;
    err->msg = gen_printf(
        "%s has type '%s', defined in '%s', which is not among the scanned "
        "headers: add that header (or its directory) to the generator's "
        "inputs",
        what, gen_cx_string(clang_getTypeSpelling(shown)), st->loc.file);
    return NULL;
  }
  if (st->state == GEN_RESOLVING)
    return fail(err, loc, what, shown,
                "recursive struct types are not supported (the wire format "
                "has no references)");
  gen_type *r = new_type(GEN_STRUCT, st->spelling);
  r->st = st;
  return resolve_fields(st, def, err) ? r : NULL;
}

/* A field the decoder cannot assign: const itself, or an array of const
 * elements (const char name[16]). Pointers to const are fine: the pointer
 * is assigned, not the pointee. */
static bool const_field(CXType t) {
  if (clang_isConstQualifiedType(t)) return true;
  CXType c = clang_getCanonicalType(t);
  if (c.kind == CXType_ConstantArray || c.kind == CXType_IncompleteArray)
    return const_field(clang_getArrayElementType(c));
  return false;
}

static gen_type *resolve_field(CXCursor f, const CXCursor *next,
                               const char *sname, bool *pair, gen_err *err) {
  char *name = gen_cx_string(clang_getCursorSpelling(f));
  gen_loc loc = gen_cursor_loc(f);
  const char *what = gen_printf("field '%s' of %s", name, sname);
  if (clang_getCursorKind(f) != CXCursor_FieldDecl || name[0] == '\0') {
    err->loc = loc;
    err->msg = gen_printf("anonymous member of %s: anonymous struct and union "
                          "members are not supported (name the member)",
                          sname);
    return NULL;
  }
  if (clang_Cursor_isBitField(f)) {
    err->loc = loc;
    err->msg = gen_printf("%s is a bit-field: bit-fields are not supported "
                          "(use a plain integer type)", what);
    return NULL;
  }
  if (const_field(clang_getCursorType(f))) {
    err->loc = loc;
    err->msg = gen_printf("%s is const-qualified: a received struct is decoded "
                          "field by field, so its fields must be assignable "
                          "(drop the const)", what);
    return NULL;
  }
  CXType nt = next ? clang_getCursorType(*next) : (CXType){0};
  return gen_resolve(clang_getCursorType(f), next ? &nt : NULL, loc, what,
                     pair, err);
}

static bool add_field(gen_vec *fields, CXCursor f, const CXCursor *next,
                      gen_type *t, bool pair, gen_err *err) {
  gen_field *fd = gen_alloc(sizeof *fd);
  fd->name = gen_cx_string(clang_getCursorSpelling(f));
  fd->count_name = pair ? gen_cx_string(clang_getCursorSpelling(*next)) : NULL;
  fd->key = gen_fnv1a32(fd->name);
  fd->type = t;
  fd->loc = gen_cursor_loc(f);
  for (size_t i = 0; i < fields->len; i++) {
    gen_field *o = fields->items[i];
    if (o->key == fd->key) {
      err->loc = fd->loc;
      err->msg = gen_printf("the wire keys of fields '%s' and '%s' collide "
                            "(0x%08x): rename one of them",
                            o->name, fd->name, fd->key);
      return false;
    }
  }
  gen_vec_push(fields, fd);
  return true;
}

static gen_type *resolve_fields(gen_struct *st, CXCursor def, gen_err *err) {
  if (st->state == GEN_OK) return (gen_type *)st; /* any non-NULL */
  if (st->state == GEN_FAILED) {
    err->loc = st->err_loc;
    err->msg = st->err;
    return NULL;
  }
  st->state = GEN_RESOLVING;
  gen_vec cursors = {0};
  clang_visitChildren(def, collect_fields, &cursors);
  const char *sname = gen_printf("struct '%s'", st->name);
  for (size_t i = 0; i < cursors.len; i++) {
    CXCursor *f = cursors.items[i];
    CXCursor *next = i + 1 < cursors.len ? cursors.items[i + 1] : NULL;
    bool pair = false;
    gen_type *t = resolve_field(*f, next, sname, &pair, err);
    if (t == NULL || !add_field(&st->fields, *f, next, t, pair, err)) {
      st->state = GEN_FAILED;
      st->err_loc = err->loc;
      st->err = err->msg;
      return NULL;
    }
    if (pair) i++;
  }
  st->state = GEN_OK;
  return (gen_type *)st;
}

void gen_resolve_lenient_fields(CXCursor def, gen_vec *out) {
  gen_vec cursors = {0};
  clang_visitChildren(def, collect_fields, &cursors);
  for (size_t i = 0; i < cursors.len; i++) {
    CXCursor *f = cursors.items[i];
    CXCursor *next = i + 1 < cursors.len ? cursors.items[i + 1] : NULL;
    bool pair = false;
    gen_err err;
    gen_type *t = resolve_field(*f, next, "the actor state", &pair, &err);
    if (t != NULL && add_field(out, *f, next, t, pair, &err))
      gen_type_mark_state(t);
    if (t != NULL && pair) i++;
  }
}

/* ---- Pointers and arrays --------------------------------------------------- */

/* bs_blob (backstage/blob.h), an opaque struct: only ever by pointer. */
static bool is_blob(CXType canonical) {
  if (canonical.kind != CXType_Record) return false;
  char *name = gen_cx_string(clang_getCursorSpelling(clang_getTypeDeclaration(canonical)));
  return strcmp(name, "bs_blob") == 0;
}

static gen_type *resolve_pointer(CXType t, CXType c, const CXType *next,
                                 gen_loc loc, const char *what, bool *pair,
                                 gen_err *err) {
  CXType pt = clang_getPointeeType(t.kind == CXType_Pointer ? t : c);
  CXType pc = clang_getCanonicalType(pt);
  if (pc.kind == CXType_FunctionProto || pc.kind == CXType_FunctionNoProto)
    return fail(err, loc, what, t,
                "function pointers are not supported (code addresses cannot "
                "travel in a message)");
  if (is_blob(pc)) {
    if (!clang_isConstQualifiedType(pt) && !clang_isConstQualifiedType(pc))
      return fail(err, loc, what, t,
                  "a blob is immutable: take and return 'const bs_blob *'");
    return new_type(GEN_BLOB, gen_type_spelling(t));
  }
  if (!clang_isConstQualifiedType(pt) && !clang_isConstQualifiedType(pc)) {
    /* `const char **`: an array of strings, with the middle const missing
     * (the old BS_ARRAY(const char *, name) expansion). */
    if (pc.kind == CXType_Pointer &&
        is_char(clang_getCanonicalType(clang_getPointeeType(pc)).kind))
      return fail(err, loc, what, t,
                  "non-const pointers are not supported (an array of "
                  "strings is 'const char *const *', followed by a size_t; "
                  "BS_ARRAY(const char *, name) declares that)");
    return fail(err, loc, what, t,
                "non-const pointers are not supported (the receiver gets a "
                "decoded copy; pass inputs as const, return outputs)");
  }
  if (is_char(pc.kind)) return new_type(GEN_CSTR, gen_type_spelling(t));
  if (next != NULL && gen_is_size_t(*next)) {
    *pair = true;
    if (pc.kind == CXType_Void || pc.kind == CXType_UChar)
      return new_type(GEN_BYTEPAIR, gen_type_spelling(t));
    if (pc.kind == CXType_ConstantArray)
      return fail(err, loc, what, t,
                  "arrays of arrays cannot be dynamic (wrap the inner array "
                  "in a struct)");
    gen_type *elem = gen_resolve(pt, NULL, loc, what, pair, err);
    *pair = elem != NULL;
    if (elem == NULL) return NULL;
    gen_type *r = new_type(GEN_DYNARRAY, gen_type_spelling(t));
    r->elem = elem;
    return r;
  }
  if (pc.kind == CXType_Record &&
      clang_getCursorKind(clang_getTypeDeclaration(pc)) == CXCursor_StructDecl) {
    gen_type *st = resolve_struct(pt, t, pc, loc, what, err);
    if (st == NULL) return NULL;
    gen_type *r = new_type(GEN_STRUCT_REF, gen_type_spelling(t));
    r->st = st->st;
    return r;
  }
  return fail(err, loc, what, t,
              "a const pointer must be 'const char *' (a string), a pointer "
              "to one struct, or be followed by a size_t length (an array)");
}

static gen_type *resolve_array(CXType t, CXType c, gen_loc loc,
                               const char *what, gen_err *err) {
  CXType arr = t.kind == CXType_ConstantArray ? t : c;
  CXType et = clang_getArrayElementType(arr);
  enum CXTypeKind ek = clang_getCanonicalType(et).kind;
  gen_kind kind = is_char(ek)              ? GEN_CHARBUF
                  : ek == CXType_UChar     ? GEN_FIXBYTES
                                           : GEN_ARRAY;
  gen_type *r = new_type(kind, gen_type_spelling(t));
  r->len = (unsigned long long)clang_getArraySize(arr);
  bool pair = false;
  r->elem = gen_resolve(et, NULL, loc, what, &pair, err);
  return r->elem ? r : NULL;
}

static bool same_value(const gen_type *e, const gen_enumerator *a,
                       const gen_enumerator *b) {
  return e->is_signed ? a->value == b->value : a->uvalue == b->uvalue;
}

static enum CXChildVisitResult collect_enumerator(CXCursor c, CXCursor parent,
                                                  CXClientData data) {
  (void)parent;
  gen_type *e = data;
  if (clang_getCursorKind(c) != CXCursor_EnumConstantDecl)
    return CXChildVisit_Continue;
  gen_enumerator *k = gen_alloc(sizeof *k);
  k->name = gen_cx_string(clang_getCursorSpelling(c));
  k->value = clang_getEnumConstantDeclValue(c);
  k->uvalue = clang_getEnumConstantDeclUnsignedValue(c);
  for (size_t i = 0; i < e->enumerators.len; i++)
    if (same_value(e, e->enumerators.items[i], k)) return CXChildVisit_Continue;
  gen_vec_push(&e->enumerators, k);
  return CXChildVisit_Continue;
}

static gen_type *resolve_enum(CXType t, CXType c) {
  CXCursor decl = clang_getTypeDeclaration(c);
  CXType it = clang_getEnumDeclIntegerType(decl);
  gen_type *r = new_type(GEN_ENUM, gen_type_spelling(t));
  r->bits = (unsigned)clang_Type_getSizeOf(it) * 8;
  r->is_signed = is_signed_int(clang_getCanonicalType(it).kind);
  clang_visitChildren(clang_getCursorDefinition(decl), collect_enumerator, r);
  return r;
}

static gen_type *resolve_record(CXType t, CXType c, gen_loc loc,
                                const char *what, gen_err *err) {
  CXCursor decl = clang_getTypeDeclaration(c);
  if (clang_getCursorKind(decl) == CXCursor_UnionDecl)
    return fail(err, loc, what, t,
                "unions are not supported (the encoder cannot know which "
                "member is live)");
  char *name = gen_cx_string(clang_getCursorSpelling(decl));
  if (strcmp(name, "bs_bytes") == 0)
    return new_type(GEN_BYTES, gen_type_spelling(t));
  if (strcmp(name, "bs_blob") == 0)
    return fail(err, loc, what, t, "a blob travels by reference: 'const bs_blob *'");
  return resolve_struct(t, t, c, loc, what, err);
}

gen_type *gen_resolve(CXType t, const CXType *next, gen_loc loc,
                      const char *what, bool *pair, gen_err *err) {
  CXType c = clang_getCanonicalType(t);
  *pair = false;
  if (clang_isVolatileQualifiedType(t) || clang_isVolatileQualifiedType(c) ||
      c.kind == CXType_Atomic)
    return fail(err, loc, what, t,
                "volatile and _Atomic types are not supported (a message is "
                "a snapshot of a value)");
  if (is_signed_int(c.kind) || is_unsigned_int(c.kind)) {
    gen_type *r = new_type(is_signed_int(c.kind) ? GEN_INT : GEN_UINT,
                           gen_type_spelling(t));
    r->bits = (unsigned)clang_Type_getSizeOf(c) * 8;
    return r;
  }
  switch (c.kind) {
  case CXType_Bool: return new_type(GEN_BOOL, "bool");
  case CXType_Float: return new_type(GEN_FLOAT, gen_type_spelling(t));
  case CXType_Double: return new_type(GEN_DOUBLE, gen_type_spelling(t));
  case CXType_Enum: return resolve_enum(t, c);
  case CXType_Record: return resolve_record(t, c, loc, what, err);
  case CXType_Pointer:
    return resolve_pointer(t, c, next, loc, what, pair, err);
  case CXType_ConstantArray: return resolve_array(t, c, loc, what, err);
  case CXType_IncompleteArray:
    return fail(err, loc, what, t,
                "flexible array members are not supported (use a const "
                "pointer + size_t pair)");
  case CXType_LongDouble:
    return fail(err, loc, what, t,
                "long double is not supported (it has no portable encoding)");
  case CXType_FunctionProto:
  case CXType_FunctionNoProto:
    return fail(err, loc, what, t, "function types are not supported");
  default:
    return fail(err, loc, what, t, "this type is not supported");
  }
}

void gen_type_mark_used(gen_type *t) {
  if (t == NULL) return;
  if ((t->kind == GEN_STRUCT || t->kind == GEN_STRUCT_REF) && !t->st->used) {
    t->st->used = true;
    for (size_t i = 0; i < t->st->fields.len; i++)
      gen_type_mark_used(((gen_field *)t->st->fields.items[i])->type);
  }
  gen_type_mark_used(t->elem);
}

void gen_type_mark_state(gen_type *t) {
  if (t == NULL) return;
  gen_type_mark_used(t);
  if ((t->kind == GEN_STRUCT || t->kind == GEN_STRUCT_REF) &&
      !t->st->state_used) {
    t->st->state_used = true;
    for (size_t i = 0; i < t->st->fields.len; i++)
      gen_type_mark_state(((gen_field *)t->st->fields.items[i])->type);
  }
  gen_type_mark_state(t->elem);
}

/* ---- Persistent actors' stored fields --------------------------------------- */

static bool is_bs_context_ptr(CXType t) {
  CXType c = clang_getCanonicalType(t);
  if (c.kind != CXType_Pointer) return false;
  CXCursor d = clang_getTypeDeclaration(clang_getCanonicalType(clang_getPointeeType(c)));
  return strcmp(gen_cx_string(clang_getCursorSpelling(d)), "bs_context") == 0;
}

static bool has_word(const char *s, const char *e, const char *w) {
  size_t n = strlen(w);
  for (; s + n <= e; s++)
    if (memcmp(s, w, n) == 0) return true;
  return false;
}

/* Whether the field at `f` is marked @transient: on one of its own lines,
 * or on a line right above that holds only a comment. */
static bool transient(CXCursor f, const gen_input *in) {
  CXSourceRange r = clang_getCursorExtent(f);
  CXFile file;
  unsigned from, to;
  clang_getSpellingLocation(clang_getRangeStart(r), &file, NULL, NULL, &from);
  clang_getSpellingLocation(clang_getRangeEnd(r), NULL, NULL, NULL, &to);
  char *path = file ? realpath(gen_cx_string(clang_getFileName(file)), NULL) : NULL;
  bool here = path && strcmp(path, in->real) == 0;
  free(path);
  if (!here || to > in->text_len || from > to) return false;
  const char *t = in->text, *s = t + from, *e = t + to;
  while (s > t && s[-1] != '\n') s--;
  while (e < t + in->text_len && *e != '\n') e++;
  if (has_word(s, e, "@transient")) return true;
  if (s == t) return false;
  const char *above = s - 1; /* the newline ending the line above */
  while (above > t && above[-1] != '\n') above--;
  const char *p = above;
  while (p < s && (*p == ' ' || *p == '\t')) p++;
  bool comment = p + 1 < s && ((p[0] == '/' && (p[1] == '/' || p[1] == '*')) || p[0] == '*');
  return comment && has_word(above, s, "@transient");
}

static bool persist_error(gen_loc loc, const char *msg) {
  gen_error_once(loc, msg);
  return false;
}

bool gen_resolve_persist_fields(CXCursor def, const gen_input *in,
                                const char *actor, gen_vec *out) {
  gen_vec cursors = {0};
  clang_visitChildren(def, collect_fields, &cursors);
  const char *sname = gen_printf("persistent actor '%s'", actor);
  bool ok = true;
  for (size_t i = 0; i < cursors.len; i++) {
    CXCursor *f = cursors.items[i];
    CXCursor *next = i + 1 < cursors.len ? cursors.items[i + 1] : NULL;
    bool pair = false;
    gen_err err;
    if (clang_getCursorKind(*f) == CXCursor_FieldDecl &&
        (is_bs_context_ptr(clang_getCursorType(*f)) || transient(*f, in))) {
      if (next && clang_getCursorKind(*next) == CXCursor_FieldDecl &&
          gen_is_size_t(clang_getCursorType(*next)) && transient(*next, in))
        i++; /* a transient pointer's length goes with it */
      continue;
    }
    char *name = gen_cx_string(clang_getCursorSpelling(*f));
    gen_type *t = resolve_field(*f, next, sname, &pair, &err);
    if (t == NULL) {
      ok = persist_error(err.loc, gen_printf("%s; a field that is not stored must be "
                                             "marked // @transient", err.msg));
      continue;
    }
    if (pair) i++;
    if (emit_has_pointers(t)) {
      ok = persist_error(gen_cursor_loc(*f), gen_printf(
          "field '%s' of %s has type '%s', which holds a pointer: a stored "
          "state cannot (store values - char[N] for text, fixed arrays, "
          "structs of those - or mark the field // @transient)", name, sname,
          gen_cx_string(clang_getTypeSpelling(clang_getCursorType(*f)))));
      continue;
    }
    if (!add_field(out, *f, next, t, pair, &err))
      ok = persist_error(err.loc, err.msg);
    else
      gen_type_mark_used(t);
  }
  return ok;
}
