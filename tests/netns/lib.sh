# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# lib.sh - shared harness for the end-to-end tests in network namespaces:
# namespaces, veth pairs, starting and stopping WireGuard daemons (wirebolt's
# wireboltd or wireguard-go, both started the same way), configuring them with
# `wg`, and the checks every test uses (ping, iperf3, handshake, counters).
#
# A test sources this file, calls `wbt_init <name> [extra commands]`, then
# `wbt_pairing "$@"` (sides A and B: "wb" = wirebolt, "go" = wireguard-go,
# from the arguments, else $WBT_A / $WBT_B, else "wb go"), builds its set-up
# and ends with `wbt_finish`. Exit status: 0 pass, 1 fail, 77 skip.
# Everything created (namespaces, processes, sockets, /etc/netns dirs) is
# removed by the EXIT trap. Addresses: the "outside" veth networks use the
# documentation ranges 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and
# 2001:db8::/32; tunnels use 10.99.0.0/24 and fd00:99::/64.
#
# Environment: WIREBOLT_BIN_DIR (where wirebolt and wireboltd are; default
# <repo>/build/cli), WBT_WIREGUARD_GO (default wireguard-go), WBT_KEEP=1
# keeps the scratch directory with the daemons' logs, WBT_LIFETIME (seconds a
# daemon may live at most, default 300).

# Variables set here are read by the tests that source this file.
# shellcheck disable=SC2034
set -uo pipefail

WBT_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WBT_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${WIREBOLT_BIN_DIR:=$WBT_REPO/build/cli}"
: "${WBT_WIREGUARD_GO:=wireguard-go}"
: "${WBT_LIFETIME:=300}"
WBT_PYTHON=/usr/bin/python3
[[ -x $WBT_PYTHON ]] || WBT_PYTHON=$(command -v python3 || echo python3)
WBT_SOCKDIR=/var/run/wireguard
WBT_START=$SECONDS

# Tunnel addresses of side A, B (and C when a test has a third peer).
WBT_T4=(10.99.0.1 10.99.0.2 10.99.0.3)
WBT_T6=(fd00:99::1 fd00:99::2 fd00:99::3)
# Outer addresses on the A-B veth.
WBT_O4=(192.0.2.1 192.0.2.2)
WBT_O6=(2001:db8:1::1 2001:db8:1::2)
WBT_PORT_A=51820
WBT_PORT_B=51821

# ------------------------------------------------------------ reporting

wbt_log() { printf '[%s +%ds] %s\n' "$WBT_NAME" $((SECONDS - WBT_START)) "$*"; }
wbt_skip() { echo "skip: $*"; exit 77; }
# A step the rest of the test cannot do without.
wbt_die() { echo "FAIL: $*"; WBT_FAILS=$((WBT_FAILS + 1)); exit 1; }

# wbt_ok <condition-status> <description>: count one check.
wbt_ok() {
    local st=$1; shift
    WBT_CHECKS=$((WBT_CHECKS + 1))
    if [[ $st -eq 0 ]]; then
        echo "ok: $*"
    else
        echo "FAIL: $*"
        WBT_FAILS=$((WBT_FAILS + 1))
    fi
    return "$st"
}

# wbt_check <description> <command...>: run a command, count it as a check.
# Its output is shown only when it fails.
wbt_check() {
    local desc=$1 out st; shift
    out=$("$@" 2>&1)
    st=$?
    wbt_ok $st "$desc" || { [[ -n $out ]] && echo "$out"; }
    return "$st"
}

wbt_finish() {
    if [[ $WBT_FAILS -ne 0 ]]; then
        echo "RESULT $WBT_NAME ${WBT_LABEL:-}: FAIL ($WBT_FAILS of $WBT_CHECKS checks failed, $((SECONDS - WBT_START)) s)"
        exit 1
    fi
    echo "RESULT $WBT_NAME ${WBT_LABEL:-}: PASS ($WBT_CHECKS checks, $((SECONDS - WBT_START)) s)"
    exit 0
}

# ------------------------------------------------------------ set-up

# wbt_init <test-name> [commands the test needs besides ip, wg, ping, timeout]
wbt_init() {
    WBT_NAME=$1; shift
    [[ $(id -u) -eq 0 ]] || wbt_skip "needs root"
    local c
    for c in ip wg ping timeout "$@"; do
        command -v "$c" >/dev/null 2>&1 || wbt_skip "$c not installed"
    done
    umask 077
    WBT_FAILS=0
    WBT_CHECKS=0
    WBT_NSS=()
    WBT_IFNAMES=()
    WBT_UPS=()
    declare -gA WBT_DPID=() WBT_TPID=() WBT_UP_NS=() WBT_UP_FILE=()
    WBT_SFX=$(printf %05d $(($$ % 100000)))
    WBT_TMP=$(mktemp -d "/tmp/wbt-$WBT_NAME-$$.XXXXXX")
    trap wbt_cleanup EXIT
    trap 'exit 1' INT TERM HUP
    mkdir -p "$WBT_SOCKDIR"
}

# wbt_impl_check <wb|go>: skip the test when that implementation is absent.
wbt_impl_check() {
    case $1 in
    go) command -v "$WBT_WIREGUARD_GO" >/dev/null 2>&1 || wbt_skip "wireguard-go not installed" ;;
    wb) [[ -x $WIREBOLT_BIN_DIR/wireboltd ]] ||
            wbt_skip "wireboltd not built (no $WIREBOLT_BIN_DIR/wireboltd)" ;;
    *) echo "unknown implementation '$1' (wb = wirebolt, go = wireguard-go)"; exit 2 ;;
    esac
}

wbt_impl_name() { case $1 in wb) echo wirebolt ;; go) echo wireguard-go ;; *) echo "$1" ;; esac; }

# wbt_pairing [A B]: sides from the arguments or $WBT_A/$WBT_B (default wb go).
wbt_pairing() {
    WBT_A=${1:-${WBT_A:-wb}}
    WBT_B=${2:-${WBT_B:-go}}
    wbt_impl_check "$WBT_A"
    wbt_impl_check "$WBT_B"
    WBT_LABEL="[A=$(wbt_impl_name "$WBT_A") B=$(wbt_impl_name "$WBT_B")]"
    wbt_log "pairing: A = $(wbt_impl_name "$WBT_A"), B = $(wbt_impl_name "$WBT_B")"
}

# wbt_ifname <var> <letter>: store in <var> a WireGuard interface name
# unique to this test run. Names are global: the UAPI sockets live in
# /var/run/wireguard whatever the network namespace.
wbt_ifname() {
    local n="wb$2$WBT_SFX"
    [[ -e $WBT_SOCKDIR/$n.sock ]] && wbt_die "$WBT_SOCKDIR/$n.sock already exists (another run?)"
    WBT_IFNAMES+=("$n")
    printf -v "$1" %s "$n"
}

# wbt_ns <var> <letter>: create namespace wbt-<test>-<pid>-<letter>, lo up,
# no IPv6 duplicate address detection; store its name in <var>.
wbt_ns() {
    local ns="wbt-$WBT_NAME-$$-$2"
    ip netns add "$ns" || wbt_die "ip netns add $ns"
    WBT_NSS+=("$ns")
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 >/dev/null
    printf -v "$1" %s "$ns"
}

# wbt_veth <ns1> <if1> <ns2> <if2>: a veth pair between two namespaces, up.
wbt_veth() {
    ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || wbt_die "veth $1/$2 - $3/$4"
    ip -n "$1" link set "$2" up
    ip -n "$3" link set "$4" up
}

# wbt_addr <ns> <if> <prefix>...: add addresses (IPv6 ones without DAD).
wbt_addr() {
    local ns=$1 dev=$2 a; shift 2
    for a in "$@"; do
        if [[ $a == *:* ]]; then
            ip -n "$ns" -6 addr add "$a" dev "$dev" nodad || wbt_die "ip addr add $a dev $dev in $ns"
        else
            ip -n "$ns" addr add "$a" dev "$dev" || wbt_die "ip addr add $a dev $dev in $ns"
        fi
    done
}

# wbt_two_ns: namespaces NS_A and NS_B joined by veth vAB <-> vBA carrying
# 192.0.2.1/24 + 2001:db8:1::1/64 (A) and .2 / ::2 (B).
wbt_two_ns() {
    wbt_ns NS_A a
    wbt_ns NS_B b
    wbt_veth "$NS_A" vAB "$NS_B" vBA
    wbt_addr "$NS_A" vAB "${WBT_O4[0]}/24" "${WBT_O6[0]}/64"
    wbt_addr "$NS_B" vBA "${WBT_O4[1]}/24" "${WBT_O6[1]}/64"
}

# wbt_etc_dir <ns>: create /etc/netns/<ns>/ (files there replace /etc's
# under `ip netns exec <ns>`: a namespace's own resolv.conf); ETC_DIR = it.
wbt_etc_dir() {
    [[ -d /etc/netns ]] || WBT_MADE_ETC_NETNS=1
    if ! mkdir -p "/etc/netns/$1" || ! chmod 755 /etc/netns "/etc/netns/$1"; then
        wbt_die "mkdir /etc/netns/$1"
    fi
    ETC_DIR=/etc/netns/$1
}

# ------------------------------------------------------------ daemons

# wbt_keypair <var-prefix>: <prefix>_KEY (private, base64), <prefix>_PUB and
# <prefix>_KEYFILE (the private key in a file, for `wg set private-key`).
wbt_keypair() {
    local k
    k=$(wg genkey) || wbt_die "wg genkey"
    printf -v "$1_KEY" %s "$k"
    printf -v "$1_PUB" %s "$(printf %s "$k" | wg pubkey)"
    printf %s "$k" >"$WBT_TMP/$1.key"
    printf -v "$1_KEYFILE" %s "$WBT_TMP/$1.key"
}

# wbt_daemon_cmd <impl> <ifname>: the foreground command line of a daemon.
wbt_daemon_cmd() {
    case $1 in
    go) echo "$WBT_WIREGUARD_GO -f $2" ;;
    wb) echo "$WIREBOLT_BIN_DIR/wireboltd -f $2" ;;
    esac
}

# wbt_daemon_start <ns> <impl> <ifname>: start a daemon in the foreground
# (in a background subshell of this shell, bounded by `timeout`), log to
# $WBT_TMP/<if>.log, wait for its UAPI socket. WBT_DPID[<if>] is the
# daemon's own pid, WBT_TPID[<if>] the subshell's. (The subshell, which does
# not exec, keeps bash from reporting "Killed" when a test kills a daemon.)
wbt_daemon_start() {
    local ns=$1 impl=$2 dev=$3 tpid dpid="" i
    (
        # shellcheck disable=SC2046
        ip netns exec "$ns" env LOG_LEVEL=verbose WIREBOLT_LOG="${WBT_WIREBOLT_LOG:-info}" timeout -s KILL "$WBT_LIFETIME" \
            $(wbt_daemon_cmd "$impl" "$dev") >>"$WBT_TMP/$dev.log" 2>&1
        exit $?
    ) 2>/dev/null &
    tpid=$!
    WBT_TPID[$dev]=$tpid
    for ((i = 0; i < 100; i++)); do
        [[ -z $dpid ]] && dpid=$(pgrep -P "$(pgrep -P "$tpid" | head -n1)" 2>/dev/null | head -n1)
        [[ -n $dpid && -S $WBT_SOCKDIR/$dev.sock ]] && ip -n "$ns" link show "$dev" >/dev/null 2>&1 && break
        kill -0 "$tpid" 2>/dev/null || break
        sleep 0.05
    done
    if [[ -z $dpid || ! -S $WBT_SOCKDIR/$dev.sock ]]; then
        echo "--- $dev.log:"; cat "$WBT_TMP/$dev.log"
        wbt_die "$(wbt_impl_name "$impl") did not start on $dev in $ns (no process or no $WBT_SOCKDIR/$dev.sock after 5 s)"
    fi
    WBT_DPID[$dev]=$dpid
}



# wbt_pid_live <pid>: the process exists and is not a zombie (this
# machine's init may reap daemonized orphans late).
wbt_pid_live() {
    local st
    st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ -n $st && $st != Z && $st != X ]]
}

# wbt_wait_exit <pid> [seconds]: wait for a process to end (default 5 s).
wbt_wait_exit() {
    local i
    for ((i = 0; i < ${2:-5} * 20; i++)); do
        wbt_pid_live "$1" || return 0
        sleep 0.05
    done
    return 1
}

# wbt_daemon_alive <ifname>
wbt_daemon_alive() { wbt_pid_live "${WBT_DPID[$1]}"; }

# wbt_daemon_kill <ifname> [signal]: stop a daemon and wait for it (3 s),
# then remove its socket if it left one.
wbt_daemon_kill() {
    local dev=$1 sig=${2:-TERM} i
    kill "-$sig" "${WBT_DPID[$dev]}" 2>/dev/null
    for ((i = 0; i < 60; i++)); do
        kill -0 "${WBT_TPID[$dev]}" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "${WBT_TPID[$dev]}" "${WBT_DPID[$dev]}" 2>/dev/null
    wait "${WBT_TPID[$dev]}" 2>/dev/null
    rm -f "$WBT_SOCKDIR/$dev.sock"
}

# wbt_wirebolt_check: skip unless the `wirebolt` program is built.
wbt_wirebolt_check() {
    [[ -x $WIREBOLT_BIN_DIR/wirebolt ]] || wbt_skip "wirebolt not built (no $WIREBOLT_BIN_DIR/wirebolt)"
}

# wbt_up <ns> <config-file>: `wirebolt up <file>` in <ns> (it detaches once
# set up); output in $WBT_TMP/<if>.up.log. Registers the interface for
# `wirebolt down` at cleanup. Sets UP_PID from /run/wirebolt/<if>.pid.
wbt_up() {
    local ns=$1 conf=$2 dev rc
    dev=$(basename "$conf" .conf)
    WBT_UPS+=("$dev")
    WBT_UP_NS[$dev]=$ns
    WBT_UP_FILE[$dev]=$conf
    timeout 30 ip netns exec "$ns" env WIREBOLT_LOG="${WBT_WIREBOLT_LOG:-info}" \
        "$WIREBOLT_BIN_DIR/wirebolt" up "$conf" >"$WBT_TMP/$dev.up.log" 2>&1
    rc=$?
    UP_PID=$(cat "/run/wirebolt/$dev.pid" 2>/dev/null)
    return $rc
}

# wbt_down <ns> <config-file>: `wirebolt down <file>`; output in <if>.down.log.
wbt_down() {
    local ns=$1 conf=$2 dev
    dev=$(basename "$conf" .conf)
    WBT_UP_NS[$dev]=
    timeout 30 ip netns exec "$ns" "$WIREBOLT_BIN_DIR/wirebolt" down "$conf" >"$WBT_TMP/$dev.down.log" 2>&1
}

# wbt_wg <ns> <wg arguments...>
wbt_wg() { local ns=$1; shift; timeout 10 ip netns exec "$ns" wg "$@"; }

# wbt_link_up <ns> <if> [mtu]: addresses are added separately (wbt_addr).
wbt_link_up() {
    ip -n "$1" link set "$2" mtu "${3:-1420}" up || wbt_die "ip link set $2 up in $1"
}

# wbt_endpoint <4|6> <index>: outer endpoint of side A (0) or B (1).
wbt_endpoint() {
    local port=$WBT_PORT_A
    [[ $2 -eq 1 ]] && port=$WBT_PORT_B
    if [[ $1 == 6 ]]; then echo "[${WBT_O6[$2]}]:$port"; else echo "${WBT_O4[$2]}:$port"; fi
}

# wbt_std_tunnel <4|6> [psk-file-A [psk-file-B]]: the standard tunnel on top
# of wbt_two_ns. IF_A (impl $WBT_A, port 51820) knows B's endpoint and is the
# initiator; IF_B (impl $WBT_B, port 51821) has no endpoint for A and learns
# it from A's handshake. Tunnel: 10.99.0.1/24 fd00:99::1/64 - .2 / ::2.
wbt_std_tunnel() {
    local outer=$1 psk_a=${2:-} psk_b=${3:-}
    local pa=() pb=()
    [[ -n $psk_a ]] && pa=(preshared-key "$psk_a")
    [[ -n $psk_b ]] && pb=(preshared-key "$psk_b")
    wbt_ifname IF_A A
    wbt_ifname IF_B B
    wbt_keypair KA
    wbt_keypair KB
    wbt_daemon_start "$NS_A" "$WBT_A" "$IF_A"
    wbt_daemon_start "$NS_B" "$WBT_B" "$IF_B"
    wbt_wg "$NS_A" set "$IF_A" private-key "$KA_KEYFILE" listen-port "$WBT_PORT_A" \
        peer "$KB_PUB" "${pa[@]}" endpoint "$(wbt_endpoint "$outer" 1)" \
        allowed-ips "${WBT_T4[1]}/32,${WBT_T6[1]}/128" || wbt_die "wg set $IF_A"
    wbt_wg "$NS_B" set "$IF_B" private-key "$KB_KEYFILE" listen-port "$WBT_PORT_B" \
        peer "$KA_PUB" "${pb[@]}" allowed-ips "${WBT_T4[0]}/32,${WBT_T6[0]}/128" || wbt_die "wg set $IF_B"
    wbt_addr "$NS_A" "$IF_A" "${WBT_T4[0]}/24" "${WBT_T6[0]}/64"
    wbt_addr "$NS_B" "$IF_B" "${WBT_T4[1]}/24" "${WBT_T6[1]}/64"
    wbt_link_up "$NS_A" "$IF_A"
    wbt_link_up "$NS_B" "$IF_B"
    wbt_log "tunnel $IF_A ($(wbt_impl_name "$WBT_A"), $NS_A) -> $IF_B ($(wbt_impl_name "$WBT_B"), $NS_B) over IPv$outer"
}

# ------------------------------------------------------------ measurements

# wbt_ping <ns> <dst> <count> [ping options...]: sets PING_RX (replies
# received), PING_RTT and PING_MAX (average and largest RTT in ms, or "-")
# and PING_OUT (the output).
# Returns 0 when every probe was answered.
wbt_ping() {
    local ns=$1 dst=$2 n=$3; shift 3
    PING_OUT=$(timeout $((n * 2 + 5)) ip netns exec "$ns" ping -n -c "$n" -W 2 -i 0.2 "$@" "$dst" 2>&1)
    PING_RX=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$PING_OUT")
    PING_RX=${PING_RX:-0}
    PING_RTT=$(sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p' <<<"$PING_OUT")
    PING_RTT=${PING_RTT:--}
    PING_MAX=$(sed -n 's|^rtt [^=]*= [0-9.]*/[0-9.]*/\([0-9.]*\)/.*|\1|p' <<<"$PING_OUT")
    PING_MAX=${PING_MAX:--}
    [[ $PING_RX -eq $n ]]
}

# wbt_ping_check <ns> <dst> <count> <description> [ping options...]
wbt_ping_check() {
    local ns=$1 dst=$2 n=$3 desc=$4; shift 4
    wbt_ping "$ns" "$dst" "$n" "$@"
    wbt_ok $? "$desc: ping $dst $*: $PING_RX/$n replies, avg rtt $PING_RTT ms" || echo "$PING_OUT"
}

# wbt_ping_none <ns> <dst> <count> <description> [ping options...]: no reply.
wbt_ping_none() {
    local ns=$1 dst=$2 n=$3 desc=$4; shift 4
    wbt_ping "$ns" "$dst" "$n" "$@"
    [[ $PING_RX -eq 0 ]]
    wbt_ok $? "$desc: ping $dst $*: $PING_RX/$n replies (expected none)" || echo "$PING_OUT"
}

# wbt_first_ping <ns> <dst> [seconds]: ping once a second until a reply
# (the first packet triggers the handshake). Sets FIRST_PING_S.
wbt_first_ping() {
    local ns=$1 dst=$2 limit=${3:-10} t0=$SECONDS
    while ((SECONDS - t0 < limit)); do
        if timeout 5 ip netns exec "$ns" ping -n -c 1 -W 1 "$dst" >/dev/null 2>&1; then
            FIRST_PING_S=$((SECONDS - t0))
            return 0
        fi
        sleep 0.2
    done
    FIRST_PING_S=-
    return 1
}

# wbt_handshake <ns> <if>: latest handshake (unix seconds) of the first peer.
wbt_handshake() { wbt_wg "$1" show "$2" latest-handshakes | awk 'NR == 1 { print $2 }'; }

# wbt_transfer <ns> <if> [peer-pub]: "<rx> <tx>" bytes of the first (or given) peer.
wbt_transfer() {
    wbt_wg "$1" show "$2" transfer | awk -v p="${3:-}" 'p == "" || $1 == p { print $2, $3; exit }'
}

# wbt_endpoint_of <ns> <if>: endpoint of the first peer as `wg show` prints it.
wbt_endpoint_of() { wbt_wg "$1" show "$2" endpoints | awk 'NR == 1 { print $2 }'; }

# wbt_iperf <server-ns> <client-ns> <server-address> [-R]: 3 s of TCP; sets
# IPERF_MBPS (receiver's figure). Returns non-zero when iperf3 failed.
wbt_iperf() {
    local sns=$1 cns=$2 addr=$3; shift 3
    local port=$((5201 + RANDOM % 1000)) out i
    ip netns exec "$sns" timeout 20 iperf3 -s -1 -p "$port" >"$WBT_TMP/iperf-server.log" 2>&1 &
    local spid=$!
    for ((i = 0; i < 50; i++)); do
        ip netns exec "$sns" ss -ltnH "sport = :$port" 2>/dev/null | grep -q . && break
        sleep 0.05
    done
    out=$(timeout 20 ip netns exec "$cns" iperf3 -c "$addr" -p "$port" -t 3 -f m "$@" 2>&1)
    local rc=$?
    kill "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    IPERF_MBPS=$(awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1) } END { print v }' <<<"$out")
    if [[ $rc -ne 0 || -z $IPERF_MBPS ]]; then
        IPERF_MBPS=-
        echo "$out" | tail -n 5
        return 1
    fi
    return 0
}

# ------------------------------------------------------------ cleanup

wbt_cleanup() {
    local rc=$? ns pid dev f
    trap - EXIT INT TERM HUP
    if [[ $rc -ne 0 && $rc -ne 77 && -d ${WBT_TMP:-/nonexistent} ]]; then
        for f in "$WBT_TMP"/*.log; do
            [[ -s $f ]] || continue
            echo "--- last lines of $(basename "$f"):"
            tail -n 40 "$f"
        done
    fi
    for dev in "${WBT_UPS[@]}"; do
        [[ -n ${WBT_UP_NS[$dev]:-} ]] || continue
        timeout 20 ip netns exec "${WBT_UP_NS[$dev]}" "$WIREBOLT_BIN_DIR/wirebolt" down \
            "${WBT_UP_FILE[$dev]}" >/dev/null 2>&1
    done
    for ns in "${WBT_NSS[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
    done
    sleep 0.3
    for ns in "${WBT_NSS[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    done
    for dev in "${!WBT_TPID[@]}"; do
        kill -KILL "${WBT_TPID[$dev]}" 2>/dev/null
    done
    wait 2>/dev/null
    for ns in "${WBT_NSS[@]}"; do
        ip netns del "$ns" 2>/dev/null
        rm -rf "/etc/netns/$ns"
    done
    [[ ${WBT_MADE_ETC_NETNS:-0} == 1 ]] && rmdir /etc/netns 2>/dev/null
    for dev in "${WBT_IFNAMES[@]}"; do
        rm -f "$WBT_SOCKDIR/$dev.sock" "/run/wirebolt/$dev.pid"
    done
    if [[ -n ${WBT_TMP:-} ]]; then
        if [[ ${WBT_KEEP:-0} == 1 ]]; then echo "logs kept in $WBT_TMP"; else rm -rf "$WBT_TMP"; fi
    fi
    exit "$rc"
}
