# megaswift_add_plugin(<name> KIND <kind> SOURCES <files...> [LIBS <libs...>]
#                      [OUTPUT_DIRECTORY <dir>] [INSTALL_DESTINATION <dir>] [NO_INSTALL])
#
# Builds libmegaswift_<kind>_<name>.so as a MODULE library: hidden visibility, and a linker version
# script that exports only msw_plugin_entry, so two plugins can never clash on symbols. <kind> is the
# plugin's main kind (model, parallel, optimizer, tokenizer, template, checkpoint) and only names the
# file; a library may provide components of several kinds.
#
# NO_INSTALL and OUTPUT_DIRECTORY are for test plugins that must stay out of the real plugin folder.
# Inside the Megaswift tree the library lands in <build>/lib/megaswift/plugins and installs to
# lib/megaswift/plugins; out of tree it lands in the caller's build directory and installs to
# ${CMAKE_INSTALL_PREFIX}/lib/megaswift/plugins unless INSTALL_DESTINATION says otherwise.


function(megaswift_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "KIND;INSTALL_DESTINATION;OUTPUT_DIRECTORY" "SOURCES;LIBS" ${ARGN})
  set(kinds model parallel optimizer tokenizer template checkpoint)
  if(NOT ARG_KIND IN_LIST kinds)
    message(FATAL_ERROR "megaswift_add_plugin(${name}): KIND must be one of ${kinds}, got '${ARG_KIND}'")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "megaswift_add_plugin(${name}): SOURCES is empty")
  endif()
  set(_MSW_PLUGIN_EXPORT_MAP ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/plugin_exports.map)
  set(target megaswift_${ARG_KIND}_${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE MegaswiftSDK::sdk ${ARG_LIBS})
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME megaswift_${ARG_KIND}_${name}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    CUDA_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    # Plugins live in lib/megaswift/plugins; libraries bundled with Megaswift are in lib/.
    INSTALL_RPATH "$ORIGIN:$ORIGIN/../..")
  target_link_options(${target} PRIVATE "LINKER:--version-script=${_MSW_PLUGIN_EXPORT_MAP}" "LINKER:--no-undefined")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${_MSW_PLUGIN_EXPORT_MAP})

  if(NOT ARG_INSTALL_DESTINATION)
    set(ARG_INSTALL_DESTINATION lib/megaswift/plugins)
  endif()
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  elseif(DEFINED MSW_PLUGIN_BUILD_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${MSW_PLUGIN_BUILD_DIR})
  endif()
  if(NOT ARG_NO_INSTALL)
    set_property(GLOBAL APPEND PROPERTY MEGASWIFT_PLUGIN_TARGETS ${target})
    install(TARGETS ${target} LIBRARY DESTINATION ${ARG_INSTALL_DESTINATION} COMPONENT plugins)
  endif()
endfunction()
