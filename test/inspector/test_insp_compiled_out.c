/* With the inspector compiled out every bs_inspector_* call says so, and
 * the engine option and environment variable are ignored. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "insp_actors.h"

Test(insp_compiled_out, every_call_returns_enotfound) {
  cr_assert_not(bs_inspector_available());
  setenv("BACKSTAGE_INSPECTOR", "127.0.0.1:0", 1);
  bs_engine_options eo;
  bs_engine_options_init(&eo);
  eo.inspector_addr = "127.0.0.1:0";
  bs_engine *e;
  cr_assert_eq(bs_engine_new(&e, &eo), 0, "option ignored");
  bs_inspector_options o;
  bs_inspector_options_init(&o);
  o.addr = "127.0.0.1:0";
  char url[64] = "x";
  const char *names[4];
  bs_inspector_actor a;
  bs_inspector_totals t;
  cr_assert_eq(bs_inspector_start(e, &o), BS_ENOTSUP);
  cr_assert_eq(bs_inspector_url(e, url, sizeof url), BS_ENOTSUP);
  cr_assert_str_eq(url, "");
  cr_assert_eq(bs_inspector_trace(e, "w", true), BS_ENOTSUP);
  cr_assert_eq(bs_inspector_trace_get(e, "w", names, 4), BS_ENOTSUP);
  cr_assert_eq(bs_inspector_actor_get(e, "w", &a), BS_ENOTSUP);
  cr_assert_eq(bs_inspector_totals_get(e, &t), BS_ENOTSUP);
  cr_assert_eq(bs_inspector_stop(e), BS_ENOTSUP);
  bs_ref r;
  bs_actor_get(e, &insp_worker_type, "w", &r);
  insp_work(r, 1);
  cr_assert_eq(bs_engine_run(e, BS_RUN_UNTIL_DONE), 0, "nothing keeps the loop alive");
  bs_engine_free(e);
}
