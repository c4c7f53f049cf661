# Cross-compiling for 64-bit ARM Linux (cars, appliances, phones) with Debian's
# g++-aarch64-linux-gnu. Header-only dependencies (Eigen, xsimd) come from the host's /usr/include;
# oneDNN, GoogleTest and Google Benchmark are left out. scripts/test.sh builds ember-selfcheck this
# way and runs it under qemu-aarch64 to check the NEON kernels against the scalar references.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
# xsimd is header-only, but Debian installs its CMake package under the host's multiarch folder.
file(GLOB _ember_xsimd_dirs /usr/lib/*/cmake/xsimd /usr/share/cmake/xsimd)
if(_ember_xsimd_dirs)
  list(GET _ember_xsimd_dirs 0 xsimd_DIR)
endif()
# Run test binaries (test discovery, ctest) under user-mode emulation when it is installed.
find_program(EMBER_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(EMBER_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${EMBER_QEMU_AARCH64})
endif()
# Libraries with code (PCRE2) come from Debian's arm64 multiarch packages (libpcre2-dev:arm64).
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
# Binaries are linked statically (qemu then needs no arm64 loader): prefer static archives.
set(EMBER_PREFER_STATIC_LIBS ON CACHE BOOL "")
