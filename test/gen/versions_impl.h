#ifndef GEN_VERSIONS_IMPL_H
#define GEN_VERSIONS_IMPL_H

#include "item_v1.bs.h"
#include "item_v2.bs.h"
#include "purse_v1.bs.h"
#include "purse_v2.bs.h"

/* Purse1 and Purse2 under one name, "Purse": the store keys records by
 * the type's name, so these are two versions of one persistent type. */
extern bs_actor_type purse_v1_type;
extern bs_actor_type purse_v2_type;
void purse_types_init(void);

extern Item1 store1_last;
extern Item2 store2_last;
extern char store_name[64];

#endif
