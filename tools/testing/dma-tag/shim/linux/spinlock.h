/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shim: spinlocks on pthread mutexes. As in the kernel, the holder is in
 * atomic context (preemption is off): a sleeping call under a spinlock (a
 * mutex, a wait, an allocation that may sleep) ends the program, see
 * might_sleep() in kernel-shim.h. lockdep_assert_held() works on them too.
 */
#ifndef SHIM_SPINLOCK_H
#define SHIM_SPINLOCK_H
#include "kernel-shim.h"

typedef struct {
	void *magic;
	pthread_mutex_t m;
	pthread_t owner;
	bool held;
} spinlock_t;

static inline void spin_lock_init(spinlock_t *lock)
{
	pthread_mutex_init(&lock->m, NULL);
	lock->held = false;
	lock->magic = lock;
}

static inline void shim_spin_check(spinlock_t *lock)
{
	if (lock->magic != lock)
		shim_bug("a spinlock that was not initialised, or was freed");
}

static inline bool shim_spin_held(spinlock_t *lock)
{
	return __atomic_load_n(&lock->held, __ATOMIC_RELAXED) &&
	       pthread_equal(__atomic_load_n(&lock->owner, __ATOMIC_RELAXED),
			     pthread_self());
}

static inline void spin_lock(spinlock_t *lock)
{
	shim_spin_check(lock);
	if (shim_spin_held(lock))
		shim_bug("recursive spinlock: a deadlock");
	pthread_mutex_lock(&lock->m);
	__atomic_store_n(&lock->owner, pthread_self(), __ATOMIC_RELAXED);
	__atomic_store_n(&lock->held, true, __ATOMIC_RELAXED);
	shim_atomic++;
}

static inline void spin_unlock(spinlock_t *lock)
{
	shim_spin_check(lock);
	if (!shim_spin_held(lock))
		shim_bug("spin_unlock of a lock this thread does not hold");
	shim_atomic--;
	__atomic_store_n(&lock->held, false, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&lock->m);
}

/* one "CPU" and no interrupts: the irq variants are the plain ones */
#define spin_lock_irq(lock) spin_lock(lock)
#define spin_unlock_irq(lock) spin_unlock(lock)
#define spin_lock_irqsave(lock, flags) do { (flags) = 0; spin_lock(lock); } while (0)
#define spin_unlock_irqrestore(lock, flags) do { (void)(flags); spin_unlock(lock); } while (0)
#endif
