/* Helpers for the inspector's Criterion tests: an engine on the virtual
 * clock with the inspector on 127.0.0.1:0, and HTTP clients on threads
 * while the test's thread pumps the engine's loop. Client threads never
 * assert (Criterion asserts belong on the test's thread): they record what
 * they saw and the test checks it after joining them. */
#ifndef INSP_TEST_H
#define INSP_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <backstage.h>
#include <backstage/testkit.h>
#include <cjson/cJSON.h>

#include "insp_actors.h"

/* Virtual-time engine; the inspector listens when `o` has an addr. */
bs_engine *it_engine(const bs_inspector_options *o);
/* The same with defaults and addr 127.0.0.1:0. */
bs_engine *it_engine_http(void);
/* Frees it (which stops the inspector). */
void it_free(bs_engine *e);

/* The port the inspector bound. */
int it_port(bs_engine *e);

typedef struct it_resp {
  int status;       /* 0: no HTTP response (reset, timeout) */
  char *raw;        /* whole response, NUL-terminated */
  size_t len;
  const char *body; /* inside raw; de-chunked when it came chunked */
  size_t body_len;
  int chunks;       /* chunks of a chunked body (0: not chunked) */
  size_t max_chunk; /* the largest of them */
  bool complete;    /* the body is whole: Content-Length bytes, or the last chunk */
} it_resp;

/* Sends `request` verbatim to 127.0.0.1:port on a thread and reads until
 * the server closes (5 s at most), pumping the engine's loop meanwhile. */
it_resp it_raw(bs_engine *e, const char *request, size_t len);
/* GET path (with query) as a well-formed request. */
it_resp it_get(bs_engine *e, const char *path);
/* POST path with an empty body (as curl or a script would: no Origin). */
it_resp it_post(bs_engine *e, const char *path);
void it_resp_free(it_resp *r);
/* Value of header `name` (case-insensitive) into out; false if absent. */
bool it_header(const it_resp *r, const char *name, char *out, size_t cap);
/* GET path and parse the JSON body; asserts status 200 and valid JSON. */
cJSON *it_json(bs_engine *e, const char *path);

/* Parses raw[0..len) (a malloc'd, NUL-terminated response) into an
 * it_resp, taking raw. */
it_resp it_parse(char *raw, size_t len);

/* Pumps the loop until *flag is set by another thread (or 10 s pass:
 * then asserts). */
void it_pump_until(bs_engine *e, volatile int *flag);
/* One non-blocking pass over the loop. */
void it_pump(bs_engine *e);
/* Pumps for `ms` of real time, advancing the virtual clock a sample
 * interval every 100 ms (so whatever runs on the sampler's tick runs). */
void it_pump_for(bs_engine *e, int ms);
/* Milliseconds on the monotonic clock. */
uint64_t it_now_ms(void);

/* A connected blocking socket to 127.0.0.1:port with a receive timeout. */
int it_connect(int port, int timeout_ms);

/* Strict UTF-8 (RFC 3629: no overlongs, surrogates or code points above
 * U+10FFFF), as Prometheus and JSON parsers require. */
bool it_utf8_valid(const char *s, size_t n);

/* Sends work(v) `n` times to actor `id` of `type`. */
void it_send(bs_engine *e, const bs_actor_type *type, const char *id, int n);

#endif
