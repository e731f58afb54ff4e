/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SHIM_LOCKDEP_H
#define SHIM_LOCKDEP_H
#include "mutex.h"
#include "spinlock.h"
/* held by this thread: a mutex or a spinlock */
#define lockdep_is_held(lock) _Generic((lock),				\
	struct mutex *: shim_mutex_held,				\
	spinlock_t *: shim_spin_held)(lock)
#define lockdep_assert_held(lock) do {					\
	if (!lockdep_is_held(lock))					\
		shim_bug("lockdep_assert_held(%s)", #lock);		\
} while (0)
#endif
