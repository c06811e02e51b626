/* SPDX-License-Identifier: MIT */
/*
 * poly1305_x86_64.S - the Poly1305 (RFC 8439) block function in radix 2^64:
 * h = (h + m + 2^128) * r mod 2^130 - 5 for each whole 16-byte block.
 *
 *   void poly1305_x86_64_blocks_mulx(uint64_t st[5], const uint8_t *m,
 *                                    size_t len);   BMI2 mulx + ADX
 *   void poly1305_x86_64_blocks(uint64_t st[5], const uint8_t *m,
 *                               size_t len);        plain mul
 *
 * st = h0 h1 h2 r0 r1: the accumulator h = h0 + h1 2^64 + h2 2^128, kept
 * partially reduced (h2 < 8), and the clamped key half r = r0 + r1 2^64.
 * len is rounded down to whole blocks; every block gets the 2^128 bit (the
 * AEAD pads its input to whole blocks). Key setup and the final reduction
 * are in crypto/aead_x86_64.c.
 *
 * The product, with s1 = r1 + r1/4 (r1 is a multiple of 4, so
 * r1 2^128 = 5 r1/4 mod p):
 *   d0 = h0 r0 + h1 s1
 *   d1 = h0 r1 + h1 r0 + h2 s1
 *   d2 = h2 r0
 * then the bits from 2^130 up fold back in times 5. Straight-line code per
 * block: nothing branches on or indexes by the key or the data.
 *
 * System V calling convention (declared sysv_abi on Windows).
 */
#include "x86_64_defs.h"

.text

/* Register roles, both versions. */
#define H0 %r8
#define H1 %r9
#define H2 %r10
#define S1 %r13

.macro SAVE
    PUSH_CALLEE_SAVED
    UNWIND_END_PROLOGUE
.endm

.macro RESTORE
    POP_CALLEE_SAVED
.endm

/* Callee-saved registers come back from the stack; clear the scratch ones
 * that held key-derived values. */
.macro WIPE_AND_RETURN
    RESTORE
    xor %eax, %eax
    xor %edx, %edx
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    ret
.endm

/* Load h and s1, rcx = number of blocks (rdx: len in bytes). */
.macro LOAD_STATE
    mov %rdx, %rcx
    shr $4, %rcx
    mov 0(%rdi), H0
    mov 8(%rdi), H1
    mov 16(%rdi), H2
    mov 32(%rdi), S1
    shr $2, S1
    add 32(%rdi), S1
.endm

/* d2 (rbx) d1 (r12) d0 (r11) -> h: h2 = d2 & 3, h += 5 (d2 >> 2). */
.macro REDUCE
    mov %rbx, H2
    and $3, H2
    mov %rbx, %rax
    shr $2, %rbx
    and $-4, %rax
    add %rax, %rbx
    add %rbx, %r11
    adc $0, %r12
    adc $0, H2
    mov %r11, H0
    mov %r12, H1
.endm

.balign 32
FUNC_BEGIN(poly1305_x86_64_blocks_mulx)
    UNWIND_BEGIN(poly1305_x86_64_blocks_mulx)
    SAVE
    LOAD_STATE
    test %rcx, %rcx
    jz 2f
.balign 16
1:
    add 0(%rsi), H0
    adc 8(%rsi), H1
    adc $1, H2
    mov H0, %rdx
    mulx 24(%rdi), %r11, %r12       /* h0 r0: d0, d1 */
    mulx 32(%rdi), %rax, %rbx       /* h0 r1: A, d2 */
    mov H1, %rdx
    mulx 24(%rdi), %r14, %r15       /* h1 r0: B, C */
    mulx S1, H0, H1                 /* h1 s1: D, E */
    mov H2, %rdx
    imul S1, %rdx                   /* h2 s1: G (h2 < 8) */
    imul 24(%rdi), H2               /* h2 r0: H */
    xor %ebp, %ebp                  /* CF = OF = 0 */
    adcx H0, %r11                   /* d0 += D */
    adox %rax, %r12                 /* d1 += A */
    adcx H1, %r12                   /* d1 += E */
    adox H2, %rbx                   /* d2 += H */
    adcx %r15, %rbx                 /* d2 += C; CF = OF = 0 now */
    adox %r14, %r12                 /* d1 += B */
    adox %rbp, %rbx
    adcx %rdx, %r12                 /* d1 += G */
    adcx %rbp, %rbx
    REDUCE
    add $16, %rsi
    dec %rcx
    jnz 1b
    mov H0, 0(%rdi)
    mov H1, 8(%rdi)
    mov H2, 16(%rdi)
2:
    WIPE_AND_RETURN
    UNWIND_END
FUNC_END(poly1305_x86_64_blocks_mulx)

.balign 32
FUNC_BEGIN(poly1305_x86_64_blocks)
    UNWIND_BEGIN(poly1305_x86_64_blocks)
    SAVE
    LOAD_STATE
    test %rcx, %rcx
    jz 2f
.balign 16
1:
    add 0(%rsi), H0
    adc 8(%rsi), H1
    adc $1, H2
    mov 24(%rdi), %rax
    mul H0                          /* h0 r0 */
    mov %rax, %r11
    mov %rdx, %r12
    mov 32(%rdi), %rax
    mul H0                          /* h0 r1 */
    mov %rax, %r14
    mov %rdx, %rbx
    mov 24(%rdi), %rax
    mul H1                          /* h1 r0 */
    add %rax, %r14                  /* A + B: h0 r1 + h1 r0 < 2^125 */
    adc %rdx, %rbx
    mov S1, %rax
    mul H1                          /* h1 s1 */
    add %rax, %r11
    adc %rdx, %r12
    adc $0, %rbx
    mov S1, %rax
    imul H2, %rax                   /* h2 s1 */
    imul 24(%rdi), H2               /* h2 r0 */
    add %r14, %r12
    adc H2, %rbx
    add %rax, %r12
    adc $0, %rbx
    REDUCE
    add $16, %rsi
    dec %rcx
    jnz 1b
    mov H0, 0(%rdi)
    mov H1, 8(%rdi)
    mov H2, 16(%rdi)
2:
    WIPE_AND_RETURN
    UNWIND_END
FUNC_END(poly1305_x86_64_blocks)

NOEXEC_STACK
