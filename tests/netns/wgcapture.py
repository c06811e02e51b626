#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""wgcapture.py IFNAME SECONDS PORT - capture the UDP datagrams to or from
PORT on IFNAME (an Ethernet/veth device, in the current network namespace)
for SECONDS and print one line per WireGuard message:

    <out|in> <src-port> <dst-port> <message type> <UDP payload length>

Used by test_mtu.sh to check the padding of transport messages. Raw
AF_PACKET socket, standard library only. Prints "ready" on stderr once the
socket is bound, so the caller can start sending.

A sender using UDP GSO (UDP_SEGMENT) hands the veth one super-datagram
that is only cut on delivery; the socket asks for the virtio_net_hdr
(PACKET_VNET_HDR) and cuts such frames at gso_size, so each WireGuard
message is still seen on its own."""

import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_VNET_HDR = 15
VNET_HDR_LEN = 10
GSO_UDP, GSO_UDP_L4 = 3, 5


def udp_of(frame, whole=False):
    """(sport, dport, payload) of an IPv4/IPv6 UDP frame, else None.
    whole: the payload is everything after the UDP header (a GSO frame,
    whose length fields describe the train, not one datagram)."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    ip = frame[14:]
    if ethertype == 0x0800 and len(ip) >= 20:
        ihl = (ip[0] & 0x0F) * 4
        frag = struct.unpack_from("!H", ip, 6)[0]
        if ip[9] != 17 or frag & 0x1FFF or len(ip) < ihl + 8:
            return None
        udp = ip[ihl:] if whole else ip[ihl:struct.unpack_from("!H", ip, 2)[0]]
    elif ethertype == 0x86DD and len(ip) >= 48:
        if ip[6] != 17:
            return None
        udp = ip[40:] if whole else ip[40:40 + struct.unpack_from("!H", ip, 4)[0]]
    else:
        return None
    if len(udp) < 8:
        return None
    sport, dport, ulen = struct.unpack_from("!HHH", udp, 0)
    return sport, dport, udp[8:] if whole else udp[8:ulen]


def main():
    ifname, seconds, port = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    s.bind((ifname, 0))
    print("ready", file=sys.stderr, flush=True)
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            frame, addr = s.recvfrom(65535)
        except socket.timeout:
            break
        gso_type, gso_size = frame[1] & 0x7F, struct.unpack_from("=H", frame, 4)[0]
        gso = gso_type in (GSO_UDP, GSO_UDP_L4) and gso_size > 0
        got = udp_of(frame[VNET_HDR_LEN:], whole=gso)
        if got is None or port not in (got[0], got[1]) or not got[2]:
            continue
        direction = "out" if addr[2] == PACKET_OUTGOING else "in"
        step = gso_size if gso else len(got[2])
        for at in range(0, len(got[2]), step):
            msg = got[2][at:at + step]
            print(direction, got[0], got[1], msg[0], len(msg), flush=True)


if __name__ == "__main__":
    main()
