/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shim: memalloc_noio scopes. As in the kernel the scope is a flag of the
 * thread (PF_MEMALLOC_NOIO), saved and restored, so scopes nest; every
 * allocation inside one may not do IO (the shim's allocator tells the tests,
 * see shim_alloc_hook in kernel-shim.h).
 */
#ifndef SHIM_SCHED_MM_H
#define SHIM_SCHED_MM_H
#include "../kernel-shim.h"
#include "../sched.h"

#define SHIM_PF_MEMALLOC_NOIO 1u

static inline unsigned int memalloc_noio_save(void)
{
	unsigned int flags = shim_task_flags & SHIM_PF_MEMALLOC_NOIO;

	shim_task_flags |= SHIM_PF_MEMALLOC_NOIO;
	return flags;
}

static inline void memalloc_noio_restore(unsigned int flags)
{
	shim_task_flags = (shim_task_flags & ~SHIM_PF_MEMALLOC_NOIO) | flags;
}
#endif
