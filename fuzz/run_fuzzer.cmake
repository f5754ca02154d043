# Runs one libFuzzer target for SECONDS on a copy of its checked-in corpus
# (new inputs go to WORK/corpus, crashes to WORK/), and fails on any finding.
#   cmake -DFUZZER=... -DCORPUS=... -DDICT=... -DWORK=... -DSECONDS=20 -P run_fuzzer.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus)
# A fixed seed: the short CI runs explore the same inputs every time, so a
# red CI means a regression, not a new random find (scripts/fuzz.sh runs
# long with random seeds to find new ones).
set(args ${WORK}/corpus ${CORPUS} -max_total_time=${SECONDS} -seed=1
  -print_final_stats=1 -timeout=25 -rss_limit_mb=4096
  -artifact_prefix=${WORK}/)
if(EXISTS ${DICT})
  list(APPEND args -dict=${DICT})
endif()
set(ENV{ASAN_OPTIONS} "detect_leaks=1:abort_on_error=1:symbolize=1")
set(ENV{LSAN_OPTIONS} "suppressions=${CMAKE_CURRENT_LIST_DIR}/lsan.supp")
set(ENV{UBSAN_OPTIONS} "print_stacktrace=1:halt_on_error=1")
execute_process(COMMAND ${FUZZER} ${args} INPUT_FILE /dev/null RESULT_VARIABLE rc
  OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" execs "${err}")
string(REGEX MATCH "[0-9]+$" execs "${execs}")
get_filename_component(name ${FUZZER} NAME)
file(GLOB findings ${WORK}/crash-* ${WORK}/leak-* ${WORK}/timeout-* ${WORK}/oom-*)
list(LENGTH findings nfind)
message("${name}: ${execs} executions in ${SECONDS} s, ${nfind} finding(s)")
if(NOT rc EQUAL 0 OR nfind GREATER 0)
  string(LENGTH "${err}" n)
  if(n GREATER 20000)
    math(EXPR from "${n} - 20000")
    string(SUBSTRING "${err}" ${from} 20000 err)
  endif()
  message("${err}")
  message(FATAL_ERROR "${name}: exit status ${rc}; findings: ${findings}")
endif()
