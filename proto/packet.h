/* SPDX-License-Identifier: MIT */
/*
 * packet.h - transport data messages (type 4): create (pad, number, seal)
 * and consume (open, replay check), each split into prepare and finish so a
 * batch can run one aead_*_batch call between them (VPP style: decide per
 * packet, one crypto call per batch). Also the sanity check of a decrypted
 * inner IP packet.
 *
 * Concurrency: prepare_create takes the next nonce from kp->sending_counter,
 * so calls on one keypair are serialised by the owner (the nonce is the one
 * serial step; the crypto between prepare and finish may run anywhere).
 * finish_consume touches the replay window: owner-serialised, in order.
 */
#ifndef WB_PROTO_PACKET_H
#define WB_PROTO_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/aead.h"
#include "proto/noise.h"

/* Plaintext length after padding to 16, never past the MTU. */
size_t packet_padded_len(size_t len, size_t mtu);

/* Write the header and the padded plaintext into dst (which may not overlap
 * src, unless src is exactly dst + 16: the packet is then sealed where it
 * lies, the header going in front of it) and fill *op for an in-place seal. Returns the message length, or
 * -EMSGSIZE (dst too small) / -EOVERFLOW (counter exhausted). */
long packet_prepare_create(struct noise_keypair *kp, const uint8_t *src, size_t len, size_t mtu,
                           uint8_t *dst, size_t cap, struct aead_op *op);

/* Check the header of a data message, fill *op to open it into dst.
 * Returns the plaintext length or -EMSGSIZE / -EINVAL. */
long packet_prepare_consume(struct noise_keypair *kp, const uint8_t *msg, size_t len,
                            uint8_t *dst, size_t cap, struct aead_op *op);
/* After the open: 0 if authentic and fresh, -EBADMSG, or -EALREADY (replay). */
int packet_finish_consume(struct noise_keypair *kp, const struct aead_op *op);

/* Receiver index of a data message (len >= 16 checked by the caller). */
uint32_t packet_receiver_index(const uint8_t *msg);

/* Is pkt[0..len) a plausible IPv4/IPv6 packet? Returns 4 or 6 and sets
 * *inner_len from the IP header's length field (padding trimmed), or 0. */
int packet_inner_check(const uint8_t *pkt, size_t len, size_t *inner_len);

#endif
