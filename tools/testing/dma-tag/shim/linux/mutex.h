/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shim: mutexes on pthreads, with the two lockdep checks the tag core
 * relies on: lockdep_assert_held() (by this thread), and the nesting rule of
 * mutex_lock_nested() (a lock of subclass n is only taken while the thread
 * holds locks of lower subclasses: a stack locks its members one level down),
 * and DEBUG_MUTEXES' magic: a lock that was never initialised, or is freed
 * (ASan sees the read), is a bug.
 */
#ifndef SHIM_MUTEX_H
#define SHIM_MUTEX_H
#include "kernel-shim.h"

#define MAX_LOCKDEP_SUBCLASSES 8U
#define SHIM_MAX_HELD 16

struct mutex {
	void *magic;
	pthread_mutex_t m;
	pthread_t owner;
	bool held;
};

struct shim_held {
	struct mutex *lock;
	unsigned int subclass;
};
extern __thread struct shim_held shim_held[SHIM_MAX_HELD];
extern __thread unsigned int shim_nr_held;

static inline void mutex_init(struct mutex *lock)
{
	pthread_mutex_init(&lock->m, NULL);
	lock->held = false;
	lock->magic = lock;
}

static inline void shim_mutex_check(struct mutex *lock)
{
	if (lock->magic != lock)
		shim_bug("a mutex that was not initialised, or was freed");
}

static inline void mutex_lock_nested(struct mutex *lock, unsigned int subclass)
{
	unsigned int i;

	might_sleep();
	shim_mutex_check(lock);
	if (subclass >= MAX_LOCKDEP_SUBCLASSES)
		shim_bug("lock subclass %u", subclass);
	for (i = 0; i < shim_nr_held; i++) {
		if (shim_held[i].lock == lock)
			shim_bug("recursive locking");
		if (shim_held[i].subclass >= subclass)
			shim_bug("lock of subclass %u taken under subclass %u",
				 subclass, shim_held[i].subclass);
	}
	if (shim_nr_held == SHIM_MAX_HELD)
		shim_bug("too many locks held");
	pthread_mutex_lock(&lock->m);
	__atomic_store_n(&lock->owner, pthread_self(), __ATOMIC_RELAXED);
	__atomic_store_n(&lock->held, true, __ATOMIC_RELAXED);
	shim_held[shim_nr_held].lock = lock;
	shim_held[shim_nr_held++].subclass = subclass;
}

static inline void mutex_lock(struct mutex *lock)
{
	mutex_lock_nested(lock, 0);
}

static inline bool shim_mutex_held(struct mutex *lock)
{
	return __atomic_load_n(&lock->held, __ATOMIC_RELAXED) &&
	       pthread_equal(__atomic_load_n(&lock->owner, __ATOMIC_RELAXED),
			     pthread_self());
}

static inline void mutex_unlock(struct mutex *lock)
{
	unsigned int i;

	shim_mutex_check(lock);
	if (!shim_mutex_held(lock))
		shim_bug("mutex_unlock of a lock this thread does not hold");
	for (i = 0; i < shim_nr_held && shim_held[i].lock != lock; i++)
		;
	for (; i + 1 < shim_nr_held; i++)
		shim_held[i] = shim_held[i + 1];
	shim_nr_held--;
	__atomic_store_n(&lock->held, false, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&lock->m);
}
#endif
