#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# lane-windows.sh - CI lane: cross-build wirebolt for Windows (mingw-w64)
# and run the core's fast unit tests under wine through ctest.
#
# Usage: scripts/lane-windows.sh
# Environment:
#   WB_WIN_BUILD_DIR  build directory       (default <repo>/build-win)
#   WB_MINGW_PREFIX   cross libsodium prefix (default <repo>/.deps/mingw64)
#   WB_TEST_TIMEOUT   per-test timeout, s    (default 300)
#   WB_JOBS           build/test parallelism (default nproc)
# Exits non-zero if any step or any test fails.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${WB_WIN_BUILD_DIR:-$ROOT/build-win}
export WB_MINGW_PREFIX=${WB_MINGW_PREFIX:-$ROOT/.deps/mingw64}
TIMEOUT=${WB_TEST_TIMEOUT:-300}
JOBS=${WB_JOBS:-$(nproc 2>/dev/null || echo 2)}
WINESERVER=/usr/lib/wine/wineserver
export WINEPREFIX=$BUILD/wineprefix
export WINEDEBUG=-all

T0=$(date +%s)
step() { echo "=== lane-windows: $* (+$(( $(date +%s) - T0 ))s)"; }
die() { echo "lane-windows: error: $*" >&2; exit 1; }

# --- packages ----------------------------------------------------------------
# autoconf/automake/libtool: Debian's libsodium source has no configure script.
PKGS=(gcc-mingw-w64-x86-64 wine64 wine dpkg-dev cmake ninja-build pkg-config
      make autoconf automake libtool)
missing=()
for p in "${PKGS[@]}"; do
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	step "installing ${missing[*]}"
	if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
	"${SUDO[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq \
		--no-install-recommends "${missing[@]}"
fi

# --- libsodium for mingw -------------------------------------------------------
step "libsodium (mingw) in $WB_MINGW_PREFIX"
bash "$ROOT/scripts/build-libsodium-mingw.sh" "$WB_MINGW_PREFIX"

# --- configure and build -------------------------------------------------------
step "configure $BUILD"
cmake -S "$ROOT" -B "$BUILD" -G Ninja \
	-DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchain-mingw64.cmake" \
	-DWB_MINGW_PREFIX="$WB_MINGW_PREFIX" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo
step "build"
# Keep going past a failed target so the tests that did build still run;
# the lane fails at the end all the same.
build_rc=0
cmake --build "$BUILD" -j "$JOBS" -- -k 0 || build_rc=$?

# --- tests under wine ----------------------------------------------------------
# One wineserver for the whole run, started here and not by a test: a server
# (or wine service) started by a test would inherit ctest's output pipe.
# shellcheck disable=SC2317  # called through the trap
stop_server() { "$WINESERVER" -k >/dev/null 2>&1 || true; }
trap stop_server EXIT
mkdir -p "$WINEPREFIX"
step "wineserver and prefix $WINEPREFIX"
"$WINESERVER" -p </dev/null >/dev/null 2>&1 || die "could not start $WINESERVER"
# Creates the prefix on first use and starts wine's services off our pipes.
"$ROOT/scripts/wine-run.sh" --prefix "$WINEPREFIX" cmd /c exit 0 </dev/null ||
	die "wine cannot run a program in $WINEPREFIX"

step "ctest -L fast"
rc=0
(cd "$BUILD" && ctest -L fast --output-on-failure --timeout "$TIMEOUT" -j "$JOBS") || rc=$?
step "done: build exit $build_rc, ctest exit $rc"
[ "$build_rc" -eq 0 ] || { echo "lane-windows: the build failed (see above)" >&2; exit "$build_rc"; }
exit $rc
