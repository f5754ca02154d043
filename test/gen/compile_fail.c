/* Compile-fail cases (test/gen/CMakeLists.txt): each CASE passes one wrong
 * argument to a generated proxy, stream handle or subscriber helper and
 * must not compile under -Werror; CASE 0 is the same calls done right and
 * must compile. Cases 1-4 are proxies (use_proxies), 5-10 streams
 * (use_streams), 11-15 streams of dynamic arrays (use_array_streams); each
 * function does everything right in the other cases. Cases 16-18 are
 * blobs (use_blobs). */
#include "greeter.bs.h"
#include "kitchen.bs.h"
#include "media.bs.h"
#include "news.bs.h"

int use_proxies(GreeterProxy g, KitchenProxy k, Point p, const Polygon *poly,
                struct Scene scene);

int use_proxies(GreeterProxy g, KitchenProxy k, Point p, const Polygon *poly,
                struct Scene scene) {
  uint32_t count = 0;
  double wrong = 0;
  (void)wrong;
#if CASE == 0 || CASE > 4
  GreeterProxy_sayHello(g, "World");
  KitchenProxy_structs(k, p, poly, scene);
  return GreeterProxy_getCount_await(g, &count);
#elif CASE == 1
  (void)k, (void)p, (void)poly, (void)scene, (void)count;
  return GreeterProxy_sayHello(g, 42); /* an int for a string */
#elif CASE == 2
  (void)g, (void)p, (void)poly, (void)scene, (void)count;
  return GreeterProxy_sayHello(k, "World"); /* another actor's proxy */
#elif CASE == 3
  (void)g, (void)poly, (void)count;
  return KitchenProxy_structs(k, p, p, scene); /* a struct for a pointer */
#elif CASE == 4
  (void)k, (void)p, (void)poly, (void)scene, (void)count;
  return GreeterProxy_getCount_await(g, &wrong); /* double * for uint32_t * */
#endif
}

int use_streams(bs_stream_cstr news, bs_stream_Headline headlines,
                const Headline *h, const Notice *n);

int use_streams(bs_stream_cstr news, bs_stream_Headline headlines,
                const Headline *h, const Notice *n) {
  (void)news, (void)headlines, (void)h, (void)n;
#if CASE == 5
  /* a method taking int64_t, subscribed to a cstr stream */
  return bs_stream_subscribe(news, bs_subscriber("r", ReaderProxy_onCount));
#elif CASE == 6
  /* a method taking const Notice *, subscribed to a Headline stream */
  return bs_stream_subscribe(headlines, bs_subscriber("r", ReaderProxy_onNotice));
#elif CASE == 7
  return bs_stream_next(headlines, n); /* a const Notice * on a Headline stream */
#elif CASE == 8
  return bs_stream_next(news, 42); /* an int on a cstr stream */
#elif CASE == 9
  return bs_stream_next(headlines, *h); /* a Headline by value: takes a pointer */
#elif CASE == 10
  /* an enum parameter has no element type: no subscriber helper */
  return bs_stream_subscribe(news, bs_subscriber("r", ReaderProxy_onColor));
#else
  int rc = bs_stream_subscribe(news, bs_subscriber("r", ReaderProxy_handleNews));
  rc |= bs_stream_subscribe(headlines, bs_subscriber("r", ReaderProxy_onHeadline));
  rc |= bs_stream_subscribe(headlines, bs_subscriber("r", ReaderProxy_onHeadlineCopy));
  rc |= bs_stream_unsubscribe(headlines, bs_subscriber("r", ReaderProxy_onHeadline));
  rc |= bs_stream_next(headlines, h);
  return rc | bs_stream_next(news, "headline");
#endif
}

int use_array_streams(bs_stream_i64_array batches, bs_stream_Headline_array editions,
                      const int64_t *v64, const int32_t *v32, const Headline *h);

int use_array_streams(bs_stream_i64_array batches, bs_stream_Headline_array editions,
                      const int64_t *v64, const int32_t *v32, const Headline *h) {
  (void)batches, (void)editions, (void)v64, (void)v32, (void)h;
#if CASE == 11
  /* a method taking `const int32_t *, size_t`, subscribed to an i64_array stream */
  return bs_stream_subscribe(batches, bs_subscriber("r", ReaderProxy_onValues));
#elif CASE == 12
  return bs_stream_next(batches, bs_array(i32, v32, 3)); /* a bs_array_i32 */
#elif CASE == 13
  return bs_stream_next(batches, v64); /* a pointer, not a bs_array_i64 */
#elif CASE == 14
  /* a method taking an array of Points, subscribed to a Headline_array stream */
  return bs_stream_subscribe(editions, bs_subscriber("r", ReaderProxy_onPoints));
#elif CASE == 15
  /* a method taking one Headline, subscribed to a Headline_array stream */
  return bs_stream_subscribe(editions, bs_subscriber("r", ReaderProxy_onHeadline));
#else
  int rc = bs_stream_subscribe(batches, bs_subscriber("r", ReaderProxy_onBatch));
  rc |= bs_stream_subscribe(editions, bs_subscriber("r", ReaderProxy_onHeadlines));
  rc |= bs_stream_unsubscribe(batches, bs_subscriber("r", ReaderProxy_onBatch));
  rc |= bs_stream_next(batches, bs_array(i64, v64, 3));
  rc |= bs_stream_next(batches, ((bs_array_i64){NULL, 0}));
  return rc | bs_stream_next(editions, bs_array(Headline, h, 1));
#endif
}

int use_blobs(LockerProxy v, bs_stream_blob frames, const bs_blob *b, bs_bytes bytes);

int use_blobs(LockerProxy v, bs_stream_blob frames, const bs_blob *b, bs_bytes bytes) {
  (void)v, (void)frames, (void)b, (void)bytes;
#if CASE == 16
  /* a blob's bytes are read-only once made */
  memset(bs_blob_data(b), 0, bs_blob_size(b));
  return 0;
#elif CASE == 17
  return LockerProxy_look(v, bytes, 1); /* bs_bytes where a blob goes */
#elif CASE == 18
  return bs_stream_next(frames, bytes); /* bs_bytes on a blob stream */
#else
  int rc = LockerProxy_look(v, b, 1);
  rc |= bs_stream_subscribe(frames, bs_subscriber("r", ViewerProxy_onBlob));
  return rc | bs_stream_next(frames, b);
#endif
}
