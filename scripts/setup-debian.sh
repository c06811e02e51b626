#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# setup-debian.sh [extra packages...] - install what wirebolt builds with on
# Debian 12, only what is missing. Safe to run repeatedly; used by demo.sh,
# test.sh and the CI lanes, so a missing install step fails CI.
set -euo pipefail

base_pkgs=(gcc cmake ninja-build pkg-config libsodium-dev liburcu-dev libhwloc-dev libmnl-dev
           libssl-dev android-libboringssl valgrind)
want=("${base_pkgs[@]}" "$@")

missing=()
for p in "${want[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "setup: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
