/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shim: refcount_t. The kernel saturates and warns on an increment from zero
 * and on an underflow (a use after free); the shim ends the program there.
 * The decrement that reaches zero orders everything before the other
 * decrements before what follows it (release, then acquire), as the
 * kernel's does.
 */
#ifndef SHIM_REFCOUNT_H
#define SHIM_REFCOUNT_H
#include "kernel-shim.h"

typedef struct {
	int refs;
} refcount_t;

#define REFCOUNT_INIT(n) { .refs = (n) }

static inline void refcount_set(refcount_t *r, int n)
{
	__atomic_store_n(&r->refs, n, __ATOMIC_RELAXED);
}

static inline unsigned int refcount_read(const refcount_t *r)
{
	return (unsigned int)__atomic_load_n(&r->refs, __ATOMIC_RELAXED);
}

static inline void refcount_inc(refcount_t *r)
{
	int old = __atomic_fetch_add(&r->refs, 1, __ATOMIC_RELAXED);

	if (old <= 0)
		shim_bug("refcount_t: addition on %d; use-after-free", old);
}

static inline bool refcount_dec_and_test(refcount_t *r)
{
	int old = __atomic_fetch_sub(&r->refs, 1, __ATOMIC_ACQ_REL);

	if (old <= 0)
		shim_bug("refcount_t: underflow (%d); use-after-free", old);
	return old == 1;
}
#endif
