#ifndef ELSEWHERE_H
#define ELSEWHERE_H
typedef struct Elsewhere {
  int x;
} Elsewhere;
#endif
