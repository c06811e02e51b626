/* SPDX-License-Identifier: MIT */
/*
 * chacha20_neon.S - ChaCha20 keystream XOR (RFC 8439 §2.3-2.4) for aarch64
 * Advanced SIMD: four blocks at a time while 256 bytes remain, then one
 * block at a time, then the partial last block through a stack buffer.
 *
 *   void chacha20_neon_xor(uint8_t *dst, const uint8_t *src, size_t len,
 *                          const uint32_t state[16]);
 *
 * state is the RFC 8439 input block (constants, key, 32-bit block counter,
 * nonce) as host-order words; it is only read, the counter advances in a
 * register and wraps modulo 2^32 like the portable code. dst may equal src.
 *
 * Four-block layout: v0..v15 hold state word i of blocks n..n+3 (one block
 * per lane), so a double round is 8 quarter-rounds on whole vectors; a 4x4
 * transpose per group of four words brings the output back to block order.
 * One-block layout: v0..v3 hold the rows; the diagonal round rotates rows
 * 1..3 with EXT. Rotations: 16 by REV32 on halfwords, 8 by TBL, 12 and 7
 * by SHL + SRI. No branch or address depends on the key or the data; only
 * len decides the path. The keystream is wiped from the vector registers
 * and the stack before returning; d8-d15 are saved and restored (AAPCS64).
 */
#if defined(__aarch64__) && defined(__AARCH64EL__) && defined(__ELF__)

	.text
	.arch	armv8-a

	.section .rodata
	.p2align 4
.Lrot8_idx:			/* TBL indexes: rotate each 32-bit lane left by 8 */
	.byte	3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14
.Llane_ctr:			/* block counter offsets of the four lanes */
	.word	0, 1, 2, 3
	.text

/* b = rotl32(t, n) with t as scratch input: b = t << n | t >> (32 - n). */
.macro	ROTL	b, t, n
	shl	v\b\().4s, v\t\().4s, #\n
	sri	v\b\().4s, v\t\().4s, #(32 - \n)
.endm

/* Four independent quarter-rounds (a_i, b_i, c_i, d_i), i = 0..3, on
 * vertical state; v16..v19 are scratch, v20 holds the rot8 indexes. */
.macro	QR4	a0, b0, c0, d0, a1, b1, c1, d1, a2, b2, c2, d2, a3, b3, c3, d3
	add	v\a0\().4s, v\a0\().4s, v\b0\().4s
	add	v\a1\().4s, v\a1\().4s, v\b1\().4s
	add	v\a2\().4s, v\a2\().4s, v\b2\().4s
	add	v\a3\().4s, v\a3\().4s, v\b3\().4s
	eor	v\d0\().16b, v\d0\().16b, v\a0\().16b
	eor	v\d1\().16b, v\d1\().16b, v\a1\().16b
	eor	v\d2\().16b, v\d2\().16b, v\a2\().16b
	eor	v\d3\().16b, v\d3\().16b, v\a3\().16b
	rev32	v\d0\().8h, v\d0\().8h
	rev32	v\d1\().8h, v\d1\().8h
	rev32	v\d2\().8h, v\d2\().8h
	rev32	v\d3\().8h, v\d3\().8h
	add	v\c0\().4s, v\c0\().4s, v\d0\().4s
	add	v\c1\().4s, v\c1\().4s, v\d1\().4s
	add	v\c2\().4s, v\c2\().4s, v\d2\().4s
	add	v\c3\().4s, v\c3\().4s, v\d3\().4s
	eor	v16.16b, v\b0\().16b, v\c0\().16b
	eor	v17.16b, v\b1\().16b, v\c1\().16b
	eor	v18.16b, v\b2\().16b, v\c2\().16b
	eor	v19.16b, v\b3\().16b, v\c3\().16b
	ROTL	\b0, 16, 12
	ROTL	\b1, 17, 12
	ROTL	\b2, 18, 12
	ROTL	\b3, 19, 12
	add	v\a0\().4s, v\a0\().4s, v\b0\().4s
	add	v\a1\().4s, v\a1\().4s, v\b1\().4s
	add	v\a2\().4s, v\a2\().4s, v\b2\().4s
	add	v\a3\().4s, v\a3\().4s, v\b3\().4s
	eor	v\d0\().16b, v\d0\().16b, v\a0\().16b
	eor	v\d1\().16b, v\d1\().16b, v\a1\().16b
	eor	v\d2\().16b, v\d2\().16b, v\a2\().16b
	eor	v\d3\().16b, v\d3\().16b, v\a3\().16b
	tbl	v\d0\().16b, {v\d0\().16b}, v20.16b
	tbl	v\d1\().16b, {v\d1\().16b}, v20.16b
	tbl	v\d2\().16b, {v\d2\().16b}, v20.16b
	tbl	v\d3\().16b, {v\d3\().16b}, v20.16b
	add	v\c0\().4s, v\c0\().4s, v\d0\().4s
	add	v\c1\().4s, v\c1\().4s, v\d1\().4s
	add	v\c2\().4s, v\c2\().4s, v\d2\().4s
	add	v\c3\().4s, v\c3\().4s, v\d3\().4s
	eor	v16.16b, v\b0\().16b, v\c0\().16b
	eor	v17.16b, v\b1\().16b, v\c1\().16b
	eor	v18.16b, v\b2\().16b, v\c2\().16b
	eor	v19.16b, v\b3\().16b, v\c3\().16b
	ROTL	\b0, 16, 7
	ROTL	\b1, 17, 7
	ROTL	\b2, 18, 7
	ROTL	\b3, 19, 7
.endm

/* One quarter-round on the rows v0..v3 (one block); v16 is scratch. */
.macro	QR1
	add	v0.4s, v0.4s, v1.4s
	eor	v3.16b, v3.16b, v0.16b
	rev32	v3.8h, v3.8h
	add	v2.4s, v2.4s, v3.4s
	eor	v16.16b, v1.16b, v2.16b
	ROTL	1, 16, 12
	add	v0.4s, v0.4s, v1.4s
	eor	v3.16b, v3.16b, v0.16b
	tbl	v3.16b, {v3.16b}, v20.16b
	add	v2.4s, v2.4s, v3.4s
	eor	v16.16b, v1.16b, v2.16b
	ROTL	1, 16, 7
.endm

/* Feed-forward: add the four state words at [x] (each broadcast to all
 * lanes) into v<w0..w3>; x advances by 16. */
.macro	ADD_ORIG4 w0, w1, w2, w3, x
	ld4r	{v16.4s, v17.4s, v18.4s, v19.4s}, [\x], #16
	add	v\w0\().4s, v\w0\().4s, v16.4s
	add	v\w1\().4s, v\w1\().4s, v17.4s
	add	v\w2\().4s, v\w2\().4s, v18.4s
	add	v\w3\().4s, v\w3\().4s, v19.4s
.endm

/* Transpose four vertical words (one per block lane) into block order:
 * afterwards v<a> holds them for block 0, v<b> block 1, and so on. */
.macro	TRANSPOSE4 a, b, c, d
	zip1	v16.4s, v\a\().4s, v\b\().4s
	zip2	v17.4s, v\a\().4s, v\b\().4s
	zip1	v18.4s, v\c\().4s, v\d\().4s
	zip2	v19.4s, v\c\().4s, v\d\().4s
	zip1	v\a\().2d, v16.2d, v18.2d
	zip2	v\b\().2d, v16.2d, v18.2d
	zip1	v\c\().2d, v17.2d, v19.2d
	zip2	v\d\().2d, v17.2d, v19.2d
.endm

/* XOR 64 bytes of src with the keystream words v<w0..w3>, store to dst. */
.macro	XOR64	w0, w1, w2, w3
	ld1	{v16.16b, v17.16b, v18.16b, v19.16b}, [x1], #64
	eor	v16.16b, v16.16b, v\w0\().16b
	eor	v17.16b, v17.16b, v\w1\().16b
	eor	v18.16b, v18.16b, v\w2\().16b
	eor	v19.16b, v19.16b, v\w3\().16b
	st1	{v16.16b, v17.16b, v18.16b, v19.16b}, [x0], #64
.endm

/* Keystream block for counter w9 into v0..v3 (rows), originals in v4..v7. */
.macro	BLOCK1
	ld1	{v4.4s, v5.4s, v6.4s, v7.4s}, [x3]
	mov	v7.s[0], w9
	mov	v0.16b, v4.16b
	mov	v1.16b, v5.16b
	mov	v2.16b, v6.16b
	mov	v3.16b, v7.16b
	mov	w8, #10
1:	QR1
	ext	v1.16b, v1.16b, v1.16b, #4
	ext	v2.16b, v2.16b, v2.16b, #8
	ext	v3.16b, v3.16b, v3.16b, #12
	QR1
	ext	v1.16b, v1.16b, v1.16b, #12
	ext	v2.16b, v2.16b, v2.16b, #8
	ext	v3.16b, v3.16b, v3.16b, #4
	subs	w8, w8, #1
	b.ne	1b
	add	v0.4s, v0.4s, v4.4s
	add	v1.4s, v1.4s, v5.4s
	add	v2.4s, v2.4s, v6.4s
	add	v3.4s, v3.4s, v7.4s
.endm

	.p2align 4
	.globl	chacha20_neon_xor
	.hidden	chacha20_neon_xor
	.type	chacha20_neon_xor, %function
chacha20_neon_xor:
	cbz	x2, .Lreturn
	/* d8-d15 at [sp, 0..63]; the tail's keystream block at [sp, 64..127]. */
	stp	d8, d9, [sp, #-128]!
	stp	d10, d11, [sp, #16]
	stp	d12, d13, [sp, #32]
	stp	d14, d15, [sp, #48]
	ldr	w9, [x3, #48]			/* block counter */
	adrp	x10, .Lrot8_idx
	add	x10, x10, :lo12:.Lrot8_idx
	ld1	{v20.16b, v21.16b}, [x10]	/* v20 rot8 indexes, v21 lane offsets */
	cmp	x2, #256
	b.lo	.Lone

.Lfour:
	mov	x4, x3
	ld4r	{v0.4s, v1.4s, v2.4s, v3.4s}, [x4], #16
	ld4r	{v4.4s, v5.4s, v6.4s, v7.4s}, [x4], #16
	ld4r	{v8.4s, v9.4s, v10.4s, v11.4s}, [x4], #16
	ld4r	{v12.4s, v13.4s, v14.4s, v15.4s}, [x4]
	dup	v12.4s, w9
	add	v12.4s, v12.4s, v21.4s		/* counters n, n+1, n+2, n+3 */
	mov	w8, #10
2:	QR4	0, 4, 8, 12,  1, 5, 9, 13,  2, 6, 10, 14,  3, 7, 11, 15
	QR4	0, 5, 10, 15,  1, 6, 11, 12,  2, 7, 8, 13,  3, 4, 9, 14
	subs	w8, w8, #1
	b.ne	2b
	mov	x4, x3
	ADD_ORIG4 0, 1, 2, 3, x4
	ADD_ORIG4 4, 5, 6, 7, x4
	ADD_ORIG4 8, 9, 10, 11, x4
	ld4r	{v16.4s, v17.4s, v18.4s, v19.4s}, [x4]
	dup	v16.4s, w9
	add	v16.4s, v16.4s, v21.4s
	add	v12.4s, v12.4s, v16.4s
	add	v13.4s, v13.4s, v17.4s
	add	v14.4s, v14.4s, v18.4s
	add	v15.4s, v15.4s, v19.4s
	TRANSPOSE4 0, 1, 2, 3
	TRANSPOSE4 4, 5, 6, 7
	TRANSPOSE4 8, 9, 10, 11
	TRANSPOSE4 12, 13, 14, 15
	XOR64	0, 4, 8, 12
	XOR64	1, 5, 9, 13
	XOR64	2, 6, 10, 14
	XOR64	3, 7, 11, 15
	add	w9, w9, #4
	sub	x2, x2, #256
	cmp	x2, #256
	b.hs	.Lfour

.Lone:
	cmp	x2, #64
	b.lo	.Ltail
	BLOCK1
	XOR64	0, 1, 2, 3
	add	w9, w9, #1
	sub	x2, x2, #64
	b	.Lone

.Ltail:
	cbz	x2, .Ldone
	BLOCK1
	add	x10, sp, #64
	st1	{v0.16b, v1.16b, v2.16b, v3.16b}, [x10]
3:	ldrb	w11, [x1], #1
	ldrb	w12, [x10], #1
	eor	w11, w11, w12
	strb	w11, [x0], #1
	subs	x2, x2, #1
	b.ne	3b
	movi	v0.16b, #0
	add	x10, sp, #64
	st1	{v0.16b}, [x10], #16
	st1	{v0.16b}, [x10], #16
	st1	{v0.16b}, [x10], #16
	st1	{v0.16b}, [x10]
	mov	w11, wzr
	mov	w12, wzr

.Ldone:
	/* Wipe the keystream and state from the caller-saved vector registers;
	 * restoring d8-d15 clears the upper halves of v8-v15. */
	movi	v0.16b, #0
	movi	v1.16b, #0
	movi	v2.16b, #0
	movi	v3.16b, #0
	movi	v4.16b, #0
	movi	v5.16b, #0
	movi	v6.16b, #0
	movi	v7.16b, #0
	movi	v16.16b, #0
	movi	v17.16b, #0
	movi	v18.16b, #0
	movi	v19.16b, #0
	ldp	d10, d11, [sp, #16]
	ldp	d12, d13, [sp, #32]
	ldp	d14, d15, [sp, #48]
	ldp	d8, d9, [sp], #128
.Lreturn:
	ret
	.size	chacha20_neon_xor, . - chacha20_neon_xor

#endif

#if defined(__ELF__)
	.section .note.GNU-stack, "", %progbits
#endif
