// SPDX-License-Identifier: GPL-2.0
/*
 * DMA tags of a block device: premapping buffers through the driver, the
 * per-disk lookup for the submit path, revocation on removal, sysfs.
 *
 * See Documentation/block/dma-tags.rst.
 */

#define pr_fmt(fmt) "blk-dma-tag: " fmt

#include <linux/bio.h>
#include <linux/blk-dma-tag.h>
#include <linux/blkdev.h>
#include <linux/export.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/sysfs.h>

/**
 * DOC: premapping on a block device
 *
 * blk_dma_tag_map() asks the driver of a disk (block_device_operations
 * ->dma_tag_ops) to map a buffer once; blk_dma_tag_unmap() undoes it. The
 * disk keeps its live tags in a list (for removal) and, for the submit path,
 * in an array sorted by the address of their bvec arrays, published with RCU.
 * Direct IO on a bvec iterator (an io_uring fixed buffer) finds its buffer's
 * tag there in blk_dma_tag_attach(): no interface between io_uring and the
 * block device has to carry it.
 *
 * Every IO that carries a tag holds a reference on it. Unmapping removes the
 * tag from the lookup array, waits until the references drop, and only then
 * lets the driver unmap. The wait happens without the disk's lock: IO on a
 * stacking disk may need the stacking driver's own thread to complete (md),
 * and that thread may be waiting to change the disk's members. del_gendisk()
 * revokes every tag of the disk the same way after the queue has drained, so
 * no mapping outlives the device.
 */

/* per-CPU IO counters */
struct blk_dma_tag_stats {
	u64 premapped;
	u64 fallback;
};

/* the tags of a disk, sorted by bvec array, for the submit path */
struct blk_dma_tag_index {
	struct rcu_head rcu;
	unsigned int nr;
	struct blk_dma_tag *tags[];
};

/**
 * struct blk_dma_tag_disk - premapping state of a disk
 * @lock: serialises map, unmap, revocation and @index updates
 * @tags: live tags
 * @nr_tags: entries in @tags
 * @retiring: tags being unmapped, waiting for their IO without @lock
 * @index: @tags sorted for lookup, or NULL when there are none
 * @mode: enum blk_dma_premap
 * @dead: del_gendisk() has run: no new tags
 * @mapped_bytes: bytes mapped by live tags
 * @max_mapped_bytes: the bound on @mapped_bytes
 * @maps: tags made since the disk was added
 * @unmaps: tags unmapped (including revoked ones)
 * @remaps: composite tags rebuilt because the members changed
 * @stats: IOs that used a tag, and tagged IOs that were mapped per IO
 */
struct blk_dma_tag_disk {
	struct mutex lock;	/* map, unmap, revoke, index updates */
	struct list_head tags;
	unsigned int nr_tags;
	struct list_head retiring;
	struct blk_dma_tag_index __rcu *index;
	int mode;
	bool dead;
	u64 mapped_bytes;
	u64 max_mapped_bytes;
	u64 maps;
	u64 unmaps;
	u64 remaps;
	struct blk_dma_tag_stats __percpu *stats;
};

/**
 * struct blk_dma_tag_members - the member table of a composite tag
 * @rcu: frees the table after a grace period
 * @nr: entries in @m
 * @m: one entry per member disk: its tag, or NULL when it could not map
 *	(the member then gets plain IO)
 */
struct blk_dma_tag_members {
	struct rcu_head rcu;
	unsigned int nr;
	struct {
		struct gendisk *disk;
		struct blk_dma_tag *tag;
	} m[];
};

static struct blk_dma_tag *__blk_dma_tag_map(struct block_device *bdev,
					     const struct bio_vec *bvec,
					     unsigned int nr_bvecs,
					     unsigned int depth);

/* lockdep: a stack maps its members with its own lock held, one level down */
#define BLK_DMA_TAG_MAX_DEPTH	(MAX_LOCKDEP_SUBCLASSES - 1)

/* default bound on the bytes premapped per device (sysfs: max_mapped_bytes) */
#define BLK_DMA_TAG_DEFAULT_MAX_BYTES	BIT_ULL(32)

static int blk_dma_tag_cmp(const void *a, const void *b)
{
	const struct blk_dma_tag *x = *(struct blk_dma_tag * const *)a;
	const struct blk_dma_tag *y = *(struct blk_dma_tag * const *)b;

	if (x->bvec == y->bvec)
		return 0;
	return x->bvec < y->bvec ? -1 : 1;
}

/*
 * Publish a new lookup array after @dt->tags changed; @dt->lock held. Without
 * memory for it, publish none: lookups find nothing (IO is mapped per IO)
 * until the next change, and no array ever names a tag that was taken out.
 */
static int blk_dma_tag_reindex(struct blk_dma_tag_disk *dt)
{
	struct blk_dma_tag_index *new = NULL, *old;
	struct blk_dma_tag *tag;
	unsigned int i = 0;
	int ret = 0;

	lockdep_assert_held(&dt->lock);
	if (dt->nr_tags) {
		new = kvmalloc(struct_size(new, tags, dt->nr_tags), GFP_KERNEL);
		if (new) {
			list_for_each_entry(tag, &dt->tags, node)
				new->tags[i++] = tag;
			new->nr = i;
			sort(new->tags, new->nr, sizeof(new->tags[0]),
			     blk_dma_tag_cmp, NULL);
		} else {
			ret = -ENOMEM;
		}
	}
	old = rcu_replace_pointer(dt->index, new, lockdep_is_held(&dt->lock));
	if (old)
		kvfree_rcu(old, rcu);
	return ret;
}

/* the tag whose bvec array holds @bv, under rcu_read_lock() */
static struct blk_dma_tag *blk_dma_tag_find(struct blk_dma_tag_index *index,
					    const struct bio_vec *bv)
{
	unsigned int lo = 0, hi = index->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		struct blk_dma_tag *tag = index->tags[mid];

		if (bv < tag->bvec)
			hi = mid;
		else if (bv >= tag->bvec + tag->nr_bvecs)
			lo = mid + 1;
		else
			return tag;
	}
	return NULL;
}

/**
 * blk_dma_tag_attach() - give a bio built on a premapped buffer its tag
 * @bio: a direct-IO bio just built by bio_iov_iter_get_pages()
 *
 * When @bio's bvec array is a buffer premapped for the bio's disk, set the
 * tag as the bio's hint and take a reference for the IO. Bios on user pages
 * (which have their own bvec array) never match.
 *
 * Context: the submit path; does not sleep.
 * Return: the tag, to be passed to blk_dma_tag_put() once the IO, and every
 * bio split or cloned from @bio, has completed; NULL if none.
 */
struct blk_dma_tag *blk_dma_tag_attach(struct bio *bio)
{
	struct blk_dma_tag_disk *dt = bio->bi_bdev->bd_disk->dma_tag;
	struct blk_dma_tag_index *index;
	struct blk_dma_tag *tag = NULL;

	if (!dt || !bio_flagged(bio, BIO_NO_PAGE_REF) ||
	    !rcu_access_pointer(dt->index))
		return NULL;

	rcu_read_lock();
	index = rcu_dereference(dt->index);
	if (index)
		tag = blk_dma_tag_find(index,
				       bio->bi_io_vec + bio->bi_iter.bi_idx);
	if (tag && !percpu_ref_tryget_live(&tag->users))
		tag = NULL;
	rcu_read_unlock();
	bio->bi_dma_tag = tag;
	return tag;
}
EXPORT_SYMBOL_GPL(blk_dma_tag_attach);

/**
 * blk_dma_tag_account() - count an IO that carried a tag
 * @disk: the disk whose driver built the command
 * @premapped: the command was built from the tag (else mapped per IO)
 *
 * Context: any.
 */
void blk_dma_tag_account(struct gendisk *disk, bool premapped)
{
	struct blk_dma_tag_disk *dt = disk->dma_tag;

	if (!dt)
		return;
	if (premapped)
		this_cpu_inc(dt->stats->premapped);
	else
		this_cpu_inc(dt->stats->fallback);
}
EXPORT_SYMBOL_GPL(blk_dma_tag_account);

/**
 * DOC: composite tags
 *
 * A stacking driver (dm, md) lists its members through
 * blk_dma_tag_ops->members. Mapping a buffer on the stacking disk maps it on
 * every member, recursively, and keeps a table member disk -> member tag, or
 * none where the member could not map (it then gets plain IO). Members are
 * deduplicated by disk, so partitions of one disk share one mapping. Mapping
 * fails only when no member could map (-EOPNOTSUPP).
 *
 * When a bio carrying a composite tag is submitted to a member,
 * __blk_dma_tag_bio_prep() replaces the tag by the member's entry under RCU:
 * no stacking driver has per-IO code. The member tags are owned by the
 * composite: unmapping it unmaps them, once no IO carries the composite.
 *
 * blk_dma_tag_members_changed() rebuilds the tables when the stacking driver
 * changed its members while no IO was in flight (dm: the table swap happens
 * suspended): entries of members that stay are kept, new members are mapped,
 * and the tags of members that left are unmapped after a grace period, before
 * the driver lets go of those members.
 */

struct blk_dma_tag_member_list {
	unsigned int nr;
	unsigned int max;
	gfp_t gfp;
	struct block_device **bdev;
};

static int blk_dma_tag_add_member(struct block_device *bdev, void *data)
{
	struct blk_dma_tag_member_list *l = data;
	unsigned int i;

	for (i = 0; i < l->nr; i++)
		if (l->bdev[i]->bd_disk == bdev->bd_disk)
			return 0;
	if (l->nr == l->max) {
		unsigned int max = l->max ? 2 * l->max : 8;
		struct block_device **b;

		b = krealloc_array(l->bdev, max, sizeof(*b), l->gfp);
		if (!b)
			return -ENOMEM;
		l->bdev = b;
		l->max = max;
	}
	l->bdev[l->nr++] = bdev;
	return 0;
}

/*
 * A member table for @tag's disk as its driver lists the members now, with
 * the tags of @old (if any) for members that stay, unless their device went
 * away (revoked). New members are mapped when @map_new, else left empty.
 * A table that replaces @old is allocated with __GFP_NOFAIL: IO in flight to
 * the members that stay uses @old's tags, so they must not be dropped for
 * want of a few bytes.
 */
static struct blk_dma_tag_members *
blk_dma_tag_fan_out(struct blk_dma_tag *tag, struct blk_dma_tag_members *old,
		    bool map_new)
{
	struct blk_dma_tag_member_list l = {
		.gfp = old ? GFP_KERNEL | __GFP_NOFAIL : GFP_KERNEL,
	};
	struct blk_dma_tag_members *t = NULL;
	unsigned int i, j;

	if (tag->disk->fops->dma_tag_ops->members(tag->disk,
						  blk_dma_tag_add_member, &l))
		goto out;
	t = kzalloc(struct_size(t, m, l.nr), l.gfp);
	if (!t)
		goto out;
	t->nr = l.nr;
	for (i = 0; i < l.nr; i++) {
		struct blk_dma_tag *mt = NULL;

		t->m[i].disk = l.bdev[i]->bd_disk;
		for (j = 0; old && j < old->nr; j++)
			if (old->m[j].disk == t->m[i].disk &&
			    old->m[j].tag && !READ_ONCE(old->m[j].tag->revoked))
				mt = old->m[j].tag;
		if (!mt && map_new) {
			mt = __blk_dma_tag_map(l.bdev[i], tag->bvec,
					       tag->nr_bvecs, tag->depth + 1);
			if (IS_ERR(mt))
				mt = NULL;
		}
		t->m[i].tag = mt;
	}
out:
	kfree(l.bdev);
	return t;
}

static bool blk_dma_tag_in_table(struct blk_dma_tag_members *t,
				 struct blk_dma_tag *mt)
{
	unsigned int i;

	for (i = 0; t && i < t->nr; i++)
		if (t->m[i].tag == mt)
			return true;
	return false;
}

/* unmap the member tags of @old that @new does not keep, and free @old */
static void blk_dma_tag_drop_table(struct blk_dma_tag_members *old,
				   struct blk_dma_tag_members *new)
{
	unsigned int i;

	for (i = 0; old && i < old->nr; i++)
		if (old->m[i].tag && !blk_dma_tag_in_table(new, old->m[i].tag))
			blk_dma_tag_unmap(old->m[i].tag);
	kfree(old);
}

/* the composite "driver map": fan out; -EOPNOTSUPP if no member mapped */
static int blk_dma_tag_map_members(struct blk_dma_tag *tag)
{
	struct blk_dma_tag_members *t = blk_dma_tag_fan_out(tag, NULL, true);
	unsigned int i;

	if (!t)
		return -ENOMEM;
	for (i = 0; i < t->nr; i++)
		if (t->m[i].tag)
			break;
	if (i == t->nr) {
		kfree(t);
		return -EOPNOTSUPP;
	}
	rcu_assign_pointer(tag->members, t);
	return 0;
}

/* the composite "driver unmap": no IO carries @tag any more */
static void blk_dma_tag_unmap_members(struct blk_dma_tag *tag)
{
	struct blk_dma_tag_members *t;

	t = rcu_replace_pointer(tag->members, NULL, true);
	blk_dma_tag_drop_table(t, NULL);
}

/**
 * blk_dma_tag_translate() - the member entry of a composite tag
 * @tag: a composite tag carried by a bio
 * @member: the disk the bio is being submitted to
 *
 * Counts the IO on @tag's disk as premapped when @member has a tag, as a
 * fallback otherwise. A member tag that its device revoked (the device is
 * going away) counts as none.
 *
 * Context: the submit path; does not sleep.
 * Return: @member's tag in @tag's table, or NULL.
 */
struct blk_dma_tag *blk_dma_tag_translate(struct blk_dma_tag *tag,
					  struct gendisk *member)
{
	struct blk_dma_tag_members *t;
	struct blk_dma_tag *mt = NULL;
	unsigned int i;

	rcu_read_lock();
	t = rcu_dereference(tag->members);
	for (i = 0; t && i < t->nr; i++) {
		if (t->m[i].disk == member) {
			mt = t->m[i].tag;
			if (mt && READ_ONCE(mt->revoked))
				mt = NULL;
			break;
		}
	}
	rcu_read_unlock();
	blk_dma_tag_account(tag->disk, mt);
	return mt;
}
EXPORT_SYMBOL_GPL(blk_dma_tag_translate);

/* the member table of a composite tag of @dt, under @dt->lock */
static struct blk_dma_tag_members *
blk_dma_tag_table(struct blk_dma_tag_disk *dt, struct blk_dma_tag *tag)
{
	return rcu_dereference_protected(tag->members,
					 lockdep_is_held(&dt->lock));
}

/* @a and @b name the same member tags in the same order */
static bool blk_dma_tag_same_table(struct blk_dma_tag_members *a,
				   struct blk_dma_tag_members *b)
{
	if (!a || !b)
		return a == b;
	return a->nr == b->nr && !memcmp(a->m, b->m, a->nr * sizeof(a->m[0]));
}

/*
 * Give each composite tag on @list a table for the members now; leave the
 * tables it replaces in ->stale. Return true when there is any.
 */
static bool blk_dma_tag_remap_list(struct blk_dma_tag_disk *dt,
				   struct list_head *list, bool map_new)
{
	struct blk_dma_tag *tag;
	bool stale = false;

	list_for_each_entry(tag, list, node) {
		struct blk_dma_tag_members *prev = blk_dma_tag_table(dt, tag);
		struct blk_dma_tag_members *t;

		t = blk_dma_tag_fan_out(tag, prev, map_new);
		/*
		 * No table: the driver failed to list its members (it has no
		 * reason to) or there was no memory for a first table. Keep
		 * what IO may be using.
		 */
		if (!t || blk_dma_tag_same_table(t, prev)) {
			kfree(t);
			continue;
		}
		rcu_assign_pointer(tag->members, t);
		tag->stale = prev;
		stale |= !!prev;
		dt->remaps++;
	}
	return stale;
}

/* after a grace period: unmap what the new tables no longer name */
static void blk_dma_tag_drop_stale(struct blk_dma_tag_disk *dt,
				   struct list_head *list)
{
	struct blk_dma_tag *tag;

	list_for_each_entry(tag, list, node) {
		blk_dma_tag_drop_table(tag->stale, blk_dma_tag_table(dt, tag));
		tag->stale = NULL;
	}
}

/**
 * blk_dma_tag_members_changed() - a stacking disk changed its members
 * @disk: the disk
 *
 * Rebuilds the member table of every composite tag of @disk: members that
 * stay keep their mapping, new members are mapped (those that cannot get
 * plain IO), and the mappings of members that left are undone. Tags being
 * unmapped only lose members. A call that changes nothing costs no grace
 * period and counts no remap.
 *
 * IO may be in flight, but none to a member that leaves (dm: the table swap
 * happens suspended; md: a device leaves its personality at nr_pending == 0).
 * Call it before letting go of the old members.
 *
 * Context: process context, may sleep. It takes the disk's tag lock, which
 * is never held across a wait for IO on the disk (see blk_dma_tag_unmap()),
 * so a thread that such IO needs (md's) may call it.
 */
void blk_dma_tag_members_changed(struct gendisk *disk)
{
	struct blk_dma_tag_disk *dt = disk->dma_tag;
	bool stale;

	if (!dt || !disk->fops->dma_tag_ops->members)
		return;
	mutex_lock(&dt->lock);
	stale = blk_dma_tag_remap_list(dt, &dt->tags, true);
	stale |= blk_dma_tag_remap_list(dt, &dt->retiring, false);
	if (stale) {
		/* bios being translated may still read the old tables */
		synchronize_rcu();
		blk_dma_tag_drop_stale(dt, &dt->tags);
		blk_dma_tag_drop_stale(dt, &dt->retiring);
	}
	mutex_unlock(&dt->lock);
}
EXPORT_SYMBOL_GPL(blk_dma_tag_members_changed);

static void blk_dma_tag_users_gone(struct percpu_ref *ref)
{
	struct blk_dma_tag *tag = container_of(ref, struct blk_dma_tag, users);

	complete_all(&tag->drained);
}

/*
 * Take @tag out of its disk's lookups and stop new IO from taking it; its
 * IO drains from then on. @dt->lock held.
 */
static void blk_dma_tag_stop(struct blk_dma_tag_disk *dt,
			     struct blk_dma_tag *tag)
{
	lockdep_assert_held(&dt->lock);
	list_move_tail(&tag->node, &dt->retiring);
	dt->nr_tags--;
	blk_dma_tag_reindex(dt);
	/*
	 * A lookup that still sees the old array runs under RCU; the kill
	 * completes its switch only after a grace period, so once @drained
	 * fires nobody can reach the tag any more.
	 */
	percpu_ref_kill(&tag->users);
}

/*
 * The IO of a stopped @tag has drained: the driver unmaps it. @dt->lock held,
 * so the driver's unmap never races with del_gendisk().
 */
static void blk_dma_tag_finish(struct blk_dma_tag_disk *dt,
			       struct blk_dma_tag *tag)
{
	lockdep_assert_held(&dt->lock);
	list_del_init(&tag->node);
	percpu_ref_exit(&tag->users);
	if (tag->kind == BLK_DMA_TAG_COMPOSITE)
		blk_dma_tag_unmap_members(tag);
	else
		tag->disk->fops->dma_tag_ops->unmap(tag->disk, tag);
	tag->priv = NULL;
	dt->mapped_bytes -= tag->pos[tag->nr_bvecs];
	dt->unmaps++;
}

/**
 * blk_dma_tag_map() - premap a buffer for a block device
 * @bdev: the device (a partition maps for its whole disk)
 * @bvec: the buffer; it must stay unchanged until blk_dma_tag_unmap()
 * @nr_bvecs: entries in @bvec
 *
 * Direct IO to @bdev's disk on a bvec iterator over @bvec then carries the
 * tag and its driver skips per-IO DMA mapping.
 *
 * Context: process context, may sleep.
 * Return: the tag, or an ERR_PTR(): -EOPNOTSUPP when the disk has no
 * premapping or it is switched off, or its driver refused the buffer;
 * -ENODEV when the disk is being removed; -ENOSPC beyond max_mapped_bytes;
 * -EINVAL for an empty buffer; -ENOMEM.
 */
struct blk_dma_tag *blk_dma_tag_map(struct block_device *bdev,
				    const struct bio_vec *bvec,
				    unsigned int nr_bvecs)
{
	return __blk_dma_tag_map(bdev, bvec, nr_bvecs, 0);
}
EXPORT_SYMBOL_GPL(blk_dma_tag_map);

static struct blk_dma_tag *__blk_dma_tag_map(struct block_device *bdev,
					     const struct bio_vec *bvec,
					     unsigned int nr_bvecs,
					     unsigned int depth)
{
	struct gendisk *disk = bdev->bd_disk;
	struct blk_dma_tag_disk *dt = disk->dma_tag;
	const struct blk_dma_tag_ops *ops;
	struct blk_dma_tag *tag;
	int ret;

	if (!dt)
		return ERR_PTR(-EOPNOTSUPP);
	if (depth > BLK_DMA_TAG_MAX_DEPTH)
		return ERR_PTR(-ELOOP);
	ops = disk->fops->dma_tag_ops;
	tag = blk_dma_tag_alloc(disk, ops->members ? BLK_DMA_TAG_COMPOSITE :
				BLK_DMA_TAG_LEAF, bvec, nr_bvecs, GFP_KERNEL);
	if (IS_ERR(tag))
		return tag;
	tag->depth = depth;
	INIT_LIST_HEAD(&tag->node);
	init_completion(&tag->drained);
	ret = percpu_ref_init(&tag->users, blk_dma_tag_users_gone, 0,
			      GFP_KERNEL);
	if (ret)
		goto out_free;

	mutex_lock_nested(&dt->lock, depth);
	if (dt->dead)
		ret = -ENODEV;
	else if (READ_ONCE(dt->mode) == BLK_DMA_PREMAP_OFF)
		ret = -EOPNOTSUPP;
	else if (dt->mapped_bytes + tag->pos[nr_bvecs] > dt->max_mapped_bytes)
		ret = -ENOSPC;
	else if (tag->kind == BLK_DMA_TAG_COMPOSITE)
		ret = blk_dma_tag_map_members(tag);
	else
		ret = ops->map(disk, tag);
	if (ret)
		goto out_unlock;

	list_add_tail(&tag->node, &dt->tags);
	dt->nr_tags++;
	ret = blk_dma_tag_reindex(dt);
	if (ret) {
		list_del(&tag->node);
		dt->nr_tags--;
		blk_dma_tag_reindex(dt);
		/* no bio found the tag: the array that named it was never made */
		if (tag->kind == BLK_DMA_TAG_COMPOSITE)
			blk_dma_tag_unmap_members(tag);
		else
			ops->unmap(disk, tag);
		goto out_unlock;
	}
	dt->mapped_bytes += tag->pos[nr_bvecs];
	dt->maps++;
	mutex_unlock(&dt->lock);
	return tag;

out_unlock:
	mutex_unlock(&dt->lock);
	percpu_ref_exit(&tag->users);
out_free:
	blk_dma_tag_free(tag);
	return ERR_PTR(ret);
}

/**
 * blk_dma_tag_unmap() - undo blk_dma_tag_map() and free the tag
 * @tag: the tag; NULL is ignored
 *
 * Waits for IO that carries the tag, without holding the disk's tag lock. The
 * caller keeps the disk alive (an open block device) and the buffer unchanged
 * until this returns. A tag the disk revoked on removal is only freed.
 *
 * Context: process context, may sleep.
 */
void blk_dma_tag_unmap(struct blk_dma_tag *tag)
{
	struct blk_dma_tag_disk *dt;

	if (!tag)
		return;
	dt = tag->disk->dma_tag;
	mutex_lock_nested(&dt->lock, tag->depth);
	if (tag->revoked)
		goto out;
	blk_dma_tag_stop(dt, tag);
	mutex_unlock(&dt->lock);
	/* without the lock: see "premapping on a block device" above */
	wait_for_completion(&tag->drained);
	mutex_lock_nested(&dt->lock, tag->depth);
	/* del_gendisk() may have finished it meanwhile */
	if (!tag->revoked)
		blk_dma_tag_finish(dt, tag);
out:
	mutex_unlock(&dt->lock);
	blk_dma_tag_free(tag);
}
EXPORT_SYMBOL_GPL(blk_dma_tag_unmap);

/**
 * bdev_dma_premap_auto() - does @bdev premap fixed buffers on first use?
 * @bdev: the block device
 *
 * Return: true when the disk's queue/dma_premap is "auto".
 */
bool bdev_dma_premap_auto(struct block_device *bdev)
{
	struct blk_dma_tag_disk *dt = bdev->bd_disk->dma_tag;

	return dt && READ_ONCE(dt->mode) == BLK_DMA_PREMAP_AUTO;
}
EXPORT_SYMBOL_GPL(bdev_dma_premap_auto);

/**
 * blk_dma_tag_add_disk() - set up premapping for a disk being added
 * @disk: the disk; nothing to do unless its fops have dma_tag_ops
 *
 * Called by device_add_disk() before the disk's sysfs files appear.
 *
 * Return: 0 or -ENOMEM.
 */
int blk_dma_tag_add_disk(struct gendisk *disk)
{
	struct blk_dma_tag_disk *dt;

	if (!disk->fops->dma_tag_ops || disk->dma_tag)
		return 0;
	dt = kzalloc(sizeof(*dt), GFP_KERNEL);
	if (!dt)
		return -ENOMEM;
	dt->stats = alloc_percpu(struct blk_dma_tag_stats);
	if (!dt->stats) {
		kfree(dt);
		return -ENOMEM;
	}
	mutex_init(&dt->lock);
	INIT_LIST_HEAD(&dt->tags);
	INIT_LIST_HEAD(&dt->retiring);
	dt->mode = BLK_DMA_PREMAP_ON;
	dt->max_mapped_bytes = BLK_DMA_TAG_DEFAULT_MAX_BYTES;
	disk->dma_tag = dt;
	return 0;
}

/**
 * blk_dma_tag_del_disk() - revoke every tag of a disk being deleted
 * @disk: the disk
 *
 * Called by del_gendisk() once the queue has drained: the driver unmaps every
 * buffer while its device is still there. A stacking driver calls it
 * earlier, before it releases its members (dm destroys its table before the
 * disk), with no IO left either. The only wait for IO under the disk's tag
 * lock is here, where there is none. The owners of the tags free them later
 * with blk_dma_tag_unmap(). Calling it again does nothing.
 */
void blk_dma_tag_del_disk(struct gendisk *disk)
{
	struct blk_dma_tag_disk *dt = disk->dma_tag;
	struct blk_dma_tag *tag;

	if (!dt)
		return;
	mutex_lock(&dt->lock);
	dt->dead = true;
	while ((tag = list_first_entry_or_null(&dt->tags, struct blk_dma_tag,
					       node)))
		blk_dma_tag_stop(dt, tag);
	/* no IO is left on the disk; tags unmapped by their owners included */
	while ((tag = list_first_entry_or_null(&dt->retiring,
					       struct blk_dma_tag, node))) {
		wait_for_completion(&tag->drained);
		blk_dma_tag_finish(dt, tag);
		WRITE_ONCE(tag->revoked, true);
	}
	mutex_unlock(&dt->lock);
}
EXPORT_SYMBOL_GPL(blk_dma_tag_del_disk);

/**
 * blk_dma_tag_release_disk() - free a disk's premapping state
 * @disk: the disk, from disk_release()
 */
void blk_dma_tag_release_disk(struct gendisk *disk)
{
	struct blk_dma_tag_disk *dt = disk->dma_tag;

	if (!dt)
		return;
	WARN_ON_ONCE(!list_empty(&dt->tags) || !list_empty(&dt->retiring));
	kvfree(rcu_dereference_protected(dt->index, true));
	free_percpu(dt->stats);
	kfree(dt);
	disk->dma_tag = NULL;
}

static const char *const blk_dma_premap_names[] = {
	[BLK_DMA_PREMAP_OFF] = "off",
	[BLK_DMA_PREMAP_ON] = "on",
	[BLK_DMA_PREMAP_AUTO] = "auto",
};

/* queue/dma_premap: the modes, the current one in brackets */
ssize_t blk_dma_premap_show(struct request_queue *q, char *page)
{
	struct blk_dma_tag_disk *dt = q->disk ? q->disk->dma_tag : NULL;
	int mode = dt ? READ_ONCE(dt->mode) : BLK_DMA_PREMAP_OFF;
	ssize_t len = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(blk_dma_premap_names); i++)
		len += sysfs_emit_at(page, len, i == mode ? "[%s] " : "%s ",
				     blk_dma_premap_names[i]);
	page[len - 1] = '\n';
	return len;
}

/*
 * Switching off stops new tags; live ones stay until their owner unmaps
 * them (IO stays correct either way).
 */
ssize_t blk_dma_premap_store(struct request_queue *q, const char *page,
			     size_t count)
{
	struct blk_dma_tag_disk *dt = q->disk ? q->disk->dma_tag : NULL;
	int mode = sysfs_match_string(blk_dma_premap_names, page);

	if (!dt)
		return -EOPNOTSUPP;
	if (mode < 0)
		return -EINVAL;
	WRITE_ONCE(dt->mode, mode);
	return count;
}

static struct blk_dma_tag_disk *dev_to_dma_tag(struct device *dev)
{
	return dev_to_disk(dev)->dma_tag;
}

static u64 blk_dma_tag_sum(struct blk_dma_tag_disk *dt, bool premapped)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu) {
		struct blk_dma_tag_stats *s = per_cpu_ptr(dt->stats, cpu);

		sum += premapped ? s->premapped : s->fallback;
	}
	return sum;
}

static ssize_t premapped_ios_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  blk_dma_tag_sum(dev_to_dma_tag(dev), true));
}

static ssize_t fallback_ios_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  blk_dma_tag_sum(dev_to_dma_tag(dev), false));
}

/* a u64 of struct blk_dma_tag_disk, read under its lock */
static ssize_t blk_dma_tag_show_u64(struct device *dev, char *buf,
				    size_t offset)
{
	struct blk_dma_tag_disk *dt = dev_to_dma_tag(dev);
	u64 val;

	mutex_lock(&dt->lock);
	val = *(u64 *)((char *)dt + offset);
	mutex_unlock(&dt->lock);
	return sysfs_emit(buf, "%llu\n", val);
}

static ssize_t maps_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return blk_dma_tag_show_u64(dev, buf,
			offsetof(struct blk_dma_tag_disk, maps));
}

static ssize_t unmaps_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return blk_dma_tag_show_u64(dev, buf,
			offsetof(struct blk_dma_tag_disk, unmaps));
}

static ssize_t remaps_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return blk_dma_tag_show_u64(dev, buf,
			offsetof(struct blk_dma_tag_disk, remaps));
}

static ssize_t mapped_bytes_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return blk_dma_tag_show_u64(dev, buf,
			offsetof(struct blk_dma_tag_disk, mapped_bytes));
}

static DEVICE_ATTR_RO(maps);
static DEVICE_ATTR_RO(unmaps);
static DEVICE_ATTR_RO(remaps);
static DEVICE_ATTR_RO(mapped_bytes);
static DEVICE_ATTR_RO(premapped_ios);
static DEVICE_ATTR_RO(fallback_ios);

static ssize_t max_mapped_bytes_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	return blk_dma_tag_show_u64(dev, buf,
			offsetof(struct blk_dma_tag_disk, max_mapped_bytes));
}

/* a new bound applies to new tags; live ones stay */
static ssize_t max_mapped_bytes_store(struct device *dev,
				      struct device_attribute *attr,
				      const char *buf, size_t count)
{
	struct blk_dma_tag_disk *dt = dev_to_dma_tag(dev);
	u64 val;
	int ret;

	ret = kstrtou64(buf, 0, &val);
	if (ret)
		return ret;
	mutex_lock(&dt->lock);
	dt->max_mapped_bytes = val;
	mutex_unlock(&dt->lock);
	return count;
}
static DEVICE_ATTR_RW(max_mapped_bytes);

static struct attribute *blk_dma_tag_attrs[] = {
	&dev_attr_premapped_ios.attr,
	&dev_attr_fallback_ios.attr,
	&dev_attr_maps.attr,
	&dev_attr_unmaps.attr,
	&dev_attr_remaps.attr,
	&dev_attr_mapped_bytes.attr,
	&dev_attr_max_mapped_bytes.attr,
	NULL,
};

/* the directory is empty on devices without premapping */
static umode_t blk_dma_tag_attr_visible(struct kobject *kobj,
					struct attribute *a, int n)
{
	return dev_to_dma_tag(kobj_to_dev(kobj)) ? a->mode : 0;
}

const struct attribute_group blk_dma_tag_attr_group = {
	.name = "dma_tag",
	.attrs = blk_dma_tag_attrs,
	.is_visible = blk_dma_tag_attr_visible,
};
