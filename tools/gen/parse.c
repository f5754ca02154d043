#include "parse.h"

#include <stdlib.h>
#include <string.h>

#include "actor.h"
#include "diag.h"
#include "types.h"

/* Declarations only: the preprocessing record (macros, includes) is for
 * the name checks, and a marker applies to the declaration after it. */
static enum CXChildVisitResult collect_top(CXCursor c, CXCursor parent,
                                           CXClientData data) {
  (void)parent;
  if (!clang_Location_isFromMainFile(clang_getCursorLocation(c)) ||
      !clang_isDeclaration(clang_getCursorKind(c)))
    return CXChildVisit_Continue;
  top_decl *d = gen_alloc(sizeof *d);
  d->cursor = c;
  clang_getSpellingLocation(clang_getRangeStart(clang_getCursorExtent(c)),
                            NULL, NULL, NULL, &d->start);
  gen_vec_push(data, d);
  return CXChildVisit_Continue;
}

static void collect_dep(CXFile file, CXSourceLocation *stack, unsigned n,
                        CXClientData data) {
  (void)stack;
  (void)n;
  gen_input *in = data;
  gen_vec_push(&in->deps, gen_cx_string(clang_getFileName(file)));
}

static gen_loc offset_loc(const gen_input *in, size_t offset) {
  gen_loc loc = {in->path, 1, 1};
  for (size_t i = 0; i < offset && i < in->text_len; i++) {
    if (in->text[i] == '\n') {
      loc.line++;
      loc.col = 1;
    } else {
      loc.col++;
    }
  }
  return loc;
}

/* The marker's comment ends at `offset`; report it at the comment's line. */
static gen_loc marker_loc(const gen_input *in, size_t offset) {
  size_t start = offset;
  while (start > 0 && in->text[start - 1] != '\n') start--;
  while (start < offset && (in->text[start] == ' ' || in->text[start] == '\t'))
    start++;
  return offset_loc(in, start);
}

static const top_decl *decl_after(const gen_vec *tops, unsigned offset) {
  const top_decl *best = NULL;
  for (size_t i = 0; i < tops->len; i++) {
    const top_decl *d = tops->items[i];
    if (d->start >= offset && (best == NULL || d->start < best->start))
      best = d;
  }
  return best;
}

/* The struct definition a marked declaration names, or a null cursor. */
static CXCursor marked_struct(CXCursor c) {
  CXType t = clang_getCanonicalType(clang_getCursorType(c));
  if (clang_getCursorKind(c) == CXCursor_TypedefDecl)
    t = clang_getCanonicalType(clang_getTypedefDeclUnderlyingType(c));
  else if (clang_getCursorKind(c) != CXCursor_StructDecl)
    return clang_getNullCursor();
  CXCursor decl = clang_getTypeDeclaration(t);
  if (clang_getCursorKind(decl) != CXCursor_StructDecl)
    return clang_getNullCursor();
  return clang_getCursorDefinition(decl);
}

static bool report_clang_errors(CXTranslationUnit tu) {
  bool failed = false;
  unsigned n = clang_getNumDiagnostics(tu);
  for (unsigned i = 0; i < n; i++) {
    CXDiagnostic d = clang_getDiagnostic(tu, i);
    if (clang_getDiagnosticSeverity(d) >= CXDiagnostic_Error) {
      CXSourceLocation l = clang_getDiagnosticLocation(d);
      CXFile file;
      unsigned line, col;
      clang_getSpellingLocation(l, &file, &line, &col, NULL);
      gen_loc loc = {file ? gen_cx_string(clang_getFileName(file))
                          : "<command line>", line, col};
      gen_error(loc, "%s", gen_cx_string(clang_getDiagnosticSpelling(d)));
      failed = true;
    }
    clang_disposeDiagnostic(d);
  }
  return failed;
}

/* True if `offset` of the main file lies in code the preprocessor skipped
 * (#if 0, a false #ifdef): a marker there marks nothing. */
static bool skipped(CXTranslationUnit tu, const gen_input *in,
                    unsigned offset) {
  CXFile file = clang_getFile(tu, in->path);
  if (file == NULL) return false;
  CXSourceRangeList *ranges = clang_getSkippedRanges(tu, file);
  bool inside = false;
  for (unsigned i = 0; ranges && i < ranges->count && !inside; i++) {
    unsigned from, to;
    clang_getSpellingLocation(clang_getRangeStart(ranges->ranges[i]), NULL,
                              NULL, NULL, &from);
    clang_getSpellingLocation(clang_getRangeEnd(ranges->ranges[i]), NULL,
                              NULL, NULL, &to);
    inside = offset > from && offset <= to;
  }
  clang_disposeSourceRangeList(ranges);
  return inside;
}

static void discover(CXTranslationUnit tu, gen_input *in, const gen_vec *tops) {
  for (size_t i = 0; i < in->markers.len; i++) {
    unsigned offset = (unsigned)(uintptr_t)in->markers.items[i];
    if (skipped(tu, in, offset)) continue;
    const top_decl *d = decl_after(tops, offset);
    CXCursor def = d ? marked_struct(d->cursor) : clang_getNullCursor();
    if (clang_Cursor_isNull(def)) {
      gen_error(marker_loc(in, offset),
                "@generate-proxy must be followed by a struct definition or "
                "a typedef of one");
      continue;
    }
    bool persistent =
        ((uintptr_t)in->marker_opts.items[i] & GEN_MARK_PERSISTENT) != 0;
    gen_actor *a = gen_actor_build(d->cursor, def, tops, in, persistent);
    if (a != NULL) gen_vec_push(&in->actors, a);
  }
}

/* ---- Declared names ------------------------------------------------------ */

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static gen_decl *note_decl(gen_input *in, CXCursor c, gen_ns ns,
                           const char *kind) {
  gen_loc loc = gen_cursor_loc(c);
  /* A generated header included by a scanned one declares what it
   * generated: not a clash. */
  if (ends_with(loc.file, ".bs.h")) return NULL;
  gen_decl *d = gen_alloc(sizeof *d);
  d->name = gen_cx_string(clang_getCursorSpelling(c));
  d->ns = ns;
  d->kind = kind;
  d->loc = loc;
  gen_vec_push(&in->decls, d);
  return d;
}

static enum CXChildVisitResult collect_enumerators(CXCursor c, CXCursor parent,
                                                   CXClientData data) {
  (void)parent;
  if (clang_getCursorKind(c) == CXCursor_EnumConstantDecl)
    note_decl(data, c, GEN_NS_ORDINARY, "enumerator");
  return CXChildVisit_Continue;
}

/* A struct, union or enum tag clashes only where it is defined: `struct
 * bs_stream_Point;` (to hold a pointer) is compatible with the generated
 * definition. */
static void note_tag(gen_input *in, CXCursor c, const char *kind) {
  if (clang_getCursorKind(c) == CXCursor_EnumDecl)
    clang_visitChildren(c, collect_enumerators, in);
  if (!clang_Cursor_isAnonymous(c) && clang_isCursorDefinition(c))
    note_decl(in, c, GEN_NS_TAG, kind);
}

/* Every file-scope name of the translation unit, from any header (the
 * library's too, so a generated name cannot shadow one of its functions),
 * and the macros outside system headers. */
static enum CXChildVisitResult collect_decl(CXCursor c, CXCursor parent,
                                            CXClientData data) {
  (void)parent;
  gen_input *in = data;
  switch (clang_getCursorKind(c)) {
  case CXCursor_FunctionDecl: note_decl(in, c, GEN_NS_ORDINARY, "function"); break;
  case CXCursor_VarDecl: note_decl(in, c, GEN_NS_ORDINARY, "variable"); break;
  case CXCursor_TypedefDecl: note_decl(in, c, GEN_NS_ORDINARY, "typedef"); break;
  case CXCursor_StructDecl: note_tag(in, c, "struct"); break;
  case CXCursor_UnionDecl: note_tag(in, c, "union"); break;
  case CXCursor_EnumDecl: note_tag(in, c, "enum"); break;
  case CXCursor_MacroDefinition:
    if (!clang_Cursor_isMacroBuiltin(c) &&
        !clang_Location_isInSystemHeader(clang_getCursorLocation(c))) {
      gen_decl *d = note_decl(in, c, GEN_NS_MACRO, "macro");
      if (d != NULL) d->function_like = clang_Cursor_isMacroFunctionLike(c);
    }
    break;
  default: break;
  }
  return CXChildVisit_Continue;
}

/* The preprocessing record comes before the declarations: sorted into
 * source order (files as first seen, then line and column), so errors
 * about them read top to bottom. */
typedef struct decl_key {
  const gen_decl *d;
  size_t file, index;
} decl_key;

static int by_position(const void *x, const void *y) {
  const decl_key *a = x, *b = y;
  if (a->file != b->file) return a->file < b->file ? -1 : 1;
  if (a->d->loc.line != b->d->loc.line) return a->d->loc.line < b->d->loc.line ? -1 : 1;
  if (a->d->loc.col != b->d->loc.col) return a->d->loc.col < b->d->loc.col ? -1 : 1;
  return a->index < b->index ? -1 : a->index > b->index;
}

static void sort_decls(gen_vec *decls, size_t from) {
  size_t n = decls->len - from;
  decl_key *keys = gen_alloc(n * sizeof *keys + 1);
  gen_vec files = {0};
  for (size_t i = 0; i < n; i++) {
    const gen_decl *d = decls->items[from + i];
    size_t f = 0;
    while (f < files.len && strcmp(files.items[f], d->loc.file) != 0) f++;
    if (f == files.len) gen_vec_push(&files, (void *)d->loc.file);
    keys[i] = (decl_key){d, f, i};
  }
  if (n > 1) qsort(keys, n, sizeof *keys, by_position);
  for (size_t i = 0; i < n; i++) decls->items[from + i] = (void *)keys[i].d;
}

/* ---- One header ------------------------------------------------------------ */

void gen_parse_input(CXIndex index, gen_input *in, const char *const *args,
                     int nargs) {
  CXTranslationUnit tu = NULL;
  /* The detailed record keeps macro definitions (for the name checks) and
   * the ranges the preprocessor skipped (markers inside #if 0). */
  enum CXErrorCode ec = clang_parseTranslationUnit2(
      index, in->path, args, nargs, NULL, 0,
      CXTranslationUnit_SkipFunctionBodies | CXTranslationUnit_KeepGoing |
          CXTranslationUnit_DetailedPreprocessingRecord,
      &tu);
  if (ec == CXError_Crashed) {
    /* libclang's own crash report precedes this on stderr. */
    gen_error_plain("libclang crashed while parsing '%s' (a libclang bug, "
                    "not this header's fault alone: simplify the header)",
                    in->path);
    return;
  }
  if (ec != CXError_Success || tu == NULL) {
    gen_error_plain("libclang could not parse '%s' (error %d)", in->path,
                    (int)ec);
    return;
  }
  gen_vec_push(&in->deps, (void *)in->path);
  clang_getInclusions(tu, collect_dep, in);
  if (!report_clang_errors(tu)) {
    gen_vec tops = {0};
    clang_visitChildren(clang_getTranslationUnitCursor(tu), collect_top, &tops);
    discover(tu, in, &tops);
    size_t from = in->decls.len;
    clang_visitChildren(clang_getTranslationUnitCursor(tu), collect_decl, in);
    sort_decls(&in->decls, from);
  }
  clang_disposeTranslationUnit(tu);
}
