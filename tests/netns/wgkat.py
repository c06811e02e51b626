#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""wgkat.py - play the initiator of tests/vectors/wireguard_messages.h
against a live WireGuard responder over UDP.

    wgkat.py HEADER keys
        print the vector's keys in wg(8)'s base64: responder private key,
        initiator public key, preshared key (one "name value" per line)
    wgkat.py HEADER run HOST PORT {psk|no-psk} INNER_SRC INNER_DST

`run` first recomputes the initiation from the vector's inputs and checks
it equals WGV_INITIATION, and recomputes the vector's response, transport
keys, keepalive and data message (so this script and the vector agree on
every byte), then sends those
exact 148 bytes to HOST:PORT and waits for the response. It checks: 92
bytes, type 2, receiver index = the vector's sender index, mac1 keyed with
the initiator's public key; then it finishes the handshake as the
initiator would (DH with the vector's ephemeral and static keys, the
preshared key or none) and opens the response's empty AEAD field - which
only works if the responder derived the same chaining key. It then sends a
keepalive and an ICMP echo request INNER_SRC -> INNER_DST inside a
transport message with the derived keys, and decrypts the echo reply.

Prints one "ok: ..." or "FAIL: ..." line per check; exit 0 if all passed.
Standard library only: X25519 and ChaCha20-Poly1305 are written out below
(RFC 7748, RFC 8439), BLAKE2s comes from hashlib."""

import base64
import hashlib
import hmac
import re
import socket
import struct
import sys
import time

# ------------------------------------------------------------ primitives

P25519 = 2**255 - 19


def x25519(k, u):
    """RFC 7748 section 5: scalar k (32 bytes) times u-coordinate u."""
    k = bytearray(k)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    scalar = int.from_bytes(k, "little")
    x1 = int.from_bytes(u, "little") & ((1 << 255) - 1)
    x2, z2, x3, z3, swap = 1, 0, x1, 1, 0
    for t in reversed(range(255)):
        bit = (scalar >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = (x2 + z2) % P25519, (x2 - z2) % P25519
        aa, bb = a * a % P25519, b * b % P25519
        e = (aa - bb) % P25519
        c, d = (x3 + z3) % P25519, (x3 - z3) % P25519
        da, cb = d * a % P25519, c * b % P25519
        x3 = (da + cb) ** 2 % P25519
        z3 = x1 * (da - cb) ** 2 % P25519
        x2 = aa * bb % P25519
        z2 = e * (aa + 121665 * e) % P25519
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, P25519 - 2, P25519) % P25519).to_bytes(32, "little")


def x25519_public(k):
    return x25519(k, (9).to_bytes(32, "little"))


def rotl32(v, c):
    return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))


def chacha20_block(key, counter, nonce):
    s = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
    s += list(struct.unpack("<8I", key)) + [counter] + list(struct.unpack("<3I", nonce))
    w = list(s)

    def qr(a, b, c, d):
        w[a] = (w[a] + w[b]) & 0xFFFFFFFF; w[d] = rotl32(w[d] ^ w[a], 16)
        w[c] = (w[c] + w[d]) & 0xFFFFFFFF; w[b] = rotl32(w[b] ^ w[c], 12)
        w[a] = (w[a] + w[b]) & 0xFFFFFFFF; w[d] = rotl32(w[d] ^ w[a], 8)
        w[c] = (w[c] + w[d]) & 0xFFFFFFFF; w[b] = rotl32(w[b] ^ w[c], 7)

    for _ in range(10):
        qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15)
        qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14)
    return struct.pack("<16I", *[(x + y) & 0xFFFFFFFF for x, y in zip(w, s)])


def chacha20_xor(key, counter, nonce, data):
    out = bytearray()
    for i in range(0, len(data), 64):
        block = chacha20_block(key, counter + i // 64, nonce)
        out += bytes(a ^ b for a, b in zip(data[i:i + 64], block))
    return bytes(out)


def poly1305(key, msg):
    r = int.from_bytes(key[:16], "little") & 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
    s = int.from_bytes(key[16:], "little")
    p, acc = 2**130 - 5, 0
    for i in range(0, len(msg), 16):
        acc = (acc + int.from_bytes(msg[i:i + 16] + b"\x01", "little")) * r % p
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")


def pad16(b):
    return b"\x00" * (-len(b) % 16)


def aead_tag(key, nonce, aad, ct):
    otk = chacha20_block(key, 0, nonce)[:32]
    mac_data = aad + pad16(aad) + ct + pad16(ct) + struct.pack("<QQ", len(aad), len(ct))
    return poly1305(otk, mac_data)


def nonce_of(counter):
    return b"\x00" * 4 + struct.pack("<Q", counter)


def aead_seal(key, counter, plain, aad):
    ct = chacha20_xor(key, 1, nonce_of(counter), plain)
    return ct + aead_tag(key, nonce_of(counter), aad, ct)


def aead_open(key, counter, sealed, aad):
    """Plaintext, or None when the tag does not verify."""
    ct, tag = sealed[:-16], sealed[-16:]
    if not hmac.compare_digest(aead_tag(key, nonce_of(counter), aad, ct), tag):
        return None
    return chacha20_xor(key, 1, nonce_of(counter), ct)


def hash_(*parts):
    return hashlib.blake2s(b"".join(parts)).digest()


def mac(key, data):
    return hashlib.blake2s(data, key=key, digest_size=16).digest()


def hmac_(key, data):
    return hmac.new(key, data, hashlib.blake2s).digest()


def kdf(key, data, n):
    t0 = hmac_(key, data)
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = hmac_(t0, prev + bytes([i]))
        out.append(prev)
    return out


CONSTRUCTION = b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
IDENTIFIER = b"WireGuard v1 zx2c4 Jason@zx2c4.com"
LABEL_MAC1 = b"mac1----"

# ------------------------------------------------------------ the vector


def read_header(path):
    """{NAME: value} for every #define whose value is string literals
    (concatenated) or a plain number."""
    text = open(path).read().replace("\\\n", " ")
    out = {}
    for m in re.finditer(r"^#define\s+(WGV_\w+)\s+(.*)$", text, re.M):
        value = m.group(2)
        strings = re.findall(r'"([^"]*)"', value)
        if strings:
            out[m.group(1)] = "".join(strings)
        else:
            out[m.group(1)] = value.strip()
    return out


def num(v):
    return int(re.sub(r"[uUlL]+$", "", v), 0)


class Vector:
    def __init__(self, path):
        d = read_header(path)
        h = lambda name: bytes.fromhex(d[name])
        self.si_priv = h("WGV_INITIATOR_STATIC_PRIVATE")
        self.sr_priv = h("WGV_RESPONDER_STATIC_PRIVATE")
        self.ei_priv = h("WGV_INITIATOR_EPHEMERAL_PRIVATE")
        self.psk = h("WGV_PRESHARED_KEY")
        self.tai64n = h("WGV_TAI64N")
        self.index = num(d["WGV_INITIATOR_INDEX"])
        self.initiation = h("WGV_INITIATION")
        self.si_pub = x25519_public(self.si_priv)
        self.sr_pub = x25519_public(self.sr_priv)
        self.ei_pub = x25519_public(self.ei_priv)
        self.d = d


def create_initiation(v):
    """Message 1 from the vector's inputs, plus the initiator's (C, H)."""
    c = hash_(CONSTRUCTION)
    h = hash_(hash_(c, IDENTIFIER), v.sr_pub)
    c = kdf(c, v.ei_pub, 1)[0]
    h = hash_(h, v.ei_pub)
    c, k = kdf(c, x25519(v.ei_priv, v.sr_pub), 2)
    enc_static = aead_seal(k, 0, v.si_pub, h)
    h = hash_(h, enc_static)
    c, k = kdf(c, x25519(v.si_priv, v.sr_pub), 2)
    enc_time = aead_seal(k, 0, v.tai64n, h)
    h = hash_(h, enc_time)
    msg = struct.pack("<II", 1, v.index) + v.ei_pub + enc_static + enc_time
    msg += mac(hash_(LABEL_MAC1, v.sr_pub), msg)
    msg += b"\x00" * 16
    return msg, c, h


def consume_response(v, c, h, msg, psk):
    """(send key, receive key, responder index), or (None, reason)."""
    er_pub = msg[12:44]
    c = kdf(c, er_pub, 1)[0]
    h = hash_(h, er_pub)
    c = kdf(c, x25519(v.ei_priv, er_pub), 1)[0]
    c = kdf(c, x25519(v.si_priv, er_pub), 1)[0]
    c, tau, k = kdf(c, psk, 3)
    h = hash_(h, tau)
    if aead_open(k, 0, msg[44:60], h) != b"":
        return None, "the response's empty field does not open with the derived key"
    send, recv = kdf(c, b"", 2)
    return (send, recv, struct.unpack_from("<I", msg, 4)[0]), None

# ------------------------------------------------------------ inner packets


def csum(b):
    if len(b) % 2:
        b += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def icmp_echo(src, dst, ident, seq, payload):
    icmp = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0x1234, 0x4000, 64, 1, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + icmp


def transport(receiver, counter, key, inner):
    padded = inner + b"\x00" * (-len(inner) % 16)
    return struct.pack("<IIQ", 4, receiver, counter) + aead_seal(key, counter, padded, b"")

# ------------------------------------------------------------ the run

FAILS = 0


def check(cond, what):
    global FAILS
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        FAILS += 1
    return cond


def offline(v, c, h, use_psk):
    """The vector's own response, keys, keepalive and data message, opened
    and recomputed here: this script and the vector agree end to end."""
    sfx = "PSK" if use_psk else "NO_PSK"
    d = v.d
    keys, why = consume_response(v, c, h, bytes.fromhex(d["WGV_RESPONSE_" + sfx]),
                                 v.psk if use_psk else b"\x00" * 32)
    ok = keys is not None and keys[0].hex() == d["WGV_KEY_INITIATOR_SEND_" + sfx] \
        and keys[1].hex() == d["WGV_KEY_INITIATOR_RECV_" + sfx]
    ok = ok and transport(keys[2], 0, keys[0], b"").hex() == d["WGV_KEEPALIVE_" + sfx]
    ok = ok and transport(keys[2], 1, keys[0], bytes.fromhex(d["WGV_INNER_IPV4"])).hex() == d["WGV_DATA_" + sfx]
    check(ok, "WGV_RESPONSE_%s, WGV_KEY_INITIATOR_*_%s, WGV_KEEPALIVE_%s, WGV_DATA_%s recomputed here"
          % (sfx, sfx, sfx, sfx))


def run(v, host, port, use_psk, inner_src, inner_dst):
    msg1, c, h = create_initiation(v)
    check(msg1 == v.initiation, "WGV_INITIATION recomputed from the vector's inputs (148 bytes)")
    offline(v, c, h, use_psk)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(3)
    sock.sendto(v.initiation, (host, port))
    try:
        resp, _ = sock.recvfrom(2048)
    except socket.timeout:
        check(False, "a response to the vector's initiation within 3 s")
        return
    check(True, "a response to the vector's initiation from %s:%d" % (host, port))
    ok = check(len(resp) == 92, "response length %d (expected 92)" % len(resp))
    ok &= check(resp[0] == 2 and resp[1:4] == b"\x00\x00\x00", "response type %d (expected 2)" % resp[0])
    if not ok:
        return
    recv_index = struct.unpack_from("<I", resp, 8)[0]
    check(recv_index == v.index, "response receiver index 0x%08x (expected the vector's sender index 0x%08x)"
          % (recv_index, v.index))
    check(resp[60:76] == mac(hash_(LABEL_MAC1, v.si_pub), resp[:60]),
          "response mac1 keyed with the initiator's public key")
    keys, why = consume_response(v, c, h, resp, v.psk if use_psk else b"\x00" * 32)
    if not check(keys is not None, "handshake completed with the vector's keys (%s preshared key)%s"
                 % ("with the" if use_psk else "no", "" if keys else ": " + why)):
        return
    send, recv, their_index = keys
    sock.sendto(transport(their_index, 0, send, b""), (host, port))
    ident, seq = 0x5742, 1
    payload = b"wirebolt known-answer test"
    sock.sendto(transport(their_index, 1, send, icmp_echo(inner_src, inner_dst, ident, seq, payload)),
                (host, port))
    end = time.monotonic() + 3
    while time.monotonic() < end:
        try:
            pkt, _ = sock.recvfrom(4096)
        except socket.timeout:
            break
        if len(pkt) < 32 or pkt[0] != 4 or struct.unpack_from("<I", pkt, 4)[0] != v.index:
            continue
        counter = struct.unpack_from("<Q", pkt, 8)[0]
        inner = aead_open(recv, counter, pkt[16:], b"")
        if inner is None:
            check(False, "transport message (counter %d) opens with the derived receive key" % counter)
            return
        if not inner:
            continue                                    # a keepalive
        tot = struct.unpack_from("!H", inner, 2)[0]
        ip = inner[:tot]
        good = (ip[0] >> 4 == 4 and ip[9] == 1 and ip[12:16] == socket.inet_aton(inner_dst)
                and ip[16:20] == socket.inet_aton(inner_src))
        icmp = ip[(ip[0] & 15) * 4:]
        good = good and icmp[0] == 0 and struct.unpack_from("!HH", icmp, 4) == (ident, seq) \
            and icmp[8:] == payload
        check(good, "echo reply %s -> %s decrypted with the derived keys (counter %d, %d bytes padded to %d)"
              % (inner_dst, inner_src, counter, tot, len(inner)))
        return
    check(False, "an encrypted echo reply from %s within 3 s" % inner_dst)


def main():
    v = Vector(sys.argv[1])
    if sys.argv[2] == "keys":
        b64 = lambda b: base64.b64encode(b).decode()
        print("responder_private", b64(v.sr_priv))
        print("initiator_public", b64(v.si_pub))
        print("preshared_key", b64(v.psk))
        return 0
    host, port, mode, src, dst = sys.argv[3:8]
    run(v, host, int(port), mode == "psk", src, dst)
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
