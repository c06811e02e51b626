#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_wirebolt_up.sh wb [B] - `wirebolt up/show/down` and the key commands
# on side A, against a plain daemon B (default wireguard-go).
#  - genkey/pubkey/genpsk agree with wg(8);
#  - a full tunnel (AllowedIPs 0.0.0.0/0, ::/0) with DNS, MTU, a preshared
#    key, PersistentKeepalive and the four hooks. B's endpoint (198.51.100.2)
#    sits behind A's main default route, so A's own UDP reaches it only with
#    the fwmark policy routing wirebolt sets up. DNS goes to the namespace's
#    own /etc/resolv.conf (ip netns exec bind-mounts /etc/netns/<ns>/);
#  - `wirebolt show <if>` and `--json` (with the datapath's counters),
#    `wg show`; a second `up` of the same
#    file fails without disturbing the first;
#  - `wirebolt down` undoes everything: interface, process, pid file,
#    socket, rules, resolv.conf, and runs PreDown/PostDown;
#  - `wirebolt up -f` stays in the foreground and SIGTERM takes it down.
source "$(dirname "$0")/lib.sh"
wbt_init wirebolt-up
wbt_pairing "${1:-wb}" "${2:-go}"
[[ $WBT_A == wb ]] || wbt_skip "side A must be wirebolt (this tests wirebolt up)"
wbt_wirebolt_check
WB=$WIREBOLT_BIN_DIR/wirebolt

# --- keys
KA_KEY=$("$WB" genkey)
wbt_ok $? "wirebolt genkey: ${#KA_KEY} characters"
KA_PUB=$(printf '%s\n' "$KA_KEY" | "$WB" pubkey)
[[ -n $KA_PUB && $KA_PUB == "$(printf '%s\n' "$KA_KEY" | wg pubkey)" ]]
wbt_ok $? "wirebolt pubkey agrees with wg pubkey ($KA_PUB)"
PSK=$("$WB" genpsk)
[[ $(printf %s "$PSK" | base64 -d 2>/dev/null | wc -c) -eq 32 && $PSK != "$KA_KEY" ]]
wbt_ok $? "wirebolt genpsk: 32 bytes of base64"
printf %s "$PSK" >"$WBT_TMP/psk"
pub_known=$(printf 'YAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n' | "$WB" pubkey)
[[ $pub_known == "$(printf 'YAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n' | wg pubkey)" ]]
wbt_ok $? "wirebolt pubkey of a fixed key agrees with wg pubkey ($pub_known)"

# --- topology: B's endpoint behind A's default route
wbt_two_ns
wbt_addr "$NS_B" lo 198.51.100.2/32
ip -n "$NS_A" route add default via "${WBT_O4[1]}" || wbt_die "default route in A"
wbt_ifname IF_B B
wbt_ifname IF_A A
wbt_keypair KB
wbt_daemon_start "$NS_B" "$WBT_B" "$IF_B"
wbt_wg "$NS_B" set "$IF_B" private-key "$KB_KEYFILE" listen-port "$WBT_PORT_B" \
    peer "$KA_PUB" preshared-key "$WBT_TMP/psk" allowed-ips "${WBT_T4[0]}/32,${WBT_T6[0]}/128" ||
    wbt_die "wg set $IF_B"
wbt_addr "$NS_B" "$IF_B" "${WBT_T4[1]}/24" "${WBT_T6[1]}/64" 10.200.0.1/32 fd00:200::1/128
wbt_link_up "$NS_B" "$IF_B"

dns=1
if command -v resolvconf >/dev/null 2>&1; then
    dns=0
    echo "note: resolvconf is installed; the DNS part is left out (it would change the host's DNS)"
fi
wbt_etc_dir "$NS_A"
resolv=$ETC_DIR/resolv.conf
printf '# wbt original\nnameserver 192.0.2.53\n' >"$resolv"
chmod 644 "$resolv"
cp "$resolv" "$WBT_TMP/resolv.orig"

hooks=$WBT_TMP/hooks.log
conf=$WBT_TMP/$IF_A.conf
{
    echo "[Interface]"
    echo "PrivateKey = $KA_KEY"
    echo "ListenPort = $WBT_PORT_A"
    echo "Address = ${WBT_T4[0]}/24, ${WBT_T6[0]}/64"
    echo "MTU = 1380"
    [[ $dns == 1 ]] && echo "DNS = 10.99.0.53, wbt.example"
    echo "PreUp = echo preup %i >> $hooks"
    echo "PostUp = echo postup %i >> $hooks"
    echo "PreDown = echo predown %i >> $hooks"
    echo "PostDown = echo postdown %i >> $hooks"
    echo
    echo "[Peer]"
    echo "PublicKey = $KB_PUB"
    echo "PresharedKey = $PSK"
    echo "Endpoint = 198.51.100.2:$WBT_PORT_B"
    echo "AllowedIPs = 0.0.0.0/0, ::/0"
    echo "PersistentKeepalive = 25"
} >"$conf"

# --- up
wbt_up "$NS_A" "$conf"
wbt_ok $? "wirebolt up $IF_A.conf returned 0" || { cat "$WBT_TMP/$IF_A.up.log"; wbt_die "wirebolt up failed"; }
[[ -n $UP_PID ]] && kill -0 "$UP_PID" 2>/dev/null
wbt_ok $? "pid file /run/wirebolt/$IF_A.pid names a live process (${UP_PID:-none})"
link=$(ip -n "$NS_A" link show "$IF_A" 2>&1)
[[ $link == *"mtu 1380"* && $link == *UP* ]]
wbt_ok $? "$IF_A exists, up, MTU 1380" || echo "$link"
addrs=$(ip -n "$NS_A" addr show dev "$IF_A")
[[ $addrs == *"${WBT_T4[0]}/24"* && $addrs == *"${WBT_T6[0]}/64"* ]]
wbt_ok $? "addresses ${WBT_T4[0]}/24 and ${WBT_T6[0]}/64 on $IF_A" || echo "$addrs"
fwmark=$(wbt_wg "$NS_A" show "$IF_A" fwmark)
rules4=$(ip -n "$NS_A" -4 rule show)
rules6=$(ip -n "$NS_A" -6 rule show)
[[ $rules4 == *"not from all fwmark $fwmark lookup"* && $rules4 == *"suppress_prefixlength 0"* &&
    $rules6 == *"not from all fwmark $fwmark lookup"* && $rules6 == *"suppress_prefixlength 0"* && $fwmark != off ]]
wbt_ok $? "policy routing for the default routes: fwmark $fwmark, rules for IPv4 and IPv6" ||
    echo "$rules4"$'\n'"$rules6"
dev=$(ip -n "$NS_A" route get 100.64.0.1 2>&1 | grep -o "dev $IF_A")
[[ -n $dev ]]
wbt_ok $? "ip route get 100.64.0.1 -> $IF_A"
dev=$(ip -n "$NS_A" route get 198.51.100.2 mark "$fwmark" 2>&1 | grep -o 'dev [^ ]*')
[[ $dev == "dev vAB" ]]
wbt_ok $? "ip route get 198.51.100.2 mark $fwmark (the daemon's own UDP) -> $dev (expected vAB)"
if [[ $dns == 1 ]]; then
    grep -q '^nameserver 10.99.0.53' "$resolv" && grep -q '^search.*wbt.example' "$resolv"
    wbt_ok $? "DNS: the namespace's resolv.conf has nameserver 10.99.0.53 and search wbt.example" || cat "$resolv"
fi
[[ $(tr '\n' ' ' <"$hooks" 2>/dev/null) == "preup $IF_A postup $IF_A " ]]
wbt_ok $? "PreUp and PostUp ran, in order, with %i = $IF_A: $(tr '\n' ' ' <"$hooks" 2>/dev/null)"

# --- traffic
wbt_first_ping "$NS_A" "${WBT_T4[1]}" 10
wbt_ok $? "first ping to B answered after $FIRST_PING_S s"
wbt_ping_check "$NS_A" "${WBT_T4[1]}" 5 "IPv4 to B"
wbt_ping_check "$NS_A" "${WBT_T6[1]}" 5 "IPv6 to B"
wbt_ping_check "$NS_A" 10.200.0.1 5 "IPv4 behind the tunnel's default route"
wbt_ping_check "$NS_A" fd00:200::1 5 "IPv6 behind the tunnel's default route"
wbt_ping_check "$NS_A" "${WBT_T4[1]}" 2 "MTU 1380: 1352-byte DF ping fits" -M "do" -s 1352
wbt_ping "$NS_A" "${WBT_T4[1]}" 1 -M "do" -s 1353
[[ $PING_RX -eq 0 && $PING_OUT == *"too long"* ]]
wbt_ok $? "MTU 1380: 1353-byte DF ping refused"
ep=$(wbt_endpoint_of "$NS_B" "$IF_B")
[[ $ep == "$(wbt_endpoint 4 0)" ]]
wbt_ok $? "B sees A at $ep (its UDP left outside the tunnel)"

# --- show
show=$(timeout 10 ip netns exec "$NS_A" "$WB" show "$IF_A" 2>&1)
[[ $show == *"$IF_A"* && $show == *"$KB_PUB"* && $show == *"latest handshake"* && $show == *transfer* ]]
wbt_ok $? "wirebolt show $IF_A: interface, peer, handshake, transfer" || echo "$show"
json=$(timeout 10 ip netns exec "$NS_A" "$WB" show "$IF_A" --json 2>&1)
jcheck=$("$WBT_PYTHON" - "$json" "$IF_A" "$KA_PUB" "$KB_PUB" <<'EOF'
import json, sys
try:
    d = json.loads(sys.argv[1].strip().splitlines()[0])
    p = d["peers"][0]
    ok = (d["interface"] == sys.argv[2] and d["public_key"] == sys.argv[3]
          and d["listen_port"] == 51820 and p["public_key"] == sys.argv[4]
          and p["has_preshared_key"] is True and p["latest_handshake"] > 0
          and p["rx_bytes"] > 0 and p["tx_bytes"] > 0 and p["persistent_keepalive"] == 25
          and "0.0.0.0/0" in p["allowed_ips"] and "::/0" in p["allowed_ips"])
    print("ok" if ok else "mismatch")
except Exception as e:
    print("error: %r" % e)
EOF
)
[[ $jcheck == ok ]]
wbt_ok $? "wirebolt show $IF_A --json: $jcheck" || echo "$json"
dcheck=$("$WBT_PYTHON" -c '
import json, sys
try:
    dp = json.loads(sys.argv[1].strip().splitlines()[0])["datapath"]
    ok = (dp["workers"] >= 1 and len(dp["per_worker"]) == dp["workers"]
          and dp["totals"]["rx_datagrams"] > 0 and isinstance(dp["io"], dict))
    print("ok (%d workers, offloads %s)" % (dp["workers"], ",".join(dp["offloads"] or [])) if ok else "mismatch")
except Exception as e:
    print("error: %r" % e)
' "$json")
[[ $dcheck == ok* ]]
wbt_ok $? "wirebolt show $IF_A --json has the datapath's counters: $dcheck" || echo "$json"
wbt_check "wg show $IF_A works against wirebolt's UAPI socket" wbt_wg "$NS_A" show "$IF_A"
timeout 30 ip netns exec "$NS_A" "$WB" up "$conf" >"$WBT_TMP/second-up.log" 2>&1
rc=$?
[[ $rc -ne 0 ]] && kill -0 "$UP_PID" 2>/dev/null
wbt_ok $? "a second wirebolt up of the same file fails (status $rc: $(head -n1 "$WBT_TMP/second-up.log")) and the first lives on"
wbt_ping_check "$NS_A" "${WBT_T4[1]}" 3 "tunnel still up after the refused second up"

# --- down
wbt_down "$NS_A" "$conf"
wbt_ok $? "wirebolt down $IF_A.conf returned 0" || cat "$WBT_TMP/$IF_A.down.log"
! ip -n "$NS_A" link show "$IF_A" >/dev/null 2>&1
wbt_ok $? "after down: $IF_A is gone"
if wbt_pid_live "$UP_PID"; then
    echo "note: process $UP_PID still running when wirebolt down returned (state $(awk '{ print $3 }' "/proc/$UP_PID/stat" 2>/dev/null))"
fi
wbt_wait_exit "$UP_PID" 3
wbt_ok $? "after down: process $UP_PID exited (within 3 s)"
[[ ! -e /run/wirebolt/$IF_A.pid && ! -e $WBT_SOCKDIR/$IF_A.sock ]]
wbt_ok $? "after down: pid file and UAPI socket removed"
rules=$(ip -n "$NS_A" -4 rule show; ip -n "$NS_A" -6 rule show)
! grep -Eq 'fwmark|suppress_prefixlength' <<<"$rules"
wbt_ok $? "after down: no policy routing rules left" || echo "$rules"
cmp -s "$resolv" "$WBT_TMP/resolv.orig"
wbt_ok $? "after down: the namespace's resolv.conf is as before" || cat "$resolv"
[[ $(tr '\n' ' ' <"$hooks") == "preup $IF_A postup $IF_A predown $IF_A postdown $IF_A " ]]
wbt_ok $? "PreDown and PostDown ran, in order: $(tr '\n' ' ' <"$hooks")"

# --- foreground
rm -f "$hooks"
( ip netns exec "$NS_A" env WIREBOLT_LOG="${WBT_WIREBOLT_LOG:-info}" timeout -s KILL 60 "$WB" up "$conf" -f \
    >"$WBT_TMP/$IF_A.fg.log" 2>&1; exit $? ) &
fg=$!
WBT_UPS+=("$IF_A"); WBT_UP_NS[$IF_A]=$NS_A
for ((i = 0; i < 100; i++)); do
    ip -n "$NS_A" link show "$IF_A" 2>/dev/null | grep -q UP && break
    sleep 0.1
done
wbt_ping_check "$NS_A" "${WBT_T4[1]}" 3 "wirebolt up -f: tunnel works"
fgpid=$(cat "/run/wirebolt/$IF_A.pid" 2>/dev/null)
[[ -n $fgpid ]] && kill -TERM "$fgpid"
for ((i = 0; i < 100; i++)); do
    kill -0 "$fg" 2>/dev/null || break
    sleep 0.1
done
! kill -0 "$fg" 2>/dev/null && ! ip -n "$NS_A" link show "$IF_A" >/dev/null 2>&1
wbt_ok $? "wirebolt up -f: SIGTERM to pid ${fgpid:-?} takes it down (process gone, interface gone)"
WBT_UP_NS[$IF_A]=
wbt_check "B daemon still running" wbt_daemon_alive "$IF_B"
wbt_finish
