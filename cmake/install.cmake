# cmake --install: the public header (ember.h only; include/ember/ is the library's own C++), the
# shared library with its SONAME links, the static library, the CMake package (ember::ember, the
# shared library; ember::ember_static, with its private link dependencies recorded), a pkg-config
# file (Libs.private for static linking), and the tools.
include(CMakePackageConfigHelpers)
set(EMBER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ember)

install(FILES include/ember.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)

set_target_properties(ember PROPERTIES EXPORT_NAME ember_static)
install(TARGETS ember EXPORT ember-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
if(TARGET ember_shared)
  set_target_properties(ember_shared PROPERTIES EXPORT_NAME ember)
  install(TARGETS ember_shared EXPORT ember-targets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev)
endif()
install(EXPORT ember-targets NAMESPACE ember:: DESTINATION ${EMBER_CMAKE_DIR} COMPONENT dev)

configure_package_config_file(cmake/emberConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/emberConfig.cmake
                              INSTALL_DESTINATION ${EMBER_CMAKE_DIR})
# 0.x: a minor version may remove things (the SONAME says which ABI a library keeps).
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/emberConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/emberConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/emberConfigVersion.cmake
        DESTINATION ${EMBER_CMAKE_DIR} COMPONENT dev)

# pkg-config: relocatable (${pcfiledir}), so a tree unpacked anywhere (dpkg -x) works as installed.
file(RELATIVE_PATH EMBER_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" EMBER_PC_TO_PREFIX "${EMBER_PC_TO_PREFIX}")
list(TRANSFORM EMBER_STATIC_LIBS PREPEND "-l" OUTPUT_VARIABLE EMBER_PC_LIBS_PRIVATE)
list(JOIN EMBER_PC_LIBS_PRIVATE " " EMBER_PC_LIBS_PRIVATE)
configure_file(cmake/ember.pc.in ${CMAKE_CURRENT_BINARY_DIR}/ember.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ember.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# The tools link the static library: they need nothing of Ember's at run time.
set(EMBER_TOOLS ember-chat ember-generate ember-server ember-quantize ember-convert ember-gguf ember-tokenize
                ember-template ember-selfcheck)
foreach(tool ${EMBER_TOOLS})
  if(TARGET ${tool})
    install(TARGETS ${tool} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
  endif()
endforeach()
install(FILES LICENSE NOTICE DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)
