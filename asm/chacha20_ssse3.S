/* SPDX-License-Identifier: MIT */
/*
 * chacha20_ssse3.S - ChaCha20 (RFC 8439) keystream XOR with SSSE3.
 *
 *   void chacha20_ssse3_xor(uint8_t *dst, const uint8_t *src, size_t len,
 *                           const uint8_t key[32], const uint8_t iv[16],
 *                           uint8_t pk[32]);
 *
 * Same contract as chacha20_avx2_xor (asm/chacha20_avx2.S): iv is
 * LE32(block counter) || nonce, dst may equal src, and a non-NULL pk takes
 * the first 32 bytes of the counter's block (the Poly1305 key) while the
 * data is XORed from the next block on.
 *
 * Kernels: 4 blocks at once with one state word of four blocks per xmm
 * register (the main loop, 256 bytes per iteration; the rotations by 16 and
 * 8 are PSHUFB byte shuffles); 1 block in xmm rows for short stretches. A
 * stretch shorter than 256 bytes is made into a keystream buffer on the
 * stack and XORed from there. Which kernel runs and every address depend on
 * len only. The stack frame and the xmm registers are wiped before
 * returning.
 *
 * Legacy SSE encoding only (no VEX), so it runs on any x86-64 CPU with
 * SSSE3. System V calling convention (declared sysv_abi on Windows).
 */
#include "x86_64_defs.h"

/* Frame, relative to %r11 (64-byte aligned). */
#define C8 0            /* spill slots for state words 8..11 (4 blocks) */
#define C9 16
#define C10 32
#define C11 48
#define X12 64          /* the counter vector of the current 4 blocks */
#define ST 96           /* the 16-word ChaCha state, counter at ST+48 */
#define INIT 160        /* state word i broadcast to 4 lanes at INIT+16i */
#define KS 416          /* 256 bytes of keystream for a partial stretch */
#define FRAME_END 672
#define FRAME_ALLOC (FRAME_END + 64)

RODATA
.balign 16
.Lrot16:
    .byte 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13
.Lrot8:
    .byte 3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14
.Linc4:
    .long 0, 1, 2, 3
.Lsigma:
    .long 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574

.text

/* x = x <<< n for a non-byte amount (t: scratch). */
.macro ROTL n, x, t
    movdqa \x, \t
    pslld $\n, \t
    psrld $(32 - \n), \x
    por \t, \x
.endm

/* Two quarter rounds side by side on (a0 b0 c0 d0) and (a1 b1 c1 d1). */
.macro QR2 a0, b0, c0, d0, a1, b1, c1, d1, t0, t1
    paddd \b0, \a0
    paddd \b1, \a1
    pxor \a0, \d0
    pxor \a1, \d1
    pshufb .Lrot16(%rip), \d0
    pshufb .Lrot16(%rip), \d1
    paddd \d0, \c0
    paddd \d1, \c1
    pxor \c0, \b0
    pxor \c1, \b1
    ROTL 12, \b0, \t0
    ROTL 12, \b1, \t1
    paddd \b0, \a0
    paddd \b1, \a1
    pxor \a0, \d0
    pxor \a1, \d1
    pshufb .Lrot8(%rip), \d0
    pshufb .Lrot8(%rip), \d1
    paddd \d0, \c0
    paddd \d1, \c1
    pxor \c0, \b0
    pxor \c1, \b1
    ROTL 7, \b0, \t0
    ROTL 7, \b1, \t1
.endm

/* 4x4 transpose of 32-bit words: a b c d hold words w..w+3 of four blocks;
 * afterwards t0, b, a, d hold words w..w+3 of blocks 0, 1, 2, 3 (c and t1
 * are left as scratch). */
.macro TRANSPOSE4 a, b, c, d, t0, t1
    movdqa \a, \t0
    punpckldq \b, \t0
    punpckhdq \b, \a
    movdqa \c, \t1
    punpckldq \d, \t1
    punpckhdq \d, \c
    movdqa \t0, \b
    punpcklqdq \t1, \t0
    punpckhqdq \t1, \b
    movdqa \a, \d
    punpcklqdq \c, \a
    punpckhqdq \c, \d
.endm

/* 16 bytes of keystream x out at off: XORed into dst (mode 1, t: scratch)
 * or stored at KS (mode 0). */
.macro EMIT mode, x, off, t
.if \mode
    movdqu \off(%rsi), \t
    pxor \t, \x
    movdqu \x, \off(%rdi)
.else
    movdqa \x, KS + \off(%r11)
.endif
.endm

/* One group of four words (at byte offset off within each block). */
.macro OUT_GROUP mode, a, b, c, d, t0, t1, off
    TRANSPOSE4 \a, \b, \c, \d, \t0, \t1
    EMIT \mode, \t0, \off, \t1
    EMIT \mode, \b, \off + 64, \t1
    EMIT \mode, \a, \off + 128, \t1
    EMIT \mode, \d, \off + 192, \t1
.endm

/* The 4 blocks left by core4: words 0..9 and 12..15 in xmm0..9, xmm12..15,
 * words 10, 11 at C10, C11. */
.macro OUT4 mode
    OUT_GROUP \mode, %xmm0, %xmm1, %xmm2, %xmm3, %xmm10, %xmm11, 0
    OUT_GROUP \mode, %xmm4, %xmm5, %xmm6, %xmm7, %xmm10, %xmm11, 16
    movdqa C10(%r11), %xmm0
    movdqa C11(%r11), %xmm1
    OUT_GROUP \mode, %xmm8, %xmm9, %xmm0, %xmm1, %xmm10, %xmm11, 32
    OUT_GROUP \mode, %xmm12, %xmm13, %xmm14, %xmm15, %xmm10, %xmm11, 48
.endm

/* Rows to diagonals (dir 0) and back (dir 1). */
.macro DIAG dir, b, c, d
.if \dir
    pshufd $0x93, \b, \b
    pshufd $0x4e, \c, \c
    pshufd $0x39, \d, \d
.else
    pshufd $0x39, \b, \b
    pshufd $0x4e, \c, \c
    pshufd $0x93, \d, \d
.endif
.endm

/* One quarter round on rows a b c d (t: scratch). */
.macro QROW a, b, c, d, t
    paddd \b, \a
    pxor \a, \d
    pshufb .Lrot16(%rip), \d
    paddd \d, \c
    pxor \c, \b
    ROTL 12, \b, \t
    paddd \b, \a
    pxor \a, \d
    pshufb .Lrot8(%rip), \d
    paddd \d, \c
    pxor \c, \b
    ROTL 7, \b, \t
.endm

/*
 * core4: 4 blocks from the counter at ST+48, which it advances by 4. Out as
 * OUT4 expects. Clobbers eax and every xmm register.
 */
LEAF_BEGIN   /* the local subroutines below push nothing */
.balign 32
.Lcore4:
    movd ST + 48(%r11), %xmm12
    pshufd $0, %xmm12, %xmm12
    paddd .Linc4(%rip), %xmm12
    movdqa %xmm12, X12(%r11)
    movdqa INIT + 160(%r11), %xmm10
    movdqa INIT + 176(%r11), %xmm11
    movdqa %xmm10, C10(%r11)
    movdqa %xmm11, C11(%r11)
    movdqa INIT + 0(%r11), %xmm0
    movdqa INIT + 16(%r11), %xmm1
    movdqa INIT + 32(%r11), %xmm2
    movdqa INIT + 48(%r11), %xmm3
    movdqa INIT + 64(%r11), %xmm4
    movdqa INIT + 80(%r11), %xmm5
    movdqa INIT + 96(%r11), %xmm6
    movdqa INIT + 112(%r11), %xmm7
    movdqa INIT + 128(%r11), %xmm8
    movdqa INIT + 144(%r11), %xmm9
    movdqa INIT + 208(%r11), %xmm13
    movdqa INIT + 224(%r11), %xmm14
    movdqa INIT + 240(%r11), %xmm15
    mov $10, %eax
.balign 16
1:
    QR2 %xmm0, %xmm4, %xmm8, %xmm12, %xmm1, %xmm5, %xmm9, %xmm13, %xmm10, %xmm11
    movdqa %xmm8, C8(%r11)
    movdqa %xmm9, C9(%r11)
    movdqa C10(%r11), %xmm8
    movdqa C11(%r11), %xmm9
    QR2 %xmm2, %xmm6, %xmm8, %xmm14, %xmm3, %xmm7, %xmm9, %xmm15, %xmm10, %xmm11
    QR2 %xmm0, %xmm5, %xmm8, %xmm15, %xmm1, %xmm6, %xmm9, %xmm12, %xmm10, %xmm11
    movdqa %xmm8, C10(%r11)
    movdqa %xmm9, C11(%r11)
    movdqa C8(%r11), %xmm8
    movdqa C9(%r11), %xmm9
    QR2 %xmm2, %xmm7, %xmm8, %xmm13, %xmm3, %xmm4, %xmm9, %xmm14, %xmm10, %xmm11
    dec %eax
    jnz 1b

    paddd INIT + 0(%r11), %xmm0
    paddd INIT + 16(%r11), %xmm1
    paddd INIT + 32(%r11), %xmm2
    paddd INIT + 48(%r11), %xmm3
    paddd INIT + 64(%r11), %xmm4
    paddd INIT + 80(%r11), %xmm5
    paddd INIT + 96(%r11), %xmm6
    paddd INIT + 112(%r11), %xmm7
    paddd INIT + 128(%r11), %xmm8
    paddd INIT + 144(%r11), %xmm9
    movdqa C10(%r11), %xmm10
    movdqa C11(%r11), %xmm11
    paddd INIT + 160(%r11), %xmm10
    paddd INIT + 176(%r11), %xmm11
    movdqa %xmm10, C10(%r11)
    movdqa %xmm11, C11(%r11)
    paddd X12(%r11), %xmm12
    paddd INIT + 208(%r11), %xmm13
    paddd INIT + 224(%r11), %xmm14
    paddd INIT + 240(%r11), %xmm15
    addl $4, ST + 48(%r11)
    ret

/*
 * core1: 1 block from the counter at ST+48 (advanced by 1) as keystream at
 * KS..KS+63, in xmm rows. Clobbers eax, xmm0..3, xmm8..12.
 */
.balign 32
.Lcore1:
    movdqa ST + 0(%r11), %xmm8
    movdqa ST + 16(%r11), %xmm9
    movdqa ST + 32(%r11), %xmm10
    movdqa ST + 48(%r11), %xmm11
    movdqa %xmm8, %xmm0
    movdqa %xmm9, %xmm1
    movdqa %xmm10, %xmm2
    movdqa %xmm11, %xmm3
    mov $10, %eax
.balign 16
1:
    QROW %xmm0, %xmm1, %xmm2, %xmm3, %xmm12
    DIAG 0, %xmm1, %xmm2, %xmm3
    QROW %xmm0, %xmm1, %xmm2, %xmm3, %xmm12
    DIAG 1, %xmm1, %xmm2, %xmm3
    dec %eax
    jnz 1b
    paddd %xmm8, %xmm0
    paddd %xmm9, %xmm1
    paddd %xmm10, %xmm2
    paddd %xmm11, %xmm3
    movdqa %xmm0, KS + 0(%r11)
    movdqa %xmm1, KS + 16(%r11)
    movdqa %xmm2, KS + 32(%r11)
    movdqa %xmm3, KS + 48(%r11)
    addl $1, ST + 48(%r11)
    ret

/* Keystream for a stretch of rcx stream bytes (1..256) into KS with the
 * smallest kernel that covers it; r10 = the bytes made (64 or 256). */
.balign 32
.Lstretch_ks:
    cmp $64, %rcx
    ja 4f
    call .Lcore1
    mov $64, %r10d
    ret
4:
    call .Lcore4
    OUT4 0
    mov $256, %r10d
    ret

/* dst[i] = src[i] ^ ks[i] for rcx bytes: rdi, rsi, rax advance, rdx drops
 * by rcx; rcx ends at 0. Clobbers r10, xmm0, xmm1. */
.balign 32
.Lxor_ks:
    sub %rcx, %rdx
1:
    cmp $16, %rcx
    jb 2f
    movdqu (%rsi), %xmm0
    movdqu (%rax), %xmm1
    pxor %xmm1, %xmm0
    movdqu %xmm0, (%rdi)
    add $16, %rsi
    add $16, %rdi
    add $16, %rax
    sub $16, %rcx
    jmp 1b
2:
    cmp $8, %rcx
    jb 3f
    mov (%rsi), %r10
    xor (%rax), %r10
    mov %r10, (%rdi)
    add $8, %rsi
    add $8, %rdi
    add $8, %rax
    sub $8, %rcx
3:
    test %rcx, %rcx
    jz 4f
    movzbl (%rsi), %r10d
    xorb (%rax), %r10b
    movb %r10b, (%rdi)
    inc %rsi
    inc %rdi
    inc %rax
    dec %rcx
    jmp 3b
4:
    xor %r10d, %r10d
    ret

/* INIT + 16i = state word i in all four lanes (i = 12 is unused). */
.macro BROADCAST_ROW row
    movdqa ST + 16 * \row(%r11), %xmm0
    pshufd $0x00, %xmm0, %xmm1
    pshufd $0x55, %xmm0, %xmm2
    pshufd $0xaa, %xmm0, %xmm3
    pshufd $0xff, %xmm0, %xmm4
    movdqa %xmm1, INIT + 64 * \row + 0(%r11)
    movdqa %xmm2, INIT + 64 * \row + 16(%r11)
    movdqa %xmm3, INIT + 64 * \row + 32(%r11)
    movdqa %xmm4, INIT + 64 * \row + 48(%r11)
.endm

LEAF_END

.balign 32
FUNC_BEGIN(chacha20_ssse3_xor)
    UNWIND_BEGIN(chacha20_ssse3_xor)
    push %rbp
    UNWIND_PUSH(%rbp)
    mov %rsp, %rbp
    UNWIND_FRAME(%rbp)
    UNWIND_END_PROLOGUE
    sub $FRAME_ALLOC, %rsp
    and $-64, %rsp
    mov %rsp, %r11

    movdqu .Lsigma(%rip), %xmm0
    movdqu (%rcx), %xmm1
    movdqu 16(%rcx), %xmm2
    movdqu (%r8), %xmm3
    movdqa %xmm0, ST + 0(%r11)
    movdqa %xmm1, ST + 16(%r11)
    movdqa %xmm2, ST + 32(%r11)
    movdqa %xmm3, ST + 48(%r11)
    BROADCAST_ROW 0
    BROADCAST_ROW 1
    BROADCAST_ROW 2
    BROADCAST_ROW 3

    test %r9, %r9
    jz .Lloop4
    /* The key block and the first data: a stretch of len + 64 bytes. */
    lea 64(%rdx), %rcx
    cmp $256, %rcx
    jbe 1f
    mov $256, %ecx
1:
    call .Lstretch_ks
    movdqa KS(%r11), %xmm0
    movdqa KS + 16(%r11), %xmm1
    movdqu %xmm0, (%r9)
    movdqu %xmm1, 16(%r9)
    lea -64(%r10), %rcx
    cmp %rdx, %rcx
    cmova %rdx, %rcx
    lea KS + 64(%r11), %rax
    call .Lxor_ks

.balign 16
.Lloop4:
    cmp $256, %rdx
    jb .Lrest
    call .Lcore4
    OUT4 1
    add $256, %rsi
    add $256, %rdi
    sub $256, %rdx
    jmp .Lloop4

.Lrest:
    test %rdx, %rdx
    jz .Ldone
    mov %rdx, %rcx
    call .Lstretch_ks
    mov %rdx, %rcx
    lea KS(%r11), %rax
    call .Lxor_ks

.Ldone:
    pxor %xmm0, %xmm0
    xor %eax, %eax
1:
    movdqa %xmm0, 0(%r11, %rax)
    movdqa %xmm0, 16(%r11, %rax)
    add $32, %rax
    cmp $FRAME_END, %rax
    jb 1b
    pxor %xmm1, %xmm1
    pxor %xmm2, %xmm2
    pxor %xmm3, %xmm3
    pxor %xmm4, %xmm4
    pxor %xmm5, %xmm5
    pxor %xmm6, %xmm6
    pxor %xmm7, %xmm7
    pxor %xmm8, %xmm8
    pxor %xmm9, %xmm9
    pxor %xmm10, %xmm10
    pxor %xmm11, %xmm11
    pxor %xmm12, %xmm12
    pxor %xmm13, %xmm13
    pxor %xmm14, %xmm14
    pxor %xmm15, %xmm15
    mov %rbp, %rsp
    pop %rbp
    UNWIND_POP_FRAME(%rbp)
    ret
    UNWIND_END
FUNC_END(chacha20_ssse3_xor)

NOEXEC_STACK
