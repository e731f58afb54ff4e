/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shim: the part of the maple tree API the tag core uses, as a sorted array
 * of ranges under a mutex (lookups take it too: the core relies on the
 * tree's RCU mode only for what it keeps alive itself, the tags, which the
 * shim's RCU checks). Storing a range allocates (and may fail, as the
 * kernel's may) unless the gfp has __GFP_NOFAIL; a store over a range must
 * replace exactly one range stored before, or an empty one.
 */
#ifndef SHIM_MAPLE_TREE_H
#define SHIM_MAPLE_TREE_H
#include "kernel-shim.h"

#define MT_FLAGS_USE_RCU 0x02

struct shim_mt_range {
	unsigned long first, last;
	void *entry;
};

struct maple_tree {
	pthread_mutex_t lock;
	struct shim_mt_range *r;
	size_t nr;
	unsigned int flags;
};

static inline void mt_init_flags(struct maple_tree *mt, unsigned int flags)
{
	pthread_mutex_init(&mt->lock, NULL);
	mt->r = NULL;
	mt->nr = 0;
	mt->flags = flags;
}

static inline bool mtree_empty(struct maple_tree *mt)
{
	return !__atomic_load_n(&mt->nr, __ATOMIC_RELAXED);
}

/* the first range that ends at or after @index; under mt->lock */
static inline size_t shim_mt_pos(struct maple_tree *mt, unsigned long index)
{
	size_t lo = 0, hi = mt->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mt->r[mid].last < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static inline void *mtree_load(struct maple_tree *mt, unsigned long index)
{
	void *entry = NULL;
	size_t i;

	pthread_mutex_lock(&mt->lock);
	i = shim_mt_pos(mt, index);
	if (i < mt->nr && mt->r[i].first <= index)
		entry = mt->r[i].entry;
	pthread_mutex_unlock(&mt->lock);
	return entry;
}

static inline int shim_mt_insert(struct maple_tree *mt, size_t i,
				 unsigned long first, unsigned long last,
				 void *entry, gfp_t gfp)
{
	struct shim_mt_range *r;

	r = krealloc_array(mt->r, mt->nr + 1, sizeof(*r), gfp);
	if (!r)
		return -ENOMEM;
	mt->r = r;
	memmove(r + i + 1, r + i, (mt->nr - i) * sizeof(*r));
	r[i] = (struct shim_mt_range){ first, last, entry };
	__atomic_store_n(&mt->nr, mt->nr + 1, __ATOMIC_RELAXED);
	return 0;
}

static inline int mtree_insert_range(struct maple_tree *mt,
				     unsigned long first, unsigned long last,
				     void *entry, gfp_t gfp)
{
	size_t i;
	int ret;

	if (first > last || !entry)
		return -EINVAL;
	pthread_mutex_lock(&mt->lock);
	i = shim_mt_pos(mt, first);
	if (i < mt->nr && mt->r[i].first <= last)
		ret = -EEXIST;
	else
		ret = shim_mt_insert(mt, i, first, last, entry, gfp);
	pthread_mutex_unlock(&mt->lock);
	return ret;
}

static inline int mtree_store_range(struct maple_tree *mt,
				    unsigned long first, unsigned long last,
				    void *entry, gfp_t gfp)
{
	size_t i;
	int ret = 0;

	if (first > last)
		return -EINVAL;
	pthread_mutex_lock(&mt->lock);
	i = shim_mt_pos(mt, first);
	if (i < mt->nr && mt->r[i].first == first && mt->r[i].last == last) {
		/* the kernel's tree may allocate a node for any store */
		shim_alloc_enter(gfp);
		if (!(gfp & __GFP_NOFAIL) && shim_fail_random()) {
			ret = -ENOMEM;
		} else if (entry) {
			mt->r[i].entry = entry;
		} else {
			memmove(mt->r + i, mt->r + i + 1,
				(mt->nr - i - 1) * sizeof(*mt->r));
			__atomic_store_n(&mt->nr, mt->nr - 1, __ATOMIC_RELAXED);
		}
	} else if (i < mt->nr && mt->r[i].first <= last) {
		shim_bug("mtree_store_range shim: a store over part of a range");
	} else if (entry) {
		ret = shim_mt_insert(mt, i, first, last, entry, gfp);
	}
	pthread_mutex_unlock(&mt->lock);
	return ret;
}

static inline void mtree_destroy(struct maple_tree *mt)
{
	pthread_mutex_lock(&mt->lock);
	free(mt->r);
	mt->r = NULL;
	__atomic_store_n(&mt->nr, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&mt->lock);
	pthread_mutex_destroy(&mt->lock);
}
#endif
