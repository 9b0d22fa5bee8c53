# Relocatable install tree and its TGZ package.
#
#   bin/megatron, bin/swift           RPATH $ORIGIN/../lib
#   lib/                              bundled third-party runtime libraries (Boost, spdlog, fmt, OpenBLAS, ...)
#   lib/libmegaswift_runtime.so       the host for embedding programs (RPATH $ORIGIN)
#   include/megaswift/runtime/, lib/cmake/MegaswiftRuntime/   its headers and CMake package
#   lib/megaswift/plugins/            first-party plugins (RPATH $ORIGIN:$ORIGIN/../..)
#   include/megaswift/, lib/cmake/MegaswiftSDK/   the SDK for out-of-tree plugins
#   share/megaswift/                  bundled datasets and examples
#
# Libraries every target machine has are not bundled: glibc, libstdc++/libgcc_s, and the CUDA driver and
# toolkit libraries (a GPU box has its own, matching its driver).
get_property(msw_plugin_targets GLOBAL PROPERTY MEGASWIFT_PLUGIN_TARGETS)
set(msw_bundle_modules "")
foreach(t IN LISTS msw_plugin_targets)
  list(APPEND msw_bundle_modules "$<TARGET_FILE:${t}>")
endforeach()

# The list of files to scan needs generator expressions (install(CODE)); the scan itself lives in a
# script file so its regular expressions need no second level of escaping.
install(CODE "
  set(msw_executables \"$<TARGET_FILE:megatron>;$<TARGET_FILE:swift>\")
  set(msw_modules \"${msw_bundle_modules}\")
  set(msw_libraries \"$<TARGET_FILE:megaswift_runtime>\")
" COMPONENT runtime)
install(SCRIPT ${CMAKE_CURRENT_LIST_DIR}/MegaswiftBundleRuntime.cmake COMPONENT runtime)

set(CPACK_GENERATOR TGZ)
set(CPACK_PACKAGE_NAME megaswift)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_FILE_NAME megaswift-${PROJECT_VERSION}-linux-x86_64)
set(CPACK_INCLUDE_TOPLEVEL_DIRECTORY ON)
include(CPack)
