# Relocatable install tree and its TGZ package.
#
#   bin/megatron, bin/swift           RPATH $ORIGIN/../lib
#   lib/                              bundled third-party runtime libraries (Boost, spdlog, fmt, OpenBLAS, ...)
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

set(MSW_SYSTEM_LIBRARY_REGEXES
  [[^ld-linux]] [[^libc\.so]] [[^libm\.so]] [[^libdl\.so]] [[^librt\.so]] [[^libpthread\.so]]
  [[^libstdc\+\+\.so]] [[^libgcc_s\.so]] [[^libcuda\.so]] [[^libcudart\.so]] [[^libcublas]] [[^libcublasLt]]
  [[^libcudnn]] [[^libnccl\.so]] [[^libnvrtc]] [[^libnvJitLink]] [[^libcufft]] [[^libcurand]] [[^libcusparse]]
  [[^libcusolver]] [[^linux-vdso]])

install(CODE "
  set(msw_executables \"$<TARGET_FILE:megatron>;$<TARGET_FILE:swift>\")
  set(msw_modules \"${msw_bundle_modules}\")
  file(GET_RUNTIME_DEPENDENCIES
    EXECUTABLES \${msw_executables}
    MODULES \${msw_modules}
    RESOLVED_DEPENDENCIES_VAR msw_resolved
    UNRESOLVED_DEPENDENCIES_VAR msw_unresolved
    PRE_EXCLUDE_REGEXES ${MSW_SYSTEM_LIBRARY_REGEXES}
    POST_EXCLUDE_REGEXES [[^/usr/local/cuda]] [[/libcuda\\.so]])
  if(msw_unresolved)
    message(FATAL_ERROR \"install: unresolved runtime libraries: \${msw_unresolved}\")
  endif()
  foreach(lib IN LISTS msw_resolved)
    file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib\" TYPE SHARED_LIBRARY FOLLOW_SYMLINK_CHAIN FILES \"\${lib}\")
  endforeach()
  list(LENGTH msw_resolved msw_count)
  message(STATUS \"Bundled \${msw_count} runtime libraries into \${CMAKE_INSTALL_PREFIX}/lib\")
" COMPONENT runtime)

set(CPACK_GENERATOR TGZ)
set(CPACK_PACKAGE_NAME megaswift)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_FILE_NAME megaswift-${PROJECT_VERSION}-linux-x86_64)
set(CPACK_INCLUDE_TOPLEVEL_DIRECTORY ON)
include(CPack)
