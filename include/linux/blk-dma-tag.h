/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DMA tags: a per-bio hint that the pages of the bio's bvec array are already
 * DMA-mapped for the device the bio is submitted to.
 *
 * See Documentation/block/dma-tags.rst.
 */
#ifndef __LINUX_BLK_DMA_TAG_H
#define __LINUX_BLK_DMA_TAG_H

#include <linux/atomic.h>
#include <linux/blk_types.h>
#include <linux/blkdev.h>
#include <linux/bvec.h>
#include <linux/completion.h>
#include <linux/list.h>
#include <linux/percpu.h>
#include <linux/llist.h>
#include <linux/percpu-refcount.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>

struct attribute_group;
struct blk_dma_tag_disk;
struct blk_dma_tag_members;
struct block_device;
struct gendisk;
struct request_queue;

/**
 * enum blk_dma_tag_kind - what a DMA tag stands for
 * @BLK_DMA_TAG_LEAF: the buffer is mapped for the DMA device of @disk; the
 *	driver of @disk made the mapping and owns @priv.
 * @BLK_DMA_TAG_COMPOSITE: @disk stacks other block devices (dm, md); the tag
 *	stands for one tag (or none) per member, chosen when a bio is submitted
 *	to that member.
 */
enum blk_dma_tag_kind {
	BLK_DMA_TAG_LEAF,
	BLK_DMA_TAG_COMPOSITE,
};

/**
 * enum blk_dma_premap - when a device premaps registered buffers
 * @BLK_DMA_PREMAP_OFF: never; blk_dma_tag_map() fails with -EOPNOTSUPP.
 * @BLK_DMA_PREMAP_ON: when an application asks (IORING_REGISTER_MAP_BUFFERS).
 * @BLK_DMA_PREMAP_AUTO: also on the first fixed-buffer IO through a
 *	registered file of the device, for applications that do not ask.
 */
enum blk_dma_premap {
	BLK_DMA_PREMAP_OFF,
	BLK_DMA_PREMAP_ON,
	BLK_DMA_PREMAP_AUTO,
};

/**
 * struct blk_dma_buf - the owner's buffer, as long as any mapping of it lives
 * @ref: one reference for the owner, one per tag made on the buffer
 *	(a composite tag and each of its member tags)
 * @release: called once the last reference is gone, in process context; the
 *	owner may then unpin the pages and free the bvec array
 *
 * Tags are retired after their last IO, in the background: the owner that
 * unmaps a tag does not wait. Until @release runs, a mapping may still point
 * at the pages, so the owner keeps them pinned, and the bvec array in place,
 * until then. See "Lifetime" in Documentation/block/dma-tags.rst.
 */
struct blk_dma_buf {
	refcount_t ref;
	void (*release)(struct blk_dma_buf *buf);
};

/**
 * struct blk_dma_tag - a buffer premapped for DMA on one block device
 * @disk: the device the tag is valid for: a bio carrying the tag while it is
 *	submitted to another device has its tag translated or dropped.
 * @kind: leaf or composite.
 * @bvec: the buffer, as the bvec array that bios built on it point into
 *	(an io_uring registered buffer's array). The tag does not own it.
 * @nr_bvecs: entries in @bvec.
 * @pos: @pos[i] is the byte position of @bvec[i] in the buffer;
 *	@pos[@nr_bvecs] is the buffer's length.
 * @priv: the mapping, private to the driver of @disk (leaf tags).
 * @buf: the owner's buffer; the tag holds a reference on it.
 * @dt: the premapping state of @disk; the tag holds a reference on it, so
 *	that a tag retired after its disk was deleted can still be freed.
 * @members: composite tags: the member table (RCU), see blk-dma-tag-disk.c.
 * @depth: 0 for a tag made for its owner, n + 1 for a member tag of a tag of
 *	depth n (the lock nesting level of its disk).
 * @node: entry in the device's list of tags not yet retired.
 * @index_next: the next tag of the same bvec range on the device, in the
 *	chain that the device's lookup index keeps per range (RCU).
 * @users: one reference per IO that carries the tag, plus the initial one;
 *	unmapping kills it; the tag is retired once it dropped to zero and the
 *	owner released the tag.
 * @drained: completed when the last IO carrying the tag has completed.
 * @retire: entry in the list of tags waiting to be retired.
 * @state: BLK_DMA_TAG_RELEASED once the owner called blk_dma_tag_unmap(),
 *	BLK_DMA_TAG_DRAINED once @users dropped to zero; with both the tag is
 *	queued for retirement.
 * @stopped: no new IO may take the tag (under the disk's stop lock).
 * @finished: the driver's mapping is undone (under the disk's tag lock).
 * @revoked: the device went away and undid the mapping (@finished too).
 *
 * The tag holds @buf until it is freed, so the owner's pages and bvec array
 * outlive the mapping. In-flight IO is accounted in @users: the mapping is
 * undone after the last IO that carries the tag, never before.
 */
struct blk_dma_tag {
	struct gendisk *disk;
	enum blk_dma_tag_kind kind;
	const struct bio_vec *bvec;
	unsigned int nr_bvecs;
	u64 *pos;
	void *priv;
	struct blk_dma_buf *buf;
	struct blk_dma_tag_disk *dt;
	struct blk_dma_tag_members __rcu *members;
	unsigned int depth;
	struct list_head node;
	struct blk_dma_tag __rcu *index_next;
	struct percpu_ref users;
	struct completion drained;
	struct llist_node retire;
	atomic_t state;
	bool stopped;
	bool finished;
	bool revoked;
};

/*
 * What a mapping allocates is charged to the memory cgroup of the task that
 * maps, and fails rather than invoke the OOM killer: the caller gets -ENOMEM.
 */
#define BLK_DMA_TAG_GFP	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

#define BLK_DMA_TAG_RELEASED	0x1
#define BLK_DMA_TAG_DRAINED	0x2

/* called by a stacking driver's ->members for each member device */
typedef int (*blk_dma_tag_member_fn)(struct block_device *bdev, void *data);

/**
 * struct blk_dma_tag_ops - what a block driver provides to premap buffers
 * @map: leaf drivers: map @tag's buffer for DMA by the device behind @disk
 *	and store the mapping in @tag->priv. Return 0, or -EOPNOTSUPP when
 *	this device or this buffer cannot be premapped (IO then stays on the
 *	ordinary path), -ENOMEM, -ENODEV.
 * @unmap: leaf drivers: undo @map. Called once no IO carries the tag any
 *	more, before the disk is deleted at the latest, under the disk's tag
 *	lock in a noio scope, from the retire worker or del_gendisk(); maybe
 *	after the opener closed the device.
 * @members: stacking drivers (instead of @map and @unmap): call @fn for each
 *	member block device that bios of @disk reach with their original pages.
 *	The block core maps the buffer on each and translates the tag when a
 *	bio is submitted to a member. Called in process context; the driver
 *	keeps the members open until it calls blk_dma_tag_members_changed(),
 *	blk_dma_tag_members_left() or blk_dma_tag_del_disk(). Return what @fn
 *	returned, and nothing else: during a membership change the core cannot
 *	tell leaving members from staying ones without the list, so small
 *	allocations here must not fail (__GFP_NOFAIL).
 *
 * Set in block_device_operations.dma_tag_ops.
 */
struct blk_dma_tag_ops {
	int (*map)(struct gendisk *disk, struct blk_dma_tag *tag);
	void (*unmap)(struct gendisk *disk, struct blk_dma_tag *tag);
	int (*members)(struct gendisk *disk, blk_dma_tag_member_fn fn,
		       void *data);
};

/**
 * struct blk_dma_tag_loc - where a bio's data starts in a tag's buffer
 * @idx: index of the bvec holding the first byte
 * @offset: byte offset of the first byte in that bvec (from its bv_offset)
 * @pos: byte position of the first byte in the whole buffer
 */
struct blk_dma_tag_loc {
	unsigned int idx;
	unsigned int offset;
	u64 pos;
};

#ifdef CONFIG_BLK_DMA_TAG

struct blk_dma_tag *blk_dma_tag_alloc(struct gendisk *disk,
				      enum blk_dma_tag_kind kind,
				      const struct bio_vec *bvec,
				      unsigned int nr_bvecs, gfp_t gfp);
void blk_dma_tag_free(struct blk_dma_tag *tag);
/**
 * blk_dma_tag_locate() - find a bio's data in a tag's buffer
 * @tag: the tag
 * @bio: a bio whose bi_io_vec may point into @tag->bvec
 * @loc: where the data starts, filled when the bio lies inside the buffer
 *
 * The rule that keeps tags safe: a driver builds a premapped command for @bio
 * only when this returns true, and then from @loc. A bio built on another
 * array, or reaching past the end of the buffer, gets false and is mapped
 * the ordinary way. Inline: it runs once per premapped IO.
 *
 * Context: any.
 * Return: true when all of @bio's data lies inside the tag's buffer.
 */
static inline bool blk_dma_tag_locate(const struct blk_dma_tag *tag,
				      const struct bio *bio,
				      struct blk_dma_tag_loc *loc)
{
	uintptr_t first = (uintptr_t)tag->bvec;
	uintptr_t end = (uintptr_t)(tag->bvec + tag->nr_bvecs);
	uintptr_t bv = (uintptr_t)(bio->bi_io_vec + bio->bi_iter.bi_idx);
	unsigned int idx, done = bio->bi_iter.bi_bvec_done;

	if (bv < first || bv >= end ||
	    (bv - first) % sizeof(struct bio_vec))
		return false;
	idx = (bv - first) / sizeof(struct bio_vec);
	if (done >= tag->bvec[idx].bv_len)
		return false;
	loc->idx = idx;
	loc->offset = done;
	loc->pos = tag->pos[idx] + done;
	return loc->pos + bio->bi_iter.bi_size <= tag->pos[tag->nr_bvecs];
}

void blk_dma_tag_members_changed(struct gendisk *disk);
void blk_dma_tag_members_left(struct gendisk *disk);
void blk_dma_tag_members_joined(struct gendisk *disk);

struct blk_dma_tag *blk_dma_tag_map(struct block_device *bdev,
				    const struct bio_vec *bvec,
				    unsigned int nr_bvecs,
				    struct blk_dma_buf *buf);
void blk_dma_tag_unmap(struct blk_dma_tag *tag);
void blk_dma_tag_evict(struct blk_dma_tag *tag);
struct blk_dma_tag_disk *blk_dma_tag_disk_get(struct block_device *bdev);
void blk_dma_tag_disk_put(struct blk_dma_tag_disk *dt);
void blk_dma_tag_flush(void);
void blk_dma_buf_put(struct blk_dma_buf *buf);

/**
 * blk_dma_buf_init() - set up the owner's reference on a buffer
 * @buf: the buffer's hold, embedded in the owner's buffer object
 * @release: what frees the buffer once no mapping of it is left
 */
static inline void blk_dma_buf_init(struct blk_dma_buf *buf,
				    void (*release)(struct blk_dma_buf *buf))
{
	refcount_set(&buf->ref, 1);
	buf->release = release;
}

bool bdev_dma_premap_auto(struct block_device *bdev);
extern atomic_t blk_dma_premap_nr_auto;

/**
 * blk_dma_premap_auto_any() - is any disk in auto mode?
 *
 * The first test of auto mode on every fixed-buffer IO: while no disk is in
 * auto mode (the default), it is all that auto mode costs, a load, no call.
 *
 * Return: true when at least one disk's queue/dma_premap is "auto".
 */
static inline bool blk_dma_premap_auto_any(void)
{
	return atomic_read(&blk_dma_premap_nr_auto);
}

/**
 * struct blk_dma_tag_stats - a disk's IO counters, per CPU
 * @premapped: IOs whose command the driver built from their tag
 * @fallback: IOs that carried a tag and were mapped per IO all the same
 */
struct blk_dma_tag_stats {
	u64 premapped;
	u64 fallback;
};

/**
 * struct blk_dma_tag_disk_hot - what the submit path reads of a disk's tags
 * @nr_indexed: tags in the disk's lookup index; while it is 0, direct IO on
 *	the disk looks nothing up and costs no call
 * @stats: the counters blk_dma_tag_account() bumps
 *
 * The first member of the disk's tag state (struct blk_dma_tag_disk, private
 * to block/blk-dma-tag-disk.c), so that blk_dma_tag_attach() and
 * blk_dma_tag_account() work inline.
 */
struct blk_dma_tag_disk_hot {
	unsigned int nr_indexed;
	struct blk_dma_tag_stats __percpu *stats;
};

struct blk_dma_tag *__blk_dma_tag_attach(struct bio *bio);

/**
 * blk_dma_tag_attach() - give a bio built on a premapped buffer its tag
 * @bio: a direct-IO bio just built by bio_iov_iter_get_pages()
 *
 * Bios on user pages (which have their own bvec array, and page references)
 * and bios of a disk with no tag indexed return at once, inline; see
 * __blk_dma_tag_attach() for the rest.
 *
 * Context: the submit path; does not sleep.
 * Return: the tag, to be passed to blk_dma_tag_put() once the IO, and every
 * bio split or cloned from @bio, has completed; NULL if none.
 */
static inline struct blk_dma_tag *blk_dma_tag_attach(struct bio *bio)
{
	const struct blk_dma_tag_disk_hot *hot =
		(const void *)bio->bi_bdev->bd_disk->dma_tag;

	if (!hot || !bio_flagged(bio, BIO_NO_PAGE_REF))
		return NULL;
	/* a racy peek: a tag mapped meanwhile is missed by this IO only */
	if (!READ_ONCE(hot->nr_indexed))
		return NULL;
	return __blk_dma_tag_attach(bio);
}

/**
 * blk_dma_tag_account() - count an IO that carried a tag
 * @disk: the disk whose driver built the command
 * @premapped: the command was built from the tag (else mapped per IO)
 *
 * Context: any.
 */
static inline void blk_dma_tag_account(struct gendisk *disk, bool premapped)
{
	const struct blk_dma_tag_disk_hot *hot = (const void *)disk->dma_tag;

	if (!hot)
		return;
	if (premapped)
		this_cpu_inc(hot->stats->premapped);
	else
		this_cpu_inc(hot->stats->fallback);
}

/**
 * struct blk_dma_tag_members - the member table of a composite tag
 * @rcu: frees the table after a grace period
 * @nr: entries in @m
 * @m: one entry per member disk: its tag, or NULL when it could not map
 *	(the member then gets plain IO)
 *
 * Built and replaced by block/blk-dma-tag-disk.c; read here, under RCU, by
 * blk_dma_tag_translate() on the submit path.
 */
struct blk_dma_tag_members {
	struct rcu_head rcu;
	unsigned int nr;
	struct {
		struct gendisk *disk;
		struct blk_dma_tag *tag;
	} m[];
};

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
static inline struct blk_dma_tag *
blk_dma_tag_translate(struct blk_dma_tag *tag, struct gendisk *member)
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

static inline void blk_dma_tag_put(struct blk_dma_tag *tag)
{
	if (tag)
		percpu_ref_put(&tag->users);
}

int blk_dma_tag_add_disk(struct gendisk *disk);
void blk_dma_tag_del_disk(struct gendisk *disk);
void blk_dma_tag_release_disk(struct gendisk *disk);
ssize_t blk_dma_premap_show(struct request_queue *q, char *page);
ssize_t blk_dma_premap_store(struct request_queue *q, const char *page,
			     size_t count);
extern const struct attribute_group blk_dma_tag_attr_group;

static inline struct blk_dma_tag *bio_dma_tag(const struct bio *bio)
{
	return bio->bi_dma_tag;
}

/**
 * bio_set_dma_tag - attach a DMA tag to a bio built on the tag's buffer
 * @bio: the bio; its bi_io_vec must point into @tag->bvec
 * @tag: the tag, or NULL to detach
 */
static inline void bio_set_dma_tag(struct bio *bio, struct blk_dma_tag *tag)
{
	bio->bi_dma_tag = tag;
}

/**
 * blk_dma_tag_bio_prep() - fit a bio's tag to the device it is submitted to
 * @bio: a bio being submitted to bio->bi_bdev
 *
 * Called from __submit_bio(), next to blk-crypto's prep. A tag of the disk
 * the bio is submitted to stays. A composite tag on a bio that a stacking
 * driver remapped to a member becomes that member's entry (or none); any
 * other tag is dropped, and the member maps the IO the ordinary way. Inline,
 * the translation included: a stacked premapped IO makes no call here.
 *
 * Context: the submit path; does not sleep.
 */
static inline void blk_dma_tag_bio_prep(struct bio *bio)
{
	struct blk_dma_tag *tag = bio->bi_dma_tag;
	struct gendisk *disk;

	if (!tag)
		return;
	disk = bio->bi_bdev->bd_disk;
	if (tag->disk == disk)
		return;
	if (tag->kind == BLK_DMA_TAG_COMPOSITE)
		bio->bi_dma_tag = blk_dma_tag_translate(tag, disk);
	else
		bio->bi_dma_tag = NULL;
}

/*
 * Merges: a bio with a tag merges with nothing, and nothing merges into a
 * request that has one. A tagged request therefore always holds exactly one
 * bio, whose position in the buffer the driver finds with
 * blk_dma_tag_locate().
 */
static inline bool blk_dma_tag_merge_ok(const struct bio *a,
					const struct bio *b)
{
	return !a->bi_dma_tag && !b->bi_dma_tag;
}

#else /* CONFIG_BLK_DMA_TAG */

static inline struct blk_dma_tag *bio_dma_tag(const struct bio *bio)
{
	return NULL;
}

static inline struct blk_dma_tag *blk_dma_tag_attach(struct bio *bio)
{
	return NULL;
}

static inline void blk_dma_tag_put(struct blk_dma_tag *tag) { }
static inline int blk_dma_tag_add_disk(struct gendisk *disk) { return 0; }
static inline void blk_dma_tag_del_disk(struct gendisk *disk) { }
static inline void blk_dma_tag_release_disk(struct gendisk *disk) { }

static inline void bio_set_dma_tag(struct bio *bio, struct blk_dma_tag *tag) { }
static inline void blk_dma_tag_bio_prep(struct bio *bio) { }

static inline bool blk_dma_tag_merge_ok(const struct bio *a,
					const struct bio *b)
{
	return true;
}

#endif /* CONFIG_BLK_DMA_TAG */

#endif /* __LINUX_BLK_DMA_TAG_H */
