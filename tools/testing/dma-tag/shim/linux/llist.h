/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shim: lock-less NULL terminated singly linked lists, the kernel's llist:
 * any number of concurrent llist_add(), one llist_del_all() consumer. Both
 * are fully ordered (cmpxchg, xchg).
 */
#ifndef SHIM_LLIST_H
#define SHIM_LLIST_H
#include "kernel-shim.h"

struct llist_node {
	struct llist_node *next;
};

struct llist_head {
	struct llist_node *first;
};

#define LLIST_HEAD_INIT(name) { NULL }
#define LLIST_HEAD(name) struct llist_head name = LLIST_HEAD_INIT(name)

static inline void init_llist_head(struct llist_head *list)
{
	WRITE_ONCE(list->first, NULL);
}

static inline bool llist_empty(const struct llist_head *head)
{
	return __atomic_load_n(&head->first, __ATOMIC_RELAXED) == NULL;
}

/* Return: true when the list was empty before */
static inline bool llist_add(struct llist_node *new, struct llist_head *head)
{
	struct llist_node *first = __atomic_load_n(&head->first,
						   __ATOMIC_RELAXED);

	do {
		new->next = first;
	} while (!__atomic_compare_exchange_n(&head->first, &first, new, false,
					      __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
	return !first;
}

static inline struct llist_node *llist_del_all(struct llist_head *head)
{
	return __atomic_exchange_n(&head->first, NULL, __ATOMIC_SEQ_CST);
}

/*
 * The kernel's iterators turn the terminating NULL into an entry pointer and
 * test the member's address (the kernel builds without UBSan's
 * pointer-overflow check): the arithmetic is on integers here.
 */
#define llist_entry(ptr, type, member)					\
	((type *)((uintptr_t)(ptr) - offsetof(type, member)))
#define member_address_is_nonnull(ptr, member)				\
	((uintptr_t)(ptr) + offsetof(__typeof__(*(ptr)), member) != 0)
#define llist_for_each_entry(pos, node, member)				\
	for ((pos) = llist_entry((node), __typeof__(*(pos)), member);	\
	     member_address_is_nonnull(pos, member);			\
	     (pos) = llist_entry((pos)->member.next, __typeof__(*(pos)), member))
#define llist_for_each_entry_safe(pos, n, node, member)			\
	for (pos = llist_entry((node), __typeof__(*pos), member);	\
	     member_address_is_nonnull(pos, member) &&			\
		(n = llist_entry(pos->member.next, __typeof__(*n), member), true); \
	     pos = n)
#endif
