#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_psk.sh [A B] - the same preshared key on both sides: the handshake
# completes and pings pass, and `wg show` prints the key on both sides. Then,
# with fresh daemons, different preshared keys: the handshake fails cleanly -
# no ping gets through, neither side reports a handshake, both daemons live.
source "$(dirname "$0")/lib.sh"
wbt_init psk
wbt_pairing "$@"

wg genpsk >"$WBT_TMP/psk1"
wg genpsk >"$WBT_TMP/psk2"

# --- matching keys
wbt_two_ns
wbt_std_tunnel 4 "$WBT_TMP/psk1" "$WBT_TMP/psk1"
wbt_first_ping "$NS_A" "${WBT_T4[1]}" 10
wbt_ok $? "same preshared key: first ping answered after $FIRST_PING_S s"
wbt_ping_check "$NS_A" "${WBT_T4[1]}" 5 "same preshared key, inner IPv4"
wbt_ping_check "$NS_B" "${WBT_T6[0]}" 5 "same preshared key, inner IPv6 B -> A"
psk=$(cat "$WBT_TMP/psk1")
shown_a=$(wbt_wg "$NS_A" show "$IF_A" preshared-keys | awk '{ print $2 }')
shown_b=$(wbt_wg "$NS_B" show "$IF_B" preshared-keys | awk '{ print $2 }')
[[ $shown_a == "$psk" && $shown_b == "$psk" ]]
wbt_ok $? "wg show preshared-keys prints the key on A ($shown_a) and B ($shown_b)"
wbt_daemon_kill "$IF_A"
wbt_daemon_kill "$IF_B"

# --- mismatched keys (same namespaces, fresh daemons and static keys)
wbt_std_tunnel 4 "$WBT_TMP/psk1" "$WBT_TMP/psk2"
wbt_ping_none "$NS_A" "${WBT_T4[1]}" 4 "different preshared keys, A -> B"
wbt_ping_none "$NS_B" "${WBT_T4[0]}" 2 "different preshared keys, B -> A"
wbt_ping_none "$NS_A" "${WBT_T6[1]}" 2 "different preshared keys, inner IPv6 A -> B"
hs_a=$(wbt_handshake "$NS_A" "$IF_A")
hs_b=$(wbt_handshake "$NS_B" "$IF_B")
[[ $hs_a == 0 && $hs_b == 0 ]]
wbt_ok $? "different preshared keys: no handshake on A (latest $hs_a) nor on B (latest $hs_b)"
read -r rx_b tx_b < <(wbt_transfer "$NS_B" "$IF_B")
[[ ${rx_b:-0} -gt 0 ]]
wbt_ok $? "different preshared keys: B received the initiations (rx $rx_b bytes, tx $tx_b bytes)"
wbt_check "A daemon still running" wbt_daemon_alive "$IF_A"
wbt_check "B daemon still running" wbt_daemon_alive "$IF_B"
wbt_check "A still answers the UAPI" wbt_wg "$NS_A" show "$IF_A" listen-port
wbt_check "B still answers the UAPI" wbt_wg "$NS_B" show "$IF_B" listen-port
wbt_finish
