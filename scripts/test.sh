#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test.sh [lane...] - set up, build and run the test suite, lane by lane.
#
# Lanes (all of them by default, in this order):
#   default   gcc build, every example and benchmark built, `ctest -L fast`,
#             then install into a scratch prefix and build a consumer against it
#   asan      gcc with AddressSanitizer + UBSan, `ctest -L fast`
#   tsan      gcc with ThreadSanitizer in build-tsan, the multi-threaded tests
#             (`ctest -L tsan`); tests/tsan.supp silences only RCU publication
#   fuzz      clang libFuzzer harnesses, short smoke runs, `ctest -L fuzz`
#   windows   mingw-w64 cross build, the fast tests under wine (lane-windows.sh)
#   arm64     aarch64 cross build (NEON kernels), the fast tests under qemu-user
#             except those that need root and TUN (lane-arm64.sh)
#   netns     end-to-end tests in network namespaces against Debian's
#             wireguard-go and wg-quick, as root (`ctest -L netns`)
# Opt-in label sets, run by hand in the default build dir:
#   ctest --test-dir build -L slow      long-running protocol tests
#   ctest --test-dir build -L perf      benchmarks (print figures, never fail on speed)
# Exits non-zero if any lane fails; prints the time each lane took.
set -uo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
lanes=("$@")
[[ ${#lanes[@]} -eq 0 ]] && lanes=(default asan tsan fuzz windows arm64 netns)

lane_default() {
    bash scripts/setup-debian.sh &&
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
    cmake --build build -j "$jobs" &&
    ctest --test-dir build -L fast --output-on-failure -j "$jobs" &&
    bash scripts/check-install.sh build
}

lane_asan() {
    bash scripts/setup-debian.sh &&
    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DWB_SANITIZE=ON -DWB_BUILD_PERF=OFF &&
    cmake --build build-asan -j "$jobs" &&
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir build-asan -L fast --output-on-failure -j "$jobs"
}

# RelWithDebInfo: TSan's cost is per memory access, so -O2 keeps the stress
# runs short. No valgrind hooks (WB_CT_VALGRIND) in a sanitizer build.
lane_tsan() {
    bash scripts/setup-debian.sh libtsan2 &&
    cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread \
        -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread -DWB_BUILD_PERF=OFF -DWB_CT_VALGRIND=OFF &&
    cmake --build build-tsan -j "$jobs" &&
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" \
        ctest --test-dir build-tsan -L tsan --output-on-failure -j "$jobs"
}

lane_fuzz() {
    bash scripts/setup-debian.sh clang libclang-rt-14-dev &&
    CC=clang cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWB_FUZZ=ON \
        -DWB_BUILD_PERF=OFF &&
    cmake --build build-fuzz -j "$jobs" &&
    ctest --test-dir build-fuzz -L fuzz --output-on-failure
}

lane_windows() {
    bash scripts/lane-windows.sh
}

lane_arm64() {
    bash scripts/lane-arm64.sh
}

netns_pkgs=(wireguard-go wireguard-tools iperf3 iproute2 iputils-ping python3 nftables procps)

lane_netns() {
    bash scripts/setup-debian.sh "${netns_pkgs[@]}" &&
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
    cmake --build build -j "$jobs" --target wirebolt-cli wireboltd wb_impair &&
    ctest --test-dir build -L netns --output-on-failure
}

failed=()
summary=()
for lane in "${lanes[@]}"; do
    if ! declare -F "lane_$lane" >/dev/null; then
        echo "test.sh: unknown lane '$lane' (default, asan, tsan, fuzz, windows, arm64, netns)" >&2
        exit 2
    fi
    echo "=== lane $lane"
    start=$SECONDS
    if "lane_$lane"; then status=ok; else status=FAILED; failed+=("$lane"); fi
    summary+=("$(printf '%-8s %-6s %4ds' "$lane" "$status" $((SECONDS - start)))")
done

echo "=== summary"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -ne 0 ]]; then
    echo "failed lanes: ${failed[*]}"
    exit 1
fi
echo "all lanes passed"
