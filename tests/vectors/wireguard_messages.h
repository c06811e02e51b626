/* SPDX-License-Identifier: MIT */
/*
 * wireguard_messages.h - known-answer WireGuard messages (initiation,
 * response, transport keys, keepalive, data, cookie reply), checked by
 * tests/vectors/test_noise_vectors.c and used as fixed keys by the fuzz
 * harnesses (tests/fuzz/).
 *
 * How they were generated: `build-kat/tests/test_noise_vectors --print`
 * runs the protocol code (proto/noise.c, proto/cookie.c, proto/packet.c)
 * on the inputs below and prints the outputs; they were pasted here once.
 * The test recomputes everything with the protocol code AND with a second,
 * straight-line implementation of the whitepaper (libsodium X25519 and
 * ChaCha20-Poly1305 / XChaCha20-Poly1305, BLAKE2s, HMAC and HKDF written out
 * in the test), and both must equal these bytes. When generated, they were
 * also checked once against a third computation outside the tree (Python:
 * hashlib.blake2s, the `cryptography` package's X25519 and ChaCha20-Poly1305,
 * HChaCha20 written out); confirming them against wireguard-go is still to do.
 *
 * Inputs:
 *   - static keys: RFC 7748 section 6.1 Alice (initiator) and Bob (responder);
 *   - ephemeral private keys: the arbitrary bytes below (clamped by X25519);
 *   - realtime 1700000000.123456789 s since the epoch, so the TAI64N stamp is
 *     0x400000000000000a + 1700000000 s and 123456789 ns rounded down to a
 *     multiple of 2^24 (117440512 ns);
 *   - sender indices 0xd4c3b2a1 (initiator) and 0x0a1b2c3d (responder);
 *   - preshared key 00 01 .. 1f for the *_PSK vectors, none (all zero) for
 *     the *_NO_PSK ones (message 1 does not depend on it);
 *   - no cookie when the initiation and response are sent: mac2 is zero;
 *   - transport: the initiator sends a keepalive (counter 0, no payload),
 *     then WGV_INNER_IPV4 (counter 1, 64 bytes: no padding needed);
 *   - cookie reply to the initiation from 192.0.2.1:51820 with the
 *     responder's secret c0 c1 .. df and nonce 60 61 .. 77;
 *     WGV_INITIATION_WITH_MAC2 is the same initiation re-MACed by the
 *     initiator once it holds that cookie.
 */
#ifndef WB_TESTS_WIREGUARD_MESSAGES_H
#define WB_TESTS_WIREGUARD_MESSAGES_H

/* ------------------------------------------------------------- inputs */

#define WGV_INITIATOR_STATIC_PRIVATE "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define WGV_RESPONDER_STATIC_PRIVATE "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define WGV_INITIATOR_EPHEMERAL_PRIVATE "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100"
#define WGV_RESPONDER_EPHEMERAL_PRIVATE "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
#define WGV_PRESHARED_KEY "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define WGV_REALTIME_NS 1700000000123456789ULL
#define WGV_INITIATOR_INDEX 0xd4c3b2a1U
#define WGV_RESPONDER_INDEX 0x0a1b2c3dU
#define WGV_COOKIE_SECRET "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
#define WGV_COOKIE_NONCE "606162636465666768696a6b6c6d6e6f7071727374757677"
#define WGV_SOURCE_IPV4 { 192, 0, 2, 1 }
#define WGV_SOURCE_PORT 51820
/* IPv4/UDP 10.0.0.1:40000 -> 10.0.0.2:51820, 36 bytes of text, valid header checksum. */
#define WGV_INNER_IPV4                                                   \
    "4500004012344000401114770a0000010a0000029c40ca6c002c0000"           \
    "77697265626f6c74206b6e6f776e2d616e73776572207061796c6f616420303132333435"

/* ------------------------------------------------------------ outputs */
/* TAI64N of WGV_REALTIME_NS */
#define WGV_TAI64N "400000006553f10a07000000"

/* Public keys (X25519 of the private keys above) */
#define WGV_INITIATOR_STATIC_PUBLIC "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define WGV_RESPONDER_STATIC_PUBLIC "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define WGV_INITIATOR_EPHEMERAL_PUBLIC "87968c1c1642bd0600f6ad869b88f92c9623d0dfc44f01deffe21c9add3dca5f"
#define WGV_RESPONDER_EPHEMERAL_PUBLIC "605a725d2a4adfeeb1a29e17edd621c1b7593ee8cdbc44ac6c4ab6e2f805d23c"

/* Message 1: 148 bytes, mac1 keyed with the responder's public key, mac2 zero.
 * The same with and without the preshared key. */
#define WGV_INITIATION \
    "01000000a1b2c3d487968c1c1642bd0600f6ad869b88f92c9623d0dfc44f01de" \
    "ffe21c9add3dca5f48fd60567587d3058aa78dbf010eb0b03dd916baa0302589" \
    "186812d704361b65c36842ab702e1b7d9541180f45b87d9a2e046d2e148de79d" \
    "273f93db9d1edbc3243d7d14cd0037d35f04594437d4023cd05c2ae2238e30aa" \
    "f3e5498800000000000000000000000000000000"

/* With the preshared key: message 2 (92 bytes), the initiator's transport
 * keys (the responder's are swapped: its receive key is the initiator's
 * send key), the keepalive (32 bytes) and the data message (96 bytes). */
#define WGV_RESPONSE_PSK \
    "020000003d2c1b0aa1b2c3d4605a725d2a4adfeeb1a29e17edd621c1b7593ee8" \
    "cdbc44ac6c4ab6e2f805d23cb1a4001d27b79f5017f74f8c37e40d4dea95ac8d" \
    "1a3c8b8da7e35e62d4c4805800000000000000000000000000000000"
#define WGV_KEY_INITIATOR_SEND_PSK "cb6a008c4095d9692eca583a7929f70dc2ac0665a45bccb72485d68a1bb096be"
#define WGV_KEY_INITIATOR_RECV_PSK "aa2538a7eb2732d13fa49c2f518f163ba34a0c912b4087777ade759a62c04caf"
#define WGV_KEEPALIVE_PSK "040000003d2c1b0a0000000000000000196d90abf90e9207aad455e516da4c5b"
#define WGV_DATA_PSK \
    "040000003d2c1b0a01000000000000004d40be3d6435fad4c2b81814419cdac3" \
    "769ea81123c232649032d2a9fcfedc6039597682211bf6c5a6416b28dceb7038" \
    "54853090be61df08e5ff4a7a34f7252db90183ec7411de4358e3bde42d2f3577"

/* The same without a preshared key. */
#define WGV_RESPONSE_NO_PSK \
    "020000003d2c1b0aa1b2c3d4605a725d2a4adfeeb1a29e17edd621c1b7593ee8" \
    "cdbc44ac6c4ab6e2f805d23cf1552fb494aeb717acf7d6e67cc856c88d0cb0e6" \
    "0617518c30a01c7f8d9460c100000000000000000000000000000000"
#define WGV_KEY_INITIATOR_SEND_NO_PSK "5225001016b33ed399e29cf0395bf9eaff5c174e644bb647d9ebd7e94b13da07"
#define WGV_KEY_INITIATOR_RECV_NO_PSK "98f7d9a30c63cf652afdc5234c9b080909c6db5f50afd5fbeb4c308ac9705403"
#define WGV_KEEPALIVE_NO_PSK "040000003d2c1b0a0000000000000000f6349892dba95abcf300a25a80836422"
#define WGV_DATA_NO_PSK \
    "040000003d2c1b0a0100000000000000b334b4eb66ee49f0538354a05e83dfc3" \
    "fe6d1525c24b48cd6349460b7daf20fc3ffdb3e98220840c138427e534252ff1" \
    "24c46b651a207ccfc2f67e5ae93b73a94d523c71a434099b770fb8a613d03c51"

/* Cookie = keyed-BLAKE2s-128(secret, 192.0.2.1 || port 51820 big-endian);
 * the reply (64 bytes) answers WGV_INITIATION: receiver index = its sender
 * index, AAD = its mac1. Then the initiation with mac2 = MAC(cookie, msg). */
#define WGV_COOKIE "e45f9a32c99b136a154f863485799da7"
#define WGV_COOKIE_REPLY \
    "03000000a1b2c3d4606162636465666768696a6b6c6d6e6f7071727374757677" \
    "3c2c37fa80779435c4ce05bafb801882ea1488d47da614af5f6bea0745273c05"
#define WGV_INITIATION_WITH_MAC2 \
    "01000000a1b2c3d487968c1c1642bd0600f6ad869b88f92c9623d0dfc44f01de" \
    "ffe21c9add3dca5f48fd60567587d3058aa78dbf010eb0b03dd916baa0302589" \
    "186812d704361b65c36842ab702e1b7d9541180f45b87d9a2e046d2e148de79d" \
    "273f93db9d1edbc3243d7d14cd0037d35f04594437d4023cd05c2ae2238e30aa" \
    "f3e5498877f57dd9d348f5b7f603cef708f0faf4"

#endif
