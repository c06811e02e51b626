#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# demo.sh - set up, build, and run the main job: wirebolt-demo brings two
# in-process tunnels up, handshakes, pushes traffic both ways and prints
# what happened and the throughput. Extra arguments go to the demo
# (megabytes per direction, default 256).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-debian.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target wirebolt-demo
echo
exec ./build/cli/wirebolt-demo "$@"
