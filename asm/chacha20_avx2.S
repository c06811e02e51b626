/* SPDX-License-Identifier: MIT */
/*
 * chacha20_avx2.S - ChaCha20 (RFC 8439) keystream XOR with AVX2.
 *
 *   void chacha20_avx2_xor(uint8_t *dst, const uint8_t *src, size_t len,
 *                          const uint8_t key[32], const uint8_t iv[16],
 *                          uint8_t pk[32]);
 *   void chacha20_avx512_xor(...same...);     AVX-512F: 32-block runs
 *
 * iv is LE32(block counter) || 12-byte nonce. dst may equal src. When pk is
 * not NULL, the first 32 bytes of the keystream block at the counter go to
 * pk (the Poly1305 one-time key) and the data is XORed from the next block
 * on, so the key block rides along with the data blocks instead of costing
 * a block function of its own.
 *
 * The kernels are in chacha20_avx2_core.h: 8 blocks per iteration of the
 * main loop (512 bytes; 32 blocks, 2048 bytes, in the AVX-512 entry),
 * and a stretch shorter than that (the tail, or the key block with the
 * first data) is made with the smallest kernel that covers it (32, 8, 4
 * or 1 blocks) into a keystream buffer on the stack and
 * XORed from there. Which kernel runs and every address depend on len only:
 * no branch or index depends on the key or the data. The stack frame
 * (state, spilled words, keystream) and all vector registers are wiped
 * before returning.
 *
 * System V calling convention (declared sysv_abi on Windows).
 */
#include "x86_64_defs.h"

#define FP %r11
#include "chacha20_avx2_core.h"

/* The AVX2 entry's frame, and the AVX-512 one's (CORE32Z's words). */
#define FRAME_END NARROW_FRAME_END
#define WIDE_FRAME_END CORE_FRAME_END

/* No MAC to interleave here. */
.macro POLY_SLOT
.endm

RODATA
    CHACHA_AVX2_CONSTANTS

.text

/* An entry's frame: rbp the frame register, FP the 64-byte aligned base
 * of size bytes; over a page, each page is touched on the way down
 * (Windows grows the stack one guard page at a time). */
.macro FRAME_ENTER size
    push %rbp
    UNWIND_PUSH(%rbp)
    mov %rsp, %rbp
    UNWIND_FRAME(%rbp)
    UNWIND_END_PROLOGUE
.if (\size + 64) > 4096
    sub $4096, %rsp
    orq $0, (%rsp)
    sub $(\size + 64 - 4096), %rsp
.else
    sub $(\size + 64), %rsp
.endif
    and $-64, %rsp
    mov %rsp, FP
.endm

/* Wipe the frame (zmm: and zmm16..31) and return. */
.macro FRAME_LEAVE size, zmm=0
    WIPE_FRAME \size, \zmm
    mov %rbp, %rsp
    pop %rbp
    UNWIND_POP_FRAME(%rbp)
    ret
.endm

/* Groups of CORE32Z's keystream (mode 0: to KS, 2: to (rdi)) that cover
 * rcx (1..2048) bytes; r10 = the bytes they hold. */
.macro OUTZ_COVER mode
    FINZ 0
    OUT8 \mode, 0
    mov $512, %r10d
.irp g, 1, 2, 3
    cmp %r10, %rcx
    jbe 9f
    FINZ \g
    OUT8 \mode, (512*\g)
    add $512, %r10d
.endr
9:
.endm

LEAF_BEGIN   /* the local subroutines below push nothing */
.balign 32
.Lcore8:
    CORE8
    ret

.balign 32
.Lcore4:
    CORE4
    ret

/* AVX-512 entry only. */
.balign 32
.Lcore32z:
    CORE32Z
    ret

.balign 32
.Lcore1:
    CORE1
    ret

/*
 * Keystream for a stretch of rcx stream bytes (1..512) into KS with the
 * smallest kernel that covers it; r10 = the bytes made (64, 256 or 512).
 */
.balign 32
.Lstretch_ks:
    cmp $256, %rcx
    ja 8f
    cmp $64, %rcx
    ja 4f
    call .Lcore1
    mov $64, %r10d
    ret
4:
    call .Lcore4
    mov $256, %r10d
    ret
8:
    call .Lcore8
    OUT8 0
    mov $512, %r10d
    ret

/* .Lstretch_ks for 1..2048 bytes: above 512, one CORE32Z run, of which
 * the 512-byte groups that cover the stretch go out (r10 = their bytes). */
.balign 32
.Lstretch_ks32:
    cmp $512, %rcx
    jbe .Lstretch_ks
    call .Lcore32z
    OUTZ_COVER 0
    ret

/* dst[i] = src[i] ^ ks[i] for rcx bytes: rdi, rsi, rax advance, rdx drops
 * by rcx; rcx ends at 0. Clobbers r10, ymm0. */
.balign 32
.Lxor_ks:
    sub %rcx, %rdx
1:
    cmp $32, %rcx
    jb 2f
    vmovdqu (%rsi), %ymm0
    vpxor (%rax), %ymm0, %ymm0
    vmovdqu %ymm0, (%rdi)
    add $32, %rsi
    add $32, %rdi
    add $32, %rax
    sub $32, %rcx
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
    jmp 2b
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

LEAF_END

/* The entry's body: narrow (AVX2, 512-byte runs) or wide (AVX-512,
 * CORE32Z for 2048 bytes at a time). */
.macro XOR_BODY wide
.if \wide
    .set STRIDE, 2048
    .set FRAME_SIZE, WIDE_FRAME_END
.else
    .set STRIDE, 512
    .set FRAME_SIZE, FRAME_END
.endif
    FRAME_ENTER FRAME_SIZE
    STATE_INIT %rcx, %r8

    test %r9, %r9
    jz 5f
    /* The key block and the first data: a stretch of len + 64 bytes. */
    lea 64(%rdx), %rcx
    cmp $STRIDE, %rcx
    jbe 1f
    mov $STRIDE, %ecx
1:
.if \wide
    call .Lstretch_ks32
.else
    call .Lstretch_ks
.endif
    vmovdqa KS(FP), %ymm0
    vmovdqu %ymm0, (%r9)
    lea -64(%r10), %rcx
    cmp %rdx, %rcx
    cmova %rdx, %rcx
    lea KS + 64(FP), %rax
    call .Lxor_ks

.balign 16
5:
    cmp $STRIDE, %rdx
    jb 6f
.if \wide
    call .Lcore32z
    OUT32 1
.else
    call .Lcore8
    OUT8 1
.endif
    add $STRIDE, %rsi
    add $STRIDE, %rdi
    sub $STRIDE, %rdx
    jmp 5b

6:
    test %rdx, %rdx
    jz 7f
    mov %rdx, %rcx
.if \wide
    call .Lstretch_ks32
.else
    call .Lstretch_ks
.endif
    mov %rdx, %rcx
    lea KS(FP), %rax
    call .Lxor_ks

7:
    FRAME_LEAVE FRAME_SIZE, \wide
.endm

.balign 32
FUNC_BEGIN(chacha20_avx2_xor)
    UNWIND_BEGIN(chacha20_avx2_xor)
    XOR_BODY 0
    UNWIND_END
FUNC_END(chacha20_avx2_xor)

/* The same with 32-block runs: AVX-512F. */
.balign 32
FUNC_BEGIN(chacha20_avx512_xor)
    UNWIND_BEGIN(chacha20_avx512_xor)
    XOR_BODY 1
    UNWIND_END
FUNC_END(chacha20_avx512_xor)

/*
 *   void chacha20_avx512_keystream(uint8_t out[2048], size_t len,
 *                                  const uint8_t key[32],
 *                                  const uint8_t iv[16]);
 *
 * One CORE32Z run from the counter in iv: the 512-byte groups of keystream
 * that cover len (1..2048) bytes go straight to out, which has room for
 * 2048. For open, which needs the key block and the keystream before it
 * may decrypt: no stop in the frame, no XOR with zeros. AVX-512F.
 */
.balign 32
FUNC_BEGIN(chacha20_avx512_keystream)
    UNWIND_BEGIN(chacha20_avx512_keystream)
    FRAME_ENTER WIDE_FRAME_END
    STATE_INIT %rdx, %rcx
    mov %rsi, %rcx
    call .Lcore32z
    OUTZ_COVER 2

    FRAME_LEAVE WIDE_FRAME_END, 1
    UNWIND_END
FUNC_END(chacha20_avx512_keystream)

/*
 *   void chacha20_avx512_blocks32(uint8_t out[2048], const uint32_t in[16][32]);
 *
 * The multi-buffer kernel with 32 lanes (AVX-512F): CORE32Z's rounds with
 * the state loaded instead of broadcast, lane j's word i at in[i][j], its
 * keystream block at out + 64 j.
 */
.balign 32
FUNC_BEGIN(chacha20_avx512_blocks32)
    UNWIND_BEGIN(chacha20_avx512_blocks32)
    FRAME_ENTER WIDE_FRAME_END
    vmovdqu64 0(%rsi), %zmm0
    vmovdqu64 64(%rsi), %zmm16
    vmovdqu64 128(%rsi), %zmm1
    vmovdqu64 192(%rsi), %zmm17
    vmovdqu64 256(%rsi), %zmm2
    vmovdqu64 320(%rsi), %zmm18
    vmovdqu64 384(%rsi), %zmm3
    vmovdqu64 448(%rsi), %zmm19
    vmovdqu64 512(%rsi), %zmm4
    vmovdqu64 576(%rsi), %zmm20
    vmovdqu64 640(%rsi), %zmm5
    vmovdqu64 704(%rsi), %zmm21
    vmovdqu64 768(%rsi), %zmm6
    vmovdqu64 832(%rsi), %zmm22
    vmovdqu64 896(%rsi), %zmm7
    vmovdqu64 960(%rsi), %zmm23
    vmovdqu64 1024(%rsi), %zmm8
    vmovdqu64 1088(%rsi), %zmm24
    vmovdqu64 1152(%rsi), %zmm9
    vmovdqu64 1216(%rsi), %zmm25
    vmovdqu64 1280(%rsi), %zmm10
    vmovdqu64 1344(%rsi), %zmm26
    vmovdqu64 1408(%rsi), %zmm11
    vmovdqu64 1472(%rsi), %zmm27
    vmovdqu64 1536(%rsi), %zmm12
    vmovdqu64 1600(%rsi), %zmm28
    vmovdqu64 1664(%rsi), %zmm13
    vmovdqu64 1728(%rsi), %zmm29
    vmovdqu64 1792(%rsi), %zmm14
    vmovdqu64 1856(%rsi), %zmm30
    vmovdqu64 1920(%rsi), %zmm15
    vmovdqu64 1984(%rsi), %zmm31
    mov $10, %eax
.balign 16
1:
    ZDROUND
    dec %eax
    jnz 1b
    vpaddd 0(%rsi), %zmm0, %zmm0
    vpaddd 64(%rsi), %zmm16, %zmm16
    vpaddd 128(%rsi), %zmm1, %zmm1
    vpaddd 192(%rsi), %zmm17, %zmm17
    vpaddd 256(%rsi), %zmm2, %zmm2
    vpaddd 320(%rsi), %zmm18, %zmm18
    vpaddd 384(%rsi), %zmm3, %zmm3
    vpaddd 448(%rsi), %zmm19, %zmm19
    vpaddd 512(%rsi), %zmm4, %zmm4
    vpaddd 576(%rsi), %zmm20, %zmm20
    vpaddd 640(%rsi), %zmm5, %zmm5
    vpaddd 704(%rsi), %zmm21, %zmm21
    vpaddd 768(%rsi), %zmm6, %zmm6
    vpaddd 832(%rsi), %zmm22, %zmm22
    vpaddd 896(%rsi), %zmm7, %zmm7
    vpaddd 960(%rsi), %zmm23, %zmm23
    vpaddd 1024(%rsi), %zmm8, %zmm8
    vpaddd 1088(%rsi), %zmm24, %zmm24
    vpaddd 1152(%rsi), %zmm9, %zmm9
    vpaddd 1216(%rsi), %zmm25, %zmm25
    vpaddd 1280(%rsi), %zmm10, %zmm10
    vpaddd 1344(%rsi), %zmm26, %zmm26
    vpaddd 1408(%rsi), %zmm11, %zmm11
    vpaddd 1472(%rsi), %zmm27, %zmm27
    vpaddd 1536(%rsi), %zmm12, %zmm12
    vpaddd 1600(%rsi), %zmm28, %zmm28
    vpaddd 1664(%rsi), %zmm13, %zmm13
    vpaddd 1728(%rsi), %zmm29, %zmm29
    vpaddd 1792(%rsi), %zmm14, %zmm14
    vpaddd 1856(%rsi), %zmm30, %zmm30
    vpaddd 1920(%rsi), %zmm15, %zmm15
    vpaddd 1984(%rsi), %zmm31, %zmm31
    STOREZ
.irp g, 0, 1, 2, 3
    LOADZ \g
    OUT8 2, (512*\g)
.endr
    FRAME_LEAVE WIDE_FRAME_END, 1
    UNWIND_END
FUNC_END(chacha20_avx512_blocks32)

/*
 *   void chacha20_avx2_blocks8(uint8_t out[512], const uint32_t in[16][8]);
 *
 * The multi-buffer kernel: eight independent blocks, lane j's input state
 * word i at in[i][j] (any keys, nonces and counters, one packet per lane if
 * the caller likes), their keystream blocks at out + 64 j. The 8-block
 * kernel's rounds with the state loaded instead of broadcast.
 */
#define MB_FRAME_END 128            /* C8..C11 */
.balign 32
FUNC_BEGIN(chacha20_avx2_blocks8)
    UNWIND_BEGIN(chacha20_avx2_blocks8)
    FRAME_ENTER MB_FRAME_END
    vmovdqu 0(%rsi), %ymm0
    vmovdqu 32(%rsi), %ymm1
    vmovdqu 64(%rsi), %ymm2
    vmovdqu 96(%rsi), %ymm3
    vmovdqu 128(%rsi), %ymm4
    vmovdqu 160(%rsi), %ymm5
    vmovdqu 192(%rsi), %ymm6
    vmovdqu 224(%rsi), %ymm7
    vmovdqu 256(%rsi), %ymm8
    vmovdqu 288(%rsi), %ymm9
    vmovdqu 320(%rsi), %ymm10
    vmovdqu 352(%rsi), %ymm11
    vmovdqu 384(%rsi), %ymm12
    vmovdqu 416(%rsi), %ymm13
    vmovdqu 448(%rsi), %ymm14
    vmovdqu 480(%rsi), %ymm15
    vmovdqa %ymm10, C10(FP)
    vmovdqa %ymm11, C11(FP)
    ROUNDS8
    vpaddd 0(%rsi), %ymm0, %ymm0
    vpaddd 32(%rsi), %ymm1, %ymm1
    vpaddd 64(%rsi), %ymm2, %ymm2
    vpaddd 96(%rsi), %ymm3, %ymm3
    vpaddd 128(%rsi), %ymm4, %ymm4
    vpaddd 160(%rsi), %ymm5, %ymm5
    vpaddd 192(%rsi), %ymm6, %ymm6
    vpaddd 224(%rsi), %ymm7, %ymm7
    vpaddd 256(%rsi), %ymm8, %ymm8
    vpaddd 288(%rsi), %ymm9, %ymm9
    vmovdqu 320(%rsi), %ymm10
    vmovdqu 352(%rsi), %ymm11
    vpaddd C10(FP), %ymm10, %ymm10
    vpaddd C11(FP), %ymm11, %ymm11
    vmovdqa %ymm10, C10(FP)
    vmovdqa %ymm11, C11(FP)
    vpaddd 384(%rsi), %ymm12, %ymm12
    vpaddd 416(%rsi), %ymm13, %ymm13
    vpaddd 448(%rsi), %ymm14, %ymm14
    vpaddd 480(%rsi), %ymm15, %ymm15
    OUT8 2
    FRAME_LEAVE MB_FRAME_END
    UNWIND_END
FUNC_END(chacha20_avx2_blocks8)

NOEXEC_STACK
