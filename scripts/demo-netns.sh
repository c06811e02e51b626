#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# demo-netns.sh - the main job, for real: two network namespaces joined by a
# veth pair.
#  1. Interop: `wirebolt up` (from a wg-quick file) in one namespace,
#     Debian's wireguard-go in the other: the handshake, IPv4 and IPv6
#     pings, iperf3 TCP each way.
#  2. In the same run and namespaces, the same iperf3 runs with wirebolt on
#     both ends (wireboltd), with wireguard-go on both ends, and over the
#     plain veth (no tunnel, the ceiling), with the ratios and the daemons'
#     CPU seconds per GB.
# 3 s per iperf3 run (DEMO_SECONDS overrides); about 40 s in all. The
# measuring is perf/bench-e2e.sh's (perf/e2e_lib.sh, perf/e2e_report.py),
# which adds -P4, UDP and repetitions. Everything it creates is removed on
# exit; no packet leaves the namespaces. Needs root, wireguard-go,
# wireguard-tools, iperf3, iproute2, ping and python3, and the build in
# ./build (WIREBOLT_BIN_DIR overrides ./build/cli).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export WIREBOLT_BIN_DIR=${WIREBOLT_BIN_DIR:-$PWD/build/cli}
# shellcheck source-path=SCRIPTDIR source=../tests/netns/lib.sh
source tests/netns/lib.sh
# shellcheck source-path=SCRIPTDIR source=../perf/e2e_lib.sh
source perf/e2e_lib.sh
wbt_init demo iperf3 ss wireguard-go getconf "$WBT_PYTHON"
wbt_wirebolt_check
wbt_impl_check wb

E2E_DIR=$WBT_TMP/e2e
# shellcheck disable=SC2034  # read by e2e_lib.sh
E2E_DUR=${DEMO_SECONDS:-3} E2E_REPS=1 E2E_TESTS=(tcp1-ab tcp1-ba)
e2e_write_meta "wirebolt demo" veth wb go wbup-go

wbt_two_ns
wbt_ifname IF_A A
wbt_ifname IF_B B
wbt_keypair KA
wbt_keypair KB

# ---------------------------------------------- 1. wirebolt up <-> wireguard-go
# B: wireguard-go, configured with wg(8).
wbt_daemon_start "$NS_B" go "$IF_B"
wbt_wg "$NS_B" set "$IF_B" private-key "$KB_KEYFILE" listen-port "$WBT_PORT_B" \
    peer "$KA_PUB" allowed-ips "${WBT_T4[0]}/32,${WBT_T6[0]}/128" || wbt_die "wg set $IF_B"
wbt_addr "$NS_B" "$IF_B" "${WBT_T4[1]}/24" "${WBT_T6[1]}/64"
wbt_link_up "$NS_B" "$IF_B"

# A: wirebolt, from a wg-quick style file.
conf=$WBT_TMP/$IF_A.conf
cat >"$conf" <<EOF
[Interface]
PrivateKey = $KA_KEY
ListenPort = $WBT_PORT_A
Address = ${WBT_T4[0]}/24, ${WBT_T6[0]}/64

[Peer]
PublicKey = $KB_PUB
Endpoint = $(wbt_endpoint 4 1)
AllowedIPs = ${WBT_T4[1]}/32, ${WBT_T6[1]}/128
EOF
echo "== wirebolt up $IF_A.conf (namespace $NS_A) <-> wireguard-go $IF_B (namespace $NS_B)"
wbt_up "$NS_A" "$conf" || { cat "$WBT_TMP/$IF_A.up.log"; wbt_die "wirebolt up failed"; }
sed 's/^/   /' "$WBT_TMP/$IF_A.up.log"

t0=$(date +%s%N)
wbt_first_ping "$NS_A" "${WBT_T4[1]}" 10 || wbt_die "no reply through the tunnel within 10 s"
t1=$(date +%s%N)
first_ms=$(((t1 - t0) / 1000000))
hs=$(wbt_handshake "$NS_A" "$IF_A")
echo
echo "== wirebolt show $IF_A"
timeout 10 ip netns exec "$NS_A" "$WIREBOLT_BIN_DIR/wirebolt" show "$IF_A" | sed 's/^/   /'
wbt_ping "$NS_A" "${WBT_T4[1]}" 10
ping4="$PING_RX/10 replies, avg RTT $PING_RTT ms"
wbt_ping "$NS_A" "${WBT_T6[1]}" 10
ping6="$PING_RX/10 replies, avg RTT $PING_RTT ms"

echo
echo "== iperf3 TCP, ${E2E_DUR} s each way"
e2e_pair_begin wbup-go "wirebolt up↔wireguard-go"
E2E_PIDS=("$UP_PID" "${WBT_DPID[$IF_B]}")
e2e_tests "$NS_A" "$NS_B" "${WBT_T4[1]}"
interop_rc=$?
e2e_pair_status ok
wbt_down "$NS_A" "$conf" || cat "$WBT_TMP/$IF_A.down.log"
wbt_daemon_kill "$IF_B"
e2e_ns_reset
rm -f "$WBT_TMP"/*.log

# ---------------------------------------------- 2. the same runs, same-implementation pairs
e2e_pair veth "veth (no tunnel)" veth
e2e_pair wb "wirebolt↔wirebolt" wb wb
e2e_pair go "wireguard-go↔wireguard-go" "$WBT_WIREGUARD_GO" "$WBT_WIREGUARD_GO"

cat <<EOF

== result ($(nproc) CPUs, veth, tunnel MTU 1420)
   handshake:  wirebolt initiated, first reply after $first_ms ms (latest handshake $(date -d "@${hs:-0}" +%T))
   ping:       IPv4 $ping4
               IPv6 $ping6
   (A = the namespace that initiates and runs the iperf3 client; B→A is iperf3 -R)

EOF
"$WBT_PYTHON" perf/e2e_report.py --brief "$E2E_DIR" | sed -n '/^## /,$p'
exit "$interop_rc"
