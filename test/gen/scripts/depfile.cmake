# Depfile test: --depfile lists every header the parse read (the scanned one
# and what it includes), under the requested target, so a build regenerates
# when any of them changes.
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${GEN} --depfile ${WORK}/gen.d --depfile-target
  ${WORK}/kitchen.bs.h ${WORK} ${FIXTURES}/kitchen.h ${FIXTURES}/shapes.h
  ${FIXTURES}/types.h -- -I${INCLUDE} RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "backstage-gen failed: ${err}")
endif()
file(READ ${WORK}/gen.d dep)
foreach(want "^${WORK}/kitchen.bs.h:" "fixtures/kitchen.h" "fixtures/shapes.h"
    "fixtures/types.h" "include/backstage.h" "include/backstage/gen.h")
  if(NOT dep MATCHES "${want}")
    message(FATAL_ERROR "depfile lacks '${want}':\n${dep}")
  endif()
endforeach()
message(STATUS "depfile ok")
