#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench-e2e.sh - end-to-end throughput, CPU cost and latency of WireGuard
# tunnels between two network namespaces, every pairing in one run:
#
#   veth           iperf3 straight between the veth addresses (the ceiling)
#   wb             wirebolt <-> wirebolt      (wireboltd -f <if> on both ends)
#   go             wireguard-go <-> wireguard-go (Debian's wireguard-go)
#   wb-go          wirebolt <-> wireguard-go  (interop; wirebolt initiates)
#   NAME           --peer NAME=PATH: PATH <-> PATH, PATH started exactly as
#                  wireguard-go is (`PATH -f <ifname>`, UAPI socket in
#                  /var/run/wireguard)
#
# Per pairing: iperf3 TCP -P1 and -P4 each way and UDP each way (-b 0,
# -l 1380), ping idle and under a TCP -P1 load, the daemons' CPU seconds per
# GB; ratios against plain veth and wirebolt / wireguard-go. Tunnels are set
# up as tests/netns does it (tests/netns/lib.sh, configured with wg(8)).
# Writes results.md, results.json, results.svg (and raw/, iperf3's JSON)
# into the results directory and prints results.md. A pairing that fails
# prints "-" and the run goes on. See perf/README.md.
#
# Usage: sudo WIREBOLT_BIN_DIR=build/cli perf/bench-e2e.sh [options]
#   -t, --duration S   seconds per iperf3 run (default 5)
#   -r, --reps N       repetitions, medians reported (default 1)
#   -q, --quick        2 s runs, TCP -P1 each way only
#   -o, --out DIR      results directory (default perf/results/<timestamp>)
#   -p, --peer NAME=PATH   another wireguard-go compatible binary (repeatable)
#       --pairs LIST   comma-separated subset of veth,wb,go,wb-go and the
#                      --peer names (default: all)
# Builds nothing: wirebolt comes from WIREBOLT_BIN_DIR (default ./build/cli).
# Needs root, iproute2, wireguard-tools, wireguard-go, iperf3, iputils-ping,
# python3. Nothing leaves the namespaces; everything is removed on exit.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
export WIREBOLT_BIN_DIR=${WIREBOLT_BIN_DIR:-$REPO/build/cli}

usage() { sed -n '/^# Usage:/,/^# python3/p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

dur=5 reps=1 quick=0 out="" only=""
peers=()
while [[ $# -gt 0 ]]; do
    case $1 in
    -t | --duration) dur=${2:?}; shift 2 ;;
    -r | --reps) reps=${2:?}; shift 2 ;;
    -q | --quick) quick=1; shift ;;
    -o | --out) out=${2:?}; shift 2 ;;
    -p | --peer) peers+=("${2:?}"); shift 2 ;;
    --pairs) only=${2:?}; shift 2 ;;
    -h | --help) usage 0 ;;
    *) echo "bench-e2e: unknown option '$1'" >&2; usage 2 >&2 ;;
    esac
done
[[ $dur =~ ^[1-9][0-9]*$ ]] || { echo "bench-e2e: --duration wants whole seconds" >&2; exit 2; }
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "bench-e2e: --reps wants a positive number" >&2; exit 2; }
[[ $quick == 1 ]] && dur=2

# Pairings: id, label, A side, B side ("wb", or a wireguard-go compatible path).
pair_ids=(veth wb go wb-go)
declare -A pair_label=([veth]="veth (no tunnel)" [wb]="wirebolt↔wirebolt"
    [go]="wireguard-go↔wireguard-go" [wb-go]="wirebolt↔wireguard-go")
declare -A pair_a=([veth]=veth [wb]=wb [go]=wireguard-go [wb-go]=wb)
declare -A pair_b=([veth]="" [wb]=wb [go]=wireguard-go [wb-go]=wireguard-go)
for p in "${peers[@]}"; do
    name=${p%%=*} path=${p#*=}
    if [[ $p != *=* || ! $name =~ ^[A-Za-z0-9_.+-]+$ || -n ${pair_label[$name]:-} ]]; then
        echo "bench-e2e: --peer wants NAME=PATH with a new NAME of letters, digits, _ . + - (got '$p')" >&2
        exit 2
    fi
    resolved=$(command -v "$path" 2>/dev/null) || { echo "bench-e2e: --peer $name: '$path' is not an executable" >&2; exit 2; }
    [[ $resolved == *[[:space:]]* ]] && { echo "bench-e2e: --peer $name: no spaces in the path, please" >&2; exit 2; }
    pair_ids+=("$name")
    pair_label[$name]="$name↔$name"
    pair_a[$name]=$resolved
    pair_b[$name]=$resolved
done
if [[ -n $only ]]; then
    sel=()
    IFS=, read -ra want <<<"$only"
    for w in "${want[@]}"; do
        [[ -n ${pair_label[$w]:-} ]] || { echo "bench-e2e: --pairs: unknown pairing '$w'" >&2; exit 2; }
        sel+=("$w")
    done
    pair_ids=("${sel[@]}")
fi

# shellcheck source-path=SCRIPTDIR source=../tests/netns/lib.sh
source "$REPO/tests/netns/lib.sh"
# shellcheck source-path=SCRIPTDIR source=e2e_lib.sh
source "$REPO/perf/e2e_lib.sh"
wbt_init bench iperf3 ss getconf "$WBT_PYTHON"
if [[ -z $out ]]; then
    out=$REPO/perf/results/$(date +%Y%m%d-%H%M%S)
fi
mkdir -p "$out" || { echo "bench-e2e: cannot create $out" >&2; exit 1; }
E2E_DIR=$(cd "$out" && pwd)
rm -rf "$E2E_DIR/raw" "$E2E_DIR"/runs.jsonl "$E2E_DIR"/counters-*.txt
# Read by e2e_lib.sh.
# shellcheck disable=SC2034
E2E_DUR=$dur E2E_REPS=$reps
if [[ $quick == 1 ]]; then
    E2E_TESTS=(tcp1-ab tcp1-ba)
else
    E2E_TESTS=(tcp1-ab tcp1-ba tcp4-ab tcp4-ba udp-ab udp-ba)
fi
# A daemon lives for one pairing: every run, with margin.
lifetime=$((reps * ${#E2E_TESTS[@]} * (dur + 4) + reps * 3 + 60))
((lifetime > WBT_LIFETIME)) && WBT_LIFETIME=$lifetime

[[ -x $WIREBOLT_BIN_DIR/wireboltd ]] ||
    echo "bench-e2e: no $WIREBOLT_BIN_DIR/wireboltd (build it, or set WIREBOLT_BIN_DIR): the wirebolt pairings will fail"
command -v "$WBT_WIREGUARD_GO" >/dev/null 2>&1 ||
    echo "bench-e2e: $WBT_WIREGUARD_GO not installed: the wireguard-go pairings will fail"
# "wireguard-go" in the sides above means lib.sh's WBT_WIREGUARD_GO.
for p in "${pair_ids[@]}"; do
    [[ ${pair_a[$p]} == wireguard-go ]] && pair_a[$p]=$WBT_WIREGUARD_GO
    [[ ${pair_b[$p]} == wireguard-go ]] && pair_b[$p]=$WBT_WIREGUARD_GO
done

e2e_write_meta "wirebolt end-to-end benchmark" "${pair_ids[@]}"

wbt_log "results in $E2E_DIR; ${#pair_ids[@]} pairings x ${#E2E_TESTS[@]} tests x $reps x ${dur} s"
wbt_two_ns
# The tunnels' names, registered here for the cleanup (the pairings run in
# subshells); each pairing uses them in turn.
wbt_ifname IF_A A
wbt_ifname IF_B B

for p in "${pair_ids[@]}"; do
    e2e_pair "$p" "${pair_label[$p]}" "${pair_a[$p]}" "${pair_b[$p]}"
    if [[ $p == wb ]]; then
        echo
        echo "== wirebolt's counters after the wirebolt↔wirebolt runs (UAPI get and the TUN device;"
        echo "   wirebolt exposes no drop counters of its own yet: see perf/README.md)"
        sed 's/^/   /' "$E2E_DIR/counters-wb.txt" 2>/dev/null || echo "   (none: the pairing failed)"
        echo
    fi
done

echo
"$WBT_PYTHON" "$REPO/perf/e2e_report.py" "$E2E_DIR"
rc=$?
echo "(results.md, results.json, results.svg, raw/ in $E2E_DIR)"
exit "$rc"
