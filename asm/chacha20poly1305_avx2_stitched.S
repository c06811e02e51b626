/* SPDX-License-Identifier: MIT */
/*
 * chacha20poly1305_avx2_stitched.S - ChaCha20-Poly1305 (RFC 8439 §2.8)
 * with the AVX2 ChaCha20 kernels on the vector units and the Poly1305
 * block function (radix 2^64, BMI2 mulx, ADX) on the integer units, stitched:
 * the Poly1305 blocks sit between the quarter rounds, so the two chains of
 * dependent instructions run side by side.
 *
 *   void chacha20poly1305_avx2_seal(const struct stitch_args *a);
 *   void chacha20poly1305_avx2_open(const struct stitch_args *a);
 *
 * struct stitch_args (crypto/aead_x86_64.c; offsets A_* below):
 *   out, in, len   seal: ciphertext out, plaintext in, len bytes of data;
 *                  open: the keystream out (len + 64 bytes: the key block,
 *                  then the keystream for len bytes of data), in unused;
 *   key, iv        32-byte key; LE32(counter 0) || 12-byte nonce;
 *   ad, ad_len     associated data;
 *   mac, mac_len   the ciphertext to MAC (seal: out, len bytes; open: the
 *                  received ciphertext, which may be longer than len: the
 *                  MAC runs on after the keystream ends);
 *   tag            out: the 16-byte tag of ad || pad || mac || pad ||
 *                  LE64(ad_len) || LE64(mac_len).
 * Open writes no plaintext: the caller checks the tag and only then XORs
 * the keystream in.
 *
 * The first stretch (the key block and the first data) is made before the
 * MAC can start; then every kernel run MACs what is ready (seal: the
 * ciphertext already written; open: all of it) in its POLY_SLOTs, four per
 * double round; what is left, the padded partial block, the lengths and the
 * final reduction follow the last kernel run. Every branch and address
 * depends on lengths only. The stack frame and all vector registers are
 * wiped before returning.
 *
 * System V calling convention (declared sysv_abi on Windows).
 */
#include "x86_64_defs.h"

#define FP %rbp
#include "chacha20_avx2_core.h"

/* Scalars after the kernels' frame (NARROW_FRAME_END: no CORE32Z here). */
#define R0 768          /* clamped r, and s1 = r1 + r1 / 4 */
#define R1 776
#define S1 784
#define MACEND 792      /* MAC blocks before this address are ready */
#define MACFINAL 800    /* the end of the MAC input */
#define LEN 808         /* bytes (seal: data; open: keystream) still to make */
#define ARGS 816
#define SAVED_RSI 824      /* seal's rsi while MAC_AD borrows it */
#define PAD16 832       /* a zero-padded partial block, the lengths block */
#define MACSAVE 848     /* the ciphertext's MAC position while the AD's runs */
#define MADE 856        /* bytes the first stretch made */
#define SK0 864         /* s, the key's second half, added to the tag */
#define SK1 872
#define FRAME_END 896
#define FRAME_ALLOC (FRAME_END + 64)

/* struct stitch_args */
#define A_OUT 0
#define A_IN 8
#define A_LEN 16
#define A_KEY 24
#define A_IV 32
#define A_AD 40
#define A_ADLEN 48
#define A_MAC 56
#define A_MACLEN 64
#define A_TAG 72

/* Poly1305 registers: accumulator, scratch, the next block to MAC. The
 * kernels use eax and the vector registers only; rdi, rsi: out, in. */
#define H0 %r8
#define H1 %r9
#define H2 %r10
#define T0 %r11
#define T1 %r12
#define T2 %r13
#define T3 %r14
#define T4 %r15
#define T5 %rbx
#define MP %rcx
#define T1d %r12d

/*
 * h = (h + m + 2^128) r for the block at MP; MP += 16. With s1 = r1 + r1/4:
 * d0 = h0 r0 + h1 s1, d1 = h0 r1 + h1 r0 + h2 s1, d2 = h2 r0, then the bits
 * from 2^130 up fold back in times 5 (h2 < 8 after). The sums use ADX's two
 * carry chains (CF, OF). Clobbers T0..T5, rdx, the flags.
 */
.macro POLY_BLOCK
    add 0(MP), H0
    adc 8(MP), H1
    adc $1, H2
    mov H0, %rdx
    mulx R0(FP), T0, T1             /* h0 r0 */
    mulx R1(FP), T2, T3             /* h0 r1 */
    mov H1, %rdx
    mulx S1(FP), T4, T5             /* h1 s1 */
    mulx R0(FP), H0, H1             /* h1 r0 */
    mov H2, %rdx
    imul S1(FP), %rdx               /* h2 s1 */
    imul R0(FP), H2                 /* h2 r0 */
    test %eax, %eax                 /* CF = OF = 0; two carry chains: */
    adcx T4, T0                     /* d0 = lo h0 r0 + lo h1 s1 */
    adox T2, H0                     /* e = lo h1 r0 + lo h0 r1 */
    adcx T5, T1                     /* hi h0 r0 + hi h1 s1 */
    adox .Lzero(%rip), H2           /* h2 r0 + carry(e) */
    adcx H1, T3                     /* hi h0 r1 + hi h1 r0 */
    adox H0, T1                     /* d1 = ... + e */
    adox H2, T3
    adcx %rdx, T1                   /* d1 += h2 s1 */
    adcx .Lzero(%rip), T3           /* d2 */
    mov T3, H2
    and $3, H2
    mov T3, %rdx
    shr $2, T3
    and $-4, %rdx
    add %rdx, T3
    add T3, T0
    adc $0, T1
    adc $0, H2
    mov T0, H0
    mov T1, H1
    add $16, MP
.endm

/* One Poly1305 block if one is ready (a length-only condition). */
.macro POLY_SLOT
    cmp MACEND(FP), MP
    jae 7f
    POLY_BLOCK
7:
.endm

RODATA
    CHACHA_AVX2_CONSTANTS
.balign 8
.Lclamp:
    .quad 0x0ffffffc0fffffff, 0x0ffffffc0ffffffc
.Lzero:
    .quad 0

.text

LEAF_BEGIN   /* the local subroutines below push nothing */
.balign 32
.Lcore8:
    CORE8
    ret

.balign 32
.Lcore4:
    CORE4
    ret

.balign 32
.Lcore1:
    CORE1
    ret

/* Keystream for a stretch of T1 stream bytes (1..512) into KS with the
 * smallest kernel that covers it; T2 = the bytes made (64, 256 or 512). */
.balign 32
.Lstretch_ks:
    cmp $256, T1
    ja 8f
    cmp $64, T1
    ja 4f
    call .Lcore1
    mov $64, T2
    ret
4:
    call .Lcore4
    mov $256, T2
    ret
8:
    call .Lcore8
    OUT8 0
    mov $512, T2
    ret

/* (rdi) = (rsi) ^ (T0) for T1 bytes (seal), or (rdi) = (T0) (open, with
 * .Lcopy_ks): the pointers advance, LEN drops by T1, T1 ends at 0.
 * Clobbers T2, ymm0. */
.macro XOR_OR_COPY xor
1:
    cmp $32, T1
    jb 2f
    vmovdqu (T0), %ymm0
.if \xor
    vpxor (%rsi), %ymm0, %ymm0
    add $32, %rsi
.endif
    vmovdqu %ymm0, (%rdi)
    add $32, %rdi
    add $32, T0
    sub $32, T1
    subq $32, LEN(FP)
    jmp 1b
2:
    test T1, T1
    jz 3f
    movzbl (T0), %r13d
.if \xor
    xorb (%rsi), %r13b
    inc %rsi
.endif
    movb %r13b, (%rdi)
    inc %rdi
    inc T0
    dec T1
    decq LEN(FP)
    jmp 2b
3:
.endm

.balign 32
.Lxor_ks:
    XOR_OR_COPY 1
    ret

.balign 32
.Lcopy_ks:
    XOR_OR_COPY 0
    ret

LEAF_END

/* r, s1 and s from the key block at KS; h = 0. */
.macro MAC_INIT
    mov KS(FP), T0
    mov KS + 8(FP), T1
    and .Lclamp(%rip), T0
    and .Lclamp + 8(%rip), T1
    mov T0, R0(FP)
    mov T1, R1(FP)
    mov T1, T2
    shr $2, T2
    add T1, T2
    mov T2, S1(FP)
    mov KS + 16(FP), T0
    mov KS + 24(FP), T1
    mov T0, SK0(FP)
    mov T1, SK1(FP)
    xor H0, H0
    xor H1, H1
    xor H2, H2
.endm

/* The AD and its zero padding, MACed at once (it is short, if any). */
.macro MAC_AD
    mov ARGS(FP), T0
    mov MP, MACSAVE(FP)
    mov A_AD(T0), MP
    mov A_ADLEN(T0), %rax
    mov %rax, %rsi                  /* (seal: rsi is saved around this) */
    and $-16, %rax
    add MP, %rax
    mov %rax, MACEND(FP)
1:
    cmp MACEND(FP), MP
    jae 2f
    POLY_BLOCK
    jmp 1b
2:
    mov %rsi, T1
    and $15, T1
    jz 4f
    MAC_PARTIAL
4:
    mov MACSAVE(FP), MP
.endm

/* Frame, state, MAC bookkeeping; rdi = out, rsi = in. */
.macro ENTER
    PUSH_CALLEE_SAVED
    sub $FRAME_ALLOC, %rsp          /* rsp stays put from here on */
    UNWIND_ALLOC(FRAME_ALLOC)
    UNWIND_END_PROLOGUE
    lea 63(%rsp), FP                /* the frame: 64-byte aligned within */
    and $-64, FP
    mov %rdi, ARGS(FP)
    mov A_KEY(%rdi), %rax
    mov A_IV(%rdi), %rdx
    STATE_INIT %rax, %rdx
    mov A_LEN(%rdi), %rax
    mov %rax, LEN(FP)
    mov A_MAC(%rdi), MP
    mov MP, MACEND(FP)              /* nothing to MAC before the key */
    mov A_OUT(%rdi), %rdi
.endm

/* PAD16 = the zero-padded last T1 (1..15) bytes at MP; MAC it. */
.macro MAC_PARTIAL
    vpxor %xmm0, %xmm0, %xmm0
    vmovdqa %xmm0, PAD16(FP)
    xor %eax, %eax
1:
    movzbl (MP, %rax), %edx
    movb %dl, PAD16(FP, %rax)
    inc %eax
    cmp T1d, %eax
    jb 1b
    lea PAD16(FP), MP
    POLY_BLOCK
.endm

/*
 * The ciphertext's remaining whole blocks, its zero-padded partial block,
 * the lengths block; then the tag = (h mod p) + s mod 2^128: h < 2p after
 * one more fold, and h - p = h + 5 - 2^130 replaces h (CMOV, no branch)
 * when h + 5 reaches 2^130. Wipe, return.
 */
.macro LEAVE
    mov MACFINAL(FP), %rax
    mov %rax, MACEND(FP)
1:
    cmp MACFINAL(FP), MP
    jae 2f
    POLY_BLOCK
    jmp 1b
2:
    mov ARGS(FP), T0
    mov A_MACLEN(T0), T1
    and $15, T1
    jz 3f
    MAC_PARTIAL
3:
    mov ARGS(FP), T0
    mov A_ADLEN(T0), T1
    mov A_MACLEN(T0), T2
    mov T1, PAD16(FP)
    mov T2, PAD16 + 8(FP)
    lea PAD16(FP), MP
    POLY_BLOCK

    mov H2, T0
    shr $2, T0
    lea (T0, T0, 4), T0
    and $3, H2
    add T0, H0
    adc $0, H1
    adc $0, H2
    mov H0, T0
    mov H1, T1
    add $5, T0
    adc $0, T1
    adc $0, H2
    shr $2, H2
    cmovnz T0, H0
    cmovnz T1, H1
    add SK0(FP), H0
    adc SK1(FP), H1
    mov ARGS(FP), T0
    mov A_TAG(T0), T0
    mov H0, 0(T0)
    mov H1, 8(T0)

    WIPE_FRAME FRAME_END
    add $FRAME_ALLOC, %rsp
    UNWIND_FREE(FRAME_ALLOC)
    POP_CALLEE_SAVED
    xor %eax, %eax
    xor %edx, %edx
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    ret
.endm

/* Seal: MACEND = min(rdi, MACFINAL), the ciphertext written so far. */
.macro SEAL_MACEND
    mov %rdi, %rax
    cmp MACFINAL(FP), %rax
    cmova MACFINAL(FP), %rax
    mov %rax, MACEND(FP)
.endm

.balign 32
FUNC_BEGIN(chacha20poly1305_avx2_seal)
    UNWIND_BEGIN(chacha20poly1305_avx2_seal)
    ENTER
    mov ARGS(FP), %rax
    mov A_IN(%rax), %rsi
    mov A_MACLEN(%rax), %rax
    and $-16, %rax
    add MP, %rax
    mov %rax, MACFINAL(FP)

    /* The key block and the first data: a stretch of len + 64 bytes. */
    mov LEN(FP), T1
    add $64, T1
    mov $512, %eax
    cmp %rax, T1
    cmova %rax, T1
    call .Lstretch_ks
    mov T2, MADE(FP)
    MAC_INIT
    mov %rsi, SAVED_RSI(FP)
    MAC_AD
    mov SAVED_RSI(FP), %rsi
    mov MADE(FP), T1
    sub $64, T1
    cmp LEN(FP), T1
    cmova LEN(FP), T1
    lea KS + 64(FP), T0
    call .Lxor_ks
    SEAL_MACEND

.balign 16
1:
    cmpq $512, LEN(FP)
    jb 2f
    call .Lcore8
    OUT8 1
    add $512, %rsi
    add $512, %rdi
    subq $512, LEN(FP)
    SEAL_MACEND
    jmp 1b
2:
    mov LEN(FP), T1
    test T1, T1
    jz 3f
    call .Lstretch_ks
    mov LEN(FP), T1
    lea KS(FP), T0
    call .Lxor_ks
3:
    LEAVE
    UNWIND_END
FUNC_END(chacha20poly1305_avx2_seal)

.balign 32
FUNC_BEGIN(chacha20poly1305_avx2_open)
    UNWIND_BEGIN(chacha20poly1305_avx2_open)
    ENTER
    addq $64, LEN(FP)               /* the keystream includes the key block */
    mov ARGS(FP), %rax
    mov A_MACLEN(%rax), %rax
    and $-16, %rax
    add MP, %rax
    mov %rax, MACFINAL(FP)

    mov LEN(FP), T1
    mov $512, %eax
    cmp %rax, T1
    cmova %rax, T1
    call .Lstretch_ks
    mov T2, MADE(FP)
    MAC_INIT
    MAC_AD
    mov MACFINAL(FP), %rax          /* the whole ciphertext is ready */
    mov %rax, MACEND(FP)
    mov MADE(FP), T1
    cmp LEN(FP), T1
    cmova LEN(FP), T1
    lea KS(FP), T0
    call .Lcopy_ks

.balign 16
1:
    cmpq $512, LEN(FP)
    jb 2f
    call .Lcore8
    OUT8 2
    add $512, %rdi
    subq $512, LEN(FP)
    jmp 1b
2:
    mov LEN(FP), T1
    test T1, T1
    jz 3f
    call .Lstretch_ks
    mov LEN(FP), T1
    lea KS(FP), T0
    call .Lcopy_ks
3:
    LEAVE
    UNWIND_END
FUNC_END(chacha20poly1305_avx2_open)

NOEXEC_STACK
