#ifndef GEN_VERSIONS_IMPL_H
#define GEN_VERSIONS_IMPL_H

#include "item_v1.bs.h"
#include "item_v2.bs.h"

extern Item1 store1_last;
extern Item2 store2_last;
extern char store_name[64];

#endif
