# msw_add_test(<name> SOURCES <files...> [LIBS <targets...>] [LABELS <labels...>] [WORKING_DIRECTORY <dir>]
#              [PROPERTIES <ctest property value ...>])
#
# Builds one doctest executable and registers each of its TEST_CASEs as its own CTest test, so the
# CTest name is the behaviour the case pins down. Labels let CI pick groups (ctest -L abi).
include(${doctest_DIR}/doctest.cmake)

function(msw_add_test name)
  cmake_parse_arguments(ARG "" "WORKING_DIRECTORY" "SOURCES;LIBS;LABELS;PROPERTIES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE msw_doctest_main ${ARG_LIBS})
  # tests/support/test_paths.hpp reads these.
  target_compile_definitions(${name} PRIVATE MSW_TEST_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                             MSW_TEST_BINARY_DIR="${CMAKE_BINARY_DIR}")
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  if(NOT ARG_WORKING_DIRECTORY)
    set(ARG_WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
  endif()
  # doctest_discover_tests splits list-valued properties into separate arguments, so a test carries
  # one label: the first one given.
  list(LENGTH ARG_LABELS label_count)
  if(label_count GREATER 1)
    list(GET ARG_LABELS 0 ARG_LABELS)
  endif()
  doctest_discover_tests(${name}
    WORKING_DIRECTORY ${ARG_WORKING_DIRECTORY}
    TEST_PREFIX "${name}: "
    PROPERTIES LABELS "${ARG_LABELS}"
               # One variable only: doctest_discover_tests splits a list value into separate properties.
               ENVIRONMENT "MEGASWIFT_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
               ${ARG_PROPERTIES})
endfunction()
