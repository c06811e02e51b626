/* SPDX-License-Identifier: MIT */
/*
 * poly1305_neon.S - Poly1305 (RFC 8439 §2.5) over whole 16-byte blocks,
 * four blocks per step, for aarch64 Advanced SIMD.
 *
 *   void poly1305_neon_blocks4(uint32_t h[5], const uint8_t *m, size_t groups,
 *                              const uint32_t *tab);   // tab[18][4]
 *
 * Processes groups * 64 bytes (groups >= 1), every block with the 2^128 bit
 * set: on return h = (...((h + m_1) r + m_2) r ... + m_n) r mod p, partially
 * reduced. h is in five 26-bit limbs (on entry below 2^26, limb 4 below
 * 2^27; on return each below 2^28 + 2^8); the caller converts to and from
 * its own radix.
 *
 * Lane j of every vector accumulates blocks 4k + j + 1. Each step adds the
 * next four blocks and multiplies every lane by r^4; the last step
 * multiplies lane j by r^(4-j) instead, so that the sum of the lanes is the
 * Horner value. tab[0..8] hold r^4 (limbs r0..r4, then s1..s4 = 5 r1..5 r4)
 * in all four lanes, tab[9..17] the same limbs of r^4, r^3, r^2, r, one
 * power per lane. The initial h enters lane 0.
 *
 * Products are 32x32->64 (UMULL/UMLAL on lanes 0-1, UMULL2/UMLAL2 on lanes
 * 2-3), then one carry pass; 2^130 = 5 (mod p) folds the top carry back
 * into limb 0. Bounds: h + m limbs stay below 2^27.01 (limb 4 below
 * 2^26.9), multiplier limbs at most 2^26 + 2^8 (so 5r < 2^28.4); each d_k
 * is below 2^57.7, d4 (no 5r terms) below 2^55.3, so the top carry c is
 * below 2^29.3 and h0 + 5c below 2^32. No branch or address depends on the key
 * or the data. Vector registers holding r powers or h are cleared before
 * returning; d8-d15 are saved and restored (AAPCS64).
 */
#if defined(__aarch64__) && defined(__AARCH64EL__) && defined(__ELF__)

	.text
	.arch	armv8-a

/*
 * Registers:
 *   v0-v5    scratch (message words, carries)
 *   v6-v10   h0..h4, one accumulator per lane (.4s)
 *   v11-v15  r0..r4 of the multiplier, v16-v19 s1..s4
 *   v20-v24  d0..d4 for lanes 0-1 (.2d), v25-v29 d0..d4 for lanes 2-3
 *   v30      0x03ffffff in every lane, v31 1 << 24 (2^128 in limb 4)
 */

/* h += the next four message blocks (x1), split into 26-bit limbs. */
.macro	ADD_BLOCKS
	ld4	{v0.4s, v1.4s, v2.4s, v3.4s}, [x1], #64	/* v<i> = word i of each block */
	and	v4.16b, v0.16b, v30.16b
	add	v6.4s, v6.4s, v4.4s
	ushr	v4.4s, v0.4s, #26
	sli	v4.4s, v1.4s, #6
	and	v4.16b, v4.16b, v30.16b
	add	v7.4s, v7.4s, v4.4s
	ushr	v4.4s, v1.4s, #20
	sli	v4.4s, v2.4s, #12
	and	v4.16b, v4.16b, v30.16b
	add	v8.4s, v8.4s, v4.4s
	ushr	v4.4s, v2.4s, #14
	sli	v4.4s, v3.4s, #18
	and	v4.16b, v4.16b, v30.16b
	add	v9.4s, v9.4s, v4.4s
	ushr	v4.4s, v3.4s, #8
	orr	v4.16b, v4.16b, v31.16b
	add	v10.4s, v10.4s, v4.4s
.endm

/* d<k> = sum of h_i * (r or s)_j over i + j = k (mod 5), for the lanes that
 * MUL (umull/umlal on .2s) or MUL2 (umull2/umlal2 on .4s) selects. */
.macro	PRODUCTS op, opa, sz, d0, d1, d2, d3, d4
	\op	v\d0\().2d, v6.\sz, v11.\sz
	\opa	v\d0\().2d, v7.\sz, v19.\sz
	\opa	v\d0\().2d, v8.\sz, v18.\sz
	\opa	v\d0\().2d, v9.\sz, v17.\sz
	\opa	v\d0\().2d, v10.\sz, v16.\sz
	\op	v\d1\().2d, v6.\sz, v12.\sz
	\opa	v\d1\().2d, v7.\sz, v11.\sz
	\opa	v\d1\().2d, v8.\sz, v19.\sz
	\opa	v\d1\().2d, v9.\sz, v18.\sz
	\opa	v\d1\().2d, v10.\sz, v17.\sz
	\op	v\d2\().2d, v6.\sz, v13.\sz
	\opa	v\d2\().2d, v7.\sz, v12.\sz
	\opa	v\d2\().2d, v8.\sz, v11.\sz
	\opa	v\d2\().2d, v9.\sz, v19.\sz
	\opa	v\d2\().2d, v10.\sz, v18.\sz
	\op	v\d3\().2d, v6.\sz, v14.\sz
	\opa	v\d3\().2d, v7.\sz, v13.\sz
	\opa	v\d3\().2d, v8.\sz, v12.\sz
	\opa	v\d3\().2d, v9.\sz, v11.\sz
	\opa	v\d3\().2d, v10.\sz, v19.\sz
	\op	v\d4\().2d, v6.\sz, v15.\sz
	\opa	v\d4\().2d, v7.\sz, v14.\sz
	\opa	v\d4\().2d, v8.\sz, v13.\sz
	\opa	v\d4\().2d, v9.\sz, v12.\sz
	\opa	v\d4\().2d, v10.\sz, v11.\sz
.endm

/* Carry d0 -> d1 -> ... -> d4 in 64-bit lanes; v<c> = d4 >> 26. */
.macro	CARRY64	d0, d1, d2, d3, d4, t, c
	ushr	v\t\().2d, v\d0\().2d, #26
	add	v\d1\().2d, v\d1\().2d, v\t\().2d
	ushr	v\t\().2d, v\d1\().2d, #26
	add	v\d2\().2d, v\d2\().2d, v\t\().2d
	ushr	v\t\().2d, v\d2\().2d, #26
	add	v\d3\().2d, v\d3\().2d, v\t\().2d
	ushr	v\t\().2d, v\d3\().2d, #26
	add	v\d4\().2d, v\d4\().2d, v\t\().2d
	ushr	v\c\().2d, v\d4\().2d, #26
.endm

/* h = h * (v11..v19) mod p, partially reduced: limbs below 2^26 except h1,
 * below 2^26 + 2^6. The top carry and h0 + 5c fit 32 bits (bounds at the
 * top of the file), so the fold runs in 32-bit lanes after narrowing. */
.macro	MULTIPLY
	PRODUCTS umull, umlal, 2s, 20, 21, 22, 23, 24
	PRODUCTS umull2, umlal2, 4s, 25, 26, 27, 28, 29
	CARRY64	20, 21, 22, 23, 24, 0, 1
	CARRY64	25, 26, 27, 28, 29, 2, 3
	xtn	v6.2s, v20.2d
	xtn2	v6.4s, v25.2d
	xtn	v7.2s, v21.2d
	xtn2	v7.4s, v26.2d
	xtn	v8.2s, v22.2d
	xtn2	v8.4s, v27.2d
	xtn	v9.2s, v23.2d
	xtn2	v9.4s, v28.2d
	xtn	v10.2s, v24.2d
	xtn2	v10.4s, v29.2d
	xtn	v4.2s, v1.2d
	xtn2	v4.4s, v3.2d
	and	v6.16b, v6.16b, v30.16b
	and	v7.16b, v7.16b, v30.16b
	and	v8.16b, v8.16b, v30.16b
	and	v9.16b, v9.16b, v30.16b
	and	v10.16b, v10.16b, v30.16b
	shl	v5.4s, v4.4s, #2
	add	v4.4s, v4.4s, v5.4s
	add	v6.4s, v6.4s, v4.4s
	ushr	v5.4s, v6.4s, #26
	add	v7.4s, v7.4s, v5.4s
	and	v6.16b, v6.16b, v30.16b
.endm

/* v11..v19 = nine multiplier vectors from [x3], x3 advanced past them. */
.macro	LOAD_R
	ld1	{v11.4s, v12.4s, v13.4s, v14.4s}, [x3], #64
	ld1	{v15.4s, v16.4s, v17.4s, v18.4s}, [x3], #64
	ld1	{v19.4s}, [x3], #16
.endm

	.p2align 4
	.globl	poly1305_neon_blocks4
	.hidden	poly1305_neon_blocks4
	.type	poly1305_neon_blocks4, %function
poly1305_neon_blocks4:
	cbz	x2, .Lreturn
	stp	d8, d9, [sp, #-64]!
	stp	d10, d11, [sp, #16]
	stp	d12, d13, [sp, #32]
	stp	d14, d15, [sp, #48]
	mvni	v30.4s, #0xfc, lsl #24		/* 0x03ffffff */
	movi	v31.4s, #1, lsl #24
	movi	v6.16b, #0
	movi	v7.16b, #0
	movi	v8.16b, #0
	movi	v9.16b, #0
	movi	v10.16b, #0
	ldp	w4, w5, [x0]
	ldp	w6, w7, [x0, #8]
	ldr	w8, [x0, #16]
	mov	v6.s[0], w4
	mov	v7.s[0], w5
	mov	v8.s[0], w6
	mov	v9.s[0], w7
	mov	v10.s[0], w8
	LOAD_R					/* r^4 in every lane */
	subs	x2, x2, #1
	b.eq	.Llast
.Lloop:
	ADD_BLOCKS
	MULTIPLY
	subs	x2, x2, #1
	b.ne	.Lloop
.Llast:
	LOAD_R					/* r^4, r^3, r^2, r by lane */
	ADD_BLOCKS
	MULTIPLY
	addv	s0, v6.4s			/* sum of the lanes: below 2^28 */
	addv	s1, v7.4s
	addv	s2, v8.4s
	addv	s3, v9.4s
	addv	s4, v10.4s
	stp	s0, s1, [x0]
	stp	s2, s3, [x0, #8]
	str	s4, [x0, #16]

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
	movi	v20.16b, #0
	movi	v21.16b, #0
	movi	v22.16b, #0
	movi	v23.16b, #0
	movi	v24.16b, #0
	movi	v25.16b, #0
	movi	v26.16b, #0
	movi	v27.16b, #0
	movi	v28.16b, #0
	movi	v29.16b, #0
	mov	w4, wzr
	mov	w5, wzr
	mov	w6, wzr
	mov	w7, wzr
	mov	w8, wzr
	ldp	d10, d11, [sp, #16]
	ldp	d12, d13, [sp, #32]
	ldp	d14, d15, [sp, #48]
	ldp	d8, d9, [sp], #64
.Lreturn:
	ret
	.size	poly1305_neon_blocks4, . - poly1305_neon_blocks4

#endif

#if defined(__ELF__)
	.section .note.GNU-stack, "", %progbits
#endif
