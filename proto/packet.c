/* SPDX-License-Identifier: MIT */
/* packet.c - transport data create/consume (packet.h). */
#include <errno.h>
#include <string.h>

#include "proto/byteorder.h"
#include "proto/messages.h"
#include "proto/packet.h"




uint32_t packet_receiver_index(const uint8_t *msg)
{
    return load_le32(msg + 4);
}

size_t packet_padded_len(size_t len, size_t mtu)
{
    size_t last = mtu && len > mtu ? len % mtu : len;
    size_t padded = (last + MESSAGE_PADDING_MULTIPLE - 1) & ~(size_t)(MESSAGE_PADDING_MULTIPLE - 1);

    if (mtu && padded > mtu)
        padded = mtu;
    padded = len + (padded - last);
    if (padded > MESSAGE_MAX_LEN - MESSAGE_MINIMUM_LENGTH)
        padded = len;
    return padded;
}

long packet_prepare_create(struct noise_keypair *kp, const uint8_t *src, size_t len, size_t mtu,
                           uint8_t *dst, size_t cap, struct aead_op *op)
{
    size_t padded = packet_padded_len(len, mtu);
    size_t total = MESSAGE_DATA_HEADER_LEN + padded + NOISE_AUTHTAG_LEN;
    uint64_t counter;

    if (cap < total)
        return -EMSGSIZE;
    if (kp->sending_counter >= REJECT_AFTER_MESSAGES)
        return -EOVERFLOW;
    counter = kp->sending_counter++;

    store_le32(dst, MESSAGE_DATA);
    store_le32(dst + 4, kp->remote_index);
    store_le64(dst + 8, counter);
    if (len && src != dst + MESSAGE_DATA_HEADER_LEN)
        memcpy(dst + MESSAGE_DATA_HEADER_LEN, src, len);
    memset(dst + MESSAGE_DATA_HEADER_LEN + len, 0, padded - len);

    op->dst = dst + MESSAGE_DATA_HEADER_LEN;   /* in place */
    op->src = dst + MESSAGE_DATA_HEADER_LEN;
    op->len = padded;
    op->counter = counter;
    op->key = kp->sending.key;
    op->result = 0;
    return (long)total;
}

long packet_prepare_consume(struct noise_keypair *kp, const uint8_t *msg, size_t len,
                            uint8_t *dst, size_t cap, struct aead_op *op)
{
    size_t plain;

    if (len < MESSAGE_MINIMUM_LENGTH)
        return -EINVAL;
    plain = len - MESSAGE_MINIMUM_LENGTH;
    if (cap < plain)
        return -EMSGSIZE;
    op->dst = dst;
    op->src = msg + MESSAGE_DATA_HEADER_LEN;
    op->len = len - MESSAGE_DATA_HEADER_LEN;
    op->counter = load_le64(msg + 8);
    op->key = kp->receiving.key;
    op->result = 0;
    return (long)plain;
}

int packet_finish_consume(struct noise_keypair *kp, const struct aead_op *op)
{
    if (op->result < 0)
        return -EBADMSG;
    /* Only now, authenticated, may the counter move the window. */
    if (!replay_check_and_update(&kp->receiving_counter, op->counter))
        return -EALREADY;
    return 0;
}

int packet_inner_check(const uint8_t *pkt, size_t len, size_t *inner_len)
{
    size_t n;

    if (len < 1)
        return 0;
    switch (pkt[0] >> 4) {
    case 4:
        if (len < 20 || (pkt[0] & 0x0f) < 5)
            return 0;
        n = (size_t)pkt[2] << 8 | pkt[3];
        if (n < (size_t)(pkt[0] & 0x0f) * 4 || n > len)
            return 0;
        *inner_len = n;
        return 4;
    case 6:
        if (len < 40)
            return 0;
        n = ((size_t)pkt[4] << 8 | pkt[5]) + 40;
        if (n > len)
            return 0;
        *inner_len = n;
        return 6;
    default:
        return 0;
    }
}
