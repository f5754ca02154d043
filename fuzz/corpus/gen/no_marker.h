#include <stdint.h>
typedef struct B { int x; } B;
