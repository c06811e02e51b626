/* SPDX-License-Identifier: MIT */
/*
 * poly1305_avx2.S - the Poly1305 (RFC 8439) block function with AVX2, four
 * blocks side by side in radix 2^26, for long inputs:
 *
 *   void poly1305_avx2_blocks(uint64_t st[5], const uint8_t *m, size_t len);
 *
 * A drop-in for poly1305_x86_64_blocks_mulx (asm/poly1305_x86_64.S), same
 * state: st = h0 h1 h2 r0 r1, h = h0 + h1 2^64 + h2 2^128 with h2 < 8 in
 * and out, r the clamped key half. len is rounded down to whole 16-byte
 * blocks; every block gets the 2^128 bit. Needs AVX2, BMI2 and ADX (the
 * scalar function it hands short inputs and the tail to uses ADX).
 *
 * Method. With n = 4 G + t blocks (t < 4), the first 4 G go through four
 * accumulators, lane j taking blocks 4 i + j (in the registers the lanes
 * hold blocks 0 2 1 3 of a group, the order the unpacks give; the table of
 * mixed powers follows it):
 *   H = (H + M_i) r^4       for the groups i = 0 .. G-2
 *   H = (H + M_last) (r^4, r^3, r^2, r)   lane-wise, then the lanes summed,
 * with the incoming h in lane 0; the t last blocks go to the scalar
 * function. Two groups at a time the loop computes
 *   H = (H + M_a) r^8 + M_b r^4
 * with one carry pass, which halves the carry chain on the critical path.
 * r^2, r^3, r^4 come from the scalar multiply below, r^8 from one vector
 * multiply; each power p is kept as 26-bit limbs p0..p4 and 5 p1..5 p4 in
 * a table on the stack (four 64-bit lanes per limb, vpmuludq reads the low
 * 32 bits).
 *
 * Bounds: limbs after a carry pass are below 2^26 + 2^13, message limbs
 * below 2^26, so H + M stays below 2^28 (lane 0's first h included: h2 < 8
 * makes its top limb < 2^27). Power limbs are below 2^27 (r^2..r^4 are
 * only partially reduced, < 5 2^128) and 5 p_i below 2^28.4. A product
 * term is then below 2^56.4, a column of ten below 2^60, and the four
 * lanes' columns of five summed at the end below 2^61.
 *
 * Inputs shorter than MIN_BLOCKS blocks go to the scalar function whole:
 * below that the setup (three scalar multiplies for the powers, one vector
 * multiply for r^8, the tables, the final lane sum and the wipe) costs
 * more than the vector loop saves. Measured on AMD Zen 5: about even at
 * 16 to 19 blocks, the vector path ahead from 20 blocks (320 bytes) on,
 * twice as fast at 1420 bytes. A loop of four groups (r^16, r^12 tables)
 * was tried: it pays only above 2 KiB, so it is not here.
 *
 * Constant time: branches and addresses depend on len only. The power
 * tables on the stack, the general registers that held h or r, and every
 * vector register are wiped before returning.
 *
 * System V calling convention (declared sysv_abi on Windows).
 */
#include "x86_64_defs.h"

#define MIN_BLOCKS 20

/* Vector registers: accumulator limbs, product columns, scratch. */
#define H0 %ymm0
#define H1 %ymm1
#define H2 %ymm2
#define H3 %ymm3
#define H4 %ymm4
#define D0 %ymm5
#define D1 %ymm6
#define D2 %ymm7
#define D3 %ymm8
#define D4 %ymm9
#define T %ymm10
#define LO %ymm11
#define HI %ymm12
#define ML %ymm13
#define MASK %ymm14
#define T2 %ymm15

/* General registers: message pointer, len, scalar multiply operands. */
#define ST %rdi
#define MSG %rsi
#define LEN %r14
#define A0 %r8
#define A1 %r9
#define A2 %r10
#define S1 %r13

/* Stack tables, 32-byte entries p0 p1 p2 p3 p4 5p1 5p2 5p3 5p4. */
#define TBL_SIZE 288
#define TBL4 0                       /* r^4 in every lane */
#define TBLM TBL_SIZE                /* lane j: r^4, r^2, r^3, r (block order) */
#define TBL8 (2 * TBL_SIZE)          /* r^8 in every lane */
#define FRAME (3 * TBL_SIZE)
#define HIBIT FRAME(%rsp)             /* 2^24 in every lane (the 2^128 bit) */
#define MASK26 0x3ffffff

RODATA
.balign 8
.Lmask26:
    .quad MASK26
.Lhibit:
    .quad 1 << 24

.text

/* ---- scalar part: powers of r in radix 2^64 ---------------------------- */

/* a = a r mod 2^130 - 5, partially reduced (a2 <= 4), for a2 < 8; r is
 * the clamped key in st, S1 = r1 + r1 / 4. Clobbers rax rbx rcx rdx r11 r12. */
.macro MULR
    mov A0, %rdx
    mulx 24(ST), %r11, %r12          /* a0 r0 */
    mulx 32(ST), %rax, %rbx          /* a0 r1 */
    add %rax, %r12
    adc $0, %rbx
    mov A1, %rdx
    mulx 24(ST), %rax, %rcx          /* a1 r0 */
    add %rax, %r12
    adc %rcx, %rbx
    mulx S1, %rax, %rcx              /* a1 r1 2^128 = a1 s1 */
    add %rax, %r11
    adc %rcx, %r12
    adc $0, %rbx
    mov A2, %rdx
    imul S1, %rdx                    /* a2 s1 */
    add %rdx, %r12
    adc $0, %rbx
    imul 24(ST), A2                  /* a2 r0 */
    add A2, %rbx
    /* fold: bits 2^130 and up come back times 5 */
    mov %rbx, A2
    and $3, A2
    mov %rbx, %rax
    shr $2, %rbx
    and $-4, %rax
    add %rax, %rbx
    add %rbx, %r11
    adc $0, %r12
    adc $0, A2
    mov %r11, A0
    mov %r12, A1
.endm

/* Limbs of a (radix 2^64, a2 < 8) in radix 2^26 into r11 r12 rax rcx rdx;
 * a itself is kept. */
.macro TO26
    mov A0, %r11
    and $MASK26, %r11d
    mov A0, %r12
    shr $26, %r12
    and $MASK26, %r12d
    mov A0, %rax
    shrd $52, A1, %rax
    and $MASK26, %eax
    mov A1, %rcx
    shr $14, %rcx
    and $MASK26, %ecx
    mov A1, %rdx
    shrd $40, A2, %rdx
.endm

/* The power in a into lane \lane of the table at \tbl. Clobbers rbx too. */
.macro STORE_POW tbl, lane
    TO26
    mov %r11, \tbl + 8 * \lane(%rsp)
    mov %r12, \tbl + 32 + 8 * \lane(%rsp)
    mov %rax, \tbl + 64 + 8 * \lane(%rsp)
    mov %rcx, \tbl + 96 + 8 * \lane(%rsp)
    mov %rdx, \tbl + 128 + 8 * \lane(%rsp)
    lea (%r12, %r12, 4), %rbx
    mov %rbx, \tbl + 160 + 8 * \lane(%rsp)
    lea (%rax, %rax, 4), %rbx
    mov %rbx, \tbl + 192 + 8 * \lane(%rsp)
    lea (%rcx, %rcx, 4), %rbx
    mov %rbx, \tbl + 224 + 8 * \lane(%rsp)
    lea (%rdx, %rdx, 4), %rbx
    mov %rbx, \tbl + 256 + 8 * \lane(%rsp)
.endm

/* ---- vector part --------------------------------------------------------- */

/* Column \d (k) gets limb \x (i) times the table entry that pairs with
 * them: p_{k-i}, or 5 p_{k-i+5} where the product wraps past 2^130. */
.macro TERM x, k, i, tbl, d, first
    .if \k >= \i
    .set .Lofs, \tbl + 32 * (\k - \i)
    .else
    .set .Lofs, \tbl + 32 * (9 + \k - \i)
    .endif
    .if \first
    vpmuludq .Lofs(%rsp), \x, \d
    .else
    vpmuludq .Lofs(%rsp), \x, T
    vpaddq T, \d, \d
    .endif
.endm

/* D += x p (first: D = x p) for limb \i held in \x. */
.macro MAC x, i, tbl, first
    TERM \x, 0, \i, \tbl, D0, \first
    TERM \x, 1, \i, \tbl, D1, \first
    TERM \x, 2, \i, \tbl, D2, \first
    TERM \x, 3, \i, \tbl, D3, \first
    TERM \x, 4, \i, \tbl, D4, \first
.endm

/* D = H p lane-wise (first), or D += H p. */
.macro MUL5 tbl, first
    MAC H0, 0, \tbl, \first
    MAC H1, 1, \tbl, 0
    MAC H2, 2, \tbl, 0
    MAC H3, 3, \tbl, 0
    MAC H4, 4, \tbl, 0
.endm

/* Four blocks at \off(MSG): LO = their low halves, HI = their high halves,
 * lanes in block order 0 2 1 3 (what the unpacks give). */
.macro LOAD4 off
    vmovdqu \off(MSG), LO
    vmovdqu \off + 32(MSG), T2
    vpunpckhqdq T2, LO, HI
    vpunpcklqdq T2, LO, LO
.endm

/* Message limb \j of LO/HI into ML (limb 4 with the 2^128 bit). */
.macro LIMB j
    .if \j == 0
    vpand MASK, LO, ML
    .elseif \j == 1
    vpsrlq $26, LO, ML
    vpand MASK, ML, ML
    .elseif \j == 2
    vpsrlq $52, LO, ML
    vpsllq $12, HI, T2
    vpor T2, ML, ML
    vpand MASK, ML, ML
    .elseif \j == 3
    vpsrlq $14, HI, ML
    vpand MASK, ML, ML
    .else
    vpsrlq $40, HI, ML
    vpor HIBIT, ML, ML
    .endif
.endm

/* H += the four blocks at \off(MSG). */
.macro ADD_MSG off
    LOAD4 \off
    LIMB 0
    vpaddq ML, H0, H0
    LIMB 1
    vpaddq ML, H1, H1
    LIMB 2
    vpaddq ML, H2, H2
    LIMB 3
    vpaddq ML, H3, H3
    LIMB 4
    vpaddq ML, H4, H4
.endm

/* D = (the four blocks at \off(MSG)) p (first), or D += that. */
.macro MUL_MSG off, tbl, first
    LOAD4 \off
    LIMB 0
    MAC ML, 0, \tbl, \first
    LIMB 1
    MAC ML, 1, \tbl, 0
    LIMB 2
    MAC ML, 2, \tbl, 0
    LIMB 3
    MAC ML, 3, \tbl, 0
    LIMB 4
    MAC ML, 4, \tbl, 0
.endm

/* H = D with the carries propagated, limbs below 2^26 + 2^13: two chains
 * side by side (0 1 2 3 and 3 4 0 1), 4 5 times into 0. */
.macro CARRY
    vpsrlq $26, D0, T
    vpand MASK, D0, D0
    vpaddq T, D1, D1
    vpsrlq $26, D3, T2
    vpand MASK, D3, D3
    vpaddq T2, D4, D4
    vpsrlq $26, D1, T
    vpand MASK, D1, H1
    vpaddq T, D2, D2
    vpsrlq $26, D4, T2
    vpand MASK, D4, H4
    vpaddq T2, D0, D0
    vpsllq $2, T2, T2
    vpaddq T2, D0, D0
    vpsrlq $26, D2, T
    vpand MASK, D2, H2
    vpaddq T, D3, D3
    vpsrlq $26, D0, T2
    vpand MASK, D0, H0
    vpaddq T2, H1, H1
    vpsrlq $26, D3, T
    vpand MASK, D3, H3
    vpaddq T, H4, H4
.endm

/* Table at \tbl from H (power limbs in every lane): p and 5 p. */
.macro STORE_TBL tbl
    vmovdqa H0, \tbl(%rsp)
    vmovdqa H1, \tbl + 32(%rsp)
    vmovdqa H2, \tbl + 64(%rsp)
    vmovdqa H3, \tbl + 96(%rsp)
    vmovdqa H4, \tbl + 128(%rsp)
    vpsllq $2, H1, T
    vpaddq H1, T, T
    vmovdqa T, \tbl + 160(%rsp)
    vpsllq $2, H2, T
    vpaddq H2, T, T
    vmovdqa T, \tbl + 192(%rsp)
    vpsllq $2, H3, T
    vpaddq H3, T, T
    vmovdqa T, \tbl + 224(%rsp)
    vpsllq $2, H4, T
    vpaddq H4, T, T
    vmovdqa T, \tbl + 256(%rsp)
.endm

/* Sum the four lanes of \d (xmm name \x) into \gpr. */
.macro HSUM d, x, gpr
    vextracti128 $1, \d, %xmm10
    vpaddq %xmm10, \x, %xmm10
    vpshufd $0x4e, %xmm10, %xmm15
    vpaddq %xmm15, %xmm10, %xmm10
    vmovq %xmm10, \gpr
.endm

.balign 32
FUNC_BEGIN(poly1305_avx2_blocks)
    UNWIND_BEGIN(poly1305_avx2_blocks)
    cmp $(16 * MIN_BLOCKS), %rdx
    jb poly1305_x86_64_blocks_mulx   /* args as they are */
    push %rbp
    UNWIND_PUSH(%rbp)
    push %rbx
    UNWIND_PUSH(%rbx)
    push %r12
    UNWIND_PUSH(%r12)
    push %r13
    UNWIND_PUSH(%r13)
    push %r14
    UNWIND_PUSH(%r14)
    push %r15
    UNWIND_PUSH(%r15)
    mov %rsp, %rbp
    UNWIND_FRAME(%rbp)
    UNWIND_END_PROLOGUE
    sub $(FRAME + 64 + 32), %rsp
    and $-32, %rsp
    mov %rdx, LEN

    /* r, r^2, r^3, r^4 into the block-order table; r^4 in every lane. */
    mov 32(ST), S1
    shr $2, S1
    add 32(ST), S1
    mov 24(ST), A0
    mov 32(ST), A1
    xor %r10d, %r10d
    STORE_POW TBLM, 3
    MULR
    STORE_POW TBLM, 1
    MULR
    STORE_POW TBLM, 2
    MULR
    STORE_POW TBLM, 0
    vpbroadcastq .Lmask26(%rip), MASK
    vpbroadcastq .Lhibit(%rip), T
    vmovdqa T, HIBIT
    vpbroadcastq TBLM(%rsp), H0
    vpbroadcastq TBLM + 32(%rsp), H1
    vpbroadcastq TBLM + 64(%rsp), H2
    vpbroadcastq TBLM + 96(%rsp), H3
    vpbroadcastq TBLM + 128(%rsp), H4
    STORE_TBL TBL4

    /* r15 = the groups before the last one, each a step H = (H + M) r^4. */
    mov LEN, %r15
    shr $6, %r15
    dec %r15
    cmp $2, %r15
    jb 1f
    MUL5 TBL4, 1                     /* r^8 = r^4 r^4 */
    CARRY
    STORE_TBL TBL8
1:
    /* h into lane 0. */
    mov 0(ST), A0
    mov 8(ST), A1
    mov 16(ST), A2
    TO26
    vmovq %r11, %xmm0
    vmovq %r12, %xmm1
    vmovq %rax, %xmm2
    vmovq %rcx, %xmm3
    vmovq %rdx, %xmm4

    /* Two steps at a time: H = (H + M_a) r^8 + M_b r^4, one carry pass. */
    mov %r15, %rbx
    shr $1, %rbx
    jz 3f
.balign 32
2:
    MUL_MSG 64, TBL4, 1
    ADD_MSG 0
    MUL5 TBL8, 0
    CARRY
    add $128, MSG
    dec %rbx
    jnz 2b
3:
    /* And one when their number is odd. */
    test $1, %r15b
    jz 4f
    ADD_MSG 0
    MUL5 TBL4, 1
    CARRY
    add $64, MSG
4:
    /* The last group: lanes times r^4, r^2, r^3, r; sum the lanes. */
    ADD_MSG 0
    MUL5 TBLM, 1
    add $64, MSG
    HSUM D0, %xmm5, %r8
    HSUM D1, %xmm6, %r9
    HSUM D2, %xmm7, %r10
    HSUM D3, %xmm8, %r11
    HSUM D4, %xmm9, %r12
    /* h = d0 + d1 2^26 + d2 2^52 + d3 2^78 + d4 2^104 (each d < 2^61) in
     * radix 2^64 (r8 r10 r11), then the bits from 2^130 up times 5. */
    mov %r9, %rax
    shl $26, %rax
    shr $38, %r9
    mov %r10, %rbx
    shl $52, %rbx
    shr $12, %r10
    mov %r11, %rcx
    shl $14, %rcx
    shr $50, %r11
    mov %r12, %rdx
    shl $40, %rdx
    shr $24, %r12
    add %rax, %r8
    adc %r9, %r10
    add %rbx, %r8
    adc %rcx, %r10
    adc %r12, %r11
    add %rdx, %r10
    adc $0, %r11
    mov %r11, %rax
    and $3, %r11
    shr $2, %rax
    lea (%rax, %rax, 4), %rax
    add %rax, %r8
    adc $0, %r10
    adc $0, %r11                     /* h2 <= 4 */
    mov %r8, 0(ST)
    mov %r10, 8(ST)
    mov %r11, 16(ST)

    /* Wipe the tables and every vector register. */
    vpxor %xmm0, %xmm0, %xmm0
    xor %eax, %eax
5:
    vmovdqa %ymm0, 0(%rsp, %rax)
    add $32, %rax
    cmp $(FRAME + 64), %rax
    jb 5b
    vzeroall
    xor %eax, %eax
    xor %ecx, %ecx
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    mov LEN, %rdx
    and $48, %edx                    /* the blocks after the last group */
    mov %rbp, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    UNWIND_POP_FRAME(%rbp)
    test %rdx, %rdx
    jnz poly1305_x86_64_blocks_mulx
    ret
    UNWIND_END
FUNC_END(poly1305_avx2_blocks)

NOEXEC_STACK
