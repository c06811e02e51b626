/* SPDX-License-Identifier: MIT */
/*
 * chacha20_avx2_core.h - the AVX2 ChaCha20 block kernels as GNU assembler
 * macros, shared by chacha20_avx2.S (keystream XOR alone) and
 * chacha20poly1305_avx2_stitched.S (the same kernels with Poly1305 blocks
 * interleaved on the integer units).
 *
 * The including file defines, before including this:
 *   FP          the register holding the 64-byte aligned frame base;
 *   POLY_SLOT   a macro run a few times per double round (empty, or one
 *               Poly1305 block when one is due);
 * and calls CHACHA_AVX2_CONSTANTS once in a read-only data section.
 *
 * Kernels (each a subroutine body; the counter lives at ST+48 and each
 * advances it by the blocks it made; eax counts the double rounds):
 *   CORE8: 8 blocks, one state word of eight blocks per ymm register
 *          (ROUNDS8). Words 8..11 share two registers (two live, two
 *          spilled to C8..C11), so two registers stay free for the
 *          rotations. Out: the words in registers as OUT8 expects.
 *   CORE4: 4 blocks as two sets of two blocks per ymm register in row
 *          order, diagonals by VPSHUFD; out: 256 bytes at KS.
 *   CORE1: 1 block in xmm rows; out: 64 bytes at KS.
 *   CORE32Z (AVX-512F): 32 blocks, two sets of 16 in zmm0..15 and
 *          zmm16..31, one state word of a set per register, rotations
 *          by vprold: eight independent quarter-round chains. Vector adds
 *          take 2 cycles on some cores (AMD Zen 5), which leaves CORE8's
 *          four chains waiting on their dependencies; 32 blocks cost about
 *          what 8 do there. Out: in the frame (VZ), then by groups of 8
 *          blocks as OUT8 expects, after FINZ.
 */
#ifndef WB_ASM_CHACHA20_AVX2_CORE_H
#define WB_ASM_CHACHA20_AVX2_CORE_H

/* Frame layout, relative to FP. */
#define C8 0            /* spill slots for state words 8..11 (8 blocks) */
#define C9 32
#define C10 64
#define C11 96
#define X12 128         /* the starting counter vector (8 blocks) */
#define ST 160          /* the 16-word ChaCha state, counter at ST+48 */
#define KS 256          /* keystream for a short stretch: 512 bytes (CORE8
                         * and smaller), 2048 (CORE32Z) */
#define NARROW_FRAME_END 768    /* the frame without CORE32Z */
#define VZ 2304         /* CORE32Z: word i of blocks 16 s .. 16 s + 15 at
                         * VZ + 1024 s + 64 i */
#define X12Z 4352       /* CORE32Z: the 32 starting counters */
#define CORE_FRAME_END 4480

.macro CHACHA_AVX2_CONSTANTS
.balign 32
.Lrot16:
    .byte 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13
    .byte 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13
.Lrot8:
    .byte 3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14
    .byte 3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14
.Linc8:
    .long 0, 1, 2, 3, 4, 5, 6, 7
.Linc01:
    .long 0, 0, 0, 0, 1, 0, 0, 0
.Linc22:
    .long 2, 0, 0, 0, 2, 0, 0, 0
.balign 64
.Linc16:
    .long 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
.Lfill16:
    .long 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16
.Lsigma:
    .long 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574
.endm

/* ST = constants || key (rk) || iv (riv: LE32 counter || nonce). */
.macro STATE_INIT rk, riv
    vmovdqu .Lsigma(%rip), %xmm0
    vmovdqu (\rk), %xmm1
    vmovdqu 16(\rk), %xmm2
    vmovdqu (\riv), %xmm3
    vmovdqa %xmm0, ST + 0(FP)
    vmovdqa %xmm1, ST + 16(FP)
    vmovdqa %xmm2, ST + 32(FP)
    vmovdqa %xmm3, ST + 48(FP)
.endm

/* x = x <<< n for a 32-bit lane rotation by a non-byte amount (t: scratch). */
.macro ROTL n, x, t
    vpslld $\n, \x, \t
    vpsrld $(32 - \n), \x, \x
    vpor \t, \x, \x
.endm

/* Two quarter rounds side by side, on (a0 b0 c0 d0) and (a1 b1 c1 d1):
 * state words (8-block layout) or rows (4- and 1-block layouts). */
.macro QR2 a0, b0, c0, d0, a1, b1, c1, d1, t0, t1
    vpaddd \b0, \a0, \a0
    vpaddd \b1, \a1, \a1
    vpxor \a0, \d0, \d0
    vpxor \a1, \d1, \d1
    vpshufb .Lrot16(%rip), \d0, \d0
    vpshufb .Lrot16(%rip), \d1, \d1
    vpaddd \d0, \c0, \c0
    vpaddd \d1, \c1, \c1
    vpxor \c0, \b0, \b0
    vpxor \c1, \b1, \b1
    ROTL 12, \b0, \t0
    ROTL 12, \b1, \t1
    vpaddd \b0, \a0, \a0
    vpaddd \b1, \a1, \a1
    vpxor \a0, \d0, \d0
    vpxor \a1, \d1, \d1
    vpshufb .Lrot8(%rip), \d0, \d0
    vpshufb .Lrot8(%rip), \d1, \d1
    vpaddd \d0, \c0, \c0
    vpaddd \d1, \c1, \c1
    vpxor \c0, \b0, \b0
    vpxor \c1, \b1, \b1
    ROTL 7, \b0, \t0
    ROTL 7, \b1, \t1
.endm

/* One quarter round on the rows of one xmm block (t: scratch). */
.macro QROW a, b, c, d, t
    vpaddd \b, \a, \a
    vpxor \a, \d, \d
    vpshufb .Lrot16(%rip), \d, \d
    vpaddd \d, \c, \c
    vpxor \c, \b, \b
    ROTL 12, \b, \t
    vpaddd \b, \a, \a
    vpxor \a, \d, \d
    vpshufb .Lrot8(%rip), \d, \d
    vpaddd \d, \c, \c
    vpxor \c, \b, \b
    ROTL 7, \b, \t
.endm

/* Rows to diagonals (dir 0) and back (dir 1). */
.macro DIAG dir, b, c, d
.if \dir
    vpshufd $0x93, \b, \b
    vpshufd $0x4e, \c, \c
    vpshufd $0x39, \d, \d
.else
    vpshufd $0x39, \b, \b
    vpshufd $0x4e, \c, \c
    vpshufd $0x93, \d, \d
.endif
.endm

/* 4x4 transpose of 32-bit words within each 128-bit lane. In: a b c d hold
 * words w..w+3 of four blocks. Out: c, d, a, b hold words w..w+3 of blocks
 * 0, 1, 2, 3 (lane 1: blocks 4..7). */
.macro TRANSPOSE4 a, b, c, d, t0, t1
    vpunpckldq \b, \a, \t0
    vpunpckhdq \b, \a, \t1
    vpunpckldq \d, \c, \a
    vpunpckhdq \d, \c, \b
    vpunpcklqdq \a, \t0, \c
    vpunpckhqdq \a, \t0, \d
    vpunpcklqdq \b, \t1, \a
    vpunpckhqdq \b, \t1, \b
.endm

/* 32 bytes of blocks j and j + 4 (from the lo and hi lanes) at byte
 * base + off of the output: mode 0 stores at KS, mode 1 XORs (rsi) into
 * (rdi), mode 2 stores at (rdi). */
.macro EMIT2 mode, lo, hi, off, t, base=0
    vperm2i128 $0x20, \hi, \lo, \t
.if \mode == 1
    vpxor \base + \off(%rsi), \t, \t
.endif
.if \mode == 0
    vmovdqa \t, KS + \base + \off(FP)
.else
    vmovdqu \t, \base + \off(%rdi)
.endif
    vperm2i128 $0x31, \hi, \lo, \t
.if \mode == 1
    vpxor \base + \off + 256(%rsi), \t, \t
.endif
.if \mode == 0
    vmovdqa \t, KS + \base + \off + 256(FP)
.else
    vmovdqu \t, \base + \off + 256(%rdi)
.endif
.endm

/* The 8 blocks CORE8 (or FINZ) left in registers, out as EMIT2's mode
 * says, at byte base of the output. */
.macro OUT8 mode, base=0
    TRANSPOSE4 %ymm0, %ymm1, %ymm2, %ymm3, %ymm10, %ymm11
    TRANSPOSE4 %ymm4, %ymm5, %ymm6, %ymm7, %ymm10, %ymm11
    EMIT2 \mode, %ymm2, %ymm6, 0, %ymm10, \base
    EMIT2 \mode, %ymm3, %ymm7, 64, %ymm11, \base
    EMIT2 \mode, %ymm0, %ymm4, 128, %ymm10, \base
    EMIT2 \mode, %ymm1, %ymm5, 192, %ymm11, \base
    vmovdqa C10(FP), %ymm10
    vmovdqa C11(FP), %ymm11
    TRANSPOSE4 %ymm8, %ymm9, %ymm10, %ymm11, %ymm0, %ymm1
    TRANSPOSE4 %ymm12, %ymm13, %ymm14, %ymm15, %ymm0, %ymm1
    EMIT2 \mode, %ymm10, %ymm14, 32, %ymm0, \base
    EMIT2 \mode, %ymm11, %ymm15, 96, %ymm1, \base
    EMIT2 \mode, %ymm8, %ymm12, 160, %ymm0, \base
    EMIT2 \mode, %ymm9, %ymm13, 224, %ymm1, \base
.endm

/* x += broadcast(state word i), for word pairs (t0, t1 scratch). */
.macro FEED2 i, x, y
    vpbroadcastd ST + 4 * \i(FP), %ymm10
    vpbroadcastd ST + 4 * (\i + 1)(FP), %ymm11
    vpaddd %ymm10, \x, \x
    vpaddd %ymm11, \y, \y
.endm

/* The 20 rounds on 8 blocks: state word i of the 8 blocks in ymm i, but
 * words 10, 11 at C10, C11. Clobbers eax, ymm10, ymm11 and C8, C9. */
.macro ROUNDS8
    mov $10, %eax
.balign 16
1:
    /* Columns; words 8, 9 live in ymm8, ymm9, then 10, 11. */
    QR2 %ymm0, %ymm4, %ymm8, %ymm12, %ymm1, %ymm5, %ymm9, %ymm13, %ymm10, %ymm11
    POLY_SLOT
    vmovdqa %ymm8, C8(FP)
    vmovdqa %ymm9, C9(FP)
    vmovdqa C10(FP), %ymm8
    vmovdqa C11(FP), %ymm9
    QR2 %ymm2, %ymm6, %ymm8, %ymm14, %ymm3, %ymm7, %ymm9, %ymm15, %ymm10, %ymm11
    POLY_SLOT
    /* Diagonals: (0 5 10 15) (1 6 11 12), then (2 7 8 13) (3 4 9 14). */
    QR2 %ymm0, %ymm5, %ymm8, %ymm15, %ymm1, %ymm6, %ymm9, %ymm12, %ymm10, %ymm11
    POLY_SLOT
    vmovdqa %ymm8, C10(FP)
    vmovdqa %ymm9, C11(FP)
    vmovdqa C8(FP), %ymm8
    vmovdqa C9(FP), %ymm9
    QR2 %ymm2, %ymm7, %ymm8, %ymm13, %ymm3, %ymm4, %ymm9, %ymm14, %ymm10, %ymm11
    POLY_SLOT
    dec %eax
    jnz 1b
.endm

/* 8 blocks from the counter at ST+48, which advances by 8: state words
 * 0..9, 12..15 end in ymm0..9, ymm12..15 and words 10, 11 at C10, C11,
 * after the feed-forward, as OUT8 expects. Clobbers eax, every ymm. */
.macro CORE8
    vpbroadcastd ST + 0(FP), %ymm0
    vpbroadcastd ST + 4(FP), %ymm1
    vpbroadcastd ST + 8(FP), %ymm2
    vpbroadcastd ST + 12(FP), %ymm3
    vpbroadcastd ST + 16(FP), %ymm4
    vpbroadcastd ST + 20(FP), %ymm5
    vpbroadcastd ST + 24(FP), %ymm6
    vpbroadcastd ST + 28(FP), %ymm7
    vpbroadcastd ST + 32(FP), %ymm8
    vpbroadcastd ST + 36(FP), %ymm9
    vpbroadcastd ST + 40(FP), %ymm10
    vpbroadcastd ST + 44(FP), %ymm11
    vpbroadcastd ST + 48(FP), %ymm12
    vpaddd .Linc8(%rip), %ymm12, %ymm12
    vpbroadcastd ST + 52(FP), %ymm13
    vpbroadcastd ST + 56(FP), %ymm14
    vpbroadcastd ST + 60(FP), %ymm15
    vmovdqa %ymm10, C10(FP)
    vmovdqa %ymm11, C11(FP)
    vmovdqa %ymm12, X12(FP)
    ROUNDS8
    FEED2 0, %ymm0, %ymm1
    FEED2 2, %ymm2, %ymm3
    FEED2 4, %ymm4, %ymm5
    FEED2 6, %ymm6, %ymm7
    FEED2 8, %ymm8, %ymm9
    vpbroadcastd ST + 40(FP), %ymm10
    vpbroadcastd ST + 44(FP), %ymm11
    vpaddd C10(FP), %ymm10, %ymm10
    vpaddd C11(FP), %ymm11, %ymm11
    vmovdqa %ymm10, C10(FP)
    vmovdqa %ymm11, C11(FP)
    vpaddd X12(FP), %ymm12, %ymm12
    FEED2 13, %ymm13, %ymm14
    vpbroadcastd ST + 60(FP), %ymm10
    vpaddd %ymm10, %ymm15, %ymm15
    addl $8, ST + 48(FP)
.endm

/* Word i of group g (blocks 8 g .. 8 g + 7) in the frame: the low or high
 * half of a stored zmm word. */
#define WZ(g, i) (VZ + 1024 * ((g) >> 1) + 64 * (i) + 32 * ((g) & 1))(FP)

/* AVX-512F from here: zmm registers and vprold (one instruction per
 * rotation). Half a quarter round on eight chains, chain j on registers
 * (aj bj cj dj): a += b, d ^= a, d <<<= r1, c += d, b ^= c, b <<<= r2. */
.macro XHALF8 r1, r2, a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7, c0, c1, c2, c3, c4, c5, c6, c7, d0, d1, d2, d3, d4, d5, d6, d7
    vpaddd \b0, \a0, \a0
    vpaddd \b1, \a1, \a1
    vpaddd \b2, \a2, \a2
    vpaddd \b3, \a3, \a3
    vpaddd \b4, \a4, \a4
    vpaddd \b5, \a5, \a5
    vpaddd \b6, \a6, \a6
    vpaddd \b7, \a7, \a7
    vpxord \a0, \d0, \d0
    vpxord \a1, \d1, \d1
    vpxord \a2, \d2, \d2
    vpxord \a3, \d3, \d3
    vpxord \a4, \d4, \d4
    vpxord \a5, \d5, \d5
    vpxord \a6, \d6, \d6
    vpxord \a7, \d7, \d7
    vprold $\r1, \d0, \d0
    vprold $\r1, \d1, \d1
    vprold $\r1, \d2, \d2
    vprold $\r1, \d3, \d3
    vprold $\r1, \d4, \d4
    vprold $\r1, \d5, \d5
    vprold $\r1, \d6, \d6
    vprold $\r1, \d7, \d7
    vpaddd \d0, \c0, \c0
    vpaddd \d1, \c1, \c1
    vpaddd \d2, \c2, \c2
    vpaddd \d3, \c3, \c3
    vpaddd \d4, \c4, \c4
    vpaddd \d5, \c5, \c5
    vpaddd \d6, \c6, \c6
    vpaddd \d7, \c7, \c7
    vpxord \c0, \b0, \b0
    vpxord \c1, \b1, \b1
    vpxord \c2, \b2, \b2
    vpxord \c3, \b3, \b3
    vpxord \c4, \b4, \b4
    vpxord \c5, \b5, \b5
    vpxord \c6, \b6, \b6
    vpxord \c7, \b7, \b7
    vprold $\r2, \b0, \b0
    vprold $\r2, \b1, \b1
    vprold $\r2, \b2, \b2
    vprold $\r2, \b3, \b3
    vprold $\r2, \b4, \b4
    vprold $\r2, \b5, \b5
    vprold $\r2, \b6, \b6
    vprold $\r2, \b7, \b7
.endm

/* A double round on CORE32Z's registers: set 0's word i in zmm i, set
 * 1's in zmm 16 + i. Columns, then diagonals (0 5 10 15) (1 6 11 12)
 * (2 7 8 13) (3 4 9 14). */
#define ZCOLS %zmm0, %zmm1, %zmm2, %zmm3, %zmm16, %zmm17, %zmm18, %zmm19, %zmm4, %zmm5, %zmm6, %zmm7, %zmm20, %zmm21, %zmm22, %zmm23, %zmm8, %zmm9, %zmm10, %zmm11, %zmm24, %zmm25, %zmm26, %zmm27, %zmm12, %zmm13, %zmm14, %zmm15, %zmm28, %zmm29, %zmm30, %zmm31
#define ZDIAG %zmm0, %zmm1, %zmm2, %zmm3, %zmm16, %zmm17, %zmm18, %zmm19, %zmm5, %zmm6, %zmm7, %zmm4, %zmm21, %zmm22, %zmm23, %zmm20, %zmm10, %zmm11, %zmm8, %zmm9, %zmm26, %zmm27, %zmm24, %zmm25, %zmm15, %zmm12, %zmm13, %zmm14, %zmm31, %zmm28, %zmm29, %zmm30
.macro ZDROUND
    XHALF8 16, 12, ZCOLS
    XHALF8 8, 7, ZCOLS
    XHALF8 16, 12, ZDIAG
    XHALF8 8, 7, ZDIAG
.endm

/* Both sets' 32 words (zmm0..31) to VZ. */
.macro STOREZ
    vmovdqa64 %zmm0, VZ + 0(FP)
    vmovdqa64 %zmm1, VZ + 64(FP)
    vmovdqa64 %zmm2, VZ + 128(FP)
    vmovdqa64 %zmm3, VZ + 192(FP)
    vmovdqa64 %zmm4, VZ + 256(FP)
    vmovdqa64 %zmm5, VZ + 320(FP)
    vmovdqa64 %zmm6, VZ + 384(FP)
    vmovdqa64 %zmm7, VZ + 448(FP)
    vmovdqa64 %zmm8, VZ + 512(FP)
    vmovdqa64 %zmm9, VZ + 576(FP)
    vmovdqa64 %zmm10, VZ + 640(FP)
    vmovdqa64 %zmm11, VZ + 704(FP)
    vmovdqa64 %zmm12, VZ + 768(FP)
    vmovdqa64 %zmm13, VZ + 832(FP)
    vmovdqa64 %zmm14, VZ + 896(FP)
    vmovdqa64 %zmm15, VZ + 960(FP)
    vmovdqa64 %zmm16, VZ + 1024 + 0(FP)
    vmovdqa64 %zmm17, VZ + 1024 + 64(FP)
    vmovdqa64 %zmm18, VZ + 1024 + 128(FP)
    vmovdqa64 %zmm19, VZ + 1024 + 192(FP)
    vmovdqa64 %zmm20, VZ + 1024 + 256(FP)
    vmovdqa64 %zmm21, VZ + 1024 + 320(FP)
    vmovdqa64 %zmm22, VZ + 1024 + 384(FP)
    vmovdqa64 %zmm23, VZ + 1024 + 448(FP)
    vmovdqa64 %zmm24, VZ + 1024 + 512(FP)
    vmovdqa64 %zmm25, VZ + 1024 + 576(FP)
    vmovdqa64 %zmm26, VZ + 1024 + 640(FP)
    vmovdqa64 %zmm27, VZ + 1024 + 704(FP)
    vmovdqa64 %zmm28, VZ + 1024 + 768(FP)
    vmovdqa64 %zmm29, VZ + 1024 + 832(FP)
    vmovdqa64 %zmm30, VZ + 1024 + 896(FP)
    vmovdqa64 %zmm31, VZ + 1024 + 960(FP)
.endm

/* 32 blocks from the counter at ST+48, which advances by 32; both sets'
 * words end in VZ, before the feed-forward (FINZ adds it). Clobbers eax,
 * zmm0..31. */
.macro CORE32Z
    vpbroadcastd ST + 48(FP), %zmm12
    vpaddd .Linc16(%rip), %zmm12, %zmm12
    vpaddd .Lfill16(%rip), %zmm12, %zmm28
    vmovdqa64 %zmm12, X12Z(FP)
    vmovdqa64 %zmm28, X12Z + 64(FP)
.irp i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15
    vpbroadcastd ST + 4 * \i(FP), %zmm\i
.endr
    vmovdqa64 %zmm0, %zmm16
    vmovdqa64 %zmm1, %zmm17
    vmovdqa64 %zmm2, %zmm18
    vmovdqa64 %zmm3, %zmm19
    vmovdqa64 %zmm4, %zmm20
    vmovdqa64 %zmm5, %zmm21
    vmovdqa64 %zmm6, %zmm22
    vmovdqa64 %zmm7, %zmm23
    vmovdqa64 %zmm8, %zmm24
    vmovdqa64 %zmm9, %zmm25
    vmovdqa64 %zmm10, %zmm26
    vmovdqa64 %zmm11, %zmm27
    vmovdqa64 %zmm13, %zmm29
    vmovdqa64 %zmm14, %zmm30
    vmovdqa64 %zmm15, %zmm31
    mov $10, %eax
.balign 16
1:
    ZDROUND
    dec %eax
    jnz 1b
    STOREZ
    addl $32, ST + 48(FP)
.endm

/* Group g (0..3) of CORE32Z's blocks with the feed-forward, in ymm0..15
 * and C10, C11 as OUT8 expects. Clobbers ymm0..15. */
.macro FINZ g
.irp i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15
    vpbroadcastd ST + 4 * \i(FP), %ymm\i
    vpaddd WZ(\g, \i), %ymm\i, %ymm\i
.endr
    vmovdqa WZ(\g, 12), %ymm12
    vpaddd X12Z + 32 * \g(FP), %ymm12, %ymm12
    vpbroadcastd ST + 40(FP), %ymm10
    vpbroadcastd ST + 44(FP), %ymm11
    vpaddd WZ(\g, 10), %ymm10, %ymm10
    vpaddd WZ(\g, 11), %ymm11, %ymm11
    vmovdqa %ymm10, C10(FP)
    vmovdqa %ymm11, C11(FP)
.endm

/* Group g of finished words in VZ (feed-forward already added) into
 * ymm0..15 and C10, C11 as OUT8 expects. Clobbers ymm0..15. */
.macro LOADZ g
.irp i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15
    vmovdqa WZ(\g, \i), %ymm\i
.endr
    vmovdqa WZ(\g, 10), %ymm10
    vmovdqa WZ(\g, 11), %ymm11
    vmovdqa %ymm10, C10(FP)
    vmovdqa %ymm11, C11(FP)
.endm

/* The 32 blocks CORE32Z made, out as EMIT2's mode says (2048 bytes). */
.macro OUT32 mode
.irp g, 0, 1, 2, 3
    FINZ \g
    OUT8 \mode, (512*\g)
.endr
.endm

/* Every zmm register cleared (vzeroall leaves zmm16..31 alone). */
.macro ZERO_ZMM
.irp i, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    vpxord %zmm\i, %zmm\i, %zmm\i
.endr
.endm

/* 4 blocks as keystream at KS..KS+255: rows of blocks 0, 1 in ymm0..3 and
 * of blocks 2, 3 in ymm4..7. Clobbers eax, ymm0..14. */
.macro CORE4
    vbroadcasti128 ST + 0(FP), %ymm8
    vbroadcasti128 ST + 16(FP), %ymm9
    vbroadcasti128 ST + 32(FP), %ymm10
    vbroadcasti128 ST + 48(FP), %ymm11
    vpaddd .Linc01(%rip), %ymm11, %ymm11
    vpaddd .Linc22(%rip), %ymm11, %ymm12
    vmovdqa %ymm8, %ymm0
    vmovdqa %ymm9, %ymm1
    vmovdqa %ymm10, %ymm2
    vmovdqa %ymm11, %ymm3
    vmovdqa %ymm8, %ymm4
    vmovdqa %ymm9, %ymm5
    vmovdqa %ymm10, %ymm6
    vmovdqa %ymm12, %ymm7
    mov $10, %eax
.balign 16
1:
    QR2 %ymm0, %ymm1, %ymm2, %ymm3, %ymm4, %ymm5, %ymm6, %ymm7, %ymm13, %ymm14
    POLY_SLOT
    DIAG 0, %ymm1, %ymm2, %ymm3
    DIAG 0, %ymm5, %ymm6, %ymm7
    POLY_SLOT
    QR2 %ymm0, %ymm1, %ymm2, %ymm3, %ymm4, %ymm5, %ymm6, %ymm7, %ymm13, %ymm14
    POLY_SLOT
    DIAG 1, %ymm1, %ymm2, %ymm3
    DIAG 1, %ymm5, %ymm6, %ymm7
    POLY_SLOT
    dec %eax
    jnz 1b
    vpaddd %ymm8, %ymm0, %ymm0
    vpaddd %ymm9, %ymm1, %ymm1
    vpaddd %ymm10, %ymm2, %ymm2
    vpaddd %ymm11, %ymm3, %ymm3
    vpaddd %ymm8, %ymm4, %ymm4
    vpaddd %ymm9, %ymm5, %ymm5
    vpaddd %ymm10, %ymm6, %ymm6
    vpaddd %ymm12, %ymm7, %ymm7
    vperm2i128 $0x20, %ymm1, %ymm0, %ymm13
    vperm2i128 $0x20, %ymm3, %ymm2, %ymm14
    vmovdqa %ymm13, KS + 0(FP)
    vmovdqa %ymm14, KS + 32(FP)
    vperm2i128 $0x31, %ymm1, %ymm0, %ymm13
    vperm2i128 $0x31, %ymm3, %ymm2, %ymm14
    vmovdqa %ymm13, KS + 64(FP)
    vmovdqa %ymm14, KS + 96(FP)
    vperm2i128 $0x20, %ymm5, %ymm4, %ymm13
    vperm2i128 $0x20, %ymm7, %ymm6, %ymm14
    vmovdqa %ymm13, KS + 128(FP)
    vmovdqa %ymm14, KS + 160(FP)
    vperm2i128 $0x31, %ymm5, %ymm4, %ymm13
    vperm2i128 $0x31, %ymm7, %ymm6, %ymm14
    vmovdqa %ymm13, KS + 192(FP)
    vmovdqa %ymm14, KS + 224(FP)
    addl $4, ST + 48(FP)
.endm

/* 1 block as keystream at KS..KS+63, in xmm rows. Clobbers eax, xmm0..3,
 * xmm8..12. */
.macro CORE1
    vmovdqa ST + 0(FP), %xmm8
    vmovdqa ST + 16(FP), %xmm9
    vmovdqa ST + 32(FP), %xmm10
    vmovdqa ST + 48(FP), %xmm11
    vmovdqa %xmm8, %xmm0
    vmovdqa %xmm9, %xmm1
    vmovdqa %xmm10, %xmm2
    vmovdqa %xmm11, %xmm3
    mov $10, %eax
.balign 16
1:
    QROW %xmm0, %xmm1, %xmm2, %xmm3, %xmm12
    POLY_SLOT
    DIAG 0, %xmm1, %xmm2, %xmm3
    POLY_SLOT
    QROW %xmm0, %xmm1, %xmm2, %xmm3, %xmm12
    POLY_SLOT
    DIAG 1, %xmm1, %xmm2, %xmm3
    POLY_SLOT
    dec %eax
    jnz 1b
    vpaddd %xmm8, %xmm0, %xmm0
    vpaddd %xmm9, %xmm1, %xmm1
    vpaddd %xmm10, %xmm2, %xmm2
    vpaddd %xmm11, %xmm3, %xmm3
    vmovdqa %xmm0, KS + 0(FP)
    vmovdqa %xmm1, KS + 16(FP)
    vmovdqa %xmm2, KS + 32(FP)
    vmovdqa %xmm3, KS + 48(FP)
    addl $1, ST + 48(FP)
.endm

/* Wipe [FP, FP + end) and every vector register (zmm: with 64-byte
 * stores, and zmm16..31 too, for the AVX-512 entries). Clobbers rax. */
.macro WIPE_FRAME end, zmm=0
    vpxor %xmm0, %xmm0, %xmm0
    xor %eax, %eax
1:
.if \zmm
    vmovdqa64 %zmm0, 0(FP, %rax)
    vmovdqa64 %zmm0, 64(FP, %rax)
    add $128, %rax
.else
    vmovdqa %ymm0, 0(FP, %rax)
    vmovdqa %ymm0, 32(FP, %rax)
    add $64, %rax
.endif
    cmp $\end, %rax
    jb 1b
    vzeroall
.if \zmm
    ZERO_ZMM
.endif
.endm

#endif
