#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_kat.sh [R] - the known-answer messages of
# tests/vectors/wireguard_messages.h against a live responder R (go =
# wireguard-go, the point of the test: it proves that wireguard-go accepts
# our vector; wb = wirebolt). R runs with the vector's responder private
# key and the initiator's public key as its peer; wgkat.py, in a second
# namespace, sends the vector's exact 148-byte initiation and checks the
# 92-byte response (type 2, receiver = the vector's sender index, mac1),
# completes the handshake with the vector's keys, then exchanges an
# encrypted ping. Once with the vector's preshared key, once without (the
# peer removed and added again, which resets its replay timestamp).
source "$(dirname "$0")/lib.sh"
wbt_init kat
header=$WBT_REPO/tests/vectors/wireguard_messages.h
[[ -r $header ]] || wbt_skip "no $header"
[[ -x $WBT_PYTHON ]] || command -v "$WBT_PYTHON" >/dev/null || wbt_skip "python3 not installed"
WBT_A=${1:-${WBT_A:-go}}
wbt_impl_check "$WBT_A"
WBT_LABEL="[responder=$(wbt_impl_name "$WBT_A")]"
wbt_log "responder: $(wbt_impl_name "$WBT_A")"

keys=$("$WBT_PYTHON" "$WBT_LIBDIR/wgkat.py" "$header" keys) || wbt_die "wgkat.py could not read $header"
key_of() { awk -v k="$1" '$1 == k { print $2 }' <<<"$keys"; }
key_of responder_private >"$WBT_TMP/responder.key"
key_of preshared_key >"$WBT_TMP/vector.psk"
init_pub=$(key_of initiator_public)

wbt_two_ns                       # A: the script (initiator), B: the responder
wbt_ifname IF_B R
wbt_daemon_start "$NS_B" "$WBT_A" "$IF_B"
wbt_wg "$NS_B" set "$IF_B" private-key "$WBT_TMP/responder.key" listen-port "$WBT_PORT_B" || wbt_die "wg set $IF_B"
wbt_addr "$NS_B" "$IF_B" "${WBT_T4[1]}/24"
wbt_link_up "$NS_B" "$IF_B"

for mode in psk no-psk; do
    wbt_wg "$NS_B" set "$IF_B" peer "$init_pub" remove
    if [[ $mode == psk ]]; then
        wbt_wg "$NS_B" set "$IF_B" peer "$init_pub" preshared-key "$WBT_TMP/vector.psk" allowed-ips "${WBT_T4[0]}/32"
    else
        wbt_wg "$NS_B" set "$IF_B" peer "$init_pub" allowed-ips "${WBT_T4[0]}/32"
    fi
    wbt_ok $? "$mode: responder configured with the vector's keys" || continue
    out=$(timeout 30 ip netns exec "$NS_A" "$WBT_PYTHON" "$WBT_LIBDIR/wgkat.py" "$header" run \
        "${WBT_O4[1]}" "$WBT_PORT_B" "$mode" "${WBT_T4[0]}" "${WBT_T4[1]}" 2>&1)
    rc=$?
    grep -v '^\(ok\|FAIL\): ' <<<"$out" | sed 's/^/  /'
    while IFS= read -r line; do
        case $line in
        "ok: "*) wbt_ok 0 "$mode: ${line#ok: }" ;;
        "FAIL: "*) wbt_ok 1 "$mode: ${line#FAIL: }" ;;
        esac
    done <<<"$out"
    wbt_ok $rc "$mode: wgkat.py exit status $rc"
    hs=$(wbt_handshake "$NS_B" "$IF_B")
    [[ ${hs:-0} -gt 0 ]]
    wbt_ok $? "$mode: the responder reports the handshake (latest $hs)"
    ep=$(wbt_endpoint_of "$NS_B" "$IF_B")
    [[ $ep == "${WBT_O4[0]}":* ]]
    wbt_ok $? "$mode: the responder learned the initiator's endpoint ($ep)"
done
wbt_check "responder still running" wbt_daemon_alive "$IF_B"
wbt_finish
