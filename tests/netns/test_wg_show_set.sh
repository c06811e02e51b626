#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_wg_show_set.sh [A B] - `wg show` on both sides reports the handshake
# and byte counts that match the traffic sent; then, while pings run every
# 0.2 s from A to B (10.99.0.2), to a second address of B (10.99.1.2) and to
# a third peer C (10.99.0.3, same implementation as B), `wg set` on A adds
# the allowed IP 10.99.1.2/32 and the peer C, then removes both. Pings to
# 10.99.0.2 never stop; the others are answered only in between.
source "$(dirname "$0")/lib.sh"
wbt_init wg-show-set ss
wbt_pairing "$@"

wbt_two_ns
wbt_std_tunnel 4
wbt_ns NS_C c
wbt_veth "$NS_A" vAC "$NS_C" vCA
wbt_addr "$NS_A" vAC 198.51.100.1/24
wbt_addr "$NS_C" vCA 198.51.100.3/24
wbt_ifname IF_C C
wbt_keypair KC
wbt_daemon_start "$NS_C" "$WBT_B" "$IF_C"
wbt_wg "$NS_C" set "$IF_C" private-key "$KC_KEYFILE" listen-port 51822 \
    peer "$KA_PUB" allowed-ips "${WBT_T4[0]}/32" || wbt_die "wg set $IF_C"
wbt_addr "$NS_C" "$IF_C" "${WBT_T4[2]}/24"
wbt_link_up "$NS_C" "$IF_C"
wbt_addr "$NS_B" "$IF_B" 10.99.1.2/32
ip -n "$NS_A" route add 10.99.1.0/24 dev "$IF_A" || wbt_die "route 10.99.1.0/24 on A"

# --- wg show after a handshake and known traffic
wbt_first_ping "$NS_A" "${WBT_T4[1]}" 10 || wbt_die "tunnel A -> B did not come up in 10 s"
# wg compares the handshake time with time(), which lags CLOCK_REALTIME by up
# to a tick. wireguard-go records the precise clock, so a show within a tick
# of its handshake can print "System clock wound backward". wirebolt records
# the coarse clock (test_tunnel_handshake checks it never runs ahead).
sleep 0.05
for side in A B; do
    ns_var=NS_$side if_var=IF_$side
    out=$(wbt_wg "${!ns_var}" show "${!if_var}")
    grep -Eq 'latest handshake: [0-9]+ seconds? ago|latest handshake: Now' <<<"$out" &&
        grep -Eq 'transfer: [0-9.]+ [KMG]?i?B received, [0-9.]+ [KMG]?i?B sent' <<<"$out"
    wbt_ok $? "wg show ${!if_var} (side $side) reports a handshake and transfer" || echo "$out"
done
read -r rx_a0 tx_a0 < <(wbt_transfer "$NS_A" "$IF_A")
read -r rx_b0 tx_b0 < <(wbt_transfer "$NS_B" "$IF_B")
wbt_ping_check "$NS_A" "${WBT_T4[1]}" 20 "20 pings A -> B"
read -r rx_a1 tx_a1 < <(wbt_transfer "$NS_A" "$IF_A")
read -r rx_b1 tx_b1 < <(wbt_transfer "$NS_B" "$IF_B")
d_txa=$((tx_a1 - tx_a0)) d_rxa=$((rx_a1 - rx_a0)) d_txb=$((tx_b1 - tx_b0)) d_rxb=$((rx_b1 - rx_b0))
echo "transfer deltas for 20 pings of 84 bytes: A tx $d_txa rx $d_rxa, B tx $d_txb rx $d_rxb"
# Each echo is 84 bytes of IPv4, 96 padded, 128 as a WireGuard message.
min=$((20 * (84 + 32)))
near() { local x=$1 y=$2; ((x - y < 256 + y / 10 && y - x < 256 + x / 10)); }
[[ $d_txa -ge $min && $d_rxb -ge $min && $d_txb -ge $min && $d_rxa -ge $min ]]
wbt_ok $? "byte counters grew by at least 20 x 116 bytes each way"
near "$d_txa" "$d_rxb"
wbt_ok $? "A's tx delta ($d_txa) matches B's rx delta ($d_rxb)"
near "$d_txb" "$d_rxa"
wbt_ok $? "B's tx delta ($d_txb) matches A's rx delta ($d_rxa)"

# --- wg set while pings run
ping_bg() { # <dst> <file>
    timeout 30 ip netns exec "$NS_A" ping -D -n -i 0.2 -c 55 -W 1 "$1" >"$2" 2>&1 &
}
now() { date +%s.%N; }
ping_bg "${WBT_T4[1]}" "$WBT_TMP/p_b.txt"; p1=$!
ping_bg 10.99.1.2 "$WBT_TMP/p_b2.txt"; p2=$!
ping_bg "${WBT_T4[2]}" "$WBT_TMP/p_c.txt"; p3=$!
sleep 2
t_add=$(now)
wbt_wg "$NS_A" set "$IF_A" peer "$KB_PUB" allowed-ips "${WBT_T4[1]}/32,${WBT_T6[1]}/128,10.99.1.2/32"
wbt_ok $? "wg set: allowed IP 10.99.1.2/32 added to peer B"
wbt_wg "$NS_A" set "$IF_A" peer "$KC_PUB" endpoint 198.51.100.3:51822 allowed-ips "${WBT_T4[2]}/32"
wbt_ok $? "wg set: peer C added"
peers=$(wbt_wg "$NS_A" show "$IF_A" peers | sort | tr '\n' ' ')
[[ $peers == *"$KB_PUB"* && $peers == *"$KC_PUB"* ]]
wbt_ok $? "wg show peers lists B and C: $peers"
aips=$(wbt_wg "$NS_A" show "$IF_A" allowed-ips | awk -v p="$KB_PUB" '$1 == p')
[[ $aips == *10.99.1.2/32* ]]
wbt_ok $? "wg show allowed-ips of B includes 10.99.1.2/32: ${aips#*$'\t'}"
sleep 3
t_del=$(now)
wbt_wg "$NS_A" set "$IF_A" peer "$KB_PUB" allowed-ips "${WBT_T4[1]}/32,${WBT_T6[1]}/128"
wbt_ok $? "wg set: allowed IP 10.99.1.2/32 removed from peer B"
wbt_wg "$NS_A" set "$IF_A" peer "$KC_PUB" remove
wbt_ok $? "wg set: peer C removed"
peers=$(wbt_wg "$NS_A" show "$IF_A" peers | tr '\n' ' ')
[[ $peers == *"$KB_PUB"* && $peers != *"$KC_PUB"* ]]
wbt_ok $? "wg show peers lists B only: $peers"
aips=$(wbt_wg "$NS_A" show "$IF_A" allowed-ips | awk -v p="$KB_PUB" '$1 == p')
[[ $aips != *10.99.1.2* && $aips == *10.99.0.2/32* ]]
wbt_ok $? "wg show allowed-ips of B: ${aips#*$'\t'}"
wait "$p1" "$p2" "$p3"

# replies <file> <from> <to>: replies received in (from, to] (unix seconds)
replies() {
    awk -v a="$2" -v b="$3" -F'[][]' '/bytes from/ { t = $2 + 0; if (t > a && t <= b) n++ } END { print n + 0 }' "$1"
}
grace=0.5
t_del_g=$(awk -v t="$t_del" -v g=$grace 'BEGIN { printf "%.3f", t + g }')
t_add_g=$(awk -v t="$t_add" -v g=$grace 'BEGIN { printf "%.3f", t + g }')
total_b=$(replies "$WBT_TMP/p_b.txt" 0 9e9)
[[ $total_b -ge 54 ]]
wbt_ok $? "pings to B (10.99.0.2) continued throughout: $total_b/55 replies"
for f in p_b2:10.99.1.2 p_c:10.99.0.3; do
    file=$WBT_TMP/${f%%:*}.txt dst=${f#*:}
    before=$(replies "$file" 0 "$t_add")
    during=$(replies "$file" "$t_add_g" "$t_del")
    after=$(replies "$file" "$t_del_g" 9e9)
    [[ $before -eq 0 ]]
    wbt_ok $? "pings to $dst before the wg set that allows it: $before replies (expected 0)"
    [[ $during -ge 8 ]]
    wbt_ok $? "pings to $dst while allowed (~3 s, 15 probes): $during replies (expected >= 8)"
    [[ $after -eq 0 ]]
    wbt_ok $? "pings to $dst from 0.5 s after the wg set that removes it: $after replies (expected 0)"
done

# --- updates that change nothing keep the session (as in wireguard-go and
# the Linux module): the same private key again, and `wg syncconf` with the
# interface's own `wg showconf` (wg(8): syncconf does not disrupt sessions).
# noop_update <description> <command...>: run it 1.1 s after the last
# handshake reading, then ping: the session must be the same one.
noop_update() {
    local desc=$1 hs0 hs1; shift
    wbt_ping "$NS_A" "${WBT_T4[1]}" 1
    hs0=$(wbt_handshake "$NS_A" "$IF_A")
    sleep 1.1
    "$@"
    wbt_ok $? "$desc"
    wbt_ping "$NS_A" "${WBT_T4[1]}" 3
    [[ $PING_RX -eq 3 && $PING_MAX != - ]] && awk -v m="$PING_MAX" 'BEGIN { exit !(m < 200) }'
    wbt_ok $? "pings right after '$desc': $PING_RX/3 replies, max RTT $PING_MAX ms (expected 3, < 200 ms)"
    hs1=$(wbt_handshake "$NS_A" "$IF_A")
    [[ $hs1 == "$hs0" ]]
    wbt_ok $? "no new handshake after '$desc' (latest handshake $hs0 before, $hs1 after)"
}
# shellcheck disable=SC2317  # called through noop_update
syncconf_self() {
    wbt_wg "$NS_A" showconf "$IF_A" >"$WBT_TMP/showconf.conf" &&
        wbt_wg "$NS_A" syncconf "$IF_A" "$WBT_TMP/showconf.conf"
}
noop_update "wg set $IF_A private-key <the same key>" wbt_wg "$NS_A" set "$IF_A" private-key "$KA_KEYFILE"
noop_update "wg syncconf $IF_A <its own showconf>" syncconf_self
wbt_check "A daemon still running" wbt_daemon_alive "$IF_A"
wbt_check "B daemon still running" wbt_daemon_alive "$IF_B"
wbt_finish
