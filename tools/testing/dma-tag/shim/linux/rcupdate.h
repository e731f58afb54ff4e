/* SPDX-License-Identifier: GPL-2.0 */
/* shim: the kernel's RCU pointer API over rcu-core.h */
#ifndef SHIM_RCUPDATE_H
#define SHIM_RCUPDATE_H
#include "rcu-core.h"
#include "lockdep.h"

#define rcu_dereference(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define rcu_access_pointer(p) __atomic_load_n(&(p), __ATOMIC_RELAXED)
#define rcu_assign_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define RCU_INIT_POINTER(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELAXED)
#define rcu_dereference_protected(p, c) ({				\
	if (!(c))							\
		shim_bug("rcu_dereference_protected: %s", #c);		\
	__atomic_load_n(&(p), __ATOMIC_RELAXED);			\
})
#define rcu_replace_pointer(p, v, c) ({					\
	if (!(c))							\
		shim_bug("rcu_replace_pointer: %s", #c);		\
	__atomic_exchange_n(&(p), (v), __ATOMIC_ACQ_REL);		\
})

static inline void shim_kvfree_rcu_cb(struct rcu_head *head)
{
	shim_rcu_callback_start(head);
	free(head);
	shim_rcu_callback_end();
}

/* the rcu_head must be the first field (the shim frees the head) */
#define kvfree_rcu(ptr, field) do {					\
	_Static_assert(offsetof(__typeof__(*(ptr)), field) == 0,	\
		       "kvfree_rcu shim: rcu_head first");		\
	shim_call_rcu(&(ptr)->field, shim_kvfree_rcu_cb);		\
} while (0)
/* kfree() and kvfree() are both free() here */
#define kfree_rcu(ptr, field) kvfree_rcu(ptr, field)
#endif
