/* Compile-fail cases (test/gen/CMakeLists.txt): each CASE passes one wrong
 * argument to a generated proxy, stream handle or subscriber helper and
 * must not compile under -Werror; CASE 0 is the same calls done right and
 * must compile. Cases 1-4 are proxies (use_proxies), 5-10 streams
 * (use_streams); each function does everything right in the other cases. */
#include "greeter.bs.h"
#include "kitchen.bs.h"
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
