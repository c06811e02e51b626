/* SPDX-License-Identifier: MIT */
/*
 * x86_64_defs.h - what every kernel in asm/ needs to assemble both as ELF
 * (Linux) and as PE-COFF (mingw-w64): function begin/end markers, the
 * read-only data section, and the non-executable-stack note.
 *
 * The kernels use the System V calling convention everywhere; on Windows
 * the C side declares them __attribute__((sysv_abi)) (see
 * crypto/aead_x86_64.c), so one source serves both. x86-64 mingw symbols
 * carry no leading underscore, the same names work on both.
 */
#ifndef WB_ASM_X86_64_DEFS_H
#define WB_ASM_X86_64_DEFS_H

#ifdef __ELF__
#define FUNC_BEGIN(name)                                                                           \
    .globl name;                                                                                   \
    .hidden name;                                                                                  \
    .type name, @function;                                                                         \
    name:
#define FUNC_END(name) .size name, .- name
#define RODATA .section .rodata
#define NOEXEC_STACK .section .note.GNU-stack, "", @progbits
#else
#define FUNC_BEGIN(name)                                                                           \
    .globl name;                                                                                   \
    .def name;                                                                                     \
    .scl 2;                                                                                        \
    .type 32;                                                                                      \
    .endef;                                                                                        \
    name:
#define FUNC_END(name)
#define RODATA .section .rdata, "dr"
#define NOEXEC_STACK
#endif

#endif
