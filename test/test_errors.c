/* Error table: bs_strerror, bs_errname, and the dead letter reason names. */
#include <string.h>

#include <criterion/criterion.h>

#include "bst.h"

typedef struct err_entry {
  int code;
  const char *name;
  const char *msg;
} err_entry;

static const err_entry table[] = {
#define XX(name, value, msg) {BS_##name, #name, msg},
    BS_ERRNO_MAP(XX)
#undef XX
};
#define NCODES (sizeof table / sizeof table[0])

Test(errors, zero_is_success_and_ok, .timeout = 10) {
  bst_reset();
  cr_assert_str_eq(bs_strerror(0), "success");
  cr_assert_str_eq(bs_errname(0), "OK");
}

Test(errors, codes_are_negative_distinct_and_contiguous, .timeout = 10) {
  bst_reset();
  for (size_t i = 0; i < NCODES; i++) {
    cr_assert_lt(table[i].code, 0, "%s is not negative", table[i].name);
    cr_assert_gt(table[i].code, BS__ERR_LAST, "%s beyond BS__ERR_LAST",
                 table[i].name);
    for (size_t j = i + 1; j < NCODES; j++)
      cr_assert_neq(table[i].code, table[j].code, "%s and %s share a value",
                    table[i].name, table[j].name);
  }
  /* -1 .. BS__ERR_LAST+1 are all used. */
  cr_assert_eq((int)NCODES, -(BS__ERR_LAST + 1));
}

Test(errors, every_code_has_its_table_message_and_name, .timeout = 10) {
  bst_reset();
  for (size_t i = 0; i < NCODES; i++) {
    const char *m = bs_strerror(table[i].code);
    const char *n = bs_errname(table[i].code);
    cr_assert_not_null(m);
    cr_assert_not_null(n);
    cr_assert_str_eq(m, table[i].msg, "bs_strerror(%d)", table[i].code);
    cr_assert_str_eq(n, table[i].name, "bs_errname(%d)", table[i].code);
  }
}

Test(errors, messages_and_names_are_pairwise_distinct, .timeout = 10) {
  bst_reset();
  for (size_t i = 0; i < NCODES; i++) {
    for (size_t j = i + 1; j < NCODES; j++) {
      cr_assert_str_neq(bs_strerror(table[i].code), bs_strerror(table[j].code));
      cr_assert_str_neq(bs_errname(table[i].code), bs_errname(table[j].code));
    }
    cr_assert_str_neq(bs_strerror(table[i].code), bs_strerror(0));
    cr_assert_str_neq(bs_strerror(table[i].code), "unknown error");
    cr_assert_str_neq(bs_errname(table[i].code), "UNKNOWN");
    cr_assert_str_neq(bs_errname(table[i].code), "OK");
  }
}

Test(errors, unknown_codes_give_unknown_never_null, .timeout = 10) {
  bst_reset();
  const int unknown[] = {BS__ERR_LAST, BS__ERR_LAST - 1, -1000, 1, 2, 42,
                         (int)0x7fffffff, (int)(-0x7fffffff - 1)};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    cr_assert_str_eq(bs_strerror(unknown[i]), "unknown error", "code %d",
                     unknown[i]);
    cr_assert_str_eq(bs_errname(unknown[i]), "UNKNOWN", "code %d", unknown[i]);
  }
}

Test(errors, dead_letter_reasons_have_distinct_names, .timeout = 10) {
  bst_reset();
  static const char *const expected[] = {
#define XX(name, desc) #name,
      BS_DEAD_LETTER_MAP(XX)
#undef XX
  };
  cr_assert_eq(sizeof expected / sizeof expected[0], (size_t)BS_DL__COUNT);
  for (int i = 0; i < BS_DL__COUNT; i++) {
    const char *n = bs_dead_letter_reason_name((bs_dead_letter_reason)i);
    cr_assert_not_null(n, "reason %d", i);
    cr_assert_str_eq(n, expected[i], "reason %d", i);
    for (int j = i + 1; j < BS_DL__COUNT; j++)
      cr_assert_str_neq(n, bs_dead_letter_reason_name((bs_dead_letter_reason)j));
  }
  cr_assert_not_null(bs_dead_letter_reason_name(BS_DL__COUNT));
  cr_assert_not_null(bs_dead_letter_reason_name((bs_dead_letter_reason)-1));
}
