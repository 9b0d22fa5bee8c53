# Sanitizer and fuzzer builds (clang only): a separate build directory, never the release one.
#   -DMEGASWIFT_SANITIZE=ON  every target with ASan + UBSan (UB aborts: -fno-sanitize-recover)
#   -DMEGASWIFT_FUZZERS=ON   additionally the libFuzzer targets of fuzz/ (implies MEGASWIFT_SANITIZE)
option(MEGASWIFT_SANITIZE "Build every target with AddressSanitizer and UndefinedBehaviorSanitizer (clang)" OFF)
option(MEGASWIFT_FUZZERS "Build the libFuzzer targets of fuzz/ (clang; implies MEGASWIFT_SANITIZE)" OFF)
if(MEGASWIFT_FUZZERS)
  set(MEGASWIFT_SANITIZE ON CACHE BOOL "" FORCE)
endif()
if(NOT MEGASWIFT_SANITIZE)
  return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "MEGASWIFT_SANITIZE needs clang (libFuzzer and the shared sanitizer runtime): configure with "
                      "-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ (Debian package 'clang').")
endif()

set(MSW_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
# File and line in every report, at a fraction of the compile time and size of full -g. -O1 (after the build
# type's -O3, so it wins) is the usual sanitizer level: about half the compile time of -O3, and the CI stage
# that builds this tree has minutes, not hours.
list(APPEND MSW_SANITIZER_FLAGS -gline-tables-only)
add_compile_options($<$<COMPILE_LANGUAGE:C,CXX>:-O1>)
# Plugins are MODULE libraries linked with --no-undefined; the static runtime goes into executables only, so
# a plugin's __asan_* references would stay undefined. The shared runtime resolves them in every library, and
# one runtime serves the executable and every dlopen'ed plugin.
list(APPEND MSW_SANITIZER_FLAGS -shared-libsan)
if(MEGASWIFT_FUZZERS)
  # Coverage everywhere (plugins included, libFuzzer picks up a dlopen'ed module's counters); the libFuzzer
  # driver itself is linked into the fuzz targets only (fuzz/CMakeLists.txt).
  list(APPEND MSW_SANITIZER_FLAGS -fsanitize=fuzzer-no-link)
endif()
add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:${MSW_SANITIZER_FLAGS}>")
add_link_options("$<$<LINK_LANGUAGE:C,CXX>:${MSW_SANITIZER_FLAGS}>")

# The shared runtime is not on the loader's default path: every binary carries its directory.
execute_process(COMMAND ${CMAKE_CXX_COMPILER} --print-runtime-dir OUTPUT_VARIABLE MSW_SANITIZER_RUNTIME_DIR
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT EXISTS "${MSW_SANITIZER_RUNTIME_DIR}")
  message(FATAL_ERROR "MEGASWIFT_SANITIZE: ${CMAKE_CXX_COMPILER} --print-runtime-dir gave '${MSW_SANITIZER_RUNTIME_DIR}', "
                      "which does not exist (install the Debian package 'libclang-rt-dev').")
endif()
add_link_options("LINKER:-rpath,${MSW_SANITIZER_RUNTIME_DIR}")
message(STATUS "Megaswift: ASan+UBSan build, runtime from ${MSW_SANITIZER_RUNTIME_DIR}")
