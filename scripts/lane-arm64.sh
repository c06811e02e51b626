#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# lane-arm64.sh - CI lane: cross-build wirebolt for aarch64 Linux and run
# the fast tests under qemu-user through ctest. The NEON ChaCha20-Poly1305
# ("neon" in the AEAD table) is what this lane is for: test_rfc8439,
# test_aead_diff and test_aead_neon run it against the RFC 8439 vectors,
# libsodium and the portable code. Timings under qemu mean nothing.
#
# Usage: scripts/lane-arm64.sh
# Environment:
#   WB_ARM64_BUILD_DIR  build directory              (default <repo>/build-arm64)
#   WB_ARM64_PREFIX     unpacked arm64 dependencies  (default <repo>/.deps/arm64)
#   WB_TEST_TIMEOUT     per-test timeout, s           (default 600)
#   WB_JOBS             build/test parallelism        (default nproc)
# Exits non-zero if any step or any test fails.
#
# The dependencies are Debian's own arm64 packages, fetched with
# `apt-get download` (this adds arm64 as a dpkg foreign architecture once)
# and unpacked with `dpkg -x` into WB_ARM64_PREFIX: nothing arm64 is
# installed into the host's dpkg database, so they cannot clash with the
# host's -dev packages. Tests that need root and a network namespace
# (test_device_api, test_io_linux: TUN and rtnetlink) are left to the native
# lanes; qemu-user does not emulate the ioctls they need.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${WB_ARM64_BUILD_DIR:-$ROOT/build-arm64}
export WB_ARM64_PREFIX=${WB_ARM64_PREFIX:-$ROOT/.deps/arm64}
TIMEOUT=${WB_TEST_TIMEOUT:-600}
JOBS=${WB_JOBS:-$(nproc 2>/dev/null || echo 2)}
# Fast tests that need root, TUN and rtnetlink (see above).
NATIVE_ONLY='^(test_device_api|test_io_linux|test_io_offload)$'
# Debian's arm64 packages behind the top-level pkg_check_modules calls
# (hwloc: sched/ links it into libwirebolt).
ARM64_DEBS=(libsodium23 libsodium-dev liburcu8 liburcu-dev libmnl0 libmnl-dev
            libhwloc15 libhwloc-dev libudev1)

T0=$(date +%s)
step() { echo "=== lane-arm64: $* (+$(( $(date +%s) - T0 ))s)"; }
die() { echo "lane-arm64: error: $*" >&2; exit 1; }
if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi

# apt and dpkg, retried while another apt holds the lock.
apt_retry() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		"$@" && return 0
		echo "lane-arm64: '$*' failed (try $i), retrying in 15s" >&2
		sleep 15
	done
	return 1
}

# --- host packages -------------------------------------------------------------
PKGS=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user cmake ninja-build pkg-config)
missing=()
for p in "${PKGS[@]}"; do
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	step "installing ${missing[*]}"
	apt_retry "${SUDO[@]}" apt-get update -qq
	apt_retry env DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq \
		--no-install-recommends "${missing[@]}"
fi

# --- arm64 dependencies ----------------------------------------------------------
# The stamp records the package versions unpacked; a new Debian point
# release changes it and the prefix is rebuilt.
arm64_versions() {
	local pkgs=() p
	for p in "${ARM64_DEBS[@]}"; do pkgs+=("$p:arm64"); done
	apt-cache policy "${pkgs[@]}" 2>/dev/null |
		awk '/^[^ ]/ { p = $1 } /Candidate: [0-9]/ { print p, $2 }'
}

fetch_arm64_deps() {
	local debs="$WB_ARM64_PREFIX.debs" pkgs=() p f
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		step "adding arm64 as a dpkg foreign architecture"
		"${SUDO[@]}" dpkg --add-architecture arm64
	fi
	if ! apt-cache policy libsodium-dev:arm64 | grep -q 'Candidate: [0-9]'; then
		apt_retry "${SUDO[@]}" apt-get update -qq
	fi
	for p in "${ARM64_DEBS[@]}"; do pkgs+=("$p:arm64"); done
	rm -rf "$debs" "$WB_ARM64_PREFIX"
	mkdir -p "$debs" "$WB_ARM64_PREFIX"
	step "downloading ${ARM64_DEBS[*]} (arm64)"
	(cd "$debs" && apt_retry apt-get download -qq "${pkgs[@]}") ||
		die "apt-get download of the arm64 packages failed"
	for f in "$debs"/*.deb; do dpkg -x "$f" "$WB_ARM64_PREFIX"; done
	rm -rf "$debs"
}

stamp="$WB_ARM64_PREFIX/.wirebolt-deps"
want=$(arm64_versions || true)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] ||
	[ "$(wc -l <<<"$want")" -ne ${#ARM64_DEBS[@]} ]; then
	fetch_arm64_deps
	arm64_versions >"$stamp"
fi
step "arm64 dependencies in $WB_ARM64_PREFIX"
[ -f "$WB_ARM64_PREFIX/usr/lib/aarch64-linux-gnu/pkgconfig/libsodium.pc" ] ||
	die "no arm64 libsodium.pc under $WB_ARM64_PREFIX"

# --- configure and build -----------------------------------------------------------
step "configure $BUILD"
cmake -S "$ROOT" -B "$BUILD" -G Ninja \
	-DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchain-aarch64.cmake" \
	-DWB_ARM64_PREFIX="$WB_ARM64_PREFIX" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DWB_BUILD_PERF=OFF
step "build"
# Keep going past a failed target so the tests that did build still run;
# the lane fails at the end all the same.
build_rc=0
cmake --build "$BUILD" -j "$JOBS" -- -k 0 || build_rc=$?

# --- tests under qemu ---------------------------------------------------------------
step "ctest -L fast (under qemu-aarch64; not $NATIVE_ONLY)"
rc=0
# The guest's loader finds the prefix's libraries through the tests'
# RUNPATH, but not their dependencies (libhwloc's libudev): tell it, in the
# guest's environment only.
(cd "$BUILD" && QEMU_SET_ENV="LD_LIBRARY_PATH=$WB_ARM64_PREFIX/usr/lib/aarch64-linux-gnu" \
	ctest -L fast -E "$NATIVE_ONLY" --output-on-failure --timeout "$TIMEOUT" -j "$JOBS") || rc=$?
step "done: build exit $build_rc, ctest exit $rc"
[ "$build_rc" -eq 0 ] || { echo "lane-arm64: the build failed (see above)" >&2; exit "$build_rc"; }
exit $rc
