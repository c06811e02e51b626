#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# demo-netns.sh - the main job, for real: two network namespaces joined by a
# veth pair; `wirebolt up` in one, wireguard-go (Debian's) in the other.
# Prints the handshake, the ping RTT and iperf3 TCP throughput both ways
# (3 s each), then the same iperf3 run with wireguard-go on both ends, on
# the same machine in the same run, for comparison. Everything it creates
# is removed on exit; no packet leaves the namespaces.
# Needs root, wireguard-go, wireguard-tools, iperf3, iproute2 and ping, and
# the build in ./build (WIREBOLT_BIN_DIR overrides ./build/cli).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export WIREBOLT_BIN_DIR=${WIREBOLT_BIN_DIR:-$PWD/build/cli}
# shellcheck source-path=SCRIPTDIR source=../tests/netns/lib.sh
source tests/netns/lib.sh
wbt_init demo iperf3 ss wireguard-go
wbt_wirebolt_check
wbt_impl_check wb

wbt_two_ns
wbt_ifname IF_A A
wbt_ifname IF_B B
wbt_keypair KA
wbt_keypair KB

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
echo "== wirebolt up $IF_A.conf (namespace $NS_A)"
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
echo "== iperf3, wirebolt <-> wireguard-go"
wbt_iperf "$NS_B" "$NS_A" "${WBT_T4[1]}"; wb_up=$IPERF_MBPS
wbt_iperf "$NS_B" "$NS_A" "${WBT_T4[1]}" -R; wb_down=$IPERF_MBPS
wbt_down "$NS_A" "$conf" || cat "$WBT_TMP/$IF_A.down.log"

echo "== iperf3, wireguard-go <-> wireguard-go (same keys, same namespaces)"
wbt_daemon_start "$NS_A" go "$IF_A"
wbt_wg "$NS_A" set "$IF_A" private-key "$KA_KEYFILE" listen-port "$WBT_PORT_A" \
    peer "$KB_PUB" endpoint "$(wbt_endpoint 4 1)" allowed-ips "${WBT_T4[1]}/32,${WBT_T6[1]}/128" ||
    wbt_die "wg set $IF_A"
wbt_addr "$NS_A" "$IF_A" "${WBT_T4[0]}/24" "${WBT_T6[0]}/64"
wbt_link_up "$NS_A" "$IF_A"
wbt_first_ping "$NS_A" "${WBT_T4[1]}" 10 || wbt_die "wireguard-go <-> wireguard-go: no reply within 10 s"
wbt_iperf "$NS_B" "$NS_A" "${WBT_T4[1]}"; go_up=$IPERF_MBPS
wbt_iperf "$NS_B" "$NS_A" "${WBT_T4[1]}" -R; go_down=$IPERF_MBPS

cat <<EOF

== result ($(nproc) CPUs, veth, tunnel MTU 1420)
   handshake:  wirebolt initiated, first reply after $first_ms ms (latest handshake $(date -d "@$hs" +%T))
   ping:       IPv4 $ping4
               IPv6 $ping6
   iperf3 TCP, 3 s each way          wirebolt <-> wireguard-go   wireguard-go <-> wireguard-go
               A -> B (A sends)      $(printf '%8s Mbit/s' "$wb_up")             $(printf '%8s Mbit/s' "$go_up")
               B -> A (B sends)      $(printf '%8s Mbit/s' "$wb_down")             $(printf '%8s Mbit/s' "$go_down")
   (A = wirebolt, then wireguard-go; B = wireguard-go throughout)
EOF
[[ $wb_up != - && $wb_down != - ]] || exit 1
exit 0
