#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-all.sh [--baseline] [--only REGEX] - run the network-namespace tests
# of matrix.txt one after the other and print a summary: one line per test
# and pairing (PASS / FAIL / SKIP, seconds, checks), the iperf3 figures,
# and the output of every failed run. --baseline adds the wireguard-go-only
# runs; --only keeps the lines of matrix.txt matching REGEX (e.g.
# --only 'handshake|psk' or --only 'wb wb').
# Environment: WIREBOLT_BIN_DIR (default <repo>/build/cli), as lib.sh.
# Exit status: 0 if nothing failed, 1 otherwise, 77 when not root.
set -uo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
baseline=0
only=.
while [[ $# -gt 0 ]]; do
    case $1 in
    --baseline) baseline=1 ;;
    --only) only=$2; shift ;;
    -h | --help) sed -n '3,11p' "$0"; exit 0 ;;
    *) echo "run-all.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
[[ $(id -u) -eq 0 ]] || { echo "skip: needs root"; exit 77; }

logs=$(mktemp -d /tmp/wbt-run-all.XXXXXX)
results=()
figures=()
failed=()
n_pass=0 n_fail=0 n_skip=0
start_all=$SECONDS
while read -r script a b extra; do
    [[ -z $script || $script == \#* ]] && continue
    [[ $b == baseline ]] && { extra=baseline; b=; }
    [[ ${extra:-} == baseline && $baseline == 0 ]] && continue
    [[ "$script $a $b" =~ $only ]] || continue
    name="$script $a${b:+ $b}"
    log=$logs/${name// /_}.log
    t0=$SECONDS
    # shellcheck disable=SC2086
    timeout -s TERM 175 bash "$dir/test_$script.sh" $a $b >"$log" 2>&1
    rc=$?
    dt=$((SECONDS - t0))
    checks=$(grep -c '^\(ok\|FAIL\): ' "$log")
    fails=$(grep -c '^FAIL: ' "$log")
    case $rc in
    0) status=PASS; n_pass=$((n_pass + 1)) ;;
    77) status=SKIP; n_skip=$((n_skip + 1)) ;;
    *) status=FAIL; n_fail=$((n_fail + 1)); failed+=("$name|$log") ;;
    esac
    [[ $rc == 124 ]] && status="FAIL (timeout)"
    line=$(printf '%-6s %-28s %4d s  %3d checks' "$status" "$name" "$dt" "$checks")
    [[ $fails -gt 0 ]] && line+=", $fails failed"
    [[ $status == SKIP ]] && line+="  ($(grep -m1 '^skip:' "$log"))"
    results+=("$line")
    echo "$line"
    while IFS= read -r f; do figures+=("$f"); done < <(grep '^FIGURE ' "$log" | sed 's/^FIGURE //')
done <"$dir/matrix.txt"

echo
echo "=== netns summary: $n_pass passed, $n_fail failed, $n_skip skipped ($((SECONDS - start_all)) s)"
printf '%s\n' "${results[@]}"
if [[ ${#figures[@]} -gt 0 ]]; then
    echo "=== throughput (iperf3 TCP, 3 s each way)"
    printf '%s\n' "${figures[@]}"
fi
for f in "${failed[@]}"; do
    echo
    echo "=== FAILED: ${f%%|*} (full log: ${f#*|})"
    grep -v '^DEBUG' "${f#*|}" | tail -n 60
done
if [[ $n_fail -eq 0 ]]; then
    rm -rf "$logs"
    exit 0
fi
echo "logs: $logs"
exit 1
