# See CMakeLists.txt. Every step's output is shown on failure.
function(step name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
    ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name} failed (${rc}):\n${out}")
  endif()
  message(STATUS "${name}: ok")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK}/prefix)
file(REMOVE_RECURSE ${WORK})
step("configure Backstage" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK}/build
  -G ${GENERATOR} -DCMAKE_C_COMPILER=${C_COMPILER}
  -DCMAKE_INSTALL_PREFIX=${prefix} -DCMAKE_BUILD_TYPE=Release
  -DBACKSTAGE_BUILD_TESTS=OFF -DBACKSTAGE_BUILD_EXAMPLES=OFF)
step("build Backstage" ${CMAKE_COMMAND} --build ${WORK}/build -j 2)
step("install Backstage" ${CMAKE_COMMAND} --install ${WORK}/build)

# The consumer's actors live in a copy, so the test can edit one.
file(COPY ${CONSUMER_DIR}/ DESTINATION ${WORK}/consumer)
step("configure consumer" ${CMAKE_COMMAND} -S ${WORK}/consumer
  -B ${WORK}/consumer-build -G ${GENERATOR} -DCMAKE_C_COMPILER=${C_COMPILER}
  -DCMAKE_PREFIX_PATH=${prefix})
step("build consumer" ${CMAKE_COMMAND} --build ${WORK}/consumer-build)
step("run consumer" ${WORK}/consumer-build/consumer)
if(NOT step_output MATCHES "Hello, World! Hello, CMake! \ncount=2 total=60 last=CMake\n")
  message(FATAL_ERROR "unexpected consumer output:\n${step_output}")
endif()

# Editing a scanned header regenerates its proxies on the next build.
file(APPEND ${WORK}/consumer/actors/counter.h
  "\nuint32_t Counter_twice(Counter *self);\n")
file(APPEND ${WORK}/consumer/actors/counter.c
  "\nuint32_t Counter_twice(Counter *self) { return 2 * self->count; }\n")
step("rebuild consumer" ${CMAKE_COMMAND} --build ${WORK}/consumer-build)
file(GLOB_RECURSE gen_h ${WORK}/consumer-build/*/counter.bs.h)
file(READ "${gen_h}" text)
if(NOT text MATCHES "CounterProxy_twice_await")
  message(FATAL_ERROR "counter.bs.h was not regenerated after the edit")
endif()
message(STATUS "consumer output:\n${step_output}")
