# SPDX-License-Identifier: MIT
# Cross-compile wirebolt for 64-bit Windows with Debian's mingw-w64 and run
# the resulting .exe files (try_run, ctest) under wine64.
#
#   scripts/build-libsodium-mingw.sh          # once: libsodium into .deps/mingw64
#   cmake -S . -B build-win -G Ninja \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake
#   ninja -C build-win && (cd build-win && ctest -L fast)
#
# WB_MINGW_PREFIX (cache variable, else environment variable, else
# <source>/.deps/mingw64) is where the cross-built libsodium lives; only its
# pkg-config files are visible to pkg-config, never the host's.
#
# Everything is linked statically (libgcc, libwinpthread if used, and
# libsodium, which the prefix holds only as libsodium.a), so a test .exe
# needs no DLL but the system ones and libwirebolt.dll.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(WB_MINGW_TRIPLE x86_64-w64-mingw32)
get_filename_component(WB_SOURCE_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

if(NOT DEFINED WB_MINGW_PREFIX)
  if(DEFINED ENV{WB_MINGW_PREFIX} AND NOT "$ENV{WB_MINGW_PREFIX}" STREQUAL "")
    set(_wb_prefix "$ENV{WB_MINGW_PREFIX}")
  else()
    set(_wb_prefix "${WB_SOURCE_ROOT}/.deps/mingw64")
  endif()
  set(WB_MINGW_PREFIX "${_wb_prefix}" CACHE PATH
      "Prefix holding the mingw-w64 cross builds of wirebolt's dependencies")
endif()
# try_compile projects re-read this file: hand them the same prefix.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES WB_MINGW_PREFIX)

set(CMAKE_C_COMPILER ${WB_MINGW_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${WB_MINGW_TRIPLE}-g++)
set(CMAKE_RC_COMPILER ${WB_MINGW_TRIPLE}-windres)

# Headers, libraries and packages come from the mingw sysroot and the
# dependency prefix only; programs (pkg-config, wine) from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${WB_MINGW_TRIPLE} "${WB_MINGW_PREFIX}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The host pkg-config, but looking only at the cross prefix.
set(ENV{PKG_CONFIG_LIBDIR} "${WB_MINGW_PREFIX}/lib/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
unset(ENV{PKG_CONFIG_SYSROOT_DIR})

# No runtime DLLs from the toolchain: -static makes gcc pick libgcc.a and
# libwinpthread.a; Windows' own import libraries are unaffected.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc -Wl,-Bstatic")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static-libgcc -Wl,-Bstatic")

# ctest and try_run start .exe files through wine, in a prefix of this build.
set(CMAKE_CROSSCOMPILING_EMULATOR
    "${WB_SOURCE_ROOT}/scripts/wine-run.sh;--prefix;${CMAKE_BINARY_DIR}/wineprefix")
