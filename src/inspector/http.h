/* The inspector's HTTP server: connections (http.c) and endpoints
 * (routes.c). One request per connection: every response says
 * "Connection: close" except the event stream, which stays open. */
#ifndef BACKSTAGE_INSP_HTTP_H
#define BACKSTAGE_INSP_HTTP_H

#include <http_parser.h>

#include "inspector/insp.h"

#define BS__INSP_HEAD_MAX 8192   /* request line + headers: 431 beyond */
#define BS__INSP_BODY_MAX 8192   /* 413 beyond */
#define BS__INSP_URL_MAX 2048    /* 414 beyond */
#define BS__INSP_HDR_MAX 512     /* longest kept header value (the rest is cut) */
#define BS__INSP_TOKEN_MAX 256
#define BS__INSP_SSE_BACKLOG (1u << 20) /* unsent bytes before a slow SSE
                                           client is dropped */
#define BS__INSP_LINGER_MS 2000  /* after a response, wait this long for EOF */

typedef struct bs__insp_client bs__insp_client;

/* The request headers the server looks at; the others are only counted. */
enum { BS__H_AUTH, BS__H_HOST, BS__H_ORIGIN, BS__H_FETCH_SITE, BS__H_COUNT, BS__H_NONE };

typedef struct bs__insp_hdr {
  char v[BS__INSP_HDR_MAX + 1];
  uint16_t len;
  uint8_t seen;                 /* how many times it appeared */
} bs__insp_hdr;

struct bs__insp_client {
  uv_tcp_t tcp;
  uv_shutdown_t shut;
  http_parser parser;
  bs__insp_server *srv;
  bs__insp_client *prev, *next; /* all clients */
  bs__insp_client *qnext;       /* queue of deferred snapshots */
  bs__insp_query *query;        /* a deferred snapshot, or NULL */
  uint64_t last_io;             /* uv_now of the last read or response */
  size_t url_len, field_len, head_bytes, body_bytes;
  int reject;                   /* status to answer instead of routing */
  int field_hdr;                /* BS__H_* of the header being read */
  bool in_value;
  bool done;                    /* request complete: input is now ignored */
  bool sse, closing;
  char url[BS__INSP_URL_MAX + 1];
  char field[16];
  bs__insp_hdr hdr[BS__H_COUNT];
  char rbuf[4096];
};

struct bs__insp_server {
  bs__inspector *in;        /* NULL once stopped: handles are closing */
  uv_loop_t *loop;
  uv_tcp_t listener;
  uv_idle_t work;           /* steps deferred snapshots */
  bs__insp_client *clients;
  bs__insp_client *qhead, *qtail;
  uint32_t nclients;
  int open;                 /* handles not yet closed; frees itself at 0 */
  bool listener_init, work_init;
  char url[96];
};

/* http.c: responses. Each ends the request (the connection then closes). */
void bs__insp_respond(bs__insp_client *c, int status, const char *ctype,
                      const char *headers, const char *body, size_t len);
void bs__insp_respond_error(bs__insp_client *c, int status, const char *msg);
/* Sends the event-stream head and the first update; the client then gets
 * one update per sample. */
void bs__insp_sse_begin(bs__insp_client *c);
/* Queues a snapshot whose scan needs more than one slice. */
void bs__insp_defer(bs__insp_client *c, bs__insp_query *qr);

/* routes.c */
void bs__insp_route(bs__insp_client *c);
void bs__insp_finish_snapshot(bs__insp_client *c);
/* Constant-time token check of the request (header or ?token=). */
bool bs__insp_authorized(const bs__insp_client *c, const char *query, size_t qlen);

#endif
