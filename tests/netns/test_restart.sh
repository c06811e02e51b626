#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_restart.sh [A B] - a peer killed with SIGKILL and started again with
# the same configuration; the tunnel must come back.
#  1. B (the responder, no endpoint for A) dies while A pings it every 0.5 s.
#     A, the survivor, still holds the old session: B drops its packets, so
#     A must notice (no authenticated reply for KEEPALIVE + REKEY_TIMEOUT =
#     15 s) and handshake again. Limit: 25 s after B is back.
#  2. A (the initiator) dies and comes back; its first ping makes it
#     handshake at once, and B, the survivor, must accept the new session
#     (and switch to A's keys): limit 10 s.
source "$(dirname "$0")/lib.sh"
wbt_init restart
wbt_pairing "$@"

wbt_two_ns
wbt_std_tunnel 4

# configure_side <A|B>: the configuration wbt_std_tunnel gave that side.
configure_side() {
    if [[ $1 == A ]]; then
        wbt_wg "$NS_A" set "$IF_A" private-key "$KA_KEYFILE" listen-port "$WBT_PORT_A" \
            peer "$KB_PUB" endpoint "$(wbt_endpoint 4 1)" allowed-ips "${WBT_T4[1]}/32,${WBT_T6[1]}/128" &&
            wbt_addr "$NS_A" "$IF_A" "${WBT_T4[0]}/24" "${WBT_T6[0]}/64" && wbt_link_up "$NS_A" "$IF_A"
    else
        wbt_wg "$NS_B" set "$IF_B" private-key "$KB_KEYFILE" listen-port "$WBT_PORT_B" \
            peer "$KA_PUB" allowed-ips "${WBT_T4[0]}/32,${WBT_T6[0]}/128" &&
            wbt_addr "$NS_B" "$IF_B" "${WBT_T4[1]}/24" "${WBT_T6[1]}/64" && wbt_link_up "$NS_B" "$IF_B"
    fi
}

# restart <A|B>: kill -9 that side's daemon, check the other survives, start
# it again with the same configuration.
restart() {
    local side=$1 ns_var=NS_$1 if_var=IF_$1 impl_var=WBT_$1
    local other=B; [[ $side == B ]] && other=A
    local oif_var=IF_$other
    wbt_daemon_kill "${!if_var}" KILL
    ip -n "${!ns_var}" link show "${!if_var}" >/dev/null 2>&1
    wbt_ok $((!$?)) "side $side killed with SIGKILL, its interface ${!if_var} is gone"
    sleep 1
    wbt_check "side $other ($(wbt_impl_name "${!impl_var}")) survives" wbt_daemon_alive "${!oif_var}"
    wbt_daemon_start "${!ns_var}" "${!impl_var}" "${!if_var}"
    configure_side "$side"
    wbt_ok $? "side $side restarted with the same configuration"
}

wbt_first_ping "$NS_A" "${WBT_T4[1]}" 10 || wbt_die "tunnel did not come up in 10 s"
wbt_ping_check "$NS_A" "${WBT_T4[1]}" 3 "before any restart"

# --- 1. the responder dies
timeout 60 ip netns exec "$NS_A" ping -D -n -i 0.5 -W 1 -w 45 "${WBT_T4[1]}" >"$WBT_TMP/ping1.txt" 2>&1 &
pinger=$!
sleep 1
restart B
t_back=$(date +%s.%N)
# Wait for the first reply after the restart (at most 25 s).
for ((i = 0; i < 250; i++)); do
    last=$(awk -F'[][]' '/bytes from/ { t = $2 } END { print (t == "" ? 0 : t) }' "$WBT_TMP/ping1.txt")
    awk -v l="$last" -v b="$t_back" 'BEGIN { exit !(l > b) }' && break
    sleep 0.1
done
kill "$pinger" 2>/dev/null
wait "$pinger" 2>/dev/null
delay=$(awk -v l="$last" -v b="$t_back" 'BEGIN { printf "%.1f", l - b }')
awk -v l="$last" -v b="$t_back" 'BEGIN { exit !(l > b && l - b <= 25) }'
wbt_ok $? "B restarted: A's pings answered again $delay s after B came back (limit 25 s)"
wbt_ping_check "$NS_A" "${WBT_T4[1]}" 5 "A -> B after B's restart"
wbt_ping_check "$NS_B" "${WBT_T6[0]}" 5 "B -> A (inner IPv6) after B's restart"

# --- 2. the initiator dies
restart A
wbt_first_ping "$NS_A" "${WBT_T4[1]}" 10
wbt_ok $? "A restarted: its first ping answered after $FIRST_PING_S s (limit 10 s)"
wbt_ping_check "$NS_A" "${WBT_T4[1]}" 5 "A -> B after A's restart"
wbt_ping_check "$NS_B" "${WBT_T4[0]}" 5 "B -> A after A's restart"
hs_a=$(wbt_handshake "$NS_A" "$IF_A")
hs_b=$(wbt_handshake "$NS_B" "$IF_B")
[[ ${hs_a:-0} -gt 0 && ${hs_b:-0} -gt 0 ]]
wbt_ok $? "both sides report a handshake after the restarts (A $hs_a, B $hs_b)"
wbt_finish
