# SPDX-License-Identifier: MIT
# Cross-compile wirebolt for 64-bit Arm Linux with Debian's aarch64-linux-gnu
# gcc, and run the resulting programs (try_run, ctest) under qemu-aarch64.
#
#   scripts/lane-arm64.sh        # does all of this: packages, deps, build, tests
#   cmake -S . -B build-arm64 -G Ninja \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake
#   ninja -C build-arm64 && (cd build-arm64 && ctest -L fast)
#
# WB_ARM64_PREFIX (cache variable, else environment variable, else
# <source>/.deps/arm64) is where Debian's arm64 packages of the dependencies
# (libsodium, liburcu, libmnl, hwloc) are unpacked with `dpkg -x`: it holds
# usr/include and usr/lib/aarch64-linux-gnu. pkg-config sees only that
# prefix, never the host's packages. The C library and the program loader
# come from the cross toolchain's sysroot, /usr/aarch64-linux-gnu
# (libc6-dev-arm64-cross), which is also qemu's -L root.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(WB_ARM64_TRIPLE aarch64-linux-gnu)
set(WB_ARM64_SYSROOT /usr/${WB_ARM64_TRIPLE})
get_filename_component(WB_SOURCE_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

if(NOT DEFINED WB_ARM64_PREFIX)
  if(DEFINED ENV{WB_ARM64_PREFIX} AND NOT "$ENV{WB_ARM64_PREFIX}" STREQUAL "")
    set(_wb_prefix "$ENV{WB_ARM64_PREFIX}")
  else()
    set(_wb_prefix "${WB_SOURCE_ROOT}/.deps/arm64")
  endif()
  set(WB_ARM64_PREFIX "${_wb_prefix}" CACHE PATH
      "Root where Debian's arm64 packages of wirebolt's dependencies are unpacked")
endif()
# try_compile projects re-read this file: hand them the same prefix.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES WB_ARM64_PREFIX)

set(CMAKE_C_COMPILER ${WB_ARM64_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${WB_ARM64_TRIPLE}-g++)
set(CMAKE_ASM_COMPILER ${WB_ARM64_TRIPLE}-gcc)

# Headers and libraries from the cross sysroot and the dependency prefix
# only; programs (pkg-config, qemu) from the host.
set(CMAKE_FIND_ROOT_PATH ${WB_ARM64_SYSROOT} "${WB_ARM64_PREFIX}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The host pkg-config, reading the .pc files of the unpacked packages; their
# /usr paths are moved under the prefix by the sysroot variable.
set(ENV{PKG_CONFIG_LIBDIR}
    "${WB_ARM64_PREFIX}/usr/lib/${WB_ARM64_TRIPLE}/pkgconfig:${WB_ARM64_PREFIX}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${WB_ARM64_PREFIX}")

# The dependencies' shared libraries sit outside the loader's search path:
# linked by full path, they land in the build tree's RPATH. For their own
# DT_NEEDED entries (liburcu-qsbr -> liburcu-common) the linker needs
# -rpath-link.
set(_wb_libdir "${WB_ARM64_PREFIX}/usr/lib/${WB_ARM64_TRIPLE}")
# Debian's multiarch headers (hwloc's autogen/config.h, liburcu's config)
# live under include/<triple>, which the cross compiler does not search.
set(CMAKE_C_FLAGS_INIT "-isystem ${WB_ARM64_PREFIX}/usr/include/${WB_ARM64_TRIPLE}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_wb_libdir}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_wb_libdir}")

# ctest and try_run start programs through qemu with the cross sysroot as
# the root for the loader and libc.
set(CMAKE_CROSSCOMPILING_EMULATOR "qemu-aarch64;-L;${WB_ARM64_SYSROOT}")
