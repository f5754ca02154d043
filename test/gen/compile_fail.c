/* Compile-fail cases (test/gen/CMakeLists.txt): each CASE passes one wrong
 * argument to a generated proxy and must not compile under -Werror; CASE 0
 * is the same calls done right and must compile. */
#include "greeter.bs.h"
#include "kitchen.bs.h"

int use_proxies(GreeterProxy g, KitchenProxy k, Point p, const Polygon *poly,
                struct Scene scene);

int use_proxies(GreeterProxy g, KitchenProxy k, Point p, const Polygon *poly,
                struct Scene scene) {
  uint32_t count = 0;
  double wrong = 0;
  (void)wrong;
#if CASE == 0
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
