#include "backstage/error.h"

#include <stddef.h>

const char *bs_strerror(int code) {
  switch (code) {
  case 0:
    return "success";
#define BS__ERR_MSG(name, value, msg)                                          \
  case BS_##name:                                                              \
    return msg;
    BS_ERRNO_MAP(BS__ERR_MSG)
#undef BS__ERR_MSG
  default:
    return "unknown error";
  }
}

const char *bs_errname(int code) {
  switch (code) {
  case 0:
    return "OK";
#define BS__ERR_NAME(name, value, msg)                                         \
  case BS_##name:                                                              \
    return #name;
    BS_ERRNO_MAP(BS__ERR_NAME)
#undef BS__ERR_NAME
  default:
    return "UNKNOWN";
  }
}
