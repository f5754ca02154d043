# Compile test: every generated .bs.c in DIR compiles cleanly with the
# strictest warnings as errors, in the C standard STD.
#   cmake -DCC=... -DSTD=c11 -DDIR=<generated> -DINCLUDES="a;b" -P compile.cmake
file(GLOB_RECURSE sources ${DIR}/*.bs.c)
if(NOT sources)
  message(FATAL_ERROR "no generated sources in ${DIR}")
endif()
set(flags -std=${STD} -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
  -Wmissing-prototypes -Wconversion -Wno-sign-conversion -Werror -fsyntax-only
  -I${DIR})
foreach(inc IN LISTS INCLUDES)
  list(APPEND flags -I${inc})
endforeach()
foreach(src IN LISTS sources)
  execute_process(COMMAND ${CC} ${flags} ${src} RESULT_VARIABLE rc
    ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${src} does not compile with ${STD}:\n${err}")
  endif()
  message(STATUS "${STD}: ${src} ok")
endforeach()
