# backstage_generate_proxies(): run backstage-gen at build time.
#
#   backstage_generate_proxies(<target>
#     OUTPUT_DIR <dir>
#     [SOURCES <header>...]          # headers to scan
#     [DIRECTORIES <dir>...]         # scanned recursively for *.h
#     [FLAGS <flag>...])             # extra parser flags
#
# For every scanned header <name>.h the generator writes <name>.bs.h and
# <name>.bs.c under OUTPUT_DIR (mirroring subdirectories of DIRECTORIES).
# The .bs.c files are added to <target>, OUTPUT_DIR and the scanned roots to
# its include directories (PUBLIC), and the parser sees the target's own
# include directories, compile definitions and C standard, so headers parse
# exactly as they compile. A depfile makes the build regenerate when any
# header the parser read changes; new headers in DIRECTORIES are picked up
# at the next configure (CONFIGURE_DEPENDS). The `gen-proxies` target
# regenerates on demand.
#
# Works in the Backstage tree (the backstage-gen target) and installed (the
# imported Backstage::backstage-gen, or a backstage-gen found on PATH).

include_guard(GLOBAL)

function(_backstage_gen_command out_var)
  if(TARGET backstage-gen)
    set(${out_var} backstage-gen PARENT_SCOPE)
  elseif(TARGET Backstage::backstage-gen)
    set(${out_var} Backstage::backstage-gen PARENT_SCOPE)
  else()
    find_program(BACKSTAGE_GEN_EXECUTABLE backstage-gen REQUIRED)
    set(${out_var} ${BACKSTAGE_GEN_EXECUTABLE} PARENT_SCOPE)
  endif()
endfunction()

# Appends to `outs` the .bs.h/.bs.c of `header`, whose path below its scan
# root is `rel`.
macro(_backstage_gen_outputs rel)
  string(REGEX REPLACE "\\.h$" "" _stem "${rel}")
  list(APPEND _outs "${_out_dir}/${_stem}.bs.h")
  list(APPEND _srcs "${_out_dir}/${_stem}.bs.c")
endmacro()

function(backstage_generate_proxies target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "OUTPUT_DIR" "SOURCES;DIRECTORIES;FLAGS")
  if(NOT TARGET ${target})
    message(FATAL_ERROR "backstage_generate_proxies: no target '${target}'")
  endif()
  if(NOT arg_OUTPUT_DIR OR (NOT arg_SOURCES AND NOT arg_DIRECTORIES))
    message(FATAL_ERROR "backstage_generate_proxies(${target} OUTPUT_DIR <dir> "
      "SOURCES <header>... | DIRECTORIES <dir>...)")
  endif()
  get_filename_component(_out_dir "${arg_OUTPUT_DIR}" ABSOLUTE
    BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")

  # The outputs mirror what the generator computes: a listed file by its
  # name, a directory's headers by their path below it.
  set(_inputs "")
  set(_outs "")
  set(_srcs "")
  set(_roots "")
  set(_deps "")
  foreach(src IN LISTS arg_SOURCES)
    get_filename_component(src "${src}" ABSOLUTE)
    get_filename_component(name "${src}" NAME)
    get_filename_component(dir "${src}" DIRECTORY)
    list(APPEND _inputs "${src}")
    list(APPEND _deps "${src}")
    list(APPEND _roots "${dir}")
    _backstage_gen_outputs("${name}")
  endforeach()
  foreach(dir IN LISTS arg_DIRECTORIES)
    get_filename_component(dir "${dir}" ABSOLUTE)
    list(APPEND _inputs "${dir}")
    list(APPEND _roots "${dir}")
    file(GLOB_RECURSE headers CONFIGURE_DEPENDS RELATIVE "${dir}" "${dir}/*.h")
    list(SORT headers)
    foreach(rel IN LISTS headers)
      if(rel MATCHES "\\.bs\\.h$" OR rel MATCHES "(^|/)\\.")
        continue()
      endif()
      if("${dir}/${rel}" MATCHES "^${_out_dir}/")
        continue()
      endif()
      list(APPEND _deps "${dir}/${rel}")
      _backstage_gen_outputs("${rel}")
    endforeach()
  endforeach()
  list(REMOVE_DUPLICATES _roots)

  # The parser sees what the compiler sees: include dirs and definitions
  # (transitively, from linked targets too) and the C standard.
  set(_incs "$<TARGET_PROPERTY:${target},INCLUDE_DIRECTORIES>")
  set(_defs "$<TARGET_PROPERTY:${target},COMPILE_DEFINITIONS>")
  set(_std "$<TARGET_PROPERTY:${target},C_STANDARD>")
  set(_flags
    "$<$<BOOL:${_incs}>:-I$<JOIN:${_incs},$<SEMICOLON>-I>>"
    "$<$<BOOL:${_defs}>:-D$<JOIN:${_defs},$<SEMICOLON>-D>>"
    "$<$<BOOL:${_std}>:-std=c${_std}>"
    ${arg_FLAGS})

  _backstage_gen_command(_gen)
  list(GET _outs 0 _first)
  set(_depfile "${_out_dir}/.backstage-gen.d")
  add_custom_command(
    OUTPUT ${_outs} ${_srcs}
    COMMAND ${_gen} --depfile "${_depfile}" --depfile-target "${_first}"
            "${_out_dir}" ${_inputs} -- ${_flags}
    DEPENDS ${_deps} ${_gen}
    DEPFILE "${_depfile}"
    COMMENT "backstage-gen: proxies for ${target}"
    COMMAND_EXPAND_LISTS VERBATIM)

  target_sources(${target} PRIVATE ${_srcs} ${_outs})
  foreach(dir IN LISTS _out_dir _roots)
    target_include_directories(${target} PUBLIC "$<BUILD_INTERFACE:${dir}>")
  endforeach()

  # gen-proxies: regenerate every target's proxies on demand.
  # One target may call this more than once (different OUTPUT_DIRs).
  string(MD5 _hash "${_out_dir}")
  string(SUBSTRING "${_hash}" 0 8 _hash)
  string(MAKE_C_IDENTIFIER "${target}_${_hash}" _id)
  add_custom_target(backstage_gen_${_id} DEPENDS ${_outs} ${_srcs})
  add_dependencies(${target} backstage_gen_${_id})
  if(NOT TARGET gen-proxies)
    add_custom_target(gen-proxies)
  endif()
  add_dependencies(gen-proxies backstage_gen_${_id})
endfunction()
