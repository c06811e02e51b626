/* SPDX-License-Identifier: MIT */
/*
 * ct.h - marks a value derived from secrets as public from here on, for the
 * memcheck constant-time test (tests/ct): under valgrind the test marks keys
 * and plaintext undefined, and memcheck reports every branch or address that
 * depends on them. The one legitimate such branch in the AEADs is on open's
 * verdict -- the packet is accepted or dropped, which the sender sees
 * anyway -- so each open declassifies its verdict with ct_public() right
 * where it is computed. Every other use of a secret stays checked, however
 * the compiler inlines (a suppression file keyed on function names would
 * depend on debug information).
 *
 * Built with WB_CT_VALGRIND (CMake option of the same name) it is
 * valgrind's client request, a few instructions that do nothing outside
 * valgrind; otherwise it compiles to nothing.
 */
#ifndef WB_CRYPTO_CT_H
#define WB_CRYPTO_CT_H

#if defined(WB_CT_VALGRIND)
#include <valgrind/memcheck.h>
#define ct_public(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#else
#define ct_public(p, n) ((void)(p), (void)(n))
#endif

#endif
