# ctest bench_quick: runs `backstage-bench --quick` and checks that it exits
# 0 and prints the line of every workload, through the engine and direct.
# Never looks at the figures.
execute_process(COMMAND ${EXE} --quick OUTPUT_VARIABLE out ERROR_VARIABLE err
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "backstage-bench --quick exited with ${rc}\n${out}\n${err}")
endif()
set(missing "")
foreach(w pingpong count spawn ring fanout reply await large large-blob)
  foreach(impl backstage direct)
    if(NOT out MATCHES "(^|\n)${w} impl=${impl} ns_per_op=[0-9.]+ ops=[0-9]+")
      list(APPEND missing "${w}/${impl}")
    endif()
  endforeach()
endforeach()
if(NOT out MATCHES "(^|\n)idle impl=backstage bytes_per_actor=[-0-9.]+")
  list(APPEND missing "idle/backstage")
endif()
if(missing)
  message(FATAL_ERROR "backstage-bench --quick did not print: ${missing}\n${out}\n${err}")
endif()
message(STATUS "backstage-bench --quick printed every workload")
