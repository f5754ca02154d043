# Error test: backstage-gen rejects HEADER with exactly the messages in
# EXPECTED (stderr, compared line by line), exits with 1, and writes nothing.
#   cmake -DGEN=... -DDIR=<errors dir> -DHEADER=<name.h> -DEXPECTED=<file>
#         -DWORK=<dir> -DINCLUDE=<include dir> [-DEXTRA=<another input>]
#         [-DSTATUS=0] -P error.cmake
# It runs in DIR with a relative HEADER, so messages name "name.h:L:C".
# STATUS=0 (warning tests): the header is accepted with exactly the
# warnings in EXPECTED (possibly none), its two files are written, and with
# -DCC=<compiler> the .bs.c compiles.
if(NOT DEFINED STATUS)
  set(STATUS 1)
endif()
file(REMOVE_RECURSE ${WORK})
set(inputs ${HEADER})
if(EXTRA)
  list(APPEND inputs ${EXTRA})
endif()
execute_process(COMMAND ${GEN} ${WORK} ${inputs} -- -I${INCLUDE}
  WORKING_DIRECTORY ${DIR} RESULT_VARIABLE rc ERROR_VARIABLE err
  OUTPUT_VARIABLE out)
file(READ ${EXPECTED} want)
if(NOT rc EQUAL STATUS)
  message(FATAL_ERROR "expected exit status ${STATUS}, got '${rc}'; stderr:\n${err}")
endif()
if(NOT err STREQUAL want)
  message(FATAL_ERROR "stderr differs.\n--- expected:\n${want}--- got:\n${err}")
endif()
if(STATUS EQUAL 0)
  get_filename_component(stem ${HEADER} NAME_WE)
  if(NOT EXISTS ${WORK}/${stem}.bs.h OR NOT EXISTS ${WORK}/${stem}.bs.c)
    message(FATAL_ERROR "accepted, but ${stem}.bs.h/.bs.c were not written")
  endif()
  if(CC)
    execute_process(COMMAND ${CC} -std=c11 -Wall -Wextra -Werror -fsyntax-only
      -I${WORK} -I${DIR} -I${INCLUDE} ${WORK}/${stem}.bs.c
      RESULT_VARIABLE crc ERROR_VARIABLE cerr)
    if(NOT crc EQUAL 0)
      message(FATAL_ERROR "${stem}.bs.c does not compile:\n${cerr}")
    endif()
  endif()
  message(STATUS "accepted as expected:\n${err}")
  return()
endif()
file(GLOB_RECURSE left ${WORK}/*)
if(left OR EXISTS ${WORK})
  message(FATAL_ERROR "a failed run left output behind: ${left}")
endif()
message(STATUS "rejected as expected:\n${err}")
