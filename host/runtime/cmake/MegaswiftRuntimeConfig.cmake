# find_package(MegaswiftRuntime) for programs that embed Megaswift: gives MegaswiftRuntime::runtime, the shared
# library lib/libmegaswift_runtime.so with the headers include/megaswift/runtime/*.hpp (C++17, standard library
# only). The library finds the plugins in lib/megaswift/plugins beside itself and its third-party libraries in
# lib/, so a program needs nothing else from the install tree.
include(${CMAKE_CURRENT_LIST_DIR}/MegaswiftRuntimeTargets.cmake)
