# Runs an example and compares its standard output with an expected file.
#
#   cmake -DEXE=<program> [-DARGS="a;b"] -DEXPECTED=<expected.txt> -P check_output.cmake
#
# The program must exit with status 0 and print exactly as many lines as the
# expected file has, each equal to the expected line, except:
#   - an expected line starting with "re:" is a regular expression that the
#     whole output line must match (for numbers that vary, like rates);
#   - an expected line "..." matches any number of output lines (zero or
#     more), up to the next expected line;
#   - lines starting with "#" in the expected file are comments.

if(NOT EXE OR NOT EXPECTED)
  message(FATAL_ERROR "usage: cmake -DEXE=... -DEXPECTED=... -P check_output.cmake")
endif()

execute_process(COMMAND ${EXE} ${ARGS}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} exited with '${rc}'\n--- stdout:\n${out}--- stderr:\n${err}")
endif()

# CMake lists split on ';' and treat brackets specially: hide them (and
# backslashes) while the text is a list. Functions, not macros, so that the
# text is never re-evaluated as CMake code.
function(_lines out_var text)
  string(REPLACE "\\" "<bs>" t "${text}")
  string(REPLACE ";" "<semi>" t "${t}")
  string(REPLACE "[" "<lb>" t "${t}")
  string(REPLACE "]" "<rb>" t "${t}")
  string(REGEX REPLACE "\n$" "" t "${t}")
  string(REPLACE "\n" ";" t "${t}")
  set(${out_var} "${t}" PARENT_SCOPE)
endfunction()
function(_unhide var)
  set(t "${${var}}")
  string(REPLACE "<semi>" ";" t "${t}")
  string(REPLACE "<lb>" "[" t "${t}")
  string(REPLACE "<rb>" "]" t "${t}")
  string(REPLACE "<bs>" "\\" t "${t}")
  set(${var} "${t}" PARENT_SCOPE)
endfunction()

file(READ ${EXPECTED} want_text)
_lines(want_all "${want_text}")
set(want "")
foreach(line IN LISTS want_all)
  if(NOT line MATCHES "^#")
    list(APPEND want "${line}")
  endif()
endforeach()
_lines(got "${out}")

list(LENGTH want nwant)
list(LENGTH got ngot)
set(i 0) # index in want
set(j 0) # index in got
set(skipping FALSE)
set(failure "")
while(i LESS nwant)
  list(GET want ${i} w)
  _unhide(w)
  if(w STREQUAL "...")
    set(skipping TRUE)
    math(EXPR i "${i} + 1")
    continue()
  endif()
  if(j GREATER_EQUAL ngot)
    set(failure "output ended; expected line ${i}: '${w}'")
    break()
  endif()
  list(GET got ${j} g)
  _unhide(g)
  set(ok FALSE)
  if(w MATCHES "^re:(.*)$")
    set(re "^${CMAKE_MATCH_1}$")
    if(g MATCHES "${re}")
      set(ok TRUE)
    endif()
  elseif(g STREQUAL w)
    set(ok TRUE)
  endif()
  if(ok)
    set(skipping FALSE)
    math(EXPR i "${i} + 1")
  elseif(NOT skipping)
    math(EXPR line "${j} + 1")
    set(failure "output line ${line}:\n  got:      '${g}'\n  expected: '${w}'")
    break()
  endif()
  math(EXPR j "${j} + 1")
endwhile()
if(NOT failure AND j LESS ngot AND NOT skipping)
  list(GET got ${j} g)
  _unhide(g)
  math(EXPR line "${j} + 1")
  set(failure "unexpected extra output from line ${line}: '${g}'")
endif()

if(failure)
  message(FATAL_ERROR "${failure}\n--- full stdout:\n${out}--- stderr:\n${err}")
endif()
message(STATUS "${ngot} output lines match ${EXPECTED}")
