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
#include <linux/llist.h>
#include <linux/lockdep.h>
#include <linux/maple_tree.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>

/**
 * DOC: premapping on a block device
 *
 * blk_dma_tag_map() asks the driver of a disk (block_device_operations
 * ->dma_tag_ops) to map a buffer once; blk_dma_tag_unmap() undoes it. The
 * disk keeps its tags in a list (for removal) and, for the submit path, in a
 * maple tree of the address ranges of their bvec arrays, in RCU mode.
 * Direct IO on a bvec iterator (an io_uring fixed buffer) finds its buffer's
 * tag there in blk_dma_tag_attach(): no interface between io_uring and the
 * block device has to carry it.
 *
 * Every IO that carries a tag holds a reference on it. Unmapping stops new
 * IO from taking the tag and returns: nobody waits for IO or for a grace
 * period. The later of the last reference and the owner's unmap queues the
 * tag for retirement, and a worker
 * undoes the mappings of every tag queued so far, then waits one grace
 * period for the lookups that may still see them and frees them (see
 * "Lifetime" in Documentation/block/dma-tags.rst). The owner's buffer stays
 * referenced (struct blk_dma_buf) until then. del_gendisk() revokes every
 * tag of the disk after the queue has drained, so no mapping outlives the
 * device.
 */

/* per-CPU IO counters */
/**
 * struct blk_dma_tag_disk - premapping state of a disk
 * @lock: serialises map, the drivers' unmap, revocation, membership changes
 *	and @index updates; protects @tags
 * @stop_lock: protects the tags' @stopped flags and the counters: stopping a
 *	tag never waits for @lock, which a mapping may hold for long
 * @ref: one for the disk, one per tag not yet freed
 * @disk: the disk
 * @remap_work: blk_dma_tag_members_joined() in the background
 * @tags: tags not yet retired: live ones and stopped ones
 * @index: the tags not yet finished, by the address range of their bvec
 *	arrays; tags of one range (a buffer premapped for the disk and as a
 *	member of a stack over it) are chained from the one stored
 * @mode: enum blk_dma_premap
 * @dead: del_gendisk() has run: no new tags
 * @mapped_bytes: bytes mapped by live tags (not those being retired)
 * @max_mapped_bytes: the bound on @mapped_bytes
 * @maps: tags made since the disk was added
 * @unmaps: tags whose mapping was undone (retired or revoked)
 * @remaps: composite tags rebuilt because the members changed
 * @evictions: tags their owner unmapped to make room for a mapping on
 *	another device (blk_dma_tag_evict())
 * @hot: what the submit path reads inline, first: the count of @index's
 *	tags (updated under @lock) and the IO counters
 */
struct blk_dma_tag_disk {
	struct blk_dma_tag_disk_hot hot;
	struct mutex lock;	/* map, unmap, revoke, index updates */
	spinlock_t stop_lock;	/* stops and counters */
	refcount_t ref;
	struct gendisk *disk;
	struct work_struct remap_work;
	struct list_head tags;
	struct maple_tree index;
	int mode;
	bool dead;
	u64 mapped_bytes;
	u64 max_mapped_bytes;
	u64 maps;
	u64 unmaps;
	u64 remaps;
	u64 evictions;
};

/* blk_dma_tag_attach() casts the disk's dma_tag to its first member */
static_assert(offsetof(struct blk_dma_tag_disk, hot) == 0);

static struct blk_dma_tag *__blk_dma_tag_map(struct block_device *bdev,
					     const struct bio_vec *bvec,
					     unsigned int nr_bvecs,
					     struct blk_dma_buf *buf,
					     unsigned int depth);

/* lockdep: a stack maps its members with its own lock held, one level down */
#define BLK_DMA_TAG_MAX_DEPTH	(MAX_LOCKDEP_SUBCLASSES - 1)

/* default bound on the bytes premapped per device (sysfs: max_mapped_bytes) */
#define BLK_DMA_TAG_DEFAULT_MAX_BYTES	BIT_ULL(32)

/* the first and last byte of the bvec array of @tag, the keys of @dt->index */
static unsigned long blk_dma_tag_first(const struct blk_dma_tag *tag)
{
	return (unsigned long)tag->bvec;
}

static unsigned long blk_dma_tag_last(const struct blk_dma_tag *tag)
{
	return (unsigned long)(tag->bvec + tag->nr_bvecs) - 1;
}

/* the tag chained behind @tag in @dt->index; @dt->lock held */
static struct blk_dma_tag *blk_dma_tag_index_next(struct blk_dma_tag_disk *dt,
						  struct blk_dma_tag *tag)
{
	return rcu_dereference_protected(tag->index_next,
					 lockdep_is_held(&dt->lock));
}

/*
 * Make @tag findable by blk_dma_tag_attach(); @dt->lock held. A range that
 * is indexed already (the same buffer mapped for the disk by its owner and
 * as a member of a stack) gets @tag chained behind the tag stored, which
 * allocates nothing; a range overlapping another in part is refused.
 */
static int blk_dma_tag_index(struct blk_dma_tag_disk *dt,
			     struct blk_dma_tag *tag)
{
	unsigned long first = blk_dma_tag_first(tag);
	unsigned long last = blk_dma_tag_last(tag);
	struct blk_dma_tag *head, *next;
	int ret;

	lockdep_assert_held(&dt->lock);
	ret = mtree_insert_range(&dt->index, first, last, tag, BLK_DMA_TAG_GFP);
	if (ret == -EEXIST) {
		head = mtree_load(&dt->index, first);
		if (!head || blk_dma_tag_first(head) != first ||
		    blk_dma_tag_last(head) != last)
			return -EBUSY;
		next = blk_dma_tag_index_next(dt, head);
		RCU_INIT_POINTER(tag->index_next, next);
		rcu_assign_pointer(head->index_next, tag);
		ret = 0;
	}
	if (!ret)
		WRITE_ONCE(dt->hot.nr_indexed, dt->hot.nr_indexed + 1);
	return ret;
}

/*
 * Take @tag out of @dt->index; @dt->lock held. Lookups may still see it
 * until a grace period has passed. Replacing the stored tag by the next of
 * its range allocates nothing; erasing a range may allocate nodes (copies,
 * in RCU mode, and a rebalance): it must not fail, since the tag is freed
 * after it.
 */
static void blk_dma_tag_unindex(struct blk_dma_tag_disk *dt,
				struct blk_dma_tag *tag)
{
	unsigned long first = blk_dma_tag_first(tag);
	struct blk_dma_tag *head, *prev, *next;
	unsigned int noio;

	lockdep_assert_held(&dt->lock);
	next = blk_dma_tag_index_next(dt, tag);
	head = mtree_load(&dt->index, first);
	if (head == tag) {
		/* del_gendisk() holds the lock: reclaim must not write to it */
		noio = memalloc_noio_save();
		WARN_ON_ONCE(mtree_store_range(&dt->index, first,
					       blk_dma_tag_last(tag), next,
					       GFP_KERNEL | __GFP_NOFAIL));
		memalloc_noio_restore(noio);
		goto out;
	}
	for (prev = head; prev; prev = blk_dma_tag_index_next(dt, prev)) {
		if (rcu_access_pointer(prev->index_next) == tag) {
			rcu_assign_pointer(prev->index_next, next);
			goto out;
		}
	}
	/* every tag is indexed from its map to its finish */
	WARN_ON_ONCE(1);
	return;
out:
	WRITE_ONCE(dt->hot.nr_indexed, dt->hot.nr_indexed - 1);
}

/**
 * __blk_dma_tag_attach() - find the tag of a bio built on a premapped buffer
 * @bio: a direct-IO bio on a bvec array, of a disk with tags indexed
 *	(blk_dma_tag_attach() checks both inline)
 *
 * When @bio's bvec array is a buffer premapped for the bio's disk, set the
 * tag as the bio's hint and take a reference for the IO.
 *
 * Context: the submit path; does not sleep.
 * Return: the tag, or NULL if none.
 */
struct blk_dma_tag *__blk_dma_tag_attach(struct bio *bio)
{
	struct blk_dma_tag_disk *dt = bio->bi_bdev->bd_disk->dma_tag;
	struct blk_dma_tag *tag;

	rcu_read_lock();
	tag = mtree_load(&dt->index,
			 (unsigned long)(bio->bi_io_vec + bio->bi_iter.bi_idx));
	/* a stopped tag fails the tryget; one of its range may not */
	while (tag && !percpu_ref_tryget_live(&tag->users))
		tag = rcu_dereference(tag->index_next);
	rcu_read_unlock();
	bio->bi_dma_tag = tag;
	return tag;
}
EXPORT_SYMBOL_GPL(__blk_dma_tag_attach);

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
 * blk_dma_tag_bio_prep() replaces the tag by the member's entry under RCU:
 * no stacking driver has per-IO code. The member tags are owned by the
 * composite: unmapping it unmaps them, once no IO carries the composite.
 *
 * blk_dma_tag_members_changed() rebuilds the tables when the stacking driver
 * changed its members, with no IO in flight to those that leave (dm: the
 * table swap happens suspended): entries of members that stay are kept, new
 * members are mapped, and the tags of members that left are unmapped, before
 * the driver lets go of those members; their mappings are undone in the
 * background (see "retirement" below). blk_dma_tag_members_left() maps
 * nothing, for a change made while the device holds its IO.
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
		.gfp = old ? GFP_KERNEL | __GFP_NOFAIL : BLK_DMA_TAG_GFP,
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
					       tag->nr_bvecs, tag->buf,
					       tag->depth + 1);
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

/*
 * Unmap the member tags of @old that @new does not keep, and free @old after
 * a grace period (bios being translated may still read it). No IO is in
 * flight to the members that left, and the unmapped tags are freed only a
 * grace period after their unmap, so a reader of @old never sees one freed.
 */
static void blk_dma_tag_drop_table(struct blk_dma_tag_members *old,
				   struct blk_dma_tag_members *new)
{
	unsigned int i;

	if (!old)
		return;
	for (i = 0; i < old->nr; i++)
		if (old->m[i].tag && !blk_dma_tag_in_table(new, old->m[i].tag))
			blk_dma_tag_unmap(old->m[i].tag);
	kfree_rcu(old, rcu);
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
 * Give each composite tag of @dt a table for the members now, and unmap the
 * member tags of the tables replaced that the new ones do not keep. Stopped
 * tags (unmapped, their IO draining) only lose members.
 */
static void blk_dma_tag_remap_all(struct blk_dma_tag_disk *dt, bool map_new)
{
	struct blk_dma_tag *tag;

	list_for_each_entry(tag, &dt->tags, node) {
		struct blk_dma_tag_members *prev = blk_dma_tag_table(dt, tag);
		struct blk_dma_tag_members *t;

		t = blk_dma_tag_fan_out(tag, prev,
					map_new && !READ_ONCE(tag->stopped));
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
		blk_dma_tag_drop_table(prev, t);
		spin_lock(&dt->stop_lock);
		dt->remaps++;
		spin_unlock(&dt->stop_lock);
	}
}

static void __blk_dma_tag_members_changed(struct blk_dma_tag_disk *dt,
					  bool map_new)
{
	unsigned int noio;

	/* a suspended dm device may be what reclaim would write to */
	noio = memalloc_noio_save();
	mutex_lock(&dt->lock);
	/* a removed disk has no tags, and its members may be gone */
	if (!dt->dead)
		blk_dma_tag_remap_all(dt, map_new);
	mutex_unlock(&dt->lock);
	memalloc_noio_restore(noio);
}

/* the premapping state of a stacking disk, or NULL */
static struct blk_dma_tag_disk *blk_dma_tag_stack(struct gendisk *disk)
{
	if (!disk->dma_tag || !disk->fops->dma_tag_ops->members)
		return NULL;
	return disk->dma_tag;
}

/**
 * blk_dma_tag_members_changed() - a stacking disk changed its members
 * @disk: the disk
 *
 * Rebuilds the member table of every composite tag of @disk: members that
 * stay keep their mapping, new members are mapped (those that cannot get
 * plain IO), and the mappings of members that left are undone. Tags being
 * unmapped only lose members. A call that changes nothing rebuilds nothing
 * and counts no remap.
 *
 * IO may be in flight, but none to a member that leaves (dm: the table swap
 * happens suspended; md: a device leaves its personality at nr_pending == 0).
 * Call it before letting go of the old members. It waits for nothing: the
 * mappings of the members that left are undone in the background, and the
 * member disks may go away meanwhile (their removal revokes them).
 *
 * Context: process context, may sleep. It allocates without IO and takes
 * the disk's tag lock, which is never held across a wait for IO on the disk,
 * so a thread that such IO needs (md's) may call it.
 */
void blk_dma_tag_members_changed(struct gendisk *disk)
{
	struct blk_dma_tag_disk *dt = blk_dma_tag_stack(disk);

	if (dt)
		__blk_dma_tag_members_changed(dt, true);
}
EXPORT_SYMBOL_GPL(blk_dma_tag_members_changed);

/**
 * blk_dma_tag_members_left() - a stacking disk dropped members, IO held
 * @disk: the disk
 *
 * As blk_dma_tag_members_changed(), but maps nothing: members that joined
 * get plain IO until the next blk_dma_tag_members_changed(). For a change
 * made while the disk holds its IO (a suspended dm device), when mapping,
 * which allocates (member tables, the drivers' descriptor lists, IOMMU page
 * tables), has to wait until the IO flows again.
 *
 * Context: process context, may sleep; allocates a new member table per tag
 * without IO.
 */
void blk_dma_tag_members_left(struct gendisk *disk)
{
	struct blk_dma_tag_disk *dt = blk_dma_tag_stack(disk);

	if (dt)
		__blk_dma_tag_members_changed(dt, false);
}
EXPORT_SYMBOL_GPL(blk_dma_tag_members_left);

static void blk_dma_tag_remap_fn(struct work_struct *work)
{
	struct blk_dma_tag_disk *dt = container_of(work, struct blk_dma_tag_disk,
						   remap_work);

	__blk_dma_tag_members_changed(dt, true);
	/* the reference blk_dma_tag_members_joined() took */
	blk_dma_tag_disk_put(dt);
}

/**
 * blk_dma_tag_members_joined() - map live buffers on new members, later
 * @disk: a stacking disk whose IO flows again after blk_dma_tag_members_left()
 *
 * Queues blk_dma_tag_members_changed() to a worker, so that the caller (dm's
 * resume) returns as fast as without premapping; the members that joined get
 * plain IO until the worker has mapped them. The queued work holds the
 * disk's premapping state; it does nothing once blk_dma_tag_del_disk() ran
 * (which also cancels it). Noio allocations keep it safe if it runs inside
 * a later suspend, where a table swap then waits for it.
 *
 * Context: any.
 */
void blk_dma_tag_members_joined(struct gendisk *disk)
{
	struct blk_dma_tag_disk *dt = blk_dma_tag_stack(disk);

	if (!dt)
		return;
	refcount_inc(&dt->ref);
	if (!queue_work(system_unbound_wq, &dt->remap_work))
		blk_dma_tag_disk_put(dt);
}
EXPORT_SYMBOL_GPL(blk_dma_tag_members_joined);

/**
 * DOC: retirement
 *
 * A tag is retired in the background, never by whoever unmaps it:
 *
 * 1. blk_dma_tag_unmap() (the owner) or a membership change (the composite
 *    that owns a member tag) stops the tag: it is marked stopped under the
 *    disk's stop_lock (a spinlock: a stop never waits for a mapping, a
 *    driver's unmap or a removal) and its IO reference is killed, so no new
 *    IO takes it. It stays in the disk's lookup tree, where a lookup fails
 *    to take its killed reference.
 * 2. The kill completes a grace period later. The last IO reference and
 *    the owner's release each set a bit; the second queues the tag on a
 *    lock-free list and schedules the retire worker.
 * 3. The worker takes every tag queued so far: it erases each from its
 *    disk's lookup tree and has the driver undo the mapping (a composite
 *    tag stops its member tags, which come back through step 2). Then it
 *    waits one grace period for lookups that may still see the tags, and
 *    frees them, dropping their hold on the owner's buffer and on the
 *    disk's premapping state.
 *
 * So a ring exit, an unregister of a thousand buffers, a member removal in
 * md's thread or a table swap inside a dm suspend stop tags and return,
 * and the grace periods are paid by the worker, one per batch and per
 * stacking level, instead of one per tag by the caller. del_gendisk()
 * still undoes every mapping of its disk before it returns.
 */
static LLIST_HEAD(blk_dma_tag_drained);
static void blk_dma_tag_retire_fn(struct work_struct *work);
static DECLARE_WORK(blk_dma_tag_retire_work, blk_dma_tag_retire_fn);
/* tags freed by the worker, for blk_dma_tag_flush() */
static atomic_long_t blk_dma_tag_nr_freed;

/**
 * blk_dma_tag_disk_put() - drop a hold on a disk's premapping state
 * @dt: the state, from blk_dma_tag_disk_get() (or a tag's)
 *
 * The last hold frees it: the disk's own, dropped at its release, or a
 * tag's or an owner's after that.
 *
 * Context: process context.
 */
void blk_dma_tag_disk_put(struct blk_dma_tag_disk *dt)
{
	if (!refcount_dec_and_test(&dt->ref))
		return;
	/* the last tag of the disk was finished, and left the index */
	WARN_ON_ONCE(!mtree_empty(&dt->index) || dt->hot.nr_indexed);
	mtree_destroy(&dt->index);
	free_percpu(dt->hot.stats);
	kfree(dt);
}
EXPORT_SYMBOL_GPL(blk_dma_tag_disk_put);

/**
 * blk_dma_buf_put() - drop a reference on a premapped buffer
 * @buf: the buffer; its owner drops its own reference when it lets go
 *
 * The last reference calls @buf->release.
 *
 * Context: process context.
 */
void blk_dma_buf_put(struct blk_dma_buf *buf)
{
	if (refcount_dec_and_test(&buf->ref))
		buf->release(buf);
}
EXPORT_SYMBOL_GPL(blk_dma_buf_put);

static void blk_dma_tag_queue_retire(struct blk_dma_tag *tag)
{
	if (llist_add(&tag->retire, &blk_dma_tag_drained))
		queue_work(system_unbound_wq, &blk_dma_tag_retire_work);
}

/*
 * Set @bit (BLK_DMA_TAG_RELEASED or BLK_DMA_TAG_DRAINED, each set once) in
 * @tag's state: whoever sets the second queues the tag for retirement.
 */
static void blk_dma_tag_set_state(struct blk_dma_tag *tag, int bit)
{
	int both = BLK_DMA_TAG_RELEASED | BLK_DMA_TAG_DRAINED;

	if (atomic_fetch_or(bit, &tag->state) == (both & ~bit))
		blk_dma_tag_queue_retire(tag);
}

/* the last IO reference: any context */
static void blk_dma_tag_users_gone(struct percpu_ref *ref)
{
	struct blk_dma_tag *tag = container_of(ref, struct blk_dma_tag, users);

	complete_all(&tag->drained);
	blk_dma_tag_set_state(tag, BLK_DMA_TAG_DRAINED);
}

/*
 * Stop new IO from taking @tag; its IO drains from then on. The index names
 * it until it is finished: a lookup that finds it fails to take the killed
 * reference, and the tag is freed only a grace period after it left the
 * index. Only the first stop of a tag does anything.
 */
static void blk_dma_tag_stop(struct blk_dma_tag_disk *dt,
			     struct blk_dma_tag *tag)
{
	bool stop;

	spin_lock(&dt->stop_lock);
	stop = !tag->stopped;
	if (stop)
		WRITE_ONCE(tag->stopped, true);
	spin_unlock(&dt->stop_lock);
	if (stop)
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
	blk_dma_tag_unindex(dt, tag);
	list_del_init(&tag->node);
	if (tag->kind == BLK_DMA_TAG_COMPOSITE)
		blk_dma_tag_unmap_members(tag);
	else
		tag->disk->fops->dma_tag_ops->unmap(tag->disk, tag);
	tag->priv = NULL;
	tag->finished = true;
	spin_lock(&dt->stop_lock);
	/* the bound counts a mapping until it is undone */
	dt->mapped_bytes -= tag->pos[tag->nr_bvecs];
	dt->unmaps++;
	spin_unlock(&dt->stop_lock);
}

/* free a retired tag: its mapping is undone and no lookup can see it */
static void blk_dma_tag_destroy(struct blk_dma_tag *tag)
{
	struct blk_dma_tag_disk *dt = tag->dt;
	struct blk_dma_buf *buf = tag->buf;

	/* lookups that found the tag in the index have tried its ref by now */
	percpu_ref_exit(&tag->users);
	blk_dma_tag_free(tag);
	blk_dma_buf_put(buf);
	blk_dma_tag_disk_put(dt);
	atomic_long_inc(&blk_dma_tag_nr_freed);
}

static void blk_dma_tag_retire_fn(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&blk_dma_tag_drained);
	struct blk_dma_tag *tag, *next;
	unsigned int noio;

	/* a table swap inside a dm suspend may wait for these locks */
	noio = memalloc_noio_save();
	llist_for_each_entry(tag, list, retire) {
		struct blk_dma_tag_disk *dt = tag->dt;

		mutex_lock_nested(&dt->lock, tag->depth);
		if (!tag->finished)
			blk_dma_tag_finish(dt, tag);
		mutex_unlock(&dt->lock);
		cond_resched();
	}
	memalloc_noio_restore(noio);
	/* lookups may still see the tags taken out of the indexes above */
	synchronize_rcu();
	llist_for_each_entry_safe(tag, next, list, retire) {
		blk_dma_tag_destroy(tag);
		cond_resched();
	}
}

/**
 * blk_dma_tag_flush() - wait for the retirement of unmapped tags
 *
 * For tests and for callers that must see the counters settle. Returns once
 * every tag unmapped before the call whose IO has completed is retired,
 * including the member tags of composite tags retired meanwhile, at any
 * stacking depth: the drivers have undone the mappings and the owners'
 * buffers are released. Tags unmapped meanwhile by others may be left.
 *
 * Context: process context, may sleep (a grace period or two per stacking
 * level); no disk's tag lock held (the worker takes them).
 */
void blk_dma_tag_flush(void)
{
	unsigned int level;
	long freed;

	/* one round per stacking level: a composite retires its members */
	for (level = 0; level <= BLK_DMA_TAG_MAX_DEPTH + 1; level++) {
		freed = atomic_long_read(&blk_dma_tag_nr_freed);
		/* the kills' grace periods, then the worker they queued */
		rcu_barrier();
		flush_work(&blk_dma_tag_retire_work);
		if (atomic_long_read(&blk_dma_tag_nr_freed) == freed)
			break;
	}
}

/**
 * blk_dma_tag_map() - premap a buffer for a block device
 * @bdev: the device (a partition maps for its whole disk)
 * @bvec: the buffer; it must stay unchanged while @buf is referenced
 * @nr_bvecs: entries in @bvec
 * @buf: the owner's hold on the buffer (required): the tag and its member
 *	tags take a reference each and drop it when they are retired
 *
 * Direct IO to @bdev's disk on a bvec iterator over @bvec then carries the
 * tag and its driver skips per-IO DMA mapping. The mapping allocates
 * without IO: a table swap inside a dm suspend may wait for the disk's tag
 * lock (a stacking disk's, or a member's to unmap a member tag there).
 *
 * Context: process context, may sleep.
 * Return: the tag, or an ERR_PTR(): -EOPNOTSUPP when the disk has no
 * premapping or it is switched off, or its driver refused the buffer;
 * -ENODEV when the disk is being removed; -ENOSPC beyond max_mapped_bytes;
 * -EINVAL for an empty buffer; -EBUSY when @bvec overlaps the bvec array of
 * another tag of the disk in part (the arrays of the tags of a disk must be
 * the same or disjoint); -ENOMEM.
 */
struct blk_dma_tag *blk_dma_tag_map(struct block_device *bdev,
				    const struct bio_vec *bvec,
				    unsigned int nr_bvecs,
				    struct blk_dma_buf *buf)
{
	return __blk_dma_tag_map(bdev, bvec, nr_bvecs, buf, 0);
}
EXPORT_SYMBOL_GPL(blk_dma_tag_map);

/* count @bytes against the disk's bound, or -ENOSPC */
static int blk_dma_tag_reserve(struct blk_dma_tag_disk *dt, u64 bytes)
{
	int ret = -ENOSPC;

	spin_lock(&dt->stop_lock);
	if (dt->mapped_bytes + bytes <= dt->max_mapped_bytes) {
		dt->mapped_bytes += bytes;
		ret = 0;
	}
	spin_unlock(&dt->stop_lock);
	return ret;
}

static struct blk_dma_tag *__blk_dma_tag_map(struct block_device *bdev,
					     const struct bio_vec *bvec,
					     unsigned int nr_bvecs,
					     struct blk_dma_buf *buf,
					     unsigned int depth)
{
	struct gendisk *disk = bdev->bd_disk;
	struct blk_dma_tag_disk *dt = disk->dma_tag;
	const struct blk_dma_tag_ops *ops;
	struct blk_dma_tag *tag;
	unsigned int noio = 0;
	int ret;

	if (!dt)
		return ERR_PTR(-EOPNOTSUPP);
	if (depth > BLK_DMA_TAG_MAX_DEPTH)
		return ERR_PTR(-ELOOP);
	ops = disk->fops->dma_tag_ops;
	tag = blk_dma_tag_alloc(disk, ops->members ? BLK_DMA_TAG_COMPOSITE :
				BLK_DMA_TAG_LEAF, bvec, nr_bvecs,
				BLK_DMA_TAG_GFP);
	if (IS_ERR(tag))
		return tag;
	tag->depth = depth;
	tag->buf = buf;
	tag->dt = dt;
	INIT_LIST_HEAD(&tag->node);
	init_completion(&tag->drained);
	/* pcpu_alloc() keeps __GFP_NORETRY, not __GFP_RETRY_MAYFAIL */
	ret = percpu_ref_init(&tag->users, blk_dma_tag_users_gone, 0,
			      GFP_KERNEL_ACCOUNT | __GFP_NORETRY | __GFP_NOWARN);
	if (ret)
		goto out_free;

	noio = memalloc_noio_save();
	mutex_lock_nested(&dt->lock, depth);
	if (dt->dead)
		ret = -ENODEV;
	else if (READ_ONCE(dt->mode) == BLK_DMA_PREMAP_OFF)
		ret = -EOPNOTSUPP;
	else
		ret = blk_dma_tag_reserve(dt, tag->pos[nr_bvecs]);
	if (ret)
		goto out_unlock;
	if (tag->kind == BLK_DMA_TAG_COMPOSITE)
		ret = blk_dma_tag_map_members(tag);
	else
		ret = ops->map(disk, tag);
	if (ret)
		goto out_unreserve;

	ret = blk_dma_tag_index(dt, tag);
	if (ret) {
		/* no bio found the tag: it was never in the index */
		if (tag->kind == BLK_DMA_TAG_COMPOSITE)
			blk_dma_tag_unmap_members(tag);
		else
			ops->unmap(disk, tag);
		goto out_unreserve;
	}
	list_add_tail(&tag->node, &dt->tags);
	spin_lock(&dt->stop_lock);
	dt->maps++;
	spin_unlock(&dt->stop_lock);
	refcount_inc(&dt->ref);
	refcount_inc(&buf->ref);
	mutex_unlock(&dt->lock);
	memalloc_noio_restore(noio);
	return tag;

out_unreserve:
	spin_lock(&dt->stop_lock);
	dt->mapped_bytes -= tag->pos[nr_bvecs];
	spin_unlock(&dt->stop_lock);
out_unlock:
	mutex_unlock(&dt->lock);
	memalloc_noio_restore(noio);
	percpu_ref_exit(&tag->users);
out_free:
	blk_dma_tag_free(tag);
	return ERR_PTR(ret);
}

/**
 * blk_dma_tag_unmap() - undo blk_dma_tag_map()
 * @tag: the tag; NULL is ignored. The caller must not use it afterwards.
 *
 * Stops new IO from taking the tag and returns without waiting. The mapping
 * is undone once the IO that still carries the tag has completed, and the
 * tag then drops its reference on the owner's buffer (blk_dma_tag_flush()
 * waits for that). A tag the disk revoked on removal is freed by the worker.
 * The mapping counts in the disk's mapped_bytes until it is undone.
 *
 * Context: process context; does not sleep. It never waits for the disk's
 * tag lock, so a dm table swap inside a suspend and md's thread may unmap
 * member tags whatever a mapping or a driver's unmap holds.
 */
void blk_dma_tag_unmap(struct blk_dma_tag *tag)
{
	if (!tag)
		return;
	/* a tag del_gendisk() revoked is stopped already */
	blk_dma_tag_stop(tag->dt, tag);
	blk_dma_tag_set_state(tag, BLK_DMA_TAG_RELEASED);
}
EXPORT_SYMBOL_GPL(blk_dma_tag_unmap);

/**
 * blk_dma_tag_evict() - unmap a tag to make room for another
 * @tag: the tag; the caller must not use it afterwards
 *
 * blk_dma_tag_unmap(), counted in the disk's dma_tag/evictions: an owner
 * that bounds the devices it keeps a buffer mapped on drops the least
 * recently used mapping with it, so that an admin sees mappings that are
 * made and dropped again.
 *
 * Context: process context; does not sleep.
 */
void blk_dma_tag_evict(struct blk_dma_tag *tag)
{
	struct blk_dma_tag_disk *dt = tag->dt;

	spin_lock(&dt->stop_lock);
	dt->evictions++;
	spin_unlock(&dt->stop_lock);
	blk_dma_tag_unmap(tag);
}
EXPORT_SYMBOL_GPL(blk_dma_tag_evict);

/**
 * blk_dma_tag_disk_get() - hold the premapping state of a block device
 * @bdev: the device, open (or otherwise kept) by the caller
 *
 * For an owner that remembers a device by its premapping state, and keeps
 * it after the device is closed: the state outlives the disk while held,
 * so the pointer is never the state of another disk, and holding it does
 * not keep the disk, its driver or an open, so the device can be removed
 * (dmsetup remove, mdadm --stop) at any time. Compare with
 * bdev->bd_disk->dma_tag; drop with blk_dma_tag_disk_put().
 *
 * Return: the state, or NULL when the disk has no premapping.
 */
struct blk_dma_tag_disk *blk_dma_tag_disk_get(struct block_device *bdev)
{
	struct blk_dma_tag_disk *dt = bdev->bd_disk->dma_tag;

	if (dt)
		refcount_inc(&dt->ref);
	return dt;
}
EXPORT_SYMBOL_GPL(blk_dma_tag_disk_get);

/* disks in auto mode: while there is none, auto mode costs no call per IO */
atomic_t blk_dma_premap_nr_auto = ATOMIC_INIT(0);

/* @dt->stop_lock held: switch @dt to @mode, and count the disks in auto */
static void blk_dma_premap_set_mode(struct blk_dma_tag_disk *dt, int mode)
{
	lockdep_assert_held(&dt->stop_lock);
	if (dt->mode != BLK_DMA_PREMAP_AUTO && mode == BLK_DMA_PREMAP_AUTO)
		atomic_inc(&blk_dma_premap_nr_auto);
	else if (dt->mode == BLK_DMA_PREMAP_AUTO && mode != BLK_DMA_PREMAP_AUTO)
		atomic_dec(&blk_dma_premap_nr_auto);
	WRITE_ONCE(dt->mode, mode);
}

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
	dt->hot.stats = alloc_percpu(struct blk_dma_tag_stats);
	if (!dt->hot.stats) {
		kfree(dt);
		return -ENOMEM;
	}
	mutex_init(&dt->lock);
	spin_lock_init(&dt->stop_lock);
	refcount_set(&dt->ref, 1);
	dt->disk = disk;
	INIT_WORK(&dt->remap_work, blk_dma_tag_remap_fn);
	INIT_LIST_HEAD(&dt->tags);
	mt_init_flags(&dt->index, MT_FLAGS_USE_RCU);
	dt->mode = BLK_DMA_PREMAP_ON;
	dt->max_mapped_bytes = BLK_DMA_TAG_DEFAULT_MAX_BYTES;
	disk->dma_tag = dt;
	return 0;
}

/**
 * blk_dma_tag_del_disk() - revoke every tag of a disk being deleted
 * @disk: the disk
 *
 * Called by del_gendisk() once the queue has drained and the bios held by
 * blk-throttle were cancelled: the driver unmaps every buffer while its
 * device is still there. A stacking driver calls it earlier, before it
 * releases its members (dm destroys its table before the disk), with no IO
 * left either. The only wait for IO under the disk's tag lock is here: for
 * the bios blk-throttle is failing, which need nothing but its dispatch work.
 * The owners of the tags free them later with blk_dma_tag_unmap(). Calling
 * it again does nothing.
 */
void blk_dma_tag_del_disk(struct gendisk *disk)
{
	struct blk_dma_tag_disk *dt = disk->dma_tag;
	struct blk_dma_tag *tag;

	if (!dt)
		return;
	/* a remap queued by a resume: the members are about to go */
	if (cancel_work_sync(&dt->remap_work))
		blk_dma_tag_disk_put(dt);	/* the queued work's */
	mutex_lock(&dt->lock);
	dt->dead = true;
	list_for_each_entry(tag, &dt->tags, node)
		blk_dma_tag_stop(dt, tag);
	/* no IO is left on the disk; tags unmapped by their owners included */
	while ((tag = list_first_entry_or_null(&dt->tags, struct blk_dma_tag,
					       node))) {
		wait_for_completion(&tag->drained);
		blk_dma_tag_finish(dt, tag);
		WRITE_ONCE(tag->revoked, true);
	}
	mutex_unlock(&dt->lock);
}
EXPORT_SYMBOL_GPL(blk_dma_tag_del_disk);

/**
 * blk_dma_tag_release_disk() - let go of a disk's premapping state
 * @disk: the disk, from disk_release()
 *
 * The state is freed when the last tag made on the disk is freed too.
 */
void blk_dma_tag_release_disk(struct gendisk *disk)
{
	struct blk_dma_tag_disk *dt = disk->dma_tag;

	if (!dt)
		return;
	/* del_gendisk() finished every tag: a tag still listed leaked */
	WARN_ON_ONCE(!list_empty(&dt->tags));
	/* the sysfs files are gone: no mode is set any more */
	spin_lock(&dt->stop_lock);
	blk_dma_premap_set_mode(dt, BLK_DMA_PREMAP_OFF);
	spin_unlock(&dt->stop_lock);
	disk->dma_tag = NULL;
	/* tags revoked but not yet freed by their owners hold it */
	blk_dma_tag_disk_put(dt);
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
	spin_lock(&dt->stop_lock);
	blk_dma_premap_set_mode(dt, mode);
	spin_unlock(&dt->stop_lock);
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
		struct blk_dma_tag_stats *s = per_cpu_ptr(dt->hot.stats, cpu);

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

/* a u64 of struct blk_dma_tag_disk, read under its stop_lock */
static ssize_t blk_dma_tag_show_u64(struct device *dev, char *buf,
				    size_t offset)
{
	struct blk_dma_tag_disk *dt = dev_to_dma_tag(dev);
	u64 val;

	spin_lock(&dt->stop_lock);
	val = *(u64 *)((char *)dt + offset);
	spin_unlock(&dt->stop_lock);
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

static ssize_t evictions_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return blk_dma_tag_show_u64(dev, buf,
			offsetof(struct blk_dma_tag_disk, evictions));
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
static DEVICE_ATTR_RO(evictions);
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
	spin_lock(&dt->stop_lock);
	dt->max_mapped_bytes = val;
	spin_unlock(&dt->stop_lock);
	return count;
}
static DEVICE_ATTR_RW(max_mapped_bytes);

static struct attribute *blk_dma_tag_attrs[] = {
	&dev_attr_premapped_ios.attr,
	&dev_attr_fallback_ios.attr,
	&dev_attr_maps.attr,
	&dev_attr_unmaps.attr,
	&dev_attr_remaps.attr,
	&dev_attr_evictions.attr,
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
