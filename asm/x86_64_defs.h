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

/*
 * Unwind information, so debuggers, profilers and exception dispatch can
 * walk through the kernels: CFI on ELF, SEH (.pdata/.xdata) on PE-COFF.
 * Between UNWIND_BEGIN and UNWIND_END_PROLOGUE a function may only push
 * registers (UNWIND_PUSH after each), make the frame register a copy of
 * rsp right after its pushes (UNWIND_FRAME), and allocate a fixed size
 * (UNWIND_ALLOC); rsp may change in the body only if a frame register was
 * set. The epilogue says what it undoes, so a profiler's sample there
 * unwinds right too: UNWIND_FREE(n), UNWIND_POP(reg) after each pop, and
 * UNWIND_POP_FRAME after the last pop when that pops the frame register.
 * Local subroutines that push nothing sit between LEAF_BEGIN and LEAF_END
 * (CFI only: SEH treats a function without an entry as a leaf).
 */
#ifdef __ELF__
#define UNWIND_BEGIN(name) .cfi_startproc
#define UNWIND_PUSH(reg)                                                                           \
    .cfi_adjust_cfa_offset 8;                                                                      \
    .cfi_rel_offset reg, 0
#define UNWIND_FRAME(reg) .cfi_def_cfa_register reg
#define UNWIND_ALLOC(n) .cfi_adjust_cfa_offset n
#define UNWIND_END_PROLOGUE
#define UNWIND_FREE(n) .cfi_adjust_cfa_offset -(n)
#define UNWIND_POP(reg)                                                                            \
    .cfi_adjust_cfa_offset -8;                                                                     \
    .cfi_restore reg
#define UNWIND_POP_FRAME(reg)                                                                      \
    .cfi_def_cfa %rsp, 8;                                                                          \
    .cfi_restore reg
#define UNWIND_END .cfi_endproc
#define LEAF_BEGIN .cfi_startproc
#define LEAF_END .cfi_endproc
#else
#define UNWIND_BEGIN(name) .seh_proc name
#define UNWIND_PUSH(reg) .seh_pushreg reg
#define UNWIND_FRAME(reg) .seh_setframe reg, 0
#define UNWIND_ALLOC(n) .seh_stackalloc n
#define UNWIND_END_PROLOGUE .seh_endprologue
#define UNWIND_FREE(n)
#define UNWIND_POP(reg)
#define UNWIND_POP_FRAME(reg)
#define UNWIND_END .seh_endproc
#define LEAF_BEGIN
#define LEAF_END
#endif

/* The System V callee-saved registers but rsp, saved and restored with
 * their unwind records (a kernel that needs them all). */
#define PUSH_CALLEE_SAVED                                                                          \
    push %rbx;                                                                                     \
    UNWIND_PUSH(%rbx);                                                                             \
    push %rbp;                                                                                     \
    UNWIND_PUSH(%rbp);                                                                             \
    push %r12;                                                                                     \
    UNWIND_PUSH(%r12);                                                                             \
    push %r13;                                                                                     \
    UNWIND_PUSH(%r13);                                                                             \
    push %r14;                                                                                     \
    UNWIND_PUSH(%r14);                                                                             \
    push %r15;                                                                                     \
    UNWIND_PUSH(%r15)
#define POP_CALLEE_SAVED                                                                           \
    pop %r15;                                                                                      \
    UNWIND_POP(%r15);                                                                              \
    pop %r14;                                                                                      \
    UNWIND_POP(%r14);                                                                              \
    pop %r13;                                                                                      \
    UNWIND_POP(%r13);                                                                              \
    pop %r12;                                                                                      \
    UNWIND_POP(%r12);                                                                              \
    pop %rbp;                                                                                      \
    UNWIND_POP(%rbp);                                                                              \
    pop %rbx;                                                                                      \
    UNWIND_POP(%rbx)

#endif
