#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# demo.sh - set up, build, and run the main job (scripts/demo-netns.sh): two
# network namespaces, wirebolt (`wirebolt up`) in one and Debian's
# wireguard-go in the other: handshake, pings and a short iperf3 each way;
# then, in the same run, wirebolt<->wirebolt, wireguard-go<->wireguard-go
# and plain veth side by side with the ratios and CPU per GB (the full
# benchmark is perf/bench-e2e.sh). Needs root (network namespaces);
# everything it creates is removed on exit.
# `./build/cli/wirebolt-demo` is the in-process demo (no root needed).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-debian.sh wireguard-go wireguard-tools iperf3 iproute2 iputils-ping python3 \
    nftables procps
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target wirebolt-cli wireboltd wirebolt-demo
echo
exec bash scripts/demo-netns.sh "$@"
