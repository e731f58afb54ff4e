/* SPDX-License-Identifier: GPL-2.0 */
/* shim: the type and a put that the tag core's users call */
#ifndef SHIM_PERCPU_REFCOUNT_H
#define SHIM_PERCPU_REFCOUNT_H
struct percpu_ref {
	unsigned long count;
};

static inline void percpu_ref_put(struct percpu_ref *ref)
{
	ref->count--;
}
#endif
