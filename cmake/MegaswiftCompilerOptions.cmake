# Project-wide compiler settings: C++20 for the project (the SDK headers stay C++17/C11 clean,
# which tests/abi checks), warnings on, ccache when present.
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_C_STANDARD 11)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

find_program(MSW_CCACHE ccache)
if(MSW_CCACHE)
  set(CMAKE_C_COMPILER_LAUNCHER ${MSW_CCACHE})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${MSW_CCACHE})
  set(CMAKE_CUDA_COMPILER_LAUNCHER ${MSW_CCACHE})
endif()

add_compile_options($<$<COMPILE_LANGUAGE:C,CXX>:-Wall> $<$<COMPILE_LANGUAGE:C,CXX>:-Wextra>)
# GCC 12 reports -Wrestrict inside libstdc++ for `"text" + std::string` at -O2 (GCC bug 105329, fixed in 13):
# a false positive in every file that builds a message that way, so it is off for that compiler only.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
endif()

# Build tree mirrors the install tree, so <exe>/../lib/megaswift/plugins works in both.
set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
set(CMAKE_LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)
set(MSW_PLUGIN_BUILD_DIR ${CMAKE_BINARY_DIR}/lib/megaswift/plugins)

# Relocatable install: executables find bundled libraries next to them, plugins two levels up.
include(GNUInstallDirs)
set(CMAKE_INSTALL_LIBDIR lib)
set(CMAKE_INSTALL_RPATH "$ORIGIN/../lib")
set(CMAKE_BUILD_RPATH_USE_ORIGIN ON)
# DT_RPATH rather than DT_RUNPATH: it also applies to the dependencies of bundled libraries (OpenBLAS's
# libgfortran, say), so the whole install tree resolves from lib/ without LD_LIBRARY_PATH.
add_link_options(LINKER:--disable-new-dtags)
