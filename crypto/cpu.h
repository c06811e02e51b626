/* SPDX-License-Identifier: MIT */
/*
 * cpu.h - CPU features that decide which crypto implementation runs.
 * x86-64: CPUID leaves 1 and 7, and XCR0 (XGETBV) so a feature counts only
 * if the OS saves its register state. aarch64: AT_HWCAP. Detected once.
 */
#ifndef WB_CRYPTO_CPU_H
#define WB_CRYPTO_CPU_H

#include <stdbool.h>

struct cpu_features {
    bool ssse3;
    bool avx;        /* CPUID.AVX and OS saves XMM+YMM (XCR0 bits 1,2) */
    bool avx2;
    bool bmi2;
    bool adx;
    bool avx512f;    /* and XCR0 opmask/ZMM bits 5,6,7 */
    bool avx512vl;
    bool avx512ifma; /* VPMADD52LUQ/HUQ */
    bool neon;       /* aarch64 ASIMD */
};

/* Thread-safe after the first call; the first call happens in wb_init(). */
const struct cpu_features *cpu_features_get(void);

#endif
