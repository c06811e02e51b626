#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check-install.sh BUILD_DIR - install the build into a scratch prefix and
# build a consumer against it three ways: pkg-config (shared), pkg-config
# --static, and CMake find_package (shared and static). Runs each.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(find "$prefix" -name wirebolt.pc -printf '%h\n' | head -1)
export PKG_CONFIG_PATH=$libdir
cc -o "$prefix/consumer_pc" tests/install/consumer.c $(pkg-config --cflags --libs wirebolt) \
    -Wl,-rpath,"$libdir/.."
cc -o "$prefix/consumer_pc_static" tests/install/consumer.c \
    $(pkg-config --cflags wirebolt) "$libdir/../libwirebolt.a" $(pkg-config --static --libs wirebolt | sed "s/-lwirebolt//")
cmake -S tests/install -B "$prefix/cbuild" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/cbuild" >/dev/null
for exe in "$prefix/consumer_pc" "$prefix/consumer_pc_static" "$prefix/cbuild/consumer_cmake" \
           "$prefix/cbuild/consumer_cmake_static"; do
    LD_LIBRARY_PATH="$libdir/.." "$exe"
done
echo "install check: headers, wirebolt.pc and wireboltConfig.cmake usable"
