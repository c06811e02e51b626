#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_disallowed_ips.sh wb [B] - `wirebolt up` on side A with a full tunnel
# (AllowedIPs = 0.0.0.0/0, ::/0) to B, minus DisallowedIPs = 198.51.100.0/24,
# 2001:db8:c::/64. Those subnets live on host C, which A reaches outside the
# tunnel through its main table's default route (via a third veth,
# 203.0.113.0/24 and 2001:db8:3::/64) - so only DisallowedIPs keeps them out
# of the tunnel. Checks: `ip route get` in A, C answers A's pings while B's
# `wg show transfer` does not move, the device's allowed IPs (wg show) leave
# the subnets out, and other destinations (an address of B's, 10.200.0.1 /
# fd00:200::1, and `ip route get` of arbitrary ones) go through the tunnel.
source "$(dirname "$0")/lib.sh"
wbt_init disallowed-ips
wbt_pairing "${1:-wb}" "${2:-go}"
[[ $WBT_A == wb ]] || wbt_skip "side A must be wirebolt (DisallowedIPs is a wirebolt up key)"
wbt_wirebolt_check

wbt_two_ns
wbt_ns NS_C c
wbt_veth "$NS_A" vAC "$NS_C" vCA
wbt_addr "$NS_A" vAC 203.0.113.1/24 2001:db8:3::1/64
wbt_addr "$NS_C" vCA 203.0.113.2/24 2001:db8:3::2/64
wbt_addr "$NS_C" lo 198.51.100.2/32 2001:db8:c::2/128
ip -n "$NS_A" route add default via 203.0.113.2 || wbt_die "default route in A"
ip -n "$NS_A" -6 route add default via 2001:db8:3::2 || wbt_die "IPv6 default route in A"
wbt_ping_check "$NS_A" 198.51.100.2 2 "before the tunnel: C reachable from A"

# B: a plain daemon configured with wg, as in every test.
wbt_ifname IF_A A
wbt_ifname IF_B B
wbt_keypair KA
wbt_keypair KB
wbt_daemon_start "$NS_B" "$WBT_B" "$IF_B"
wbt_wg "$NS_B" set "$IF_B" private-key "$KB_KEYFILE" listen-port "$WBT_PORT_B" \
    peer "$KA_PUB" allowed-ips "${WBT_T4[0]}/32,${WBT_T6[0]}/128" || wbt_die "wg set $IF_B"
wbt_addr "$NS_B" "$IF_B" "${WBT_T4[1]}/24" "${WBT_T6[1]}/64" 10.200.0.1/32 fd00:200::1/128
wbt_link_up "$NS_B" "$IF_B"

conf=$WBT_TMP/$IF_A.conf
cat >"$conf" <<EOF
[Interface]
PrivateKey = $KA_KEY
ListenPort = $WBT_PORT_A
Address = ${WBT_T4[0]}/24, ${WBT_T6[0]}/64

[Peer]
PublicKey = $KB_PUB
Endpoint = $(wbt_endpoint 4 1)
AllowedIPs = 0.0.0.0/0, ::/0
DisallowedIPs = 198.51.100.0/24, 2001:db8:c::/64
EOF
wbt_up "$NS_A" "$conf"
wbt_ok $? "wirebolt up $IF_A.conf (AllowedIPs 0.0.0.0/0, ::/0; DisallowedIPs 198.51.100.0/24, 2001:db8:c::/64)" ||
    { cat "$WBT_TMP/$IF_A.up.log"; wbt_die "wirebolt up failed"; }
wbt_log "routes in A: $(ip -n "$NS_A" route show | wc -l) IPv4, $(ip -n "$NS_A" -6 route show | wc -l) IPv6; rules: $(ip -n "$NS_A" rule show | tr '\n' ';')"

# --- routing decisions
route_dev() { ip -n "$NS_A" route get "$1" 2>&1 | grep -o 'dev [^ ]*' | head -n1 | cut -d' ' -f2; }
for dst in 198.51.100.2 198.51.100.200 2001:db8:c::2; do
    dev=$(route_dev "$dst")
    [[ $dev == vAC ]]
    wbt_ok $? "ip route get $dst (disallowed) -> dev $dev, outside the tunnel (expected vAC)" ||
        ip -n "$NS_A" route get "$dst"
done
for dst in 100.64.0.1 8.8.8.8 198.51.101.1 198.51.99.255 10.200.0.1 2001:db8:d::1 fd00:200::1 2606:4700::1111; do
    dev=$(route_dev "$dst")
    [[ $dev == "$IF_A" ]]
    wbt_ok $? "ip route get $dst -> dev $dev, through the tunnel (expected $IF_A)" || ip -n "$NS_A" route get "$dst"
done
dev=$(route_dev "${WBT_O4[1]}")
[[ $dev == vAB ]]
wbt_ok $? "ip route get ${WBT_O4[1]} (B's endpoint) -> dev $dev (expected vAB)"

# --- the device's allowed IPs (the subtraction reached the device too)
aips=$(wbt_wg "$NS_A" show "$IF_A" allowed-ips | cut -f2)
echo "allowed IPs of B on A: $(wc -w <<<"$aips") prefixes"
covers=$("$WBT_PYTHON" - "$aips" <<'EOF'
import ipaddress, sys
nets = [ipaddress.ip_network(p) for p in sys.argv[1].split()]
def covered(a):
    a = ipaddress.ip_address(a)
    return any(a in n for n in nets)
probe = ["198.51.100.0", "198.51.100.2", "198.51.100.255", "2001:db8:c::2",
         "198.51.99.255", "198.51.101.0", "0.0.0.0", "255.255.255.255", "10.200.0.1",
         "2001:db8:b::1", "::", "ffff::1"]
print(" ".join("%s=%s" % (p, "in" if covered(p) else "out") for p in probe))
EOF
)
expect="198.51.100.0=out 198.51.100.2=out 198.51.100.255=out 2001:db8:c::2=out 198.51.99.255=in 198.51.101.0=in 0.0.0.0=in 255.255.255.255=in 10.200.0.1=in 2001:db8:b::1=in ::=in ffff::1=in"
[[ $covers == "$expect" ]]
wbt_ok $? "wg show allowed-ips on A: 0.0.0.0/0 and ::/0 minus exactly the disallowed subnets ($covers)"

# --- traffic
wbt_first_ping "$NS_A" 10.200.0.1 10
wbt_ok $? "ping 10.200.0.1 (B, through the tunnel) answered after $FIRST_PING_S s"
read -r rx0 _ < <(wbt_transfer "$NS_B" "$IF_B")
wbt_ping_check "$NS_A" 198.51.100.2 5 "disallowed IPv4: C answers"
wbt_ping_check "$NS_A" 2001:db8:c::2 5 "disallowed IPv6: C answers"
read -r rx1 _ < <(wbt_transfer "$NS_B" "$IF_B")
[[ $((rx1 - rx0)) -lt 200 ]]
wbt_ok $? "B received $((rx1 - rx0)) bytes during the 10 pings to C (expected < 200: they bypass the tunnel)"
wbt_ping_check "$NS_A" 10.200.0.1 5 "IPv4 through the tunnel to B"
wbt_ping_check "$NS_A" fd00:200::1 5 "IPv6 through the tunnel to B"
read -r rx2 _ < <(wbt_transfer "$NS_B" "$IF_B")
[[ $((rx2 - rx1)) -ge $((10 * 116)) ]]
wbt_ok $? "B received $((rx2 - rx1)) bytes during the 10 pings through the tunnel (expected >= 1160)"

# --- down
wbt_down "$NS_A" "$conf"
wbt_ok $? "wirebolt down $IF_A.conf" || cat "$WBT_TMP/$IF_A.down.log"
! ip -n "$NS_A" link show "$IF_A" >/dev/null 2>&1
wbt_ok $? "after down: interface $IF_A is gone"
n_routes=$(ip -n "$NS_A" route show | grep -vc -e vAB -e vAC)
n_routes6=$(ip -n "$NS_A" -6 route show | grep -vc -e vAB -e vAC -e '^multicast' -e '^fe80' -e '^anycast' -e ' lo ')
[[ $n_routes -eq 0 && $n_routes6 -eq 0 ]]
wbt_ok $? "after down: no tunnel routes left ($n_routes IPv4, $n_routes6 IPv6)" || { ip -n "$NS_A" route; ip -n "$NS_A" -6 route; }
rules=$(ip -n "$NS_A" rule show; ip -n "$NS_A" -6 rule show)
! grep -Eq 'fwmark|suppress_prefixlength' <<<"$rules"
wbt_ok $? "after down: no policy routing rules left" || echo "$rules"
wbt_ping_check "$NS_A" 198.51.100.2 2 "after down: C still reachable"
wbt_finish
