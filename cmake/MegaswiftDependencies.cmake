# Every third-party dependency is found here, once, with a message that names the Debian package to install.

function(msw_require_package pkg debian)
  find_package(${pkg} ${ARGN} QUIET)
  if(NOT ${pkg}_FOUND)
    message(FATAL_ERROR "Megaswift needs ${pkg}: install the Debian package '${debian}' "
                        "(scripts/install-deps.sh installs every dependency).")
  endif()
endfunction()

msw_require_package(Boost libboost-dev 1.74 COMPONENTS program_options filesystem)
msw_require_package(spdlog libspdlog-dev)
msw_require_package(nlohmann_json nlohmann-json3-dev)
msw_require_package(doctest doctest-dev)
find_package(Threads REQUIRED)

# Boost.DLL is header-only; it needs Boost.Filesystem and libdl at link time.
add_library(msw_boost_dll INTERFACE)
target_link_libraries(msw_boost_dll INTERFACE Boost::boost Boost::filesystem ${CMAKE_DL_LIBS})
target_compile_definitions(msw_boost_dll INTERFACE BOOST_DLL_USE_STD_FS=0)

find_package(PkgConfig REQUIRED)
pkg_check_modules(OPENBLAS IMPORTED_TARGET openblas)
pkg_check_modules(PCRE2 IMPORTED_TARGET libpcre2-8)
pkg_check_modules(UTF8PROC IMPORTED_TARGET libutf8proc)
# The loss-curve PNGs (host/report) are drawn with cairo. Optional, as CUDA is: a machine without it (the GPU image
# has none) still builds, and training there writes its TensorBoard files but refuses the PNGs with a message.
pkg_check_modules(CAIRO QUIET IMPORTED_TARGET cairo)
if(NOT CAIRO_FOUND)
  message(WARNING "Megaswift: cairo not found, so training writes no loss-curve PNGs: install the Debian package "
                  "'libcairo2-dev' (scripts/install-deps.sh installs every dependency).")
endif()
find_package(HDF5 COMPONENTS C QUIET)

# CUDA is optional: the CUDA parts build for Hopper (sm_90a) when nvcc is found.
option(MEGASWIFT_ENABLE_CUDA "Build the CUDA backend when a CUDA toolkit is found" ON)
set(MEGASWIFT_HAVE_CUDA OFF)
if(MEGASWIFT_ENABLE_CUDA)
  include(CheckLanguage)
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 90a)
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(MEGASWIFT_HAVE_CUDA ON)
    message(STATUS "Megaswift: CUDA ${CMAKE_CUDA_COMPILER_VERSION} found, building for sm_${CMAKE_CUDA_ARCHITECTURES}")
  else()
    message(STATUS "Megaswift: no CUDA compiler found, building the CPU backend only")
  endif()
endif()
