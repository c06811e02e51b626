# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# e2e_lib.sh - the measuring half of perf/bench-e2e.sh, shared with
# scripts/demo-netns.sh. Sourced after tests/netns/lib.sh (namespaces,
# daemons and cleanup come from there) and after wbt_init/wbt_two_ns.
#
# Every measurement is appended as one JSON object per line to
# $E2E_DIR/runs.jsonl (iperf3's own --json output goes to $E2E_DIR/raw/);
# perf/e2e_report.py turns that file into the tables, results.json and the
# plot. Nothing here parses iperf3 output: a failed run is recorded with its
# exit status and the report prints "-" for it.
#
# Settings (set before calling): E2E_DIR, E2E_DUR (seconds per iperf3 run),
# E2E_REPS, E2E_TESTS (test ids below), E2E_PIDS (daemon pids whose CPU time
# is charged to each run; empty for plain veth).
#
# Test ids: <proto><streams>-<direction>; A is the namespace that initiates
# the tunnel and runs the iperf3 client, B runs the server.
#   tcp1-ab  iperf3 -P 1 (A sends)     tcp1-ba  -P 1 -R (B sends)
#   tcp4-ab  iperf3 -P 4               tcp4-ba  -P 4 -R
#   udp-ab   -u -b 0 -l 1380           udp-ba   -u -b 0 -l 1380 -R
# The ping under load runs during tcp1-ba (ping A -> B while B sends to A).

# Variables here are read by the scripts that source this file, and
# E2E_DIR is theirs to set.
# shellcheck disable=SC2034,SC2153
E2E_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${E2E_DUR:=5}"
: "${E2E_REPS:=1}"
E2E_PIDS=()
E2E_CLK_TCK=$(getconf CLK_TCK)
E2E_PING_N=20
E2E_PING_I=0.05

# e2e_test_args <test-id>: the iperf3 options of a test.
e2e_test_args() {
    case $1 in
    tcp1-ab) echo "-P 1" ;;
    tcp1-ba) echo "-P 1 -R" ;;
    tcp4-ab) echo "-P 4" ;;
    tcp4-ba) echo "-P 4 -R" ;;
    udp-ab) echo "-u -b 0 -l 1380" ;;
    udp-ba) echo "-u -b 0 -l 1380 -R" ;;
    *) return 1 ;;
    esac
}

# e2e_json_str <text>: a JSON string literal (quotes, backslashes, controls).
e2e_json_str() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}
    s=${s//$'\t'/\\t}
    s=${s//$'\r'/}
    printf '"%s"' "$s"
}

# e2e_record <json-object-body>: append {<body>} to runs.jsonl.
e2e_record() { printf '{%s}\n' "$1" >>"$E2E_DIR/runs.jsonl"; }

# e2e_ticks <pid>...: utime + stime (clock ticks) of the processes. The
# thread-group leader's /proc/PID/stat (fields 14 and 15) already sums all
# of the process's threads, live and exited. A vanished pid counts 0.
e2e_ticks() {
    local t=0 p s f
    for p in "$@"; do
        s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        s=${s##*) }          # fields from 3 (state) on; comm may hold spaces
        read -ra f <<<"$s"
        t=$((t + f[11] + f[12]))
    done
    echo "$t"
}

# e2e_write_meta <title> <pair-id>...: $E2E_DIR/meta.json, the run's
# description for the report (machine, versions, settings, pair order).
e2e_write_meta() {
    local title=$1 wb_ver go_ver ip_ver cpu_model repo
    shift
    repo=$(cd "$E2E_LIBDIR/.." && pwd)
    # Read-only git: --no-optional-locks keeps `status` from rewriting the index.
    wb_ver=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
    [[ -n $(git -C "$repo" --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null) ]] &&
        wb_ver+=" + uncommitted changes"
    go_ver=$("$WBT_WIREGUARD_GO" --version 2>/dev/null | head -n1 | awk '{ print $2 }')
    ip_ver=$(iperf3 --version 2>/dev/null | head -n1 | awk '{ print $2 }')
    cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
    mkdir -p "$E2E_DIR"
    cat >"$E2E_DIR/meta.json" <<EOF
{"title": $(e2e_json_str "$title"), "date": $(e2e_json_str "$(date '+%Y-%m-%d %H:%M:%S %Z')"),
 "cpus": $(nproc), "cpu_model": $(e2e_json_str "$cpu_model"), "kernel": $(e2e_json_str "$(uname -r)"),
 "loadavg": $(e2e_json_str "$(cut -d' ' -f1-3 /proc/loadavg)"), "duration": $E2E_DUR, "reps": $E2E_REPS,
 "tests": $(e2e_json_str "${E2E_TESTS[*]}"), "pairs": $(e2e_json_str "$*"),
 "versions": $(e2e_json_str "wirebolt $wb_ver ($WIREBOLT_BIN_DIR), wireguard-go ${go_ver:-?}, iperf3 ${ip_ver:-?}"),
 "clk_tck": $E2E_CLK_TCK}
EOF
}

# e2e_pair_begin <pair-id> <label>: start a pair's records.
e2e_pair_begin() {
    E2E_PAIR=$1
    E2E_LABEL=$2
    mkdir -p "$E2E_DIR/raw"
}

# e2e_pair_status <ok|failed> [reason]
e2e_pair_status() {
    e2e_record "\"type\":\"pair\",\"pair\":$(e2e_json_str "$E2E_PAIR"),\"label\":$(e2e_json_str "$E2E_LABEL"),\"status\":\"$1\",\"reason\":$(e2e_json_str "${2:-}")"
}

# e2e_ping <ns> <dst> <idle|loaded> <rep>: ping -c 20 -i 0.05 (lib.sh's
# wbt_ping), record the average RTT.
e2e_ping() {
    local ns=$1 dst=$2 state=$3 rep=$4
    wbt_ping "$ns" "$dst" "$E2E_PING_N" -i "$E2E_PING_I"
    e2e_record "\"type\":\"ping\",\"pair\":$(e2e_json_str "$E2E_PAIR"),\"label\":$(e2e_json_str "$E2E_LABEL"),\"state\":\"$state\",\"rep\":$rep,\"rx\":$PING_RX,\"n\":$E2E_PING_N,\"avg_ms\":$(e2e_json_str "$PING_RTT"),\"max_ms\":$(e2e_json_str "$PING_MAX")"
}

# e2e_iperf <test-id> <rep> <server-ns> <client-ns> <server-address>
#   [<ping-ns> <ping-dst>]: one iperf3 --json run of E2E_DUR seconds, with
# the CPU ticks of E2E_PIDS read just before and after the client. With a
# ping target, ping under load 1 s into the run. Returns iperf3's status.
e2e_iperf() {
    local test=$1 rep=$2 sns=$3 cns=$4 addr=$5 pns=${6:-} pdst=${7:-}
    local port=$((5201 + RANDOM % 1000)) i spid cpid rc t0 t1 args
    local base="$E2E_PAIR-$test-$rep"
    local json="$E2E_DIR/raw/$base.json" err="$E2E_DIR/raw/$base.err"
    args=$(e2e_test_args "$test") || { echo "unknown test '$test'"; return 2; }
    ip netns exec "$sns" timeout $((E2E_DUR + 15)) iperf3 -s -1 -p "$port" >"$E2E_DIR/raw/$base.server" 2>&1 &
    spid=$!
    for ((i = 0; i < 50; i++)); do
        ip netns exec "$sns" ss -ltnH "sport = :$port" 2>/dev/null | grep -q . && break
        sleep 0.05
    done
    t0=$(e2e_ticks "${E2E_PIDS[@]}")
    # shellcheck disable=SC2086
    timeout $((E2E_DUR + 10)) ip netns exec "$cns" iperf3 -c "$addr" -p "$port" -t "$E2E_DUR" \
        --connect-timeout 3000 $args --json >"$json" 2>"$err" &
    cpid=$!
    if [[ -n $pns ]]; then
        sleep 1
        e2e_ping "$pns" "$pdst" loaded "$rep"
    fi
    wait "$cpid"
    rc=$?
    t1=$(e2e_ticks "${E2E_PIDS[@]}")
    kill "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    e2e_record "\"type\":\"iperf\",\"pair\":$(e2e_json_str "$E2E_PAIR"),\"label\":$(e2e_json_str "$E2E_LABEL"),\"test\":\"$test\",\"rep\":$rep,\"rc\":$rc,\"file\":$(e2e_json_str "raw/$base.json"),\"daemons\":${#E2E_PIDS[@]},\"daemon_ticks\":$((t1 - t0)),\"clk_tck\":$E2E_CLK_TCK,\"seconds\":$E2E_DUR"
    if [[ $rc -ne 0 ]]; then
        echo "   $E2E_LABEL $test: iperf3 failed (status $rc): $(tail -c 300 "$err" | tr '\n' ' ') $(grep -o '"error":.*' "$json" | head -c 200)"
    fi
    return "$rc"
}

# e2e_tests <a-ns> <b-ns> <b-address>: every test of E2E_TESTS, E2E_REPS
# times, with the idle ping before each repetition and the loaded ping
# during tcp1-ba. Returns 0, 1 when an iperf3 run failed, or 2 when it gave
# up (a daemon of E2E_PIDS died, or two runs in a row failed: a dead tunnel
# costs each run its full timeout) with the reason in E2E_GAVE_UP.
e2e_tests() {
    local nsa=$1 nsb=$2 addr=$3 rep test st=0 fails=0 pid ping=()
    for ((rep = 1; rep <= E2E_REPS; rep++)); do
        e2e_ping "$nsa" "$addr" idle "$rep"
        for test in "${E2E_TESTS[@]}"; do
            ping=()
            [[ $test == tcp1-ba ]] && ping=("$nsa" "$addr")
            if e2e_iperf "$test" "$rep" "$nsb" "$nsa" "$addr" "${ping[@]}"; then
                fails=0
                continue
            fi
            st=1
            fails=$((fails + 1))
            for pid in "${E2E_PIDS[@]}"; do
                if ! wbt_pid_live "$pid"; then
                    E2E_GAVE_UP="a tunnel daemon (pid $pid) died during $test"
                    return 2
                fi
            done
            if ((fails >= 2)); then
                E2E_GAVE_UP="two iperf3 runs in a row failed (the last: $test)"
                return 2
            fi
        done
        wbt_log "$E2E_LABEL: repetition $rep/$E2E_REPS done"
    done
    return "$st"
}

# e2e_tunnel <A-side> <B-side>: lib.sh's standard tunnel (A initiates) over
# IPv4 on NS_A/NS_B. A side is "wb" (wireboltd) or the path of a
# wireguard-go compatible binary, started as `<path> -f <ifname>` through
# lib.sh's "go" implementation (WBT_WIREGUARD_GO). Sets IF_A, IF_B and
# E2E_PIDS, and waits for the first ping. Exits (wbt_die) on failure: run
# it in a subshell.
e2e_tunnel() {
    local a=$1 b=$2
    WBT_A=go WBT_B=go
    [[ $a == wb ]] && WBT_A=wb
    [[ $b == wb ]] && WBT_B=wb
    if [[ $a != wb ]]; then WBT_WIREGUARD_GO=$a; elif [[ $b != wb ]]; then WBT_WIREGUARD_GO=$b; fi
    if [[ $a != wb && $b != wb && $a != "$b" ]]; then
        wbt_die "e2e_tunnel: two different wireguard-go compatible binaries are not supported"
    fi
    wbt_std_tunnel 4
    E2E_PIDS=("${WBT_DPID[$IF_A]}" "${WBT_DPID[$IF_B]}")
    wbt_first_ping "$NS_A" "${WBT_T4[1]}" 10 || wbt_die "$E2E_LABEL: no reply through the tunnel within 10 s"
}

# e2e_counters <file> <ifname>...: what the daemons report after the runs:
# `wg show <if> dump` (UAPI get: per-peer bytes, handshake) and the kernel's
# counters of the TUN device (`ip -s link`: its TX "dropped" counts packets
# the daemon did not read off the TUN queue in time).
e2e_counters() {
    local file=$1 dev ns; shift
    for dev in "$@"; do
        ns=$NS_A
        [[ $dev == "$IF_B" ]] && ns=$NS_B
        {
            echo "## $dev ($ns)"
            echo "\$ wg show $dev dump"
            wbt_wg "$ns" show "$dev" dump 2>&1 | awk -F'\t' 'NR == 1 { $1 = "(private key)" } { print }' OFS='\t'
            echo "\$ ip -s link show dev $dev"
            ip -n "$ns" -s link show dev "$dev" 2>&1
        } >>"$file"
    done
}

# e2e_ns_reset: stop everything still running in NS_A/NS_B (a pair that
# failed half-way) and remove the interfaces' UAPI sockets.
e2e_ns_reset() {
    local ns pid dev i
    for ns in "$NS_A" "$NS_B"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
    done
    for ((i = 0; i < 40; i++)); do
        [[ -z $(ip netns pids "$NS_A" 2>/dev/null)$(ip netns pids "$NS_B" 2>/dev/null) ]] && break
        sleep 0.05
    done
    for ns in "$NS_A" "$NS_B"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    done
    for dev in "${WBT_IFNAMES[@]}"; do rm -f "$WBT_SOCKDIR/$dev.sock"; done
    # The daemons' TUN devices go with them; wait until they have.
    for ((i = 0; i < 40; i++)); do
        [[ -z $(ip -n "$NS_A" -o link show type tun 2>/dev/null)$(ip -n "$NS_B" -o link show type tun 2>/dev/null) ]] && break
        sleep 0.05
    done
}

# e2e_pair <pair-id> <label> <veth|A-side> [B-side]: one pairing from start
# to end, in a subshell so that a failure (lib.sh's wbt_die exits) loses
# only this pair: its records say "failed" and the report prints "-".
# "veth": iperf3 straight between the veth addresses (MTU 1500, no daemon).
e2e_pair() {
    local id=$1 label=$2 a=$3 b=${4:-}
    e2e_pair_begin "$id" "$label"
    wbt_log "$label"
    local log="$E2E_DIR/pair-$id.log" rc
    (
        if [[ $a == veth ]]; then
            E2E_PIDS=()
            e2e_tests "$NS_A" "$NS_B" "${WBT_O4[1]}"
            [[ $? -eq 2 ]] && wbt_die "$label: $E2E_GAVE_UP"
        else
            e2e_tunnel "$a" "$b"
            e2e_tests "$NS_A" "$NS_B" "${WBT_T4[1]}"
            [[ $? -eq 2 ]] && wbt_die "$label: $E2E_GAVE_UP"
            e2e_counters "$E2E_DIR/counters-$id.txt" "$IF_A" "$IF_B"
            wbt_daemon_alive "$IF_A" || wbt_die "$label: A's daemon died"
            wbt_daemon_alive "$IF_B" || wbt_die "$label: B's daemon died"
            wbt_daemon_kill "$IF_A"
            wbt_daemon_kill "$IF_B"
        fi
        exit 0
    ) 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    if [[ $rc -eq 0 ]]; then
        e2e_pair_status ok
    else
        e2e_pair_status failed "$(grep '^FAIL: ' "$log" | tail -n1 | cut -c7-)"
        local f
        for f in "$WBT_TMP"/*.log; do
            [[ -s $f ]] || continue
            echo "--- last lines of $(basename "$f"):"
            tail -n 15 "$f"
        done
    fi
    e2e_ns_reset
    # The next pair starts from empty logs.
    rm -f "$WBT_TMP"/*.log
    return "$rc"
}
