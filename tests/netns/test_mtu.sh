#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_mtu.sh [A B] - tunnel MTU 1420, outer network IPv4 then IPv6. Pings
# with DF at and around the MTU: IPv4 ICMP payloads 0 1 15 16 17 1000 1391
# 1392 pass (1392 + 28 = 1420), 1393 fails locally with "message too long";
# IPv6 0 1 16 1000 1371 1372 pass (1372 + 48 = 1420), 1373 fails. 3000-byte
# pings without DF (fragmented inside the tunnel) pass. A capture on B's veth
# checks the padding both implementations apply: every transport message is
# 32 + min(roundup16(inner length), 1420) bytes, and each probe size shows up
# with exactly that length in both directions.
source "$(dirname "$0")/lib.sh"
wbt_init mtu
wbt_pairing "$@"

v4_sizes=(0 1 15 16 17 1000 1391 1392)
v6_sizes=(0 1 16 1000 1371 1372)
# padded <inner length>: expected WireGuard transport message length
padded() { local l=$(((($1 + 15) / 16) * 16)); ((l > 1420)) && l=1420; echo $((l + 32)); }

for outer in 4 6; do
    wbt_two_ns
    wbt_std_tunnel "$outer"
    wbt_first_ping "$NS_A" "${WBT_T4[1]}" 10 || wbt_die "outer IPv$outer: tunnel did not come up in 10 s"
    wbt_first_ping "$NS_A" "${WBT_T6[1]}" 5
    cap=$WBT_TMP/capture$outer.txt
    ip netns exec "$NS_B" timeout 60 "$WBT_PYTHON" "$WBT_LIBDIR/wgcapture.py" vBA 40 "$WBT_PORT_B" \
        >"$cap" 2>"$cap.err" &
    capturer=$!
    for ((i = 0; i < 50; i++)); do grep -q ready "$cap.err" 2>/dev/null && break; sleep 0.1; done

    expect=()
    for s in "${v4_sizes[@]}"; do
        wbt_ping_check "$NS_A" "${WBT_T4[1]}" 2 "outer IPv$outer, IPv4 DF size $s" -M "do" -s "$s"
        expect+=("$s:$(padded $((s + 28)))")
    done
    for s in "${v6_sizes[@]}"; do
        wbt_ping_check "$NS_A" "${WBT_T6[1]}" 2 "outer IPv$outer, IPv6 size $s" -M "do" -s "$s"
        expect+=("v6 $s:$(padded $((s + 48)))")
    done
    wbt_ping "$NS_A" "${WBT_T4[1]}" 1 -M "do" -s 1393
    [[ $PING_RX -eq 0 && $PING_OUT == *"too long"* ]]
    wbt_ok $? "outer IPv$outer, IPv4 DF size 1393 (1421 > MTU) refused: $(grep -m1 -o 'local error.*' <<<"$PING_OUT")" ||
        echo "$PING_OUT"
    wbt_ping "$NS_A" "${WBT_T6[1]}" 1 -M "do" -s 1373
    [[ $PING_RX -eq 0 && $PING_OUT == *"too long"* ]]
    wbt_ok $? "outer IPv$outer, IPv6 size 1373 (1421 > MTU) refused: $(grep -m1 -o 'local error.*' <<<"$PING_OUT")" ||
        echo "$PING_OUT"
    wbt_ping_check "$NS_A" "${WBT_T4[1]}" 2 "outer IPv$outer, IPv4 3000 bytes, fragmented" -s 3000
    wbt_ping_check "$NS_A" "${WBT_T6[1]}" 2 "outer IPv$outer, IPv6 3000 bytes, fragmented" -s 3000
    sleep 0.3
    kill "$capturer" 2>/dev/null
    wait "$capturer" 2>/dev/null

    # "in" on B's veth = sent by A; "out" = sent by B.
    n=$(awk '$4 == 4' "$cap" | wc -l)
    bad=$(awk '$4 == 4 { p = $5 - 32; if (p < 0 || p > 1420 || (p % 16 && p != 1420)) print $1, $5 }' "$cap" | sort | uniq -c | tr '\n' ';')
    [[ $n -gt 0 && -z $bad ]]
    wbt_ok $? "outer IPv$outer: $n transport messages captured, all 32 + a multiple of 16 or 32 + 1420 bytes${bad:+ (wrong: $bad)}"
    for e in "${expect[@]}"; do
        len=${e#*:}
        for dir in in:A out:B; do
            grep -q "^${dir%:*} .* 4 $len\$" "$cap"
            wbt_ok $? "outer IPv$outer: ${e%:*}-byte echo padded by ${dir#*:} to a $len-byte message" ||
                echo "lengths seen from ${dir#*:}: $(awk -v d="${dir%:*}" '$1 == d && $4 == 4 { print $5 }' "$cap" | sort -n | uniq | tr '\n' ' ')"
        done
    done
    max_out=$(awk '$4 == 4 && $5 > m { m = $5 } END { print m + 0 }' "$cap")
    echo "outer IPv$outer: largest transport message $max_out bytes (outer packet $((max_out + 8 + (outer == 4 ? 20 : 40))) bytes on a 1500-byte link)"
    wbt_check "A daemon still running" wbt_daemon_alive "$IF_A"
    wbt_check "B daemon still running" wbt_daemon_alive "$IF_B"

    wbt_daemon_kill "$IF_A"
    wbt_daemon_kill "$IF_B"
    ip netns del "$NS_A"
    ip netns del "$NS_B"
    WBT_NSS=()
done
wbt_finish
