// SPDX-License-Identifier: GPL-2.0
/* The shims' global state, linked into every test program. */
#include <linux/kernel-shim.h>
#include <linux/mutex.h>
#include <linux/rcu-core.h>

int shim_fail_alloc_after = -1;
unsigned int shim_fail_permille;
char shim_rcu_gp;
__thread struct shim_held shim_held[SHIM_MAX_HELD];
__thread unsigned int shim_nr_held;

/* per-thread xorshift, seeded from the thread's stack address */
static __thread uint64_t fail_rng;

bool shim_fail_now(void)
{
	if (!fail_rng)
		fail_rng = (uint64_t)(uintptr_t)&fail_rng | 1;
	fail_rng ^= fail_rng << 13;
	fail_rng ^= fail_rng >> 7;
	fail_rng ^= fail_rng << 17;
	return fail_rng % 1000 < shim_fail_permille;
}
