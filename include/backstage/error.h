/* Backstage error codes.
 *
 * Every public function that can fail returns 0 (or a non-negative count) on
 * success and one of the negative BS_E* codes below on failure. The table is
 * an X-macro so the enum, bs_strerror() and bs_errname() can never disagree.
 */
#ifndef BACKSTAGE_ERROR_H
#define BACKSTAGE_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* XX(NAME, value, message) */
#define BS_ERRNO_MAP(XX)                                                       \
  XX(EINVAL, -1, "invalid argument")                                           \
  XX(ENOMEM, -2, "out of memory")                                              \
  XX(EIDLEN, -3, "id is empty or longer than BS_ID_MAX bytes")                 \
  XX(ETYPE, -4, "exists with a different type")                               \
  XX(ENOMETHOD, -5, "unknown method id")                                       \
  XX(EDECODE, -6, "message body could not be decoded")                         \
  XX(EENCODE, -7, "value could not be encoded")                                \
  XX(ESTOPPED, -8, "actor stopped")                                            \
  XX(EDEADLK, -9, "blocking await inside an actor turn")                       \
  XX(ETIMEDOUT, -10, "timed out")                                              \
  XX(ECANCELED, -11, "canceled: engine freed")                                 \
  XX(EBUSY, -12, "engine is already running")                                  \
  XX(EINIT, -13, "actor init failed")                                          \
  XX(EFULL, -14, "mailbox full")                                               \
  XX(ETOOBIG, -15, "message or value too large")                               \
  XX(EUV, -16, "libuv call failed")                                            \
  XX(ENOTFOUND, -17, "not found")                                              \
  XX(EMETHOD, -18, "actor method returned an error")                           \
  XX(ENOTSUP, -19, "not supported by this build")                              \
  XX(EWRONGTHREAD, -20, "called from a thread that may not call it")          \
  XX(ESTORE, -21, "state store failed")                                       \
  XX(ECONFLICT, -22, "stored state changed by another writer")                \
  XX(ECORRUPT, -23, "stored state could not be decoded")                      \
  XX(EUNREACHABLE, -24, "node unreachable, gone, or no owner for the actor")  \
  XX(EVERSION, -25, "incompatible cluster wire format or settings")           \
  XX(EMOVED, -26, "actor moved too often to be reached")                      \
  XX(ENOTREGISTERED, -27, "actor type not registered with the cluster")

typedef enum bs_errno {
#define BS__ERR_ENUM(name, value, msg) BS_##name = value,
  BS_ERRNO_MAP(BS__ERR_ENUM)
#undef BS__ERR_ENUM
  BS__ERR_LAST = -28
} bs_errno;

/* A static, human-readable message for `code` ("success" for 0, "unknown
 * error" for codes outside the table). Never NULL. */
const char *bs_strerror(int code);

/* The symbolic name of `code` without the BS_ prefix ("EINVAL"), "OK" for 0,
 * "UNKNOWN" otherwise. Never NULL. */
const char *bs_errname(int code);

#ifdef __cplusplus
}
#endif
#endif
