/* Is the calling thread inside uv_run? libuv cannot tell (uv_run is not
 * re-entrant, and nothing marks a running loop), yet an engine whose loop
 * the user drives with plain uv_run must not run that loop again from one
 * of the user's callbacks (bs_request_await) nor free a loop it is running
 * (bs_engine_free). So we look at the stack: a return address inside
 * uv_run means we were called from it.
 *
 * It costs a stack walk (a few microseconds), so callers ask only after
 * the engine has seen its loop run by someone else's uv_run. Where libuv's
 * symbol table does not give uv_run's size (a static libuv without a
 * dynamic symbol table) the answer is always "no". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <unwind.h>

#include "internal.h"

static uintptr_t run_lo, run_hi; /* [lo, hi): uv_run's code */
static uv_once_t run_once = UV_ONCE_INIT;

static void find_uv_run(void) {
  Dl_info info;
  const ElfW(Sym) *sym = NULL;
  void *fn = (void *)(uintptr_t)&uv_run;
  if (dladdr1(fn, &info, (void **)&sym, RTLD_DL_SYMENT) && sym && sym->st_size) {
    run_lo = (uintptr_t)info.dli_saddr;
    run_hi = run_lo + sym->st_size;
  }
}

typedef struct walk {
  int frames;
  bool found;
} walk;

/* The unwinder's DWARF walk, not glibc's backtrace(): sanitizers replace
 * that one with a frame-pointer walk that stops at libuv's frames. */
static _Unwind_Reason_Code frame(struct _Unwind_Context *ctx, void *arg) {
  walk *w = arg;
  uintptr_t at = (uintptr_t)_Unwind_GetIP(ctx);
  if (at > run_lo && at <= run_hi) {
    w->found = true;
    return _URC_END_OF_STACK;
  }
  return ++w->frames < 128 ? _URC_NO_REASON : _URC_END_OF_STACK;
}

bool bs__in_uv_run(void) {
  uv_once(&run_once, find_uv_run);
  if (!run_lo) return false; /* no symbol size (static libuv): cannot tell */
  walk w = {0, false};
  _Unwind_Backtrace(frame, &w);
  return w.found;
}
