/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shim: RCU from liburcu (the "memb" flavour), under the kernel's names.
 * ThreadSanitizer cannot see the ordering that liburcu's grace periods give
 * (its barriers live in an uninstrumented library), so the shim tells it:
 * every read-side critical section releases a sync object and code that runs
 * after a grace period acquires it; every callback releases another at its
 * end, which rcu_barrier() acquires.
 *
 * Read-side critical sections and callbacks are atomic context (might_sleep()
 * in kernel-shim.h). synchronize_rcu() calls are counted, in all and per
 * thread, for the tests that bound the grace periods a path waits for.
 */
#ifndef SHIM_RCU_CORE_H
#define SHIM_RCU_CORE_H
#include <urcu/urcu-memb.h>
#include "kernel-shim.h"

#undef rcu_read_lock
#undef rcu_read_unlock
#undef synchronize_rcu
#undef call_rcu
#undef rcu_barrier
#undef rcu_dereference
#undef rcu_assign_pointer
#undef rcu_register_thread
#undef rcu_unregister_thread

#ifdef __SANITIZE_THREAD__
#include <sanitizer/tsan_interface.h>
#define shim_tsan_release(addr) __tsan_release(addr)
#define shim_tsan_acquire(addr) __tsan_acquire(addr)
#else
#define shim_tsan_release(addr) ((void)(addr))
#define shim_tsan_acquire(addr) ((void)(addr))
#endif

extern char shim_rcu_gp, shim_rcu_cb_done;
extern long shim_nr_synchronize_rcu;			/* all threads */
extern __thread long shim_thread_nr_synchronize_rcu;	/* this thread */

static inline void shim_rcu_after_gp(void)
{
	shim_tsan_acquire(&shim_rcu_gp);
}

/* first thing in a callback: it runs after what queued it, and after a GP */
static inline void shim_rcu_callback_start(struct rcu_head *head)
{
	shim_tsan_acquire(head);
	shim_rcu_after_gp();
	shim_atomic++;
}

/* last thing in a callback: rcu_barrier() returns after it */
static inline void shim_rcu_callback_end(void)
{
	shim_atomic--;
	shim_tsan_release(&shim_rcu_cb_done);
}

static inline void rcu_read_lock(void)
{
	urcu_memb_read_lock();
	shim_atomic++;
}

static inline void rcu_read_unlock(void)
{
	if (!shim_atomic)
		shim_bug("rcu_read_unlock without rcu_read_lock");
	shim_atomic--;
	shim_tsan_release(&shim_rcu_gp);
	urcu_memb_read_unlock();
}

static inline void synchronize_rcu(void)
{
	might_sleep();
	__atomic_fetch_add(&shim_nr_synchronize_rcu, 1, __ATOMIC_RELAXED);
	shim_thread_nr_synchronize_rcu++;
	urcu_memb_synchronize_rcu();
	shim_rcu_after_gp();
}

static inline long shim_synchronize_rcu_count(void)
{
	return __atomic_load_n(&shim_nr_synchronize_rcu, __ATOMIC_RELAXED);
}

static inline void shim_call_rcu(struct rcu_head *head,
				 void (*func)(struct rcu_head *head))
{
	shim_tsan_release(head);
	urcu_memb_call_rcu(head, func);
}

/* every thread that uses RCU or the tag core registers */
static inline void shim_thread_start(void)
{
	urcu_memb_register_thread();
}

static inline void shim_thread_stop(void)
{
	urcu_memb_unregister_thread();
}

/* wait for every callback queued so far to have run */
static inline void rcu_barrier(void)
{
	might_sleep();
	urcu_memb_barrier();
	shim_tsan_acquire(&shim_rcu_cb_done);
}

/* the same, before exit: LeakSanitizer */
static inline void shim_rcu_barrier(void)
{
	rcu_barrier();
}
#endif
