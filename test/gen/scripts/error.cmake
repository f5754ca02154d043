# Error test: backstage-gen rejects HEADER with exactly the messages in
# EXPECTED (stderr, compared line by line), exits with 1, and writes nothing.
#   cmake -DGEN=... -DDIR=<errors dir> -DHEADER=<name.h> -DEXPECTED=<file>
#         -DWORK=<dir> -DINCLUDE=<include dir> [-DEXTRA=<another input>]
#         -P error.cmake
# It runs in DIR with a relative HEADER, so messages name "name.h:L:C".
file(REMOVE_RECURSE ${WORK})
set(inputs ${HEADER})
if(EXTRA)
  list(APPEND inputs ${EXTRA})
endif()
execute_process(COMMAND ${GEN} ${WORK} ${inputs} -- -I${INCLUDE}
  WORKING_DIRECTORY ${DIR} RESULT_VARIABLE rc ERROR_VARIABLE err
  OUTPUT_VARIABLE out)
file(READ ${EXPECTED} want)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "expected exit status 1, got '${rc}'; stderr:\n${err}")
endif()
if(NOT err STREQUAL want)
  message(FATAL_ERROR "stderr differs.\n--- expected:\n${want}--- got:\n${err}")
endif()
file(GLOB_RECURSE left ${WORK}/*)
if(left OR EXISTS ${WORK})
  message(FATAL_ERROR "a failed run left output behind: ${left}")
endif()
message(STATUS "rejected as expected:\n${err}")
