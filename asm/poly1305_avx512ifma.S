/* SPDX-License-Identifier: MIT */
/*
 * poly1305_avx512ifma.S - the Poly1305 (RFC 8439) block function with
 * AVX-512 IFMA, eight blocks side by side in radix 2^44, for long inputs:
 *
 *   void poly1305_avx512ifma_blocks(uint64_t st[5], const uint8_t *m,
 *                                   size_t len);
 *
 * A drop-in for poly1305_x86_64_blocks_mulx (asm/poly1305_x86_64.S), same
 * state: st = h0 h1 h2 r0 r1, h = h0 + h1 2^64 + h2 2^128 with h2 < 8 in
 * and out, r the clamped key half. len is rounded down to whole 16-byte
 * blocks; every block gets the 2^128 bit. Needs AVX-512F and AVX-512IFMA
 * (EVEX in 512-bit forms only, so not AVX-512VL; xmm only in VEX forms)
 * and BMI2 + ADX for the scalar function short inputs go to.
 *
 * Method. A number mod p = 2^130 - 5 is three limbs of 44, 44 and 42 bits,
 * one per 64-bit lane, eight lanes to a zmm. A product x p is nine limb
 * products, each split by vpmadd52luq / vpmadd52huq into its low 52 bits
 * (L, at the column's weight 2^0, 2^44 or 2^88) and the rest (U, at that
 * weight times 2^52). A limb product that lands at 2^132 or above wraps
 * around as 20 times itself (2^132 = 4 2^130 = 20 mod p), so each power p
 * is kept as p0 p1 p2 20p1 20p2. Folding U into L: U0 2^52 = U0 2^8 2^44,
 * U1 likewise, U2 2^52 2^88 = U2 2^10 2^130 = 5120 U2 mod p.
 *
 * With n blocks and s = ((n - 1) mod 8) + 1, the first s blocks go into
 * the last s block places of an eight-block group (the places before them
 * hold zero, without the 2^128 bit),
 * and the incoming h joins the lane of the first block. In every group
 * the lanes hold blocks 0 4 1 5 2 6 3 7 (the order the unpacks give). The
 * G = (n - s) / 8 full groups that follow go in by
 *   H = H r^8 + M                           (once, if needed)
 *   H = H r^16 + M_a r^8 + M_b              (the rest, or once), or for
 *   H = H r^24 + M_a r^16 + M_b r^8 + M_c   G >= TRIPLE_MIN (after up to
 *                                           one step of the other two),
 * the short steps first, as their powers are ready sooner; the H terms
 * are the only ones on the loop's dependency chain. Last, each lane is
 * multiplied by r^(8 - its block) and the lanes are summed.
 *
 * The powers, all in the vector unit (r^16 and r^24 only when used):
 * r^2 = r r; (r^4 r^4 r^3 r^3 r^2 r^2 r r) = (r^2 r^2 r r r^2 r^2 r r)
 * (r^2 r^2 r^2 r^2 1 1 1 1); the last step's (r^8 r^4 r^7 r^3 r^6 r^2
 * r^5 r) = that times (r^4 1 r^4 1 ...); r^8 is its lane 0, r^16 =
 * r^8 r^8, r^24 = r^16 r^8.
 *
 * Bounds (worked out with exact integers over the worst cases, every step
 * kind): after a carry pass, limbs are below 2^44 + 2^16, 2^44 + 2^12,
 * 2^42 + 2^12 (powers: 2^44 + 2^14, 2^44 + 2^10, 2^42 + 2^10); message
 * limbs are below 2^44, 2^44, 2^41 (with the 2^128 bit) and the incoming
 * h's below 2^44, 2^44, 2^43. So multiplier limbs stay below 2^45.01
 * (H + M) and 20 p below 2^48.4, inside vpmadd52's 52-bit inputs. A
 * column takes at most nine products (a triple step) on top of a message
 * limb: L < 2^55.2, U < 2^41.4, and U2 < 2^38.6 keeps 5120 U2 under 2^52,
 * so vpmadd52luq adds it exactly. The last step's folded columns are below
 * 2^53.7 a lane, 2^56.7 summed over the eight.
 *
 * Inputs shorter than MIN_BLOCKS blocks go to the scalar function whole:
 * below that the setup (three vector multiplies in a chain for the powers,
 * about 100 core cycles with the last step and the lane sum) costs more
 * than the vector steps save. Measured on AMD Zen 5 (vpmadd52: 4 cycles
 * latency, two zmm a cycle; other vector operations 2 cycles), in TSC
 * ticks (2.6 GHz) a call: 7 blocks 52 to 63 scalar, 59 here; 8 blocks 61
 * to 71 scalar, 59 here; 1408 bytes 141 (the AVX2 function: 353, the
 * scalar one 770); 16 KiB 877. The triple step pays from about 2 KiB (its
 * r^24 costs a multiply more), so shorter inputs take two groups a step.
 *
 * Constant time: branches and addresses depend on len only. The stack
 * frame, every vector register (zmm16..31 too, which vzeroall leaves) and
 * the general registers that held h or r are wiped before returning.
 *
 * System V calling convention (declared sysv_abi on Windows); the frame
 * is under a page, so it needs no stack probe. Unwind information (CFI,
 * SEH) through the UNWIND_* macros of x86_64_defs.h.
 */
#include "x86_64_defs.h"

#define MIN_BLOCKS 8
#define TRIPLE_MIN 16

/* Vector registers: accumulator, product columns, message, scratch. */
#define H0 %zmm0
#define H1 %zmm1
#define H2 %zmm2
#define L0 %zmm3
#define L1 %zmm4
#define L2 %zmm5
#define U0 %zmm6
#define U1 %zmm7
#define U2 %zmm8
#define MLO %zmm9
#define MHI %zmm10
#define X0 %zmm11
#define X1 %zmm12
#define X2 %zmm13
#define T0 %zmm14
#define T1 %zmm15
/* Powers as p0 p1 p2 20p1 20p2, each in every lane: Q = r^16, E = r^8,
 * W = the last step's mixed powers (r^24 in the triple loop, the mixed
 * ones on the stack meanwhile); r, r^2 and r^4 on the way. */
#define Q0 %zmm16
#define Q1 %zmm17
#define Q2 %zmm18
#define QS1 %zmm19
#define QS2 %zmm20
#define E0 %zmm21
#define E1 %zmm22
#define E2 %zmm23
#define ES1 %zmm24
#define ES2 %zmm25
#define W0 %zmm26
#define W1 %zmm27
#define W2 %zmm28
#define WS1 %zmm29
#define WS2 %zmm30
#define MASK44 %zmm31

#define ST %rdi
#define MSG %rsi
#define CNT %rdx

/* Stack frame (64-byte aligned): the mixed powers while W holds r^24,
 * then the three folded columns of the last step. */
#define MIX 0
#define SUMS 320
#define FRAME 512

RODATA
.balign 8
.Lmask44:
    .quad 0xfffffffffff
.Lmask42:
    .quad 0x3ffffffffff
.Lhibit:
    .quad 1 << 40
.Lc5120:
    .quad 5120
.Lone:
    .quad 1
.Leight:
    .quad 8
.balign 64
.Liota:
    .quad 0, 1, 2, 3, 4, 5, 6, 7

.text

/* L += x_i p, U += the high halves, for limb \i of x (in \x): column k
 * takes p_(k-i), or 20 p_(k-i+3) where the product wraps past 2^130. */
.macro TERMS x, i, p0, p1, p2, s1, s2
    .if \i == 0
    vpmadd52luq \p0, \x, L0
    vpmadd52huq \p0, \x, U0
    vpmadd52luq \p1, \x, L1
    vpmadd52huq \p1, \x, U1
    vpmadd52luq \p2, \x, L2
    vpmadd52huq \p2, \x, U2
    .elseif \i == 1
    vpmadd52luq \s2, \x, L0
    vpmadd52huq \s2, \x, U0
    vpmadd52luq \p0, \x, L1
    vpmadd52huq \p0, \x, U1
    vpmadd52luq \p1, \x, L2
    vpmadd52huq \p1, \x, U2
    .else
    vpmadd52luq \s1, \x, L0
    vpmadd52huq \s1, \x, U0
    vpmadd52luq \s2, \x, L1
    vpmadd52huq \s2, \x, U1
    vpmadd52luq \p0, \x, L2
    vpmadd52huq \p0, \x, U2
    .endif
.endm

/* L U += x p with x's limbs taken in the order they come out of CARRY
 * (x1 and x2 two cycles before x0): the chain for H. */
.macro MADD_H x0, x1, x2, p0, p1, p2, s1, s2
    TERMS \x1, 1, \p0, \p1, \p2, \s1, \s2
    TERMS \x2, 2, \p0, \p1, \p2, \s1, \s2
    TERMS \x0, 0, \p0, \p1, \p2, \s1, \s2
.endm

/* The same with x0 first: where p is the newer operand (its 20p1, 20p2
 * come last), or both are ready. */
.macro MADD x0, x1, x2, p0, p1, p2, s1, s2
    TERMS \x0, 0, \p0, \p1, \p2, \s1, \s2
    TERMS \x1, 1, \p0, \p1, \p2, \s1, \s2
    TERMS \x2, 2, \p0, \p1, \p2, \s1, \s2
.endm

.macro ZERO_U
    vpxor %xmm6, %xmm6, %xmm6
    vpxor %xmm7, %xmm7, %xmm7
    vpxor %xmm8, %xmm8, %xmm8
.endm

.macro ZERO_LU
    vpxor %xmm3, %xmm3, %xmm3
    vpxor %xmm4, %xmm4, %xmm4
    vpxor %xmm5, %xmm5, %xmm5
    ZERO_U
.endm

/* U into the columns: L1 += U0 2^8, L2 += U1 2^8, L0 += 5120 U2. */
.macro FOLD
    vpsllq $8, U0, U0
    vpsllq $8, U1, U1
    vpmadd52luq .Lc5120(%rip){1to8}, U2, L0
    vpaddq U0, L1, L1
    vpaddq U1, L2, L2
.endm

/* d = L U folded, with one carry out of every limb, the three side by
 * side (limb 2's times 5 into limb 0). */
.macro CARRY d0, d1, d2
    FOLD
    vpsrlq $44, L0, T0
    vpsrlq $44, L1, T1
    vpsrlq $42, L2, U2
    vpandq MASK44, L1, \d1
    vpandq .Lmask42(%rip){1to8}, L2, \d2
    vpandq MASK44, L0, \d0
    vpaddq T0, \d1, \d1
    vpaddq T1, \d2, \d2
    vpaddq U2, \d0, \d0
    vpsllq $2, U2, U2
    vpaddq U2, \d0, \d0
.endm

/* s = 20 v. */
.macro TIMES20 v, s
    vpsllq $2, \v, T0
    vpsllq $4, \v, \s
    vpaddq T0, \s, \s
.endm

/* Eight blocks in T0 T1: MLO their low halves, MHI the high ones, lanes
 * in block order 0 4 1 5 2 6 3 7. */
.macro SPLIT8
    vpunpcklqdq T1, T0, MLO
    vpunpckhqdq T1, T0, MHI
.endm

/* SPLIT8 of the eight blocks at \off(MSG). */
.macro LOAD8 off
    vmovdqu64 \off(MSG), T0
    vmovdqu64 \off + 64(MSG), T1
    SPLIT8
.endm

/* Message limbs of MLO MHI into d0 d1 d2, the 2^128 bit in the lanes of
 * \k (all if none). */
.macro LIMBS d0, d1, d2, k=
    vpandq MASK44, MLO, \d0
    vpsrlq $44, MLO, \d1
    vpsllq $20, MHI, \d2
    vpternlogq $0xa8, MASK44, \d2, \d1   /* (d1 | d2) & mask */
    vpsrlq $24, MHI, \d2
    vporq .Lhibit(%rip){1to8}, \d2, \d2\k
.endm

/* Lane sum of the eight qwords at \off(%rsp) into \a (\b scratch). */
.macro LANESUM off, a, b
    mov \off(%rsp), \a
    mov \off + 8(%rsp), \b
    add \off + 16(%rsp), \a
    add \off + 24(%rsp), \b
    add \off + 32(%rsp), \a
    add \off + 40(%rsp), \b
    add \off + 48(%rsp), \a
    add \off + 56(%rsp), \b
    add \b, \a
.endm

/* H = H r^8 + M: one group. */
.macro STEP1
    LOAD8 0
    LIMBS L0, L1, L2
    ZERO_U
    MADD_H H0, H1, H2, E0, E1, E2, ES1, ES2
    CARRY H0, H1, H2
    add $128, MSG
.endm

/* H = H r^16 + M_a r^8 + M_b: two groups. */
.macro STEP2
    LOAD8 128
    LIMBS L0, L1, L2
    ZERO_U
    LOAD8 0
    LIMBS X0, X1, X2
    MADD X0, X1, X2, E0, E1, E2, ES1, ES2
    MADD_H H0, H1, H2, Q0, Q1, Q2, QS1, QS2
    CARRY H0, H1, H2
    add $256, MSG
.endm

/* H = H r^24 + M_a r^16 + M_b r^8 + M_c: three groups (W = r^24). */
.macro STEP3
    LOAD8 256
    LIMBS L0, L1, L2
    ZERO_U
    LOAD8 0
    LIMBS X0, X1, X2
    MADD X0, X1, X2, Q0, Q1, Q2, QS1, QS2
    LOAD8 128
    LIMBS X0, X1, X2
    MADD X0, X1, X2, E0, E1, E2, ES1, ES2
    MADD_H H0, H1, H2, W0, W1, W2, WS1, WS2
    CARRY H0, H1, H2
    add $384, MSG
.endm

/* Move the five registers of a power. */
.macro POW_MOVE f0, f1, f2, f3, f4, t0, t1, t2, t3, t4
    vmovdqa64 \f0, \t0
    vmovdqa64 \f1, \t1
    vmovdqa64 \f2, \t2
    vmovdqa64 \f3, \t3
    vmovdqa64 \f4, \t4
.endm

.balign 64
FUNC_BEGIN(poly1305_avx512ifma_blocks)
    UNWIND_BEGIN(poly1305_avx512ifma_blocks)
    cmp $(16 * MIN_BLOCKS), %rdx
    jb poly1305_x86_64_blocks_mulx   /* args as they are */
    push %rbp
    UNWIND_PUSH(%rbp)
    mov %rsp, %rbp
    UNWIND_FRAME(%rbp)
    UNWIND_END_PROLOGUE
    sub $FRAME, %rsp
    and $-64, %rsp

    /* r in radix 2^44 into every lane of Q (20 r1 and 20 r2 too). */
    vpbroadcastq .Lmask44(%rip), MASK44
    mov 24(ST), %rax
    mov 32(ST), %rcx
    mov $0xfffffffffff, %r11
    mov %rax, %r8
    and %r11, %r8
    shrd $44, %rcx, %rax
    and %r11, %rax
    shr $24, %rcx
    vpbroadcastq %r8, Q0
    vpbroadcastq %rax, Q1
    vpbroadcastq %rcx, Q2
    lea (%rax, %rax, 4), %rax
    shl $2, %rax
    vpbroadcastq %rax, QS1
    lea (%rcx, %rcx, 4), %rcx
    shl $2, %rcx
    vpbroadcastq %rcx, QS2
    mov $0x55, %eax
    kmovw %eax, %k2
    mov $0x33, %eax
    kmovw %eax, %k3
    mov $0x0f, %eax
    kmovw %eax, %k4

    /* E = r^2. */
    ZERO_LU
    MADD Q0, Q1, Q2, Q0, Q1, Q2, QS1, QS2
    CARRY E0, E1, E2
    TIMES20 E1, ES1
    TIMES20 E2, ES2
    /* H = (r^2 r^2 r r r^2 r^2 r r), X (MLO MHI) = (r^2 x4, 1 x4);
     * W = H X = (r^4 r^4 r^3 r^3 r^2 r^2 r r). */
    vpblendmq E0, Q0, H0{%k3}
    vpblendmq E1, Q1, H1{%k3}
    vpblendmq E2, Q2, H2{%k3}
    vpbroadcastq .Lone(%rip), X0
    vmovdqa64 E0, X0{%k4}
    vmovdqa64 E1, X1{%k4}{z}
    vmovdqa64 E2, X2{%k4}{z}
    vmovdqa64 ES1, MLO{%k4}{z}
    vmovdqa64 ES2, MHI{%k4}{z}
    ZERO_LU
    MADD H0, H1, H2, X0, X1, X2, MLO, MHI
    CARRY W0, W1, W2
    /* E = (r^4 1 r^4 1 ...); W = W E = (r^8 r^4 r^7 r^3 r^6 r^2 r^5 r):
     * each lane the power its block needs in the last step. */
    vpbroadcastq .Lone(%rip), E0
    vpbroadcastq %xmm26, E0{%k2}
    vpbroadcastq %xmm27, E1{%k2}{z}
    vpbroadcastq %xmm28, E2{%k2}{z}
    TIMES20 E1, ES1
    TIMES20 E2, ES2
    ZERO_LU
    MADD W0, W1, W2, E0, E1, E2, ES1, ES2
    CARRY W0, W1, W2
    TIMES20 W1, WS1
    TIMES20 W2, WS2
    /* E = r^8 (lane 0 of W). */
    vpbroadcastq %xmm26, E0
    vpbroadcastq %xmm27, E1
    vpbroadcastq %xmm28, E2
    vpbroadcastq %xmm29, ES1
    vpbroadcastq %xmm30, ES2

    /* The first group: s blocks, 1..8, at the end of an eight-block group
     * that would start b = 8 - s blocks before m. It is read from m itself,
     * eight whole blocks (n >= 8), and moved up by b blocks in registers,
     * the places before zeroed. Not a masked load from m - 16 b: on AMD
     * Zen 5 a masked load whose masked-off part lies on a page it may not
     * read costs a fault-suppression assist, 400-750 TSC ticks measured
     * (the whole 1424-byte MAC takes 104), and m is often a page start. */
    shr $4, CNT                      /* n */
    dec CNT
    mov %edx, %r8d
    and $7, %r8d
    inc %r8d                         /* s */
    shr $3, CNT                      /* G: the full groups after it */
    mov $8, %ecx
    sub %r8d, %ecx                   /* b = 8 - s, the first block's place */
    mov %ecx, %r10d
    add %ecx, %ecx
    mov $0xffff, %eax
    shl %cl, %eax                    /* qword mask: the top 2 s of 16 */
    kmovw %eax, %k1
    kshiftrw $8, %k1, %k5
    /* qword indexes j - 2 b for the group's places j = 0..15 into m's
     * first 16 qwords (the negative ones are zeroed by k1 k5) */
    vpbroadcastq %rcx, X0
    vmovdqa64 .Liota(%rip), T0
    vpsubq X0, T0, T0
    vpaddq .Leight(%rip){1to8}, T0, T1
    /* the lanes that hold blocks: lane 2i block i, lane 2i+1 block 4+i */
    mov %eax, %r9d
    and $0x55, %eax
    shr $7, %r9d
    and $0xaa, %r9d
    or %r9d, %eax
    kmovw %eax, %k6
    /* the lane of block b: 2 b for b < 4, 2 b - 7 from 4 on */
    shr $2, %r10d
    imul $7, %r10d, %r10d
    sub %r10d, %ecx
    mov $1, %eax
    shl %cl, %eax
    kmovw %eax, %k7
    shl $4, %r8
    vmovdqu64 (MSG), U0
    vmovdqu64 64(MSG), U1
    add %r8, MSG
    vpermi2q U1, U0, T0{%k1}{z}
    vpermi2q U1, U0, T1{%k5}{z}
    SPLIT8
    LIMBS H0, H1, H2, {%k6}
    /* h in radix 2^44 into the lane of the first block. */
    mov 0(ST), %r8
    mov 8(ST), %r9
    mov 16(ST), %r10
    mov %r8, %rax
    and %r11, %rax
    shrd $44, %r9, %r8
    and %r11, %r8
    shrd $24, %r10, %r9
    vpbroadcastq %rax, T0{%k7}{z}
    vpaddq T0, H0, H0
    vpbroadcastq %r8, T0{%k7}{z}
    vpaddq T0, H1, H1
    vpbroadcastq %r9, T0{%k7}{z}
    vpaddq T0, H2, H2

    /* The full groups. G < 2: at most one step with r^8. */
    cmp $2, CNT
    jae 1f
    test CNT, CNT
    jz 8f
    STEP1
    jmp 8f
1:
    /* Q = r^16. */
    ZERO_LU
    MADD E0, E1, E2, E0, E1, E2, ES1, ES2
    CARRY Q0, Q1, Q2
    TIMES20 Q1, QS1
    TIMES20 Q2, QS2
    cmp $TRIPLE_MIN, CNT
    jae 4f
    /* G < TRIPLE_MIN: one step with r^8 if G is odd, then two groups a
     * step. */
    test $1, %dl
    jz 2f
    STEP1
2:
    shr $1, CNT
.balign 32
3:
    STEP2
    dec CNT
    jnz 3b
    jmp 8f
4:
    /* G >= TRIPLE_MIN: the mixed powers to the stack, W = r^24; G = 3 q + t
     * with one step with r^8 (t = 1) or r^16 (t = 2) first. */
    vmovdqa64 W0, MIX(%rsp)
    vmovdqa64 W1, MIX + 64(%rsp)
    vmovdqa64 W2, MIX + 128(%rsp)
    vmovdqa64 WS1, MIX + 192(%rsp)
    vmovdqa64 WS2, MIX + 256(%rsp)
    ZERO_LU
    MADD_H Q0, Q1, Q2, E0, E1, E2, ES1, ES2
    CARRY W0, W1, W2
    TIMES20 W1, WS1
    TIMES20 W2, WS2
    mov CNT, %r8
    mov CNT, %rax
    mov $0xaaaaaaaaaaaaaaab, %rcx
    mul %rcx
    shr $1, CNT                      /* q = G / 3 (the high half in rdx) */
    lea (CNT, CNT, 2), %rcx
    sub %rcx, %r8                    /* t */
    cmp $1, %r8
    jb 6f
    ja 5f
    STEP1
    jmp 6f
5:
    STEP2
.balign 32
6:
    STEP3
    dec CNT
    jnz 6b
    vmovdqa64 MIX(%rsp), W0
    vmovdqa64 MIX + 64(%rsp), W1
    vmovdqa64 MIX + 128(%rsp), W2
    vmovdqa64 MIX + 192(%rsp), WS1
    vmovdqa64 MIX + 256(%rsp), WS2
8:
    /* The last step: each lane times the power of its block, the folded
     * columns summed over the lanes into s0 s1 s2 (r8 r9 r10). */
    ZERO_LU
    MADD_H H0, H1, H2, W0, W1, W2, WS1, WS2
    FOLD
    vmovdqa64 L0, SUMS(%rsp)
    vmovdqa64 L1, SUMS + 64(%rsp)
    vmovdqa64 L2, SUMS + 128(%rsp)
    LANESUM SUMS, %r8, %rax
    LANESUM SUMS+64, %r9, %rcx
    LANESUM SUMS+128, %r10, %r11
    /* h = s0 + s1 2^44 + s2 2^88 (each s < 2^57) in radix 2^64, then the
     * bits from 2^130 up times 5. */
    mov %r9, %rax
    shl $44, %rax
    shr $20, %r9
    mov %r10, %rcx
    shl $24, %rcx
    shr $40, %r10
    add %rax, %r8
    adc %rcx, %r9
    adc $0, %r10
    mov %r10, %rax
    and $3, %r10
    shr $2, %rax
    lea (%rax, %rax, 4), %rax
    add %rax, %r8
    adc $0, %r9
    adc $0, %r10                     /* h2 <= 4 */
    mov %r8, 0(ST)
    mov %r9, 8(ST)
    mov %r10, 16(ST)

    /* Wipe the frame, every vector register and the general registers
     * that held h or r. */
    vpxor %xmm0, %xmm0, %xmm0
    xor %eax, %eax
9:
    vmovdqa64 %zmm0, 0(%rsp, %rax)
    add $64, %rax
    cmp $FRAME, %eax
    jb 9b
    vzeroall
    vpxord %zmm16, %zmm16, %zmm16
    vpxord %zmm17, %zmm17, %zmm17
    vpxord %zmm18, %zmm18, %zmm18
    vpxord %zmm19, %zmm19, %zmm19
    vpxord %zmm20, %zmm20, %zmm20
    vpxord %zmm21, %zmm21, %zmm21
    vpxord %zmm22, %zmm22, %zmm22
    vpxord %zmm23, %zmm23, %zmm23
    vpxord %zmm24, %zmm24, %zmm24
    vpxord %zmm25, %zmm25, %zmm25
    vpxord %zmm26, %zmm26, %zmm26
    vpxord %zmm27, %zmm27, %zmm27
    vpxord %zmm28, %zmm28, %zmm28
    vpxord %zmm29, %zmm29, %zmm29
    vpxord %zmm30, %zmm30, %zmm30
    vpxord %zmm31, %zmm31, %zmm31
    xor %ecx, %ecx
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    mov %rbp, %rsp
    pop %rbp
    UNWIND_POP_FRAME(%rbp)
    ret
    UNWIND_END
FUNC_END(poly1305_avx512ifma_blocks)

NOEXEC_STACK
