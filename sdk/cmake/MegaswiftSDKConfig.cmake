# find_package(MegaswiftSDK) for plugin authors: gives MegaswiftSDK::sdk (headers only; a plugin links
# no host library) and megaswift_add_plugin().
include(${CMAKE_CURRENT_LIST_DIR}/MegaswiftSDKTargets.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/MegaswiftPlugin.cmake)
