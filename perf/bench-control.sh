#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench-control.sh - the control plane at many peers (issue #11): wirebolt's
# wireboltd beside Debian's wireguard-go, both driven by wg(8) over their
# UAPI socket, for each peer count N:
#
#   setconf        `wg setconf <if> full.conf`: N peers, each with its own
#                  /32 + /128 allowed IPs, an endpoint and a random key
#   show dump      `wg show <if> dump` (up to 3 times, median), its peer
#                  lines checked against N
#   wg set         `wg set <if> peer <key> allowed-ips ...` on one peer,
#                  alone, and again while a `wg show <if> dump` runs
#   RSS, VmHWM     of the daemon once the peers are configured
#   idle CPU       utime+stime over --idle seconds, no traffic, % of a core
#   burst          10,000 handshake initiations with a valid mac1 (random
#                  otherwise: rejected after mac1) sent to the listen port
#                  as fast as possible; the RSS rise they cause
#   remove all     `wg setconf <if> empty.conf` ([Interface] only)
#
# Each implementation and N gets a fresh network namespace and daemon. Every
# step runs under its own timeout (--step-timeout): one that fails prints
# "timeout", "refused" or its exit status and the run goes on. When one
# setconf is refused, the peers are added with `wg addconf` in chunks so the
# other figures are still measured at N. Prints a Markdown table (and the
# issue's targets at 100,000 peers, ratios wirebolt / wireguard-go) and
# writes results.md, results.json, runs.jsonl and the daemons' logs into the
# results directory. See perf/README.md.
#
# Usage: sudo WIREBOLT_BIN_DIR=build/cli perf/bench-control.sh [options]
#   -n, --peers LIST        peer counts (default 1,1000,10000,100000)
#   -i, --impls LIST        wb,go or one of them (default wb,go)
#   -o, --out DIR           results directory (default perf/results/control-<timestamp>)
#   -t, --step-timeout S    seconds each step may take (default 120)
#       --idle S            idle CPU period (default 10)
#       --burst N           initiations in the burst (default 10000)
#       --reps N            repetitions of each wg set (default 5; median reported)
#       --chunk N           peers per `wg addconf` file when setconf is refused (default 2000)
# Builds nothing: wireboltd comes from WIREBOLT_BIN_DIR (default ./build/cli);
# wireguard-go is WBT_WIREGUARD_GO (default wireguard-go). Needs root,
# iproute2, wireguard-tools, wireguard-go, python3 (wg and wireguard-go are
# installed with apt-get when missing). Nothing leaves the namespaces.
set -uo pipefail
export LC_ALL=C
REPO=$(cd "$(dirname "$0")/.." && pwd)
export WIREBOLT_BIN_DIR=${WIREBOLT_BIN_DIR:-$REPO/build/cli}
TOOL=$REPO/perf/control_tool.py

usage() { sed -n '/^# Usage:/,/^# installed/p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

peers_list=1,1000,10000,100000 impls_list=wb,go out="" step_to=120 idle_s=10 burst=10000 reps=5 chunk=2000
while [[ $# -gt 0 ]]; do
    case $1 in
    -n | --peers) peers_list=${2:?}; shift 2 ;;
    -i | --impls) impls_list=${2:?}; shift 2 ;;
    -o | --out) out=${2:?}; shift 2 ;;
    -t | --step-timeout) step_to=${2:?}; shift 2 ;;
    --idle) idle_s=${2:?}; shift 2 ;;
    --burst) burst=${2:?}; shift 2 ;;
    --reps) reps=${2:?}; shift 2 ;;
    --chunk) chunk=${2:?}; shift 2 ;;
    -h | --help) usage 0 ;;
    *) echo "bench-control: unknown option '$1'" >&2; usage 2 >&2 ;;
    esac
done
IFS=, read -ra PEERS <<<"$peers_list"
IFS=, read -ra IMPLS <<<"$impls_list"
for n in "${PEERS[@]}"; do
    [[ $n =~ ^[0-9]+$ ]] || { echo "bench-control: --peers wants whole numbers (got '$n')" >&2; exit 2; }
done
for i in "${IMPLS[@]}"; do
    [[ $i == wb || $i == go ]] || { echo "bench-control: --impls: wb or go (got '$i')" >&2; exit 2; }
done
for v in "$step_to" "$idle_s" "$burst" "$reps" "$chunk"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "bench-control: '$v' is not a positive whole number" >&2; exit 2; }
done
[[ $(id -u) -eq 0 ]] || { echo "bench-control: needs root" >&2; exit 77; }

# wg and wireguard-go, installed the Debian way when missing.
missing=()
command -v wg >/dev/null 2>&1 || missing+=(wireguard-tools)
command -v "${WBT_WIREGUARD_GO:-wireguard-go}" >/dev/null 2>&1 || missing+=(wireguard-go)
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "bench-control: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; }
fi

# shellcheck source-path=SCRIPTDIR source=../tests/netns/lib.sh
source "$REPO/tests/netns/lib.sh"
# e2e_json_str, e2e_ticks, e2e_write_meta's helpers.
# shellcheck source-path=SCRIPTDIR source=e2e_lib.sh
source "$REPO/perf/e2e_lib.sh"
wbt_init ctl getconf "$WBT_PYTHON"
if [[ -z $out ]]; then
    out=$REPO/perf/results/control-$(date +%Y%m%d-%H%M%S)
fi
mkdir -p "$out" || { echo "bench-control: cannot create $out" >&2; exit 1; }
OUT=$(cd "$out" && pwd)
rm -f "$OUT/runs.jsonl" "$OUT"/daemon-*.log
CLK_TCK=$(getconf CLK_TCK)
PORT=51820
# A daemon lives for one run at most: every step's timeout, with margin.
LIFETIME=$((step_to * (6 + 4 * reps) + idle_s + 120))

# ------------------------------------------------------------ recording

CUR_IMPL="" CUR_N=0
# rec <key> <json-body-after-key>: one record of the current run.
rec() { printf '{"impl":"%s","n":%d,"key":"%s"%s}\n' "$CUR_IMPL" "$CUR_N" "$1" "${2:+,$2}" >>"$OUT/runs.jsonl"; }
# rec_value <key> <number|null>
rec_value() { rec "$1" "\"value\":${2:-null}"; }
rec_note() { rec note "\"text\":$(e2e_json_str "$1")"; echo "   note: $1"; }

# usec: EPOCHREALTIME in microseconds.
usec() { local t=$EPOCHREALTIME; echo $((10#${t/./})); }
# secs <microseconds>: seconds with 6 decimals.
secs() { printf '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)); }

# timed <key> <stdout-file> <command...>: run under the step timeout; sets
# T_RC, T_US, T_ERR (the last lines of its stderr). Records nothing.
timed() {
    local key=$1 outf=$2 t0 t1; shift 2
    t0=$(usec)
    timeout -k 5 "$step_to" "$@" >"$outf" 2>"$WBT_TMP/$key.err"
    T_RC=$?
    t1=$(usec)
    T_US=$((t1 - t0))
    T_ERR=$(tail -n 3 "$WBT_TMP/$key.err" | tr '\n' ' ')
}

# rec_step <key> [extra json]: record the last timed() as a step.
rec_step() {
    local st=ok
    rec "$1" "\"rc\":$T_RC,\"s\":$(secs "$T_US"),\"err\":$(e2e_json_str "$T_ERR")${2:+,$2}"
    case $T_RC in
    0) ;;
    124 | 137) st="timeout after ${step_to} s" ;;
    *) st="failed (exit status $T_RC): $T_ERR" ;;
    esac
    printf '   %-24s %10s s  %s\n' "$1" "$(secs "$T_US")" "$st"
}

# vm <pid> <VmRSS|VmHWM>: kB, or empty when the process is gone.
vm() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }

# ------------------------------------------------------------ one run

# daemon_start <impl> <ns> <ifname>: the daemon in the foreground inside
# <ns> (in a subshell, bounded by `timeout`, as lib.sh does); sets DPID and
# TPID, or returns 1.
daemon_start() {
    local impl=$1 ns=$2 dev=$3 log i cmd
    log=$OUT/daemon-$impl-$CUR_N.log
    case $impl in
    wb) cmd=("$WIREBOLT_BIN_DIR/wireboltd" -f "$dev") ;;
    go) cmd=("$WBT_WIREGUARD_GO" -f "$dev") ;;
    esac
    (
        ip netns exec "$ns" env LOG_LEVEL=error WIREBOLT_LOG=warn WG_PROCESS_FOREGROUND=1 \
            timeout -s KILL "$LIFETIME" "${cmd[@]}" >>"$log" 2>&1
        exit $?
    ) 2>/dev/null &
    TPID=$!
    WBT_TPID[$dev]=$TPID
    DPID=""
    for ((i = 0; i < 200; i++)); do
        [[ -z $DPID ]] && DPID=$(pgrep -P "$(pgrep -P "$TPID" | head -n1)" 2>/dev/null | head -n1)
        [[ -n $DPID && -S $WBT_SOCKDIR/$dev.sock ]] && ip -n "$ns" link show "$dev" >/dev/null 2>&1 && return 0
        kill -0 "$TPID" 2>/dev/null || break
        sleep 0.05
    done
    echo "   $(wbt_impl_name "$impl") did not start (no process or no socket after 10 s):"
    tail -n 10 "$log" | sed 's/^/     /'
    return 1
}

# daemon_stop <ifname>: lib.sh's stop (TERM, 3 s, KILL, socket removed).
daemon_stop() {
    WBT_DPID[$1]=$DPID
    wbt_daemon_kill "$1"
}

# alive <step>: the daemon still runs; otherwise a note, and returns 1.
alive() {
    wbt_pid_live "$DPID" && return 0
    rec_note "the daemon died during $1 (see daemon-$CUR_IMPL-$CUR_N.log)"
    return 1
}

# log_note <step> <daemon-log> <lines-before>: the daemon's first message
# since the step began (the cause, usually: why it refused), as a note.
log_note() {
    local first
    first=$(tail -n +"$(($3 + 1))" "$2" 2>/dev/null | grep -v '^[[:space:]]*$' | head -n 1 | cut -c1-200)
    [[ -n $first ]] && rec_note "$1: the daemon's first message since it began: $first"
}

# peer_lines <file>: the peer lines of a `wg show dump` output.
peer_lines() { awk 'END { print (NR > 0 ? NR - 1 : 0) }' "$1"; }

# sets <key> <dev> <background-dump: 0|1> <dump-seconds>: --reps single
# `wg set`s of the target peer's allowed IPs (new, distinct ones each time),
# with or without a `wg show dump` started just before (the set starts a
# third of the way into the dump as timed alone).
sets() {
    local key=$1 dev=$2 bg=$3 dump_us=$4 r bpid overlap delay
    delay=$(secs $((dump_us / 3 > 2000000 ? 2000000 : dump_us / 3)))
    for ((r = 1; r <= reps; r++)); do
        local a4="172.16.$((bg * 100 + r)).1/32" a6="fd01::$bg:$r/128"
        overlap=null
        if [[ $bg == 1 ]]; then
            timeout -k 5 "$step_to" wg show "$dev" dump >/dev/null 2>&1 &
            bpid=$!
            sleep "$delay"
            overlap=false
            kill -0 "$bpid" 2>/dev/null && overlap=true
        fi
        timed "$key" /dev/null wg set "$dev" peer "$TARGET" allowed-ips "$a4,$a6"
        [[ $bg == 1 ]] && wait "$bpid"
        rec_step "$key" "\"rep\":$r,\"overlap\":$overlap"
        [[ $T_RC -ne 0 ]] && break
        alive "$key" || return 1
    done
    return 0
}

# run_one <impl> <n> <index>: one implementation at one peer count, in its
# own namespace, from start to end. Returns 1 when the daemon failed.
run_one() {
    local impl=$1 n=$2 idx=$3 ns dev dir t0 t1 f nchunks
    CUR_IMPL=$impl CUR_N=$n
    wbt_log "$(wbt_impl_name "$impl"), $n peers"
    dir=$WBT_TMP/conf-$n
    # (lib.sh stores the names through printf -v: globals, not locals of its own.)
    wbt_ns CTL_NS "c$idx"
    wbt_ifname CTL_IF "c$idx"
    ns=$CTL_NS dev=$CTL_IF
    daemon_start "$impl" "$ns" "$dev" || { rec_note "the daemon did not start"; ip netns del "$ns"; return 1; }
    ip -n "$ns" link set "$dev" up
    rec_value clk_tck "$CLK_TCK"
    rec_value rss_start_kib "$(vm "$DPID" VmRSS)"

    local log=$OUT/daemon-$impl-$n.log loglines
    loglines=$(wc -l <"$log")
    timed setconf /dev/null wg setconf "$dev" "$dir/full.conf"
    rec_step setconf
    [[ $T_RC -ne 0 ]] && log_note "setconf" "$log" "$loglines"
    alive setconf || { daemon_stop "$dev"; ip netns del "$ns"; return 1; }
    if [[ $T_RC -ne 0 && $T_RC -ne 124 && $T_RC -ne 137 ]]; then
        # Refused: add the peers in chunks so that the other figures are
        # still taken at N peers. (After a timeout the daemon may still be
        # busy with it: the run goes on with what it has.)
        nchunks=0
        loglines=$(wc -l <"$log")
        t0=$(usec)
        timed setconf_empty /dev/null wg setconf "$dev" "$dir/empty.conf"
        for f in "$dir"/chunk-*.conf; do
            [[ -e $f ]] || continue
            timed setconf_chunk /dev/null wg addconf "$dev" "$f"
            [[ $T_RC -ne 0 ]] && break
            nchunks=$((nchunks + 1))
        done
        t1=$(usec)
        T_US=$((t1 - t0))
        rec_step setconf_chunks "\"chunks\":$nchunks"
        [[ $T_RC -ne 0 ]] && log_note "setconf in chunks" "$log" "$loglines"
        alive "setconf in chunks" || { daemon_stop "$dev"; ip netns del "$ns"; return 1; }
    fi
    local rss hwm
    rss=$(vm "$DPID" VmRSS) hwm=$(vm "$DPID" VmHWM)
    rec_value rss_kib "$rss"
    rec_value hwm_kib "$hwm"
    printf '   %-24s %10s MiB  (VmHWM %s MiB)\n' "RSS after setconf" $((${rss:-0} / 1024)) $((${hwm:-0} / 1024))

    # Up to 3 dumps (median reported; fewer when one fails or takes over
    # 10 s); the set during a dump waits for a third of the fastest.
    local dump_us=0 r lines
    for ((r = 1; r <= (reps < 3 ? reps : 3); r++)); do
        timed dump "$WBT_TMP/dump.txt" wg show "$dev" dump
        lines=$(peer_lines "$WBT_TMP/dump.txt")
        rec_step dump "\"rep\":$r,\"peers\":$lines"
        ((r == 1 || T_US < dump_us)) && dump_us=$T_US
        [[ $T_RC -ne 0 ]] && dump_us=$((step_to * 1000000))
        if [[ $r == 1 ]]; then
            echo "   (dump: $lines peer lines, N = $n)"
            [[ $T_RC -eq 0 && $lines -ne $n ]] &&
                rec_note "only $lines of the $n peers are configured: the figures after setconf are for that many"
        fi
        alive dump || { daemon_stop "$dev"; ip netns del "$ns"; return 1; }
        [[ $T_RC -ne 0 || $T_US -gt 10000000 ]] && break
    done

    sets set "$dev" 0 0 || { daemon_stop "$dev"; ip netns del "$ns"; return 1; }
    sets set_during_dump "$dev" 1 "$dump_us" || { daemon_stop "$dev"; ip netns del "$ns"; return 1; }

    # Idle: let the last requests settle, then --idle seconds of nothing.
    sleep 1
    t0=$(e2e_ticks "$DPID")
    local u0 u1
    u0=$(usec)
    sleep "$idle_s"
    u1=$(usec)
    t1=$(e2e_ticks "$DPID")
    rec_value idle_ticks $((t1 - t0))
    rec_value idle_s "$(secs $((u1 - u0)))"
    printf '   %-24s %10s ticks in %s s\n' "idle CPU" $((t1 - t0)) "$(secs $((u1 - u0)))"
    alive idle || { daemon_stop "$dev"; ip netns del "$ns"; return 1; }

    timeout -k 5 $((step_to + 5)) ip netns exec "$ns" "$WBT_PYTHON" "$TOOL" burst --pid "$DPID" --port "$PORT" \
        --pub "$(cat "$WBT_TMP/iface.pub")" --count "$burst" --tag "impl=$impl" --tag "n=$n" \
        >"$WBT_TMP/burst.json" 2>"$WBT_TMP/burst.err"
    local brc=$?
    if [[ $brc -eq 0 && -s $WBT_TMP/burst.json ]]; then
        cat "$WBT_TMP/burst.json" >>"$OUT/runs.jsonl"
        echo "   burst: $(cut -c1-300 "$WBT_TMP/burst.json")"
    else
        rec_note "the burst sender failed (exit status $brc): $(tail -n 3 "$WBT_TMP/burst.err" | tr '\n' ' ')"
    fi
    alive burst || { daemon_stop "$dev"; ip netns del "$ns"; return 1; }

    timed remove /dev/null wg setconf "$dev" "$dir/empty.conf"
    rec_step remove
    timed dump_after_remove "$WBT_TMP/dump.txt" wg show "$dev" dump
    rec_step dump_after_remove "\"peers\":$(peer_lines "$WBT_TMP/dump.txt")"
    rec_value rss_end_kib "$(vm "$DPID" VmRSS)"
    rec_value hwm_end_kib "$(vm "$DPID" VmHWM)"
    alive remove
    daemon_stop "$dev"
    ip netns del "$ns"
    return 0
}

# ------------------------------------------------------------ main

[[ " ${IMPLS[*]} " == *" wb "* && ! -x $WIREBOLT_BIN_DIR/wireboltd ]] &&
    echo "bench-control: no $WIREBOLT_BIN_DIR/wireboltd (build it, or set WIREBOLT_BIN_DIR): the wirebolt runs will fail"
[[ " ${IMPLS[*]} " == *" go "* ]] && ! command -v "$WBT_WIREGUARD_GO" >/dev/null 2>&1 &&
    echo "bench-control: $WBT_WIREGUARD_GO not installed: the wireguard-go runs will fail"

# meta.json, through e2e_lib.sh's writer (it wants these settings).
E2E_DIR=$OUT E2E_DUR=0 E2E_REPS=$reps
E2E_TESTS=(control)
command -v iperf3 >/dev/null 2>&1 || iperf3() { :; }
e2e_write_meta "wirebolt control-plane benchmark (perf/bench-control.sh)" "${IMPLS[*]}"
"$WBT_PYTHON" - "$OUT/meta.json" "$step_to" "$idle_s" "$burst" "$chunk" "$peers_list" \
    "$(date -r "$WIREBOLT_BIN_DIR/wireboltd" '+%Y-%m-%d %H:%M' 2>/dev/null)" <<'EOF'
import json, sys
p, to, idle, burst, chunk, peers, built = sys.argv[1:]
m = json.load(open(p))
m.update(step_timeout=int(to), idle_s=int(idle), burst=int(burst), chunk=int(chunk), peers=peers)
m["versions"] = m.get("versions", "").split(", iperf3")[0]
if built:
    m["versions"] = m["versions"].replace("), wireguard-go", f", wireboltd built {built}), wireguard-go", 1)
m.pop("duration", None); m.pop("tests", None); m["impls"] = m.pop("pairs", "")
json.dump(m, open(p, "w"))
EOF

wg genkey >"$WBT_TMP/iface.key" || wbt_die "wg genkey"
wg pubkey <"$WBT_TMP/iface.key" >"$WBT_TMP/iface.pub" || wbt_die "wg pubkey"
wbt_log "results in $OUT; peers ${PEERS[*]}; ${IMPLS[*]}; step timeout ${step_to} s"

idx=0
for n in "${PEERS[@]}"; do
    dir=$WBT_TMP/conf-$n
    t0=$(usec)
    "$WBT_PYTHON" "$TOOL" gen "$dir" "$n" "$WBT_TMP/iface.key" "$PORT" --chunk "$chunk" ||
        wbt_die "cannot generate the $n-peer configuration"
    if [[ $n -gt 0 ]]; then TARGET=$(cat "$dir/target.key"); else TARGET=$(head -c 32 /dev/urandom | base64); fi
    wbt_log "$n peers: configuration $(du -h "$dir/full.conf" | cut -f1) generated in $(secs $(($(usec) - t0))) s"
    for impl in "${IMPLS[@]}"; do
        run_one "$impl" "$n" "$idx"
        idx=$((idx + 1))
    done
    rm -rf "$dir"
done

echo
"$WBT_PYTHON" "$TOOL" report "$OUT"
rc=$?
echo "(results.md, results.json, runs.jsonl, daemon-*.log in $OUT)"
exit "$rc"
