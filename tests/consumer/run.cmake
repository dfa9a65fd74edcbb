# ctest driver: install xgrad into a scratch prefix, then build tests/consumer against it twice, as
# users outside the tree would: with CMake's find_package(xgrad), and with one compiler line that
# takes its flags from the installed xgrad.pc. Each program must print the known gradient.
#
# Arguments (-D...=):
#   SOURCE_DIR    tests/consumer
#   WORK_DIR      scratch folder, emptied first except for PROJECT_DIR's build, which a rerun
#                 only brings up to date
#   CXX           the compiler the library was built with, used for both consumer builds
#   EXTRA_FLAGS   compile and link flags for the consumers (the sanitizer flags in a sanitizer build)
#   PKG_CONFIG    the pkg-config program
#   LIBRARY_KIND  STATIC or SHARED: the kind of libxgrad the prefix must hold
#   BUILD_DIR     an xgrad build tree to install ...
#   PROJECT_DIR   ... or xgrad's source tree, configured (with PROJECT_ARGS) and built here first
#   PROJECT_ARGS  extra configure arguments for PROJECT_DIR, separated by spaces
file(REMOVE_RECURSE ${WORK_DIR}/prefix ${WORK_DIR}/build ${WORK_DIR}/pkg-config-consumer)
function(run_step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "step failed: ${ARGN}\n${out}")
  endif()
endfunction()

# What main.cpp prints: BCE-with-logits at logit 0 is ln 2, and d loss / d w[1] is (1/2 - 1) * 2.
set(expected_output "loss 0\\.693147, dw\\[1\\] -1\\.000000 ")
function(check_consumer label)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message(STATUS "${label}: ${out}")
  if(NOT status EQUAL 0 OR NOT out MATCHES "${expected_output}")
    message(FATAL_ERROR "${label}: exit status ${status}, expected output matching \"${expected_output}\"")
  endif()
endfunction()

if(PROJECT_DIR)
  separate_arguments(project_args UNIX_COMMAND "${PROJECT_ARGS}")
  run_step(${CMAKE_COMMAND} -S ${PROJECT_DIR} -B ${WORK_DIR}/xgrad -DCMAKE_BUILD_TYPE=Release
           -DCMAKE_CXX_COMPILER=${CXX} ${project_args})
  run_step(${CMAKE_COMMAND} --build ${WORK_DIR}/xgrad --parallel 2)
  set(BUILD_DIR ${WORK_DIR}/xgrad)
endif()
set(prefix ${WORK_DIR}/prefix)
run_step(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# The installed library is the kind asked for, and only that kind.
file(GLOB_RECURSE static_libs ${prefix}/libxgrad.a)
file(GLOB_RECURSE shared_libs ${prefix}/libxgrad.so)
file(GLOB_RECURSE pc_files ${prefix}/xgrad.pc)
if(LIBRARY_KIND STREQUAL "SHARED")
  set(found_libs ${shared_libs})
  set(other_libs ${static_libs})
else()
  set(found_libs ${static_libs})
  set(other_libs ${shared_libs})
endif()
list(LENGTH found_libs found_count)
list(LENGTH pc_files pc_count)
if(NOT found_count EQUAL 1 OR other_libs OR NOT pc_count EQUAL 1)
  message(FATAL_ERROR "expected one ${LIBRARY_KIND} libxgrad and one xgrad.pc in ${prefix}; found "
                      "static: ${static_libs}; shared: ${shared_libs}; pkg-config: ${pc_files}")
endif()
get_filename_component(libdir ${found_libs} DIRECTORY)
get_filename_component(pc_dir ${pc_files} DIRECTORY)

# find_package(xgrad)
run_step(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -DCMAKE_PREFIX_PATH=${prefix}
         -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX}
         "-DCMAKE_CXX_FLAGS=${EXTRA_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${EXTRA_FLAGS}")
run_step(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
check_consumer("find_package consumer" ${WORK_DIR}/build/consumer)

# c++ -std=c++17 main.cpp $(pkg-config --cflags --libs xgrad), the README's line
set(ENV{PKG_CONFIG_PATH} ${pc_dir})
execute_process(COMMAND ${PKG_CONFIG} --cflags --libs xgrad RESULT_VARIABLE status OUTPUT_VARIABLE pc_flags
                ERROR_VARIABLE pc_error OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "pkg-config --cflags --libs xgrad failed:\n${pc_error}")
endif()
message(STATUS "pkg-config --cflags --libs xgrad: ${pc_flags}")
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
separate_arguments(extra_flags UNIX_COMMAND "${EXTRA_FLAGS}")
run_step(${CXX} -std=c++17 ${extra_flags} ${SOURCE_DIR}/main.cpp -o ${WORK_DIR}/pkg-config-consumer ${pc_flags})
# A shared libxgrad in a scratch prefix is found the way a user would point to one.
if("$ENV{LD_LIBRARY_PATH}" STREQUAL "")
  set(ENV{LD_LIBRARY_PATH} "${libdir}")
else()
  set(ENV{LD_LIBRARY_PATH} "${libdir}:$ENV{LD_LIBRARY_PATH}")
endif()
check_consumer("pkg-config consumer" ${WORK_DIR}/pkg-config-consumer)
