/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shim: percpu_ref with the kernel's semantics in one atomic counter. As in
 * the kernel, percpu_ref_kill() makes tryget_live() fail at once but drops
 * the initial reference only after an RCU grace period (the kernel's
 * switch to atomic mode waits for one), so the release callback never runs
 * while a reader that found the object under RCU may still try to get it.
 * The last put calls the release callback inside an RCU read-side critical
 * section, as percpu_ref_put_many() does: atomic context, and a grace period
 * started elsewhere waits for it.
 */
#ifndef SHIM_PERCPU_REFCOUNT_H
#define SHIM_PERCPU_REFCOUNT_H
#include "kernel-shim.h"
#include "rcu-core.h"

struct percpu_ref;
typedef void (percpu_ref_func_t)(struct percpu_ref *);

#define SHIM_REF_DEAD	(1L << 48)
#define SHIM_REF_EXITED	(-1L)

struct percpu_ref {
	long count;
	percpu_ref_func_t *release;
	struct rcu_head rcu;
};

static inline int percpu_ref_init(struct percpu_ref *ref,
				  percpu_ref_func_t *release,
				  unsigned int flags, gfp_t gfp)
{
	void *percpu = shim_alloc(1, gfp);	/* the kernel's percpu counter */

	(void)flags;
	if (!percpu)
		return -ENOMEM;
	free(percpu);
	ref->release = release;
	__atomic_store_n(&ref->count, 1, __ATOMIC_RELEASE);
	return 0;
}

static inline void percpu_ref_put(struct percpu_ref *ref)
{
	long c;

	rcu_read_lock();
	c = __atomic_sub_fetch(&ref->count, 1, __ATOMIC_ACQ_REL);
	if (c == SHIM_REF_DEAD)
		ref->release(ref);
	else if ((c & ~SHIM_REF_DEAD) < 0 || c == 0)
		shim_bug("percpu_ref_put: count %ld", c);
	rcu_read_unlock();
}

static inline bool percpu_ref_tryget_live(struct percpu_ref *ref)
{
	long c = __atomic_load_n(&ref->count, __ATOMIC_ACQUIRE);

	do {
		if (c == SHIM_REF_EXITED)
			shim_bug("percpu_ref_tryget_live after exit");
		if (c & SHIM_REF_DEAD)
			return false;
	} while (!__atomic_compare_exchange_n(&ref->count, &c, c + 1, false,
					      __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return true;
}

static inline void shim_ref_confirm_kill(struct rcu_head *head)
{
	shim_rcu_callback_start(head);
	percpu_ref_put(container_of(head, struct percpu_ref, rcu));
	shim_rcu_callback_end();
}

static inline void percpu_ref_kill(struct percpu_ref *ref)
{
	long c = __atomic_fetch_or(&ref->count, SHIM_REF_DEAD,
				   __ATOMIC_ACQ_REL);

	if (c & SHIM_REF_DEAD)
		shim_bug("percpu_ref_kill called more than once");
	shim_call_rcu(&ref->rcu, shim_ref_confirm_kill);
}

/* never used (1) or killed and drained (DEAD): nothing may touch it after */
static inline void percpu_ref_exit(struct percpu_ref *ref)
{
	long c = __atomic_load_n(&ref->count, __ATOMIC_ACQUIRE);

	if (c != 1 && c != SHIM_REF_DEAD)
		shim_bug("percpu_ref_exit with count %#lx", c);
	__atomic_store_n(&ref->count, SHIM_REF_EXITED, __ATOMIC_RELEASE);
}

/* for the tests: killed (the initial reference may not be dropped yet) */
static inline bool shim_ref_dead(struct percpu_ref *ref)
{
	long c = __atomic_load_n(&ref->count, __ATOMIC_ACQUIRE);

	return c != SHIM_REF_EXITED && (c & SHIM_REF_DEAD);
}

/* for the tests: references held, not counting the initial one */
static inline long shim_ref_users(struct percpu_ref *ref)
{
	long c = __atomic_load_n(&ref->count, __ATOMIC_ACQUIRE);

	if (c == SHIM_REF_EXITED)
		return 0;
	return c & SHIM_REF_DEAD ? c & ~SHIM_REF_DEAD : c - 1;
}
#endif
