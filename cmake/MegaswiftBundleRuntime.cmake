# Install-time script: copies the third-party shared libraries that the executables, plugins and the runtime
# library need into <prefix>/lib, except those every target machine has (glibc, libstdc++/libgcc_s, the CUDA
# driver and toolkit libraries). Expects msw_executables, msw_modules and msw_libraries (set by
# MegaswiftPackaging.cmake).
file(GET_RUNTIME_DEPENDENCIES
  EXECUTABLES ${msw_executables}
  MODULES ${msw_modules}
  LIBRARIES ${msw_libraries}
  RESOLVED_DEPENDENCIES_VAR msw_resolved
  UNRESOLVED_DEPENDENCIES_VAR msw_unresolved
  PRE_EXCLUDE_REGEXES
    [[^ld-linux]] [[^linux-vdso]] [[^libc\.so]] [[^libm\.so]] [[^libdl\.so]] [[^librt\.so]] [[^libpthread\.so]]
    [[^libstdc\+\+\.so]] [[^libgcc_s\.so]]
    [[^libcuda\.so]] [[^libcudart\.so]] [[^libcublas]] [[^libcudnn]] [[^libnccl\.so]] [[^libnvrtc]]
    [[^libnvJitLink]] [[^libcufft]] [[^libcurand]] [[^libcusparse]] [[^libcusolver]]
  POST_EXCLUDE_REGEXES [[^/usr/local/cuda]])
if(msw_unresolved)
  message(FATAL_ERROR "install: unresolved runtime libraries: ${msw_unresolved}")
endif()
foreach(lib IN LISTS msw_resolved)
  file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib" TYPE SHARED_LIBRARY FOLLOW_SYMLINK_CHAIN FILES "${lib}")
endforeach()
list(LENGTH msw_resolved msw_count)
message(STATUS "Bundled ${msw_count} runtime libraries into ${CMAKE_INSTALL_PREFIX}/lib")
