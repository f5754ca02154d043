#include <backstage.h>
// @generate-proxy
int not_a_struct(void);
