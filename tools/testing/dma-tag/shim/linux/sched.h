/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shim: cond_resched(). A scheduling point: the thread yields, so that the
 * other threads of a test run there; in atomic context it is a bug, as
 * __might_resched() reports it.
 */
#ifndef SHIM_SCHED_H
#define SHIM_SCHED_H
#include <sched.h>
#include "kernel-shim.h"

static inline int cond_resched(void)
{
	might_sleep();
	sched_yield();
	return 0;
}
#endif
