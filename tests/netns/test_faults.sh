#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_faults.sh [A B] - the tunnel over a faulty wire. This kernel has no
# netem, so a userspace bridge (wb_impair, impair.c) runs in a third
# namespace between the two ends and impairs the frames both ways:
#
#   NS_A [vAB 192.0.2.1] == [vMA] NS_M: wb_impair [vMB] == [vBA 192.0.2.2] NS_B
#
# NS_M has no IP role (no address, IPv6 off): A and B share one L2 segment.
# The end veths get gso_max_segs 1, so the senders' kernels segment
# wirebolt's UDP_SEGMENT super-datagrams in software and the bridge reads
# plain frames (the bridge would drop and count any larger than the MTU as
# "oversize"; checked to stay 0).
#
# One phase per fault, both directions, fresh daemons each time (default
# sides: wirebolt on both ends): 8 % loss; 10 +- 8 ms delay (reorders);
# 10 % duplication; 5 % corruption (a byte flipped in the UDP payload past
# the WireGuard header, checksum recomputed); then all four at once over an
# IPv6 outer network. In each phase:
#   - the handshake completes (first ping answered, both sides report it);
#   - 4 MiB over TCP through the tunnel, A -> B then B -> A, arrive
#     byte-exact (sha256);
#   - the receivers' counters (`wirebolt show --json`, "datapath") match
#     what the bridge did (see faults_check_dir);
#   - nothing is stuck: with the bridge restarted unimpaired, pings pass
#     both ways and both daemons answer `wg show`; the bridge exits 0 on
#     SIGTERM with its counters written; the daemons stop and no process is
#     left in the three namespaces (the EXIT trap removes them).
# WBT_FAULT_SEED (default 1) seeds the bridge's random decisions;
# WBT_FAULT_PHASES (default "loss delay dup corrupt all") picks phases.
source "$(dirname "$0")/lib.sh"
wbt_init faults python3 ss sha256sum
[[ $# -eq 0 ]] && set -- "${WBT_A:-wb}" "${WBT_B:-wb}"
wbt_pairing "$@"
[[ $WBT_A == wb || $WBT_B == wb ]] && wbt_wirebolt_check
SEED=${WBT_FAULT_SEED:-1}

# --------------------------------------------------------------- the bridge

# IMPAIR: the bridge's binary: $WBT_IMPAIR (CTest sets it) or the build's,
# unless older than impair.c; else compiled here (it needs only libc).
faults_impair_bin() {
    local src=$WBT_LIBDIR/impair.c c cc
    for c in "${WBT_IMPAIR:-}" "$WIREBOLT_BIN_DIR/../tests/netns/wb_impair"; do
        if [[ -n $c && -x $c && ! $src -nt $c ]]; then
            IMPAIR=$c
            return 0
        fi
    done
    for cc in "${CC:-cc}" gcc clang; do
        command -v "$cc" >/dev/null 2>&1 && break
        cc=
    done
    [[ -n $cc ]] || wbt_skip "wb_impair not built and no C compiler to build $src"
    "$cc" -std=c11 -O2 -Wall -o "$WBT_TMP/wb_impair" "$src" || wbt_die "$cc $src"
    IMPAIR=$WBT_TMP/wb_impair
    wbt_log "built $IMPAIR from $src"
}

# bridge_start <tag> <spec>: wb_impair in NS_M between vMA and vMB, <spec>
# both ways; counters to BR_JSON=$WBT_TMP/impair-<tag>.json when stopped.
bridge_start() {
    local tag=$1 spec=$2 i
    BR_JSON=$WBT_TMP/impair-$tag.json
    BR_PID=
    rm -f "$WBT_TMP/impair.ready" "$BR_JSON"
    ip netns exec "$NS_M" timeout -s KILL "$WBT_LIFETIME" "$IMPAIR" -a vMA -b vMB --both "$spec" \
        -s "$SEED" -o "$BR_JSON" --ready "$WBT_TMP/impair.ready" >>"$WBT_TMP/impair-$tag.log" 2>&1 &
    BR_JOB=$!
    for ((i = 0; i < 100; i++)); do
        [[ -s $WBT_TMP/impair.ready ]] && break
        kill -0 "$BR_JOB" 2>/dev/null || break
        sleep 0.05
    done
    BR_PID=$(cat "$WBT_TMP/impair.ready" 2>/dev/null)
    [[ -n $BR_PID ]] || wbt_die "wb_impair did not start in $NS_M ($spec)"
}

# bridge_stop: SIGTERM; it must exit 0 within 5 s, its counters written.
bridge_stop() {
    local rc
    kill -TERM "$BR_PID" 2>/dev/null
    if ! wbt_wait_exit "$BR_PID" 5; then
        kill -KILL "$BR_PID" 2>/dev/null
        wait "$BR_JOB" 2>/dev/null
        wbt_ok 1 "wb_impair exits on SIGTERM"
        return 1
    fi
    wait "$BR_JOB"
    rc=$?
    [[ $rc -eq 0 && -s $BR_JSON ]]
    wbt_ok $? "wb_impair stopped by SIGTERM: exit $rc, counters in $(basename "$BR_JSON")"
}

# --------------------------------------------------------------- set-up

faults_topology() {
    wbt_ns NS_A a
    wbt_ns NS_M m
    wbt_ns NS_B b
    # Before its interfaces exist: no link-local address, no router
    # solicitation or MLD report of its own on the segment.
    ip netns exec "$NS_M" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 >/dev/null || wbt_die "sysctl in $NS_M"
    wbt_veth "$NS_A" vAB "$NS_M" vMA
    wbt_veth "$NS_M" vMB "$NS_B" vBA
    ip -n "$NS_A" link set vAB gso_max_segs 1 || wbt_die "gso_max_segs on vAB"
    ip -n "$NS_B" link set vBA gso_max_segs 1 || wbt_die "gso_max_segs on vBA"
    wbt_addr "$NS_A" vAB "${WBT_O4[0]}/24" "${WBT_O6[0]}/64"
    wbt_addr "$NS_B" vBA "${WBT_O4[1]}/24" "${WBT_O6[1]}/64"
}

# ------------------------------------------------------------ measurements

# faults_flat <file> <prefix>: the numbers of a JSON document (its first
# line) as shell assignments <prefix>_<key>_<key>...=<value>; lists skipped.
faults_flat() {
    "$WBT_PYTHON" - "$1" "$2" <<'EOF'
import json, re, sys
def walk(p, v):
    if isinstance(v, dict):
        for k, x in v.items():
            walk(p + "_" + re.sub(r"\W", "_", str(k)), x)
    elif isinstance(v, bool):
        print(f"{p}={int(v)}")
    elif isinstance(v, (int, float)):
        print(f"{p}={v}")
with open(sys.argv[1]) as f:
    walk(sys.argv[2], json.loads(f.readline()))
EOF
}

# faults_counters <ns> <if> <file>: `wirebolt show <if> --json` into <file>.
faults_counters() {
    timeout 10 ip netns exec "$1" "$WIREBOLT_BIN_DIR/wirebolt" show "$2" --json >"$3" 2>&1
}

# faults_settle <tag>: once the wire is down, read the wirebolt sides'
# counters into $WBT_TMP/<tag>-{A,B}.json until what they received stops
# moving (two reads 0.3 s apart agree; at most ~5 s): a loaded machine may
# still be decrypting the last datagrams.
faults_settle() {
    local tag=$1 sig prev="" i side ns dev
    for ((i = 0; i < 15; i++)); do
        sleep 0.3
        sig=""
        for side in A B; do
            [[ $side == A ]] && { [[ $WBT_A == wb ]] || continue; ns=$NS_A dev=$IF_A; }
            [[ $side == B ]] && { [[ $WBT_B == wb ]] || continue; ns=$NS_B dev=$IF_B; }
            faults_counters "$ns" "$dev" "$WBT_TMP/$tag-$side.json"
            sig+=$(grep -o '"rx_datagrams":[0-9]*\|"tx_tun":[0-9]*' "$WBT_TMP/$tag-$side.json" | tr -d '\n')
        done
        [[ $sig == "$prev" ]] && return 0
        prev=$sig
    done
    wbt_log "$tag: the receivers' counters were still moving after 5 s"
}

# faults_lost <ns> <egress-if>: frames that can vanish after the bridge has
# sent them: the veth's tx drops (vMA/vMB in NS_M: the peer's backlog was
# full) and UDP datagrams the receiving namespace's kernel did not queue
# (socket buffer full, no socket on the port). One number; 0 in practice.
# Prints "<lost> <udp-checksum-errors>".
faults_lost() {
    local rcv=$1 egress=$2 veth
    veth=$(ip netns exec "$NS_M" cat "/sys/class/net/$egress/statistics/tx_dropped")
    ip netns exec "$rcv" cat /proc/net/snmp /proc/net/snmp6 | awk -v veth="${veth:-0}" '
        $1 == "Udp:" && !hdr { for (i = 2; i <= NF; i++) name[i] = $i; hdr = 1; next }
        $1 == "Udp:" { for (i = 2; i <= NF; i++) v[name[i]] = $i; next }
        $1 == "Udp6RcvbufErrors" || $1 == "Udp6NoPorts" { lost += $2 }
        $1 == "Udp6InCsumErrors" { csum += $2 }
        END { print veth + lost + v["RcvbufErrors"] + v["NoPorts"], csum + v["InCsumErrors"] }'
}

FAULTS_SERVER='import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
s.settimeout(30)
c, _ = s.accept()
c.settimeout(30)
h, n = hashlib.sha256(), 0
while True:
    b = c.recv(1 << 16)
    if not b:
        break
    h.update(b)
    n += len(b)
print(n, h.hexdigest(), flush=True)
c.close()'
FAULTS_CLIENT='import socket, sys
data = open(sys.argv[3], "rb").read()
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
c.sendall(data)
c.shutdown(socket.SHUT_WR)
while c.recv(4096):   # until the server has read everything and closed
    pass'

# faults_transfer <tag> <from-ns> <to-ns> <to-address>: the 4 MiB payload
# over TCP through the tunnel; sets XFER_S (seconds) and XFER_OUT
# ("<bytes> <sha256>" as received).
faults_transfer() {
    local tag=$1 from=$2 to=$3 addr=$4 port=$((20000 + RANDOM % 20000)) spid rc i t0
    ip netns exec "$to" timeout 35 "$WBT_PYTHON" -c "$FAULTS_SERVER" "$addr" "$port" \
        >"$WBT_TMP/recv-$tag.txt" 2>"$WBT_TMP/recv-$tag.log" &
    spid=$!
    for ((i = 0; i < 100; i++)); do
        ip netns exec "$to" ss -ltnH "sport = :$port" 2>/dev/null | grep -q . && break
        sleep 0.05
    done
    t0=$(date +%s.%N)
    timeout 35 ip netns exec "$from" "$WBT_PYTHON" -c "$FAULTS_CLIENT" "$addr" "$port" \
        "$PAYLOAD" >"$WBT_TMP/send-$tag.log" 2>&1
    rc=$?
    wait "$spid"
    XFER_S=$(awk -v t="$t0" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - t }')
    XFER_OUT=$(cat "$WBT_TMP/recv-$tag.txt" 2>/dev/null)
    [[ $rc -eq 0 && $XFER_OUT == "$PAYLOAD_LEN $PAYLOAD_SHA" ]]
}

# ------------------------------------------------------------------ checks

# v <name>: the value of variable <name>, 0 when unset.
v() { echo "${!1:-0}"; }

# faults_check_dir <tag> <dir> <receiver-prefix> <lost> <csum-errors>:
# the bridge's counters for direction <dir> (ab = A -> B, ba = B -> A)
# against the receiving daemon's datapath counters (flattened under
# <receiver-prefix>, its own since it started: fresh daemons each phase,
# read after the bridge stopped and the wire went quiet).
#
# A receiver must give its TUN exactly the data messages the bridge
# delivered intact the first time ("unique"), and reject the rest:
#     rejected = data sent - tx_tun = dup (replays) + corrupted (AEAD fails)
# since sent = unique + dup + corrupted for every kind (checked too); and
# the peers' own counters ("tunnel_drops" in `wirebolt show --json`) must
# name those rejections: decrypt_failed == corrupted data and keepalive
# copies, replay == their intact duplicates.
# Keepalives (32-byte data messages) never reach the TUN and are counted
# apart. Exact when nothing vanished after the bridge (<lost> = 0, the usual
# case); else the counts may fall short by at most <lost>.
faults_check_dir() {
    local tag=$1 d=$2 r=$3 lost=$4 csum=$5 k sent=0 bad=0 desc
    local b=BR_${d}
    for k in initiation response cookie data keepalive udp_other non_udp; do
        local ks kx
        ks=$(v "${b}_kinds_${k}_sent")
        kx=$(($(v "${b}_kinds_${k}_unique") + $(v "${b}_kinds_${k}_dup") + $(v "${b}_kinds_${k}_corrupted")))
        [[ $ks -eq $kx ]] || bad=1
        [[ $k != non_udp ]] && sent=$((sent + ks))
    done
    wbt_ok $bad "$tag $d: bridge bookkeeping: per kind sent == unique + dup + corrupted; oversize $(v "${b}_oversize"), send errors $(v "${b}_send_errors"), queue full $(v "${b}_queue_full") (all 0)" ||
        return 0
    [[ $(v "${b}_oversize") -eq 0 && $(v "${b}_send_errors") -eq 0 && $(v "${b}_queue_full") -eq 0 ]] ||
        wbt_ok 1 "$tag $d: the bridge forwarded every frame it meant to"

    if [[ -z $r ]]; then
        wbt_log "$tag $d: receiver is not wirebolt: no datapath counters to compare"
        return 0
    fi
    local rx tun dsent dunique ddup dcorr mac1 icorr other
    rx=$(v "${r}_datapath_totals_rx_datagrams")
    tun=$(v "${r}_datapath_totals_tx_tun")
    dsent=$(v "${b}_kinds_data_sent")
    dunique=$(v "${b}_kinds_data_unique")
    ddup=$(v "${b}_kinds_data_dup")
    dcorr=$(v "${b}_kinds_data_corrupted")
    mac1=$(v "${r}_datapath_totals_bad_mac1")
    icorr=$(v "${b}_kinds_initiation_corrupted")

    # 1. Every UDP datagram the bridge sent (corrupted ones included: the
    #    bridge fixed their UDP checksums) was read by the daemon.
    [[ $csum -eq 0 && $rx -le $sent && $rx -ge $((sent - lost)) ]]
    wbt_ok $? "$tag $d: receiver read every datagram the bridge sent: rx_datagrams $rx, sent $sent (lost after the bridge $lost; UDP checksum errors $csum)"

    # 2. Data: delivered == intact first copies; rejected == replays +
    #    authentication failures.
    [[ $tun -le $dunique && $tun -ge $((dunique - lost)) ]]
    wbt_ok $? "$tag $d: receiver's TUN got exactly the intact data messages: tx_tun $tun == unique $dunique; rejected $((dsent - tun)) of $dsent == $ddup replayed (duplicates) + $dcorr failed authentication (corrupted)"

    # 2b. ... and the tunnel counted each rejection under its reason.
    local dfail replay kcorr kdup
    dfail=$(v "${r}_datapath_tunnel_drops_decrypt_failed")
    replay=$(v "${r}_datapath_tunnel_drops_replay")
    kcorr=$(v "${b}_kinds_keepalive_corrupted")
    kdup=$(v "${b}_kinds_keepalive_dup")
    [[ $dfail -le $((dcorr + kcorr)) && $dfail -ge $((dcorr + kcorr - lost)) &&
       $replay -le $((ddup + kdup)) && $replay -ge $((ddup + kdup - lost)) ]]
    wbt_ok $? "$tag $d: tunnel drops: decrypt_failed $dfail == corrupted data + keepalives $dcorr + $kcorr; replay $replay == duplicated $ddup + $kdup"

    # 3. A corrupted initiation fails mac1 (the bridge flips a byte mac1
    #    covers), counted as bad_mac1. (A corrupted response is checked
    #    inside the tunnel: no datapath counter.)
    [[ $mac1 -eq $icorr ]]
    wbt_ok $? "$tag $d: bad_mac1 $mac1 == corrupted initiations $icorr"

    # 4. No other drop: every rejection above is explained.
    other=""
    for k in malformed unknown_index unknown_peer ratelimited hq_full source_not_allowed no_buffer dead_peer; do
        [[ $(v "${r}_datapath_totals_$k") -ne 0 ]] && other+=" $k=$(v "${r}_datapath_totals_$k")"
    done
    [[ $(v "${b}_kinds_udp_other_sent") -ne 0 ]] && other+=" (and $(v "${b}_kinds_udp_other_sent") UDP datagrams that are no WireGuard message)"
    [[ -z $other ]]
    wbt_ok $? "$tag $d: no unexplained drop at the receiver: ${other:-malformed, unknown_index, unknown_peer, ratelimited, hq_full, source_not_allowed, no_buffer, dead_peer all 0}"
    desc="$tag $d: rx $(v "${b}_rx") frames, dropped $(v "${b}_dropped"), duplicated $(v "${b}_duplicated"), corrupted $(v "${b}_corrupted"), reordered $(v "${b}_reordered"), pending at stop $(v "${b}_pending"), kernel drops $(v "${b}_kernel_drops")"
    wbt_log "$desc"
}

# faults_rate <tag> <dir> <what> <count> <out-of> <percent>: the injected
# rate is the configured one, within 6 standard deviations (binomial).
faults_rate() {
    awk -v n="$5" -v k="$4" -v p="$6" 'BEGIN { p /= 100; sd = sqrt(n * p * (1 - p));
        exit !(k > 0 && (k - n * p)^2 <= (6 * sd + 2)^2) }'
    wbt_ok $? "$1 $2: $3 $4 of $5 frames (configured $6 %)"
}

# ------------------------------------------------------------------ phases

# faults_phase <tag> <outer 4|6> <spec>
faults_phase() {
    local tag=$1 outer=$2 spec=$3 t0 hs_a hs_b lost_ab lost_ba csum_ab csum_ba s
    local lost0_ab lost0_ba csum0_ab csum0_ba
    wbt_log "phase $tag: outer IPv$outer, both directions: $spec, seed $SEED"
    read -r lost0_ab csum0_ab < <(faults_lost "$NS_B" vMB)
    read -r lost0_ba csum0_ba < <(faults_lost "$NS_A" vMA)
    bridge_start "$tag" "$spec"
    wbt_std_tunnel "$outer"

    # Handshake: A's first ping sends an initiation (lost or corrupted ones
    # are retried after REKEY_TIMEOUT, 5 s).
    t0=$SECONDS
    local up=0
    wbt_first_ping "$NS_A" "${WBT_T4[1]}" 25
    wbt_ok $? "$tag: handshake: first ping A -> B answered after $FIRST_PING_S s" || up=1
    hs_a=$(wbt_handshake "$NS_A" "$IF_A")
    hs_b=$(wbt_handshake "$NS_B" "$IF_B")
    [[ ${hs_a:-0} -gt 0 && ${hs_b:-0} -gt 0 ]]
    wbt_ok $? "$tag: latest handshake reported by A ($hs_a) and B ($hs_b)"

    # (No tunnel, no transfer: its timeouts would only add to the run.)
    if [[ $up -eq 0 ]]; then
        faults_transfer "$tag-ab" "$NS_A" "$NS_B" "${WBT_T4[1]}"
        wbt_ok $? "$tag: 4 MiB over TCP A -> B in $XFER_S s, byte-exact (received: ${XFER_OUT:-nothing})" ||
            tail -n 5 "$WBT_TMP/send-$tag-ab.log" "$WBT_TMP/recv-$tag-ab.log"
        local ab_s=$XFER_S
        faults_transfer "$tag-ba" "$NS_B" "$NS_A" "${WBT_T4[0]}"
        wbt_ok $? "$tag: 4 MiB over TCP B -> A in $XFER_S s, byte-exact (received: ${XFER_OUT:-nothing})" ||
            tail -n 5 "$WBT_TMP/send-$tag-ba.log" "$WBT_TMP/recv-$tag-ba.log"
        echo "FIGURE faults $tag $WBT_LABEL: handshake after $FIRST_PING_S s, 4 MiB A->B in $ab_s s, B->A in $XFER_S s"
    fi

    # Stop the wire, let the daemons finish what they read, then count.
    bridge_stop
    faults_settle "$tag"
    read -r lost_ab csum_ab < <(faults_lost "$NS_B" vMB)
    read -r lost_ba csum_ba < <(faults_lost "$NS_A" vMA)
    for s in $(compgen -v BR_ab_; compgen -v BR_ba_; compgen -v RA_; compgen -v RB_); do unset "$s"; done
    if [[ -s $BR_JSON ]]; then
        eval "$(faults_flat "$BR_JSON" BR)"
    fi
    [[ $WBT_A == wb && -s $WBT_TMP/$tag-A.json ]] && eval "$(faults_flat "$WBT_TMP/$tag-A.json" RA 2>/dev/null)"
    [[ $WBT_B == wb && -s $WBT_TMP/$tag-B.json ]] && eval "$(faults_flat "$WBT_TMP/$tag-B.json" RB 2>/dev/null)"
    local ra="" rb=""
    if [[ $WBT_A == wb ]]; then
        ra=RA
        [[ -n ${RA_datapath_workers:-} ]]
        wbt_ok $? "$tag: wirebolt show $IF_A --json has the datapath's counters" || cat "$WBT_TMP/$tag-A.json"
    fi
    if [[ $WBT_B == wb ]]; then
        rb=RB
        [[ -n ${RB_datapath_workers:-} ]]
        wbt_ok $? "$tag: wirebolt show $IF_B --json has the datapath's counters" || cat "$WBT_TMP/$tag-B.json"
    fi
    faults_check_dir "$tag" ab "$rb" $((lost_ab - lost0_ab)) $((csum_ab - csum0_ab))
    faults_check_dir "$tag" ba "$ra" $((lost_ba - lost0_ba)) $((csum_ba - csum0_ba))

    # The fault itself was injected (and did what it should).
    local d
    for d in ab ba; do
        case $tag in
        loss)
            faults_rate "$tag" "$d" "dropped" "$(v "BR_${d}_dropped")" "$(v "BR_${d}_rx")" 8 ;;
        delay)
            [[ $(v "BR_${d}_reordered") -gt 0 && $(v "BR_${d}_delayed") -eq $(v "BR_${d}_rx") ]]
            wbt_ok $? "$tag $d: every frame delayed ($(v "BR_${d}_delayed") of $(v "BR_${d}_rx")), $(v "BR_${d}_reordered") overtaken by later ones (none rejected for it: see above)" ;;
        dup)
            faults_rate "$tag" "$d" "duplicated" "$(v "BR_${d}_duplicated")" "$(v "BR_${d}_rx")" 10 ;;
        corrupt)
            # Corrupted among what the bridge could corrupt (UDP).
            local udp_rx=$(($(v "BR_${d}_rx") - $(v "BR_${d}_kinds_non_udp_rx")))
            faults_rate "$tag" "$d" "corrupted" "$(v "BR_${d}_corrupted")" "$udp_rx" 5 ;;
        esac
    done
    # The data messages themselves were hit, both ways (not only acks).
    for d in ab ba; do
        if [[ $tag == corrupt || $tag == all ]]; then
            [[ $(v "BR_${d}_kinds_data_corrupted") -gt 0 ]]
            wbt_ok $? "$tag $d: data messages corrupted: $(v "BR_${d}_kinds_data_corrupted") (all rejected, see above)"
        fi
        if [[ $tag == dup || $tag == all ]]; then
            [[ $(v "BR_${d}_kinds_data_dup") -gt 0 ]]
            wbt_ok $? "$tag $d: data messages replayed: $(v "BR_${d}_kinds_data_dup") (all rejected, see above)"
        fi
    done

    # Nothing stuck: the same daemons over an unimpaired wire (down for
    # the second or so of counting). The first ping may wait for the outer
    # neighbour entries (ARP/ND) to be confirmed again; then every one.
    bridge_start "$tag-clean" none
    wbt_first_ping "$NS_A" "${WBT_T4[1]}" 10
    wbt_ok $? "$tag, then unimpaired: traffic flows again (first ping A -> B after $FIRST_PING_S s)" || up=1
    wbt_ping_check "$NS_A" "${WBT_T4[1]}" 5 "$tag, then unimpaired: A -> B"
    [[ $PING_RX -eq 5 ]] || up=1
    wbt_ping_check "$NS_B" "${WBT_T4[0]}" 5 "$tag, then unimpaired: B -> A"
    [[ $PING_RX -eq 5 ]] || up=1
    [[ $up -eq 0 ]] || faults_diag
    wbt_check "$tag: A's daemon answers wg show" wbt_wg "$NS_A" show "$IF_A"
    wbt_check "$tag: B's daemon answers wg show" wbt_wg "$NS_B" show "$IF_B"
    bridge_stop
    wbt_daemon_kill "$IF_A"
    wbt_daemon_kill "$IF_B"
    ! wbt_pid_live "${WBT_DPID[$IF_A]}" && ! wbt_pid_live "${WBT_DPID[$IF_B]}"
    wbt_ok $? "$tag: both daemons stopped"
    faults_no_process "$tag"
    wbt_log "phase $tag done in $((SECONDS - t0)) s"
}

# faults_diag: after a failed check on the unimpaired wire: what the bridge
# and the daemons counted, the neighbour entries, and whether pings pass a
# moment later (a stall, or stuck for good).
faults_diag() {
    local side
    kill -USR1 "$BR_PID" 2>/dev/null
    sleep 0.2
    echo "--- bridge counters (SIGUSR1):"
    cat "$BR_JSON" 2>/dev/null
    ip -n "$NS_A" neigh show dev vAB
    ip -n "$NS_B" neigh show dev vBA
    for side in A B; do
        echo "--- wirebolt show --json $side:"
        [[ $side == A && $WBT_A == wb ]] && faults_counters "$NS_A" "$IF_A" "$WBT_TMP/diag-$side.json"
        [[ $side == B && $WBT_B == wb ]] && faults_counters "$NS_B" "$IF_B" "$WBT_TMP/diag-$side.json"
        cat "$WBT_TMP/diag-$side.json" 2>/dev/null
    done
    wbt_ping "$NS_A" "${WBT_T4[1]}" 5
    echo "--- pinging again: A -> B $PING_RX/5"
    wbt_ping "$NS_B" "${WBT_T4[0]}" 5
    echo "--- pinging again: B -> A $PING_RX/5"
}

# faults_no_process <tag>: nothing left running in the test's namespaces.
faults_no_process() {
    local ns left=""
    for ns in "$NS_A" "$NS_M" "$NS_B"; do
        [[ -n $(ip netns pids "$ns" 2>/dev/null) ]] && left+=" $ns: $(ip netns pids "$ns" | tr '\n' ' ')"
    done
    [[ -z $left ]]
    wbt_ok $? "$1: no process left in the namespaces${left}"
}

# ------------------------------------------------------------------- main

faults_impair_bin
PAYLOAD=$WBT_TMP/payload
head -c $((4 << 20)) /dev/urandom >"$PAYLOAD" || wbt_die "payload"
PAYLOAD_LEN=$(stat -c %s "$PAYLOAD")
PAYLOAD_SHA=$(sha256sum "$PAYLOAD" | awk '{ print $1 }')
faults_topology

for phase in ${WBT_FAULT_PHASES:-loss delay dup corrupt all}; do
    case $phase in
    loss) faults_phase loss 4 "loss=8" ;;
    delay) faults_phase delay 4 "delay=10,jitter=8" ;;
    dup) faults_phase dup 4 "dup=10" ;;
    corrupt) faults_phase corrupt 4 "corrupt=5" ;;
    all) faults_phase all 6 "loss=3,delay=5,jitter=4,dup=5,corrupt=3" ;;
    *) wbt_die "unknown phase '$phase' in WBT_FAULT_PHASES (loss delay dup corrupt all)" ;;
    esac
done
wbt_finish
