/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SHIM_LOCKDEP_H
#define SHIM_LOCKDEP_H
#include "mutex.h"
#define lockdep_is_held(lock) shim_mutex_held(lock)
#define lockdep_assert_held(lock) do {					\
	if (!shim_mutex_held(lock))					\
		shim_bug("lockdep_assert_held(%s)", #lock);		\
} while (0)
#endif
