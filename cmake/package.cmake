# cpack -G DEB: three Debian packages from the install components.
#   libember2     the shared library (the C ABI; the package name follows the SONAME)
#   libember-dev  ember.h, libember.a, libember.so, the CMake package and ember.pc
#   ember-tools   ember-chat, ember-server, ember-generate, ember-quantize, ...
set(CPACK_PACKAGE_NAME ember)
set(CPACK_PACKAGE_VENDOR "the Ember developers")
set(CPACK_PACKAGE_CONTACT "the Ember developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Embeddable on-device LLM runtime with a stable C ABI")
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_CURRENT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL runtime dev tools)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends: from the binaries' own NEEDED entries
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libember2)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "Ember runtime library (libember.so.2)")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libember-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DEPENDS runtime)
set(CPACK_COMPONENT_DEV_DESCRIPTION "Ember development files: ember.h, libember.a, CMake and pkg-config files")
# libember.a's own dependencies, for static linking.
set(_ember_dev_depends "libpcre2-dev, libutf8proc-dev")
if(EMBER_WITH_ONEDNN)
  string(APPEND _ember_dev_depends ", libdnnl-dev")
endif()
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "${_ember_dev_depends}")

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME ember-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION utils)
set(CPACK_COMPONENT_TOOLS_DESCRIPTION "Ember command-line tools: chat, OpenAI-compatible server, generate, quantize")
include(CPack)
