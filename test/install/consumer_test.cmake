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
# Configured for the default prefix and installed elsewhere with --prefix,
# as the README says: the package must not remember where it was built for.
step("configure Backstage" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK}/build
  -G ${GENERATOR} -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_BUILD_TYPE=Release
  -DBACKSTAGE_BUILD_TESTS=OFF -DBACKSTAGE_BUILD_EXAMPLES=OFF
  -DBACKSTAGE_BUILD_BENCH=OFF)
step("build Backstage" ${CMAKE_COMMAND} --build ${WORK}/build -j 2)
step("install Backstage" ${CMAKE_COMMAND} --install ${WORK}/build
  --prefix ${prefix})

# The consumer's actors live in a copy, so the test can edit one.
file(COPY ${CONSUMER_DIR}/ DESTINATION ${WORK}/consumer)
step("configure consumer" ${CMAKE_COMMAND} -S ${WORK}/consumer
  -B ${WORK}/consumer-build -G ${GENERATOR} -DCMAKE_C_COMPILER=${C_COMPILER}
  -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_PREFIX_PATH=${prefix})
step("build consumer" ${CMAKE_COMMAND} --build ${WORK}/consumer-build)
step("run consumer" ${WORK}/consumer-build/consumer)
if(NOT step_output MATCHES "Hello, World! Hello, CMake! \ncount=2 total=60 last=CMake\n")
  message(FATAL_ERROR "unexpected consumer output:\n${step_output}")
endif()
step("run consumer_cxx" ${WORK}/consumer-build/consumer_cxx)
if(NOT step_output MATCHES "Hello, World! Hello, C\\+\\+! \ncount=2 total=60 last=C\\+\\+\n")
  message(FATAL_ERROR "unexpected consumer_cxx output:\n${step_output}")
endif()

# Editing a scanned header regenerates its proxies on the next build.
file(APPEND ${WORK}/consumer/actors/counter.h
  "\nuint32_t Counter_twice(Counter *self);\n")
file(APPEND ${WORK}/consumer/actors/counter.c
  "\nuint32_t Counter_twice(Counter *self) { return 2 * self->count; }\n")
step("rebuild consumer" ${CMAKE_COMMAND} --build ${WORK}/consumer-build)
file(READ ${WORK}/consumer-build/generated/counter.bs.h text)
if(NOT text MATCHES "CounterProxy_twice_await")
  message(FATAL_ERROR "counter.bs.h was not regenerated after the edit")
endif()
message(STATUS "consumer output:\n${step_output}")

# ---- pkg-config: a Makefile-style build with the installed generator -------
# From the pristine consumer sources: backstage-gen from the prefix, the C
# parts compiled with `pkg-config --cflags`, and main.cpp (main.c in C++17)
# with the C++ compiler, all linked with `pkg-config --libs`.
file(GLOB_RECURSE pc_file ${prefix}/*/backstage.pc)
if(NOT pc_file)
  message(FATAL_ERROR "no backstage.pc under ${prefix}")
endif()
get_filename_component(pc_dir ${pc_file} DIRECTORY)
set(ENV{PKG_CONFIG_PATH} ${pc_dir})
function(pkg_config out)
  step("pkg-config ${ARGN}" ${PKG_CONFIG} ${ARGN} backstage)
  string(STRIP "${step_output}" v)
  separate_arguments(v UNIX_COMMAND "${v}")
  set(${out} "${v}" PARENT_SCOPE)
endfunction()
pkg_config(pc_cflags --cflags)
pkg_config(pc_libs --libs)
pkg_config(pc_libdir --variable=libdir)
pkg_config(pc_include --variable=includedir)
if(NOT EXISTS ${pc_include}/backstage.h)
  message(FATAL_ERROR "pkg-config's includedir ${pc_include} has no backstage.h")
endif()
set(pc ${WORK}/pkgconfig)
step("backstage-gen (installed)" ${prefix}/bin/backstage-gen ${pc}/gen
  ${CONSUMER_DIR}/actors -- ${pc_cflags} -std=c11)
set(objects "")
foreach(src ${CONSUMER_DIR}/actors/counter.c ${pc}/gen/counter.bs.c)
  get_filename_component(name ${src} NAME)
  step("cc ${name}" ${C_COMPILER} -std=c11 -Wall -Wextra -Werror ${pc_cflags}
    -I${pc}/gen -I${CONSUMER_DIR}/actors -c ${src} -o ${pc}/${name}.o)
  list(APPEND objects ${pc}/${name}.o)
endforeach()
step("c++ main.cpp" ${CXX_COMPILER} -std=c++17 -Wall -Wextra -Wpedantic -Werror
  ${pc_cflags} -I${pc}/gen -I${CONSUMER_DIR}/actors -c
  ${CONSUMER_DIR}/main.cpp -o ${pc}/main.cpp.o)
step("link" ${CXX_COMPILER} ${pc}/main.cpp.o ${objects} ${pc_libs}
  -Wl,-rpath,${pc_libdir} -o ${pc}/consumer)
step("run pkg-config consumer" ${pc}/consumer)
if(NOT step_output MATCHES "Hello, World! Hello, C\\+\\+! \ncount=2 total=60 last=C\\+\\+\n")
  message(FATAL_ERROR "unexpected pkg-config consumer output:\n${step_output}")
endif()
message(STATUS "pkg-config consumer output:\n${step_output}")
