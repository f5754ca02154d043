#include "parse.h"

#include <stdlib.h>
#include <string.h>

#include "actor.h"
#include "diag.h"
#include "types.h"

static enum CXChildVisitResult collect_top(CXCursor c, CXCursor parent,
                                           CXClientData data) {
  (void)parent;
  if (!clang_Location_isFromMainFile(clang_getCursorLocation(c)))
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

static void discover(gen_input *in, const gen_vec *tops) {
  for (size_t i = 0; i < in->markers.len; i++) {
    unsigned offset = (unsigned)(uintptr_t)in->markers.items[i];
    const top_decl *d = decl_after(tops, offset);
    CXCursor def = d ? marked_struct(d->cursor) : clang_getNullCursor();
    if (clang_Cursor_isNull(def)) {
      gen_error(marker_loc(in, offset),
                "@generate-proxy must be followed by a struct definition or "
                "a typedef of one");
      continue;
    }
    gen_actor *a = gen_actor_build(d->cursor, def, tops);
    if (a != NULL) gen_vec_push(&in->actors, a);
  }
}

void gen_parse_input(CXIndex index, gen_input *in, const char *const *args,
                     int nargs) {
  CXTranslationUnit tu = NULL;
  enum CXErrorCode ec = clang_parseTranslationUnit2(
      index, in->path, args, nargs, NULL, 0,
      CXTranslationUnit_SkipFunctionBodies | CXTranslationUnit_KeepGoing, &tu);
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
    discover(in, &tops);
  }
  clang_disposeTranslationUnit(tu);
}
