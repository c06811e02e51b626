#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_handshake.sh [A B] - side A initiates the handshake to side B, first
# over an IPv4 outer network, then (fresh daemons and keys) over IPv6. Each
# time: B learns A's endpoint, both report the handshake, IPv4 and IPv6 pings
# inside the tunnel both ways; over IPv4, iperf3 TCP 3 s each way. Last,
# both sides get each other's endpoint and ping at once (crossed handshakes).
# A, B: wb (wirebolt) or go (wireguard-go). Run with "wb go" and "go wb" to
# have each implementation initiate.
source "$(dirname "$0")/lib.sh"
wbt_init handshake iperf3 ss
wbt_pairing "$@"

for outer in 4 6; do
    wbt_two_ns
    wbt_std_tunnel "$outer"

    wbt_first_ping "$NS_A" "${WBT_T4[1]}" 10
    wbt_ok $? "outer IPv$outer: first ping A -> B answered after ${FIRST_PING_S} s (handshake initiated by A)" || continue
    hs_a=$(wbt_handshake "$NS_A" "$IF_A")
    hs_b=$(wbt_handshake "$NS_B" "$IF_B")
    [[ ${hs_a:-0} -gt 0 && ${hs_b:-0} -gt 0 ]]
    wbt_ok $? "outer IPv$outer: latest handshake reported by A ($hs_a) and B ($hs_b)"
    ep_b=$(wbt_endpoint_of "$NS_B" "$IF_B")
    [[ $ep_b == "$(wbt_endpoint "$outer" 0)" ]]
    wbt_ok $? "outer IPv$outer: B learned A's endpoint: $ep_b (expected $(wbt_endpoint "$outer" 0))"

    wbt_ping_check "$NS_A" "${WBT_T4[1]}" 10 "outer IPv$outer, inner IPv4 A -> B"
    wbt_ping_check "$NS_A" "${WBT_T6[1]}" 10 "outer IPv$outer, inner IPv6 A -> B"
    wbt_ping_check "$NS_B" "${WBT_T4[0]}" 10 "outer IPv$outer, inner IPv4 B -> A"
    wbt_ping_check "$NS_B" "${WBT_T6[0]}" 10 "outer IPv$outer, inner IPv6 B -> A"

    if [[ $outer == 4 ]]; then
        wbt_iperf "$NS_B" "$NS_A" "${WBT_T4[1]}"
        wbt_ok $? "iperf3 TCP A -> B (A sends): $IPERF_MBPS Mbit/s"
        up=$IPERF_MBPS
        wbt_iperf "$NS_B" "$NS_A" "${WBT_T4[1]}" -R
        wbt_ok $? "iperf3 TCP B -> A (B sends): $IPERF_MBPS Mbit/s"
        echo "FIGURE iperf3 $WBT_LABEL A->B $up Mbit/s, B->A $IPERF_MBPS Mbit/s"
    fi
    wbt_check "A daemon still running" wbt_daemon_alive "$IF_A"
    wbt_check "B daemon still running" wbt_daemon_alive "$IF_B"

    wbt_daemon_kill "$IF_A"
    wbt_daemon_kill "$IF_B"
    ip netns del "$NS_A"
    ip netns del "$NS_B"
    WBT_NSS=()
done

# Both sides know each other's endpoint and start sending at the same
# moment: the initiations may cross. With one handshake slot per peer (the
# Linux module, wireguard-go) each side then answers the other's initiation
# and drops the response to its own, and the tunnel comes up on a later
# round. Both pings run on the same 200 ms grid, so when REKEY_TIMEOUT (5 s)
# lapses the next ping on each side starts a fresh initiation at nearly the
# same moment and they can cross a second time: wireguard-go on both ends
# shows 5.0 s and 10.1 s in this very setup. Expected: both directions
# answered within two rounds (2 x 5.333 s + margin = 12 s), steadily after.
wbt_two_ns
wbt_std_tunnel 4
wbt_wg "$NS_B" set "$IF_B" peer "$KA_PUB" endpoint "$(wbt_endpoint 4 0)" || wbt_die "wg set $IF_B endpoint"
t0=$(date +%s.%N)
timeout 20 ip netns exec "$NS_A" ping -D -n -c 50 -i 0.2 -W 2 "${WBT_T4[1]}" >"$WBT_TMP/cross_a.txt" 2>&1 &
ping_a=$!
timeout 20 ip netns exec "$NS_B" ping -D -n -c 50 -i 0.2 -W 2 "${WBT_T4[0]}" >"$WBT_TMP/cross_b.txt" 2>&1 &
ping_b=$!
wait "$ping_a" "$ping_b"
# first <file>: seconds from t0 to the first reply; tail <file>: replies to probes 41-50.
first() { awk -F'[][]' -v t="$t0" '/bytes from/ { printf "%.1f", $2 - t; exit }' "$1"; }
tail10() { grep -Ec 'icmp_seq=(4[1-9]|50) ' "$1"; }
fa=$(first "$WBT_TMP/cross_a.txt") fb=$(first "$WBT_TMP/cross_b.txt")
awk -v a="${fa:-99}" -v b="${fb:-99}" 'BEGIN { exit !(a <= 12 && b <= 12) }'
wbt_ok $? "both sides start at once: first reply A -> B after ${fa:--} s, B -> A after ${fb:--} s (limit 12 s)"
ta=$(tail10 "$WBT_TMP/cross_a.txt") tb=$(tail10 "$WBT_TMP/cross_b.txt")
[[ $ta -ge 9 && $tb -ge 9 ]]
wbt_ok $? "then steady: the last 10 probes answered A -> B $ta/10, B -> A $tb/10"
wbt_finish
