#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_wg_quick.sh [A B] - wg-quick itself on side A, with
# WG_QUICK_USERSPACE_IMPLEMENTATION = A's daemon (wireboltd, or wireguard-go
# for the baseline): wg-quick starts it as `<daemon> <ifname>` and expects it
# to detach with the UAPI socket ready. B (default wireguard-go) is a plain
# daemon. Two rounds:
#  1. AllowedIPs = B's tunnel addresses: ping both families; `wg-quick down`
#     deletes the interface, the daemon exits and its socket goes.
#  2. AllowedIPs = 0.0.0.0/0, ::/0: wg-quick's fwmark policy routing. B's
#     endpoint (198.51.100.2) is not on A's veth subnet but behind A's main
#     default route, which `suppress_prefixlength 0` hides: the daemon's own
#     UDP reaches it only if the daemon marks it with FwMark 51820. Ping B's
#     tunnel address and an address behind the tunnel's default route
#     (10.200.0.1 on B); down removes the rules too.
source "$(dirname "$0")/lib.sh"
wbt_init wg-quick wg-quick
wbt_pairing "${1:-wb}" "${2:-go}"
case $WBT_A in
wb) impl_a=$WIREBOLT_BIN_DIR/wireboltd ;;
go) impl_a=$(command -v "$WBT_WIREGUARD_GO") ;;
esac

wbt_two_ns
wbt_addr "$NS_B" lo 198.51.100.2/32
ip -n "$NS_A" route add default via "${WBT_O4[1]}" || wbt_die "default route in A"
wbt_ifname IF_B B
wbt_keypair KA
wbt_keypair KB
wbt_daemon_start "$NS_B" "$WBT_B" "$IF_B"
wbt_wg "$NS_B" set "$IF_B" private-key "$KB_KEYFILE" listen-port "$WBT_PORT_B" \
    peer "$KA_PUB" allowed-ips "${WBT_T4[0]}/32,${WBT_T6[0]}/128" || wbt_die "wg set $IF_B"
wbt_addr "$NS_B" "$IF_B" "${WBT_T4[1]}/24" "${WBT_T6[1]}/64" 10.200.0.1/32 fd00:200::1/128
wbt_link_up "$NS_B" "$IF_B"

# daemon_pid <ns>: the pid of A's daemon, found among the namespace's processes.
daemon_pid() {
    local p
    for p in $(ip netns pids "$1"); do
        [[ $(readlink "/proc/$p/exe" 2>/dev/null) == "$(readlink -f "$impl_a")" ]] && { echo "$p"; return; }
    done
}

round() { # <letter> <allowed-ips> <description> <extra ping target v4> <v6>
    local dev conf out rc pid i
    wbt_ifname dev "$1"
    conf=$WBT_TMP/$dev.conf
    cat >"$conf" <<EOF
[Interface]
PrivateKey = $KA_KEY
ListenPort = $WBT_PORT_A
Address = ${WBT_T4[0]}/24, ${WBT_T6[0]}/64

[Peer]
PublicKey = $KB_PUB
Endpoint = 198.51.100.2:$WBT_PORT_B
AllowedIPs = $2
EOF
    # To a file, not $(...): a daemon that keeps wg-quick's stdout open
    # (wireguard-go does, to log) would block a command substitution.
    timeout 30 ip netns exec "$NS_A" env WG_QUICK_USERSPACE_IMPLEMENTATION="$impl_a" \
        LOG_LEVEL=verbose WIREBOLT_LOG="${WBT_WIREBOLT_LOG:-info}" wg-quick up "$conf" \
        >"$WBT_TMP/$dev.wg-quick-up.log" 2>&1
    wbt_ok $? "$3: WG_QUICK_USERSPACE_IMPLEMENTATION=$impl_a wg-quick up $dev.conf" ||
        { cat "$WBT_TMP/$dev.wg-quick-up.log"; return; }
    pid=$(daemon_pid "$NS_A")
    [[ -n $pid ]]
    wbt_ok $? "$3: $(basename "$impl_a") detached and runs (pid ${pid:-none})"
    [[ -n $pid ]] && WBT_DPID[$dev]=$pid
    mtu=$(ip -n "$NS_A" link show "$dev" | grep -o 'mtu [0-9]*')
    [[ $mtu == "mtu 1420" ]]
    wbt_ok $? "$3: wg-quick set $mtu on $dev (1500 - 80)"
    wbt_first_ping "$NS_A" "${WBT_T4[1]}" 10
    wbt_ok $? "$3: first ping to B answered after $FIRST_PING_S s"
    wbt_ping_check "$NS_A" "${WBT_T4[1]}" 5 "$3: IPv4"
    wbt_ping_check "$NS_A" "${WBT_T6[1]}" 5 "$3: IPv6"
    if [[ -n $4 ]]; then
        wbt_ping_check "$NS_A" "$4" 5 "$3: IPv4 behind the default route"
        wbt_ping_check "$NS_A" "$5" 5 "$3: IPv6 behind the default route"
        fwmark=$(wbt_wg "$NS_A" show "$dev" fwmark)
        [[ $fwmark == 0xca6c ]]
        wbt_ok $? "$3: wg show fwmark = $fwmark (51820 = 0xca6c, set by wg-quick)"
    fi
    wbt_ping_check "$NS_B" "${WBT_T4[0]}" 3 "$3: B -> A"
    ep=$(wbt_endpoint_of "$NS_B" "$IF_B")
    [[ $ep == "$(wbt_endpoint 4 0)" ]]
    wbt_ok $? "$3: B sees A at $ep (expected $(wbt_endpoint 4 0): outside the tunnel)"
    timeout 30 ip netns exec "$NS_A" wg-quick down "$conf" >"$WBT_TMP/$dev.wg-quick-down.log" 2>&1
    wbt_ok $? "$3: wg-quick down $dev.conf" || cat "$WBT_TMP/$dev.wg-quick-down.log"
    ! ip -n "$NS_A" link show "$dev" >/dev/null 2>&1
    wbt_ok $? "$3: after down, $dev is gone"
    [[ -n $pid ]] && wbt_wait_exit "$pid" 5
    wbt_ok $? "$3: after down, the daemon exited (within 5 s)"
    [[ ! -e $WBT_SOCKDIR/$dev.sock ]]
    wbt_ok $? "$3: after down, $WBT_SOCKDIR/$dev.sock is gone"
    rules=$(ip -n "$NS_A" -4 rule show; ip -n "$NS_A" -6 rule show)
    ! grep -Eq 'fwmark|suppress_prefixlength' <<<"$rules"
    wbt_ok $? "$3: after down, no policy routing rules left" || echo "$rules"
}

round Q "${WBT_T4[1]}/32, ${WBT_T6[1]}/128" "B's addresses" "" ""
round R "0.0.0.0/0, ::/0" "full tunnel" 10.200.0.1 fd00:200::1
wbt_check "B daemon still running" wbt_daemon_alive "$IF_B"
wbt_finish
