// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring: registered buffers premapped for DMA on the block devices that
 * registered files and plain descriptors reach: block devices, and regular
 * files on filesystems whose direct IO builds its bios on the buffer
 * (IORING_REGISTER_MAP_BUFFERS / IORING_REGISTER_UNMAP_BUFFERS, auto mode).
 *
 * See Documentation/block/dma-tags.rst.
 */
#include <linux/blk-dma-tag.h>
#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/nospec.h>
#include <linux/sched/mm.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/sysctl.h>
#include <uapi/linux/io_uring.h>

#include "io_uring.h"
#include "rsrc.h"
#include "dma-tag.h"

/**
 * DOC: premapped registered buffers
 *
 * A ring keeps one entry per (registered buffer, registered file) pair that
 * was mapped, and one per (registered buffer, device) pair mapped through
 * plain descriptors: the block layer's tag, or none when auto mode tried
 * and the device said no (so that auto mode does not retry on every IO).
 * The block layer finds the tag of a bio by its bvec array, so nothing else
 * has to carry it. Entries of one buffer that reach the same disk (files of
 * one filesystem, a block device and its partitions, plain descriptors of
 * the device) share one tag, which is unmapped with the last of them.
 *
 * A plain descriptor may be closed at any time and its struct file reused,
 * so its entry names the device, not the file: it holds the device's
 * premapping state (blk_dma_tag_disk_get()), which is never the state of
 * another disk while held, and holds neither the disk nor an open. Closing
 * the descriptor leaves the mapping for the next descriptor of the device;
 * the device stays removable at once (dmsetup remove, mdadm --stop), and its
 * removal revokes the mapping as it does every other. A buffer keeps such
 * entries on at most io_uring_premap_max_devices devices: a new mapping
 * makes room by dropping an entry without a live tag (a failure, a removed
 * device) first, else the least recently used device's, whose unmap its
 * disk counts in dma_tag/evictions. An explicit unmap's opt-out entry is
 * not counted and never dropped: it stays until the buffer goes.
 *
 * @imu->dma_tag_hint remembers the last file a fixed IO of the buffer used,
 * once auto mode had nothing (more) to do for it: io_dma_tag_hint(), the
 * registered file, or a plain descriptor's address space. It is compared,
 * never dereferenced; an address space freed and reused (a device deleted,
 * another one added) only makes auto mode miss that device until IO
 * switches files; no IO goes wrong by it, the tag is found by the buffer.
 *
 * The device of a regular file is the one its filesystem submits direct IO
 * to (super_operations->dio_bdev()). A tag maps memory, not file offsets:
 * the filesystem still picks the sector of every bio at submission, so
 * truncate and extent changes race premapped IO exactly as they race plain
 * direct IO. The open file pins its superblock and so that device.
 *
 * Entries go when the buffer goes (unregister, slot update, ring exit) and
 * when the file goes (unregister, slot update, ring exit), in both cases
 * after io_uring's resource nodes have drained. None of this waits:
 * blk_dma_tag_unmap() only stops the tag, and the block layer undoes the
 * mapping in the background once the IO still in flight with it has
 * completed. The buffer's pages stay pinned, charged and its bvec array
 * allocated until then: a buffer that was ever mapped gets a struct
 * io_dma_buf, and is freed through it by whoever drops the last reference
 * (io_dma_buf_release()), maybe after the ring is gone.
 * The file is put at once, so closing a ring releases its block devices as
 * quickly as without premapping; a device removed meanwhile revokes the
 * mappings itself.
 *
 * An explicit IORING_REGISTER_UNMAP_BUFFERS keeps its entries, without tag:
 * auto mode then leaves the pair alone until the buffer is registered again
 * or IORING_REGISTER_MAP_BUFFERS maps it. A failed auto map (device bound,
 * ring bound, memory cgroup limit) is remembered in the same way, so that
 * it is not retried on every IO.
 *
 * Bounds: a ring holds at most io_uring_premap_max_buffers tags and
 * io_uring_premap_max_bytes bytes in them (sysctl kernel.*, -EDQUOT beyond),
 * below the devices' own max_mapped_bytes (-ENOSPC), so that one ring cannot
 * use up a device's budget. Every allocation of a mapping, here, in the block
 * layer and in the driver, is charged to the memory cgroup of the task that
 * maps, and fails with -ENOMEM rather than invoke the OOM killer.
 *
 * @ctx->dma_tag_lock nests inside uring_lock where both are taken.
 */
/**
 * struct io_dma_buf - a registered buffer as the block layer holds it
 * @buf: one reference for the ring, one per tag made on the buffer
 * @imu: the buffer
 * @user: the user its pages are charged to (RLIMIT_MEMLOCK), or NULL
 * @mm: the mm whose pinned_vm counts them, or NULL
 * @entries: the ring's entries (struct io_dma_tag) of the buffer, one per
 *	registered file and one per device of plain descriptors it was mapped
 *	for: the lookups by buffer walk these, not the ring's list, so that
 *	mapping N buffers costs O(N); entries of devices are moved to the tail
 *	when IO switches to them, so the first is the least recently used
 * @nr_dev: entries of devices (plain descriptors) that count against
 *	io_uring_premap_max_devices: all but explicit unmaps' opt-outs
 *
 * References on @user and @mm let the last tag return the charge after the
 * ring has gone.
 */
struct io_dma_buf {
	struct blk_dma_buf buf;
	struct io_mapped_ubuf *imu;
	struct user_struct *user;
	struct mm_struct *mm;
	struct list_head entries;
	unsigned int nr_dev;
};

/* per ring; io_uring_premap_max_{buffers,bytes} in sysctl kernel */
static unsigned int io_dma_tag_max_nr = 32768;
static unsigned long io_dma_tag_max_bytes = 2UL << 30;
/* per buffer: devices mapped through plain descriptors */
static unsigned int io_dma_tag_max_dev = 8;
static unsigned int io_dma_tag_max_dev_limit = 1024;

static struct ctl_table io_dma_tag_sysctl[] = {
	{
		.procname	= "io_uring_premap_max_buffers",
		.data		= &io_dma_tag_max_nr,
		.maxlen		= sizeof(io_dma_tag_max_nr),
		.mode		= 0644,
		.proc_handler	= proc_douintvec,
	},
	{
		.procname	= "io_uring_premap_max_bytes",
		.data		= &io_dma_tag_max_bytes,
		.maxlen		= sizeof(io_dma_tag_max_bytes),
		.mode		= 0644,
		.proc_handler	= proc_doulongvec_minmax,
	},
	{
		.procname	= "io_uring_premap_max_devices",
		.data		= &io_dma_tag_max_dev,
		.maxlen		= sizeof(io_dma_tag_max_dev),
		.mode		= 0644,
		.proc_handler	= proc_douintvec_minmax,
		.extra1		= SYSCTL_ONE,
		.extra2		= &io_dma_tag_max_dev_limit,
	},
	{ }
};

static int __init io_dma_tag_sysctl_init(void)
{
	register_sysctl_init("kernel", io_dma_tag_sysctl);
	return 0;
}
late_initcall(io_dma_tag_sysctl_init);

/*
 * A buffer mapped for a registered file (@file), or for the device of plain
 * descriptors (@file NULL, @dt held): on the ring's list and on the buffer's.
 * @opt_out: a device's entry that IORING_REGISTER_UNMAP_BUFFERS made.
 */
struct io_dma_tag {
	struct list_head node;
	struct list_head buf_node;
	struct io_mapped_ubuf *imu;
	struct file *file;
	struct blk_dma_tag_disk *dt;
	struct blk_dma_tag *tag;
	bool opt_out;
};

static struct io_dma_tag *io_dma_tag_find(struct io_ring_ctx *ctx,
					  struct io_mapped_ubuf *imu,
					  struct file *file)
{
	struct io_dma_tag *e;

	lockdep_assert_held(&ctx->dma_tag_lock);
	if (!imu->dma_buf)
		return NULL;
	list_for_each_entry(e, &imu->dma_buf->entries, buf_node)
		if (e->file == file)
			return e;
	return NULL;
}

/*
 * An entry of @imu on the disk whose premapping state is @dt: with @tagged
 * any entry with a tag there, else the entry of its plain descriptors. By
 * the state, not the disk: a revoked tag's disk may be freed and its memory
 * be another disk's, the state lives as long as the tag or entry.
 */
static struct io_dma_tag *io_dma_tag_on_disk(struct io_ring_ctx *ctx,
					     struct io_mapped_ubuf *imu,
					     struct blk_dma_tag_disk *dt,
					     bool tagged)
{
	struct io_dma_tag *e;

	lockdep_assert_held(&ctx->dma_tag_lock);
	if (!imu->dma_buf || !dt)
		return NULL;
	list_for_each_entry(e, &imu->dma_buf->entries, buf_node)
		if (tagged ? e->tag && e->tag->dt == dt : !e->file && e->dt == dt)
			return e;
	return NULL;
}

/* the entry of @imu for plain descriptors of the device whose state is @dt */
static struct io_dma_tag *io_dma_tag_find_dev(struct io_ring_ctx *ctx,
					      struct io_mapped_ubuf *imu,
					      struct blk_dma_tag_disk *dt)
{
	return io_dma_tag_on_disk(ctx, imu, dt, false);
}

/*
 * The buffer is unregistered and no mapping of it is left: what
 * io_buffer_unmap() does for a buffer that was never mapped.
 */
static void io_dma_buf_release(struct blk_dma_buf *buf)
{
	struct io_dma_buf *d = container_of(buf, struct io_dma_buf, buf);
	struct io_mapped_ubuf *imu = d->imu;
	unsigned int i;

	for (i = 0; i < imu->nr_bvecs; i++)
		unpin_user_page(imu->bvec[i].bv_page);
	if (d->user) {
		__io_unaccount_mem(d->user, imu->acct_pages);
		free_uid(d->user);
	}
	if (d->mm) {
		atomic64_sub(imu->acct_pages, &d->mm->pinned_vm);
		mmdrop(d->mm);
	}
	kvfree(imu);
	kfree(d);
}

/* the tag of @imu on the disk whose state is @dt, if an entry has one */
static struct blk_dma_tag *io_dma_tag_shared(struct io_ring_ctx *ctx,
					     struct io_mapped_ubuf *imu,
					     struct blk_dma_tag_disk *dt)
{
	struct io_dma_tag *e = io_dma_tag_on_disk(ctx, imu, dt, true);

	return e ? e->tag : NULL;
}

static u64 io_dma_tag_len(const struct io_mapped_ubuf *imu)
{
	return imu->ubuf_end - imu->ubuf;
}

/* a new tag of @imu fits the ring's bounds, or -EDQUOT */
static int io_dma_tag_reserve(struct io_ring_ctx *ctx,
			      struct io_mapped_ubuf *imu)
{
	if (ctx->dma_tag_nr >= READ_ONCE(io_dma_tag_max_nr) ||
	    ctx->dma_tag_bytes + io_dma_tag_len(imu) >
	    READ_ONCE(io_dma_tag_max_bytes))
		return -EDQUOT;
	return 0;
}

/*
 * Drop an entry's tag; the last entry with the tag unmaps it, counted as an
 * eviction with @evict.
 */
static void __io_dma_tag_clear(struct io_ring_ctx *ctx, struct io_dma_tag *e,
			       bool evict)
{
	struct blk_dma_tag *tag = e->tag;

	e->tag = NULL;
	if (!tag || io_dma_tag_shared(ctx, e->imu, tag->dt))
		return;
	if (evict)
		blk_dma_tag_evict(tag);
	else
		blk_dma_tag_unmap(tag);
	ctx->dma_tag_nr--;
	ctx->dma_tag_bytes -= io_dma_tag_len(e->imu);
}

static void io_dma_tag_clear(struct io_ring_ctx *ctx, struct io_dma_tag *e)
{
	__io_dma_tag_clear(ctx, e, false);
}

static void __io_dma_tag_free(struct io_ring_ctx *ctx, struct io_dma_tag *e,
			      bool evict)
{
	__io_dma_tag_clear(ctx, e, evict);
	list_del(&e->node);
	list_del(&e->buf_node);
	if (!e->file) {
		if (!e->opt_out)
			e->imu->dma_buf->nr_dev--;
		blk_dma_tag_disk_put(e->dt);
	}
	kfree(e);
}

/* drop an entry */
static void io_dma_tag_free(struct io_ring_ctx *ctx, struct io_dma_tag *e)
{
	__io_dma_tag_free(ctx, e, false);
}

/* an entry of a device that counts against io_uring_premap_max_devices */
static bool io_dma_tag_counted(const struct io_dma_tag *e)
{
	return !e->file && !e->opt_out;
}

/*
 * Make room on @imu for one more device of plain descriptors (the sysctl
 * may have been lowered: as many as it takes). Entries that map nothing
 * go first (a remembered failure, a device that was removed), then, with
 * @evict_live, the least recently used device's mapping, counted as an
 * eviction. Return: false when there is no room without @evict_live.
 */
static bool io_dma_tag_make_room(struct io_ring_ctx *ctx,
				 struct io_mapped_ubuf *imu, bool evict_live)
{
	struct io_dma_buf *d = imu->dma_buf;
	struct io_dma_tag *e, *victim;

	while (d->nr_dev >= READ_ONCE(io_dma_tag_max_dev)) {
		victim = NULL;
		list_for_each_entry(e, &d->entries, buf_node) {
			if (!io_dma_tag_counted(e))
				continue;
			if (!e->tag || READ_ONCE(e->tag->revoked)) {
				victim = e;
				break;
			}
			if (!victim && evict_live)
				victim = e;
		}
		if (!victim)
			return false;
		__io_dma_tag_free(ctx, victim, true);
		/* auto mode looks again, whatever file it remembered */
		WRITE_ONCE(imu->dma_tag_hint, NULL);
	}
	return true;
}

/**
 * io_dma_tag_bdev() - the block device that IO through a file goes to
 * @file: a registered file or a plain descriptor's
 *
 * Return: the block device itself, or for a regular file the device its
 * filesystem submits direct IO to; ERR_PTR(-EINVAL) for a directory,
 * -EOPNOTSUPP for a regular file whose filesystem cannot say (tmpfs, NFS,
 * DAX), -ENOTBLK for anything else.
 */
static struct block_device *io_dma_tag_bdev(struct file *file)
{
	struct inode *inode = file_inode(file);
	struct block_device *bdev = NULL;

	if (S_ISBLK(inode->i_mode))
		return I_BDEV(file->f_mapping->host);
	if (S_ISDIR(inode->i_mode))
		return ERR_PTR(-EINVAL);
	if (!S_ISREG(inode->i_mode))
		return ERR_PTR(-ENOTBLK);
	if (inode->i_sb->s_op->dio_bdev)
		bdev = inode->i_sb->s_op->dio_bdev(inode);
	return bdev ?: ERR_PTR(-EOPNOTSUPP);
}

/*
 * Map @imu for @bdev (io_dma_tag_bdev() of the request's file) into @e (the
 * pair's entry, NULL if it has none yet, else one without tag). @file: the
 * registered file of the pair, or NULL for the device of plain descriptors.
 * Auto mode records a failure as an entry without tag; an explicit request
 * returns it.
 *
 * Return: the entry, or an ERR_PTR().
 */
static struct io_dma_tag *io_dma_tag_map_one(struct io_ring_ctx *ctx,
					     struct io_mapped_ubuf *imu,
					     struct file *file,
					     struct block_device *bdev,
					     struct io_dma_tag *e,
					     bool record_failure)
{
	struct blk_dma_tag_disk *dt = bdev->bd_disk->dma_tag;
	struct blk_dma_tag *tag;

	/* no state to name the device by: nothing to record either */
	if (!dt)
		return ERR_PTR(-EOPNOTSUPP);
	if (!imu->dma_buf) {
		struct io_dma_buf *d = kzalloc(sizeof(*d), BLK_DMA_TAG_GFP);

		if (!d)
			return ERR_PTR(-ENOMEM);
		/* the ring's reference, dropped when the buffer goes */
		blk_dma_buf_init(&d->buf, io_dma_buf_release);
		d->imu = imu;
		INIT_LIST_HEAD(&d->entries);
		if (ctx->user)
			d->user = get_uid(ctx->user);
		if (ctx->mm_account) {
			mmgrab(ctx->mm_account);
			d->mm = ctx->mm_account;
		}
		imu->dma_buf = d;
	}
	/* another entry of the buffer may reach the same disk */
	tag = io_dma_tag_shared(ctx, imu, dt);
	if (!tag) {
		int ret = io_dma_tag_reserve(ctx, imu);

		tag = ret ? ERR_PTR(ret) :
		      blk_dma_tag_map(bdev, imu->bvec, imu->nr_bvecs,
				      &imu->dma_buf->buf);
		if (!IS_ERR(tag)) {
			ctx->dma_tag_nr++;
			ctx->dma_tag_bytes += io_dma_tag_len(imu);
		}
	}
	if (IS_ERR(tag) && !record_failure)
		return ERR_CAST(tag);
	/*
	 * A device of plain descriptors that is not counted yet (a new entry,
	 * an opt-out mapped again) within the buffer's bound: a mapping may
	 * drop another device's, a failure is remembered only where that
	 * costs no mapping.
	 */
	if (!file && (!e || e->opt_out) &&
	    !io_dma_tag_make_room(ctx, imu, !IS_ERR(tag)))
		return ERR_CAST(tag);
	if (!e) {
		e = kzalloc(sizeof(*e), BLK_DMA_TAG_GFP);
		if (!e) {
			if (!IS_ERR(tag)) {
				struct io_dma_tag tmp = { .imu = imu, .tag = tag };

				io_dma_tag_clear(ctx, &tmp);
			}
			return ERR_PTR(-ENOMEM);
		}
		e->imu = imu;
		e->file = file;
		if (!file) {
			e->dt = blk_dma_tag_disk_get(bdev);
			imu->dma_buf->nr_dev++;
		}
		list_add_tail(&e->node, &ctx->dma_tags);
		list_add_tail(&e->buf_node, &imu->dma_buf->entries);
	} else if (e->opt_out) {
		/* an explicit map of an opted-out device: counted again */
		e->opt_out = false;
		imu->dma_buf->nr_dev++;
	}
	e->tag = IS_ERR(tag) ? NULL : tag;
	return e;
}

/*
 * The file of a map or unmap request: a registered file, or with
 * IORING_MAP_BUFFERS_FD a descriptor of the task (*@plainp set, a reference
 * taken), and for a map (@bdevp set) its device. An unmap of a registered
 * file does not ask the file for its device again: what was mapped through
 * it can always be unmapped.
 */
static int io_dma_tag_file(struct io_ring_ctx *ctx,
			   const struct io_uring_map_buffers *mb,
			   struct file **filep, struct block_device **bdevp,
			   bool *plainp)
{
	struct file *file;
	unsigned int idx;

	*plainp = mb->flags & IORING_MAP_BUFFERS_FD;
	if (*plainp) {
		/* file_index is an int: a negative one is a bad descriptor */
		file = fget(mb->file_index);
		if (!file)
			return -EBADF;
	} else {
		if (!ctx->file_data || mb->file_index >= ctx->nr_user_files)
			return -EBADF;
		idx = array_index_nospec(mb->file_index, ctx->nr_user_files);
		file = io_file_from_index(&ctx->file_table, idx);
		if (!file)
			return -EBADF;
	}
	if (bdevp) {
		*bdevp = io_dma_tag_bdev(file);
		if (IS_ERR(*bdevp)) {
			if (*plainp)
				fput(file);
			return PTR_ERR(*bdevp);
		}
	}
	*filep = file;
	return 0;
}

static int io_dma_tag_args(struct io_ring_ctx *ctx, void __user *arg,
			   unsigned int nr_args, struct io_uring_map_buffers *mb,
			   struct file **filep, struct block_device **bdevp,
			   bool *plainp)
{
	if (!arg || nr_args != 1)
		return -EINVAL;
	if (copy_from_user(mb, arg, sizeof(*mb)))
		return -EFAULT;
	if ((mb->flags & ~IORING_MAP_BUFFERS_FD) || mb->resv[0] || mb->resv[1])
		return -EINVAL;
	if (!ctx->buf_data)
		return -ENXIO;
	if (mb->buf_start >= mb->buf_end || mb->buf_end > ctx->nr_user_bufs)
		return -EINVAL;
	return io_dma_tag_file(ctx, mb, filep, bdevp, plainp);
}

/*
 * The entry of @imu for the request's file: the registered file's, or with
 * @plain the one of the device behind the descriptor (@bdev).
 */
static struct io_dma_tag *io_dma_tag_entry(struct io_ring_ctx *ctx,
					   struct io_mapped_ubuf *imu,
					   struct file *file,
					   struct block_device *bdev,
					   bool plain)
{
	if (plain)
		return io_dma_tag_find_dev(ctx, imu, bdev->bd_disk->dma_tag);
	return io_dma_tag_find(ctx, imu, file);
}

/**
 * io_register_map_buffers() - IORING_REGISTER_MAP_BUFFERS
 * @ctx: the ring, uring_lock held
 * @arg: a struct io_uring_map_buffers
 * @nr_args: 1
 *
 * Premap registered buffers buf_start .. buf_end - 1 for the block device of
 * registered file file_index, or with IORING_MAP_BUFFERS_FD of the task's
 * descriptor file_index: a block device, or a regular file, whose direct IO
 * then uses them (buffered IO never does). Through a descriptor the mapping
 * is the device's: it serves every descriptor of the device, outlives the
 * descriptor, and counts in the buffer's io_uring_premap_max_devices (beyond
 * it the least recently used device's mapping is dropped). Buffers already
 * mapped for that file (or device) stay as they are.
 * All or nothing: on failure the buffers this call mapped are unmapped again
 * (a device evicted meanwhile stays unmapped).
 *
 * Return: 0; -EINVAL (bad arguments, range, flags or reserved fields),
 * -EFAULT (bad pointer, empty buffer slot), -ENXIO (no registered buffers),
 * -EBADF (file_index is not a registered file, or with IORING_MAP_BUFFERS_FD
 * not an open descriptor), -EINVAL (a directory), -ENOTBLK (neither a block
 * device nor a regular file: a pipe, a socket, a character device),
 * -EOPNOTSUPP (a regular file whose filesystem does not say which device its
 * direct IO goes to, or a device that cannot premap or has dma_premap off),
 * -ENODEV (device being removed), -ENOSPC (above the device's
 * max_mapped_bytes), -EDQUOT (above the ring's
 * kernel.io_uring_premap_max_buffers or _max_bytes), -ENOMEM (also when the
 * memory cgroup's limit is reached).
 */
int io_register_map_buffers(struct io_ring_ctx *ctx, void __user *arg,
			    unsigned int nr_args)
{
	struct io_uring_map_buffers mb;
	struct block_device *bdev;
	struct file *file;
	struct io_dma_tag *e;
	struct list_head *list;
	const void *hint;
	unsigned int i;
	LIST_HEAD(added);
	LIST_HEAD(remapped);
	LIST_HEAD(opted_in);
	bool plain;
	int ret;

	ret = io_dma_tag_args(ctx, arg, nr_args, &mb, &file, &bdev, &plain);
	if (ret)
		return ret;
	hint = io_dma_tag_hint(file, !plain);

	mutex_lock(&ctx->dma_tag_lock);
	for (i = mb.buf_start; i < mb.buf_end; i++) {
		struct io_mapped_ubuf *imu;

		/* up to 16384 buffers, each a map on every member */
		cond_resched();
		imu = ctx->user_bufs[array_index_nospec(i, ctx->nr_user_bufs)];

		if (imu == ctx->dummy_ubuf) {
			ret = -EFAULT;
			break;
		}
		e = io_dma_tag_entry(ctx, imu, file, bdev, plain);
		if (e && e->tag) {
			if (plain)	/* the device is the most recently used */
				list_move_tail(&e->buf_node,
					       &imu->dma_buf->entries);
			continue;
		}
		/*
		 * an entry without tag: auto mode failed, or it was unmapped
		 * (a device's opt-out is counted again)
		 */
		list = !e ? &added : e->opt_out ? &opted_in : &remapped;
		e = io_dma_tag_map_one(ctx, imu, plain ? NULL : file, bdev, e,
				       false);
		if (IS_ERR(e)) {
			ret = PTR_ERR(e);
			break;
		}
		list_move_tail(&e->node, list);
		if (plain)
			list_move_tail(&e->buf_node, &imu->dma_buf->entries);
		WRITE_ONCE(imu->dma_tag_hint, hint);
	}
	if (ret) {
		/* new entries go, the others get back their state: no tag */
		while ((e = list_first_entry_or_null(&added, struct io_dma_tag,
						     node))) {
			WRITE_ONCE(e->imu->dma_tag_hint, NULL);
			io_dma_tag_free(ctx, e);
		}
		list_for_each_entry(e, &remapped, node)
			io_dma_tag_clear(ctx, e);
		list_for_each_entry(e, &opted_in, node) {
			io_dma_tag_clear(ctx, e);
			e->opt_out = true;
			e->imu->dma_buf->nr_dev--;
		}
	}
	list_splice_tail(&added, &ctx->dma_tags);
	list_splice_tail(&remapped, &ctx->dma_tags);
	list_splice_tail(&opted_in, &ctx->dma_tags);
	mutex_unlock(&ctx->dma_tag_lock);
	if (plain)
		fput(file);
	return ret;
}

/**
 * io_register_unmap_buffers() - IORING_REGISTER_UNMAP_BUFFERS
 * @ctx: the ring, uring_lock held
 * @arg: a struct io_uring_map_buffers
 * @nr_args: 1
 *
 * Undo IORING_REGISTER_MAP_BUFFERS (or auto mode) for the buffers and file
 * (with IORING_MAP_BUFFERS_FD: the device of the descriptor), and keep auto
 * mode from mapping them for that file or device again: until the buffer is
 * registered anew or IORING_REGISTER_MAP_BUFFERS maps it. Buffers never
 * mapped for the file (no entry) and empty slots are skipped: nothing is
 * allocated, so the entries stay bounded by what was mapped. Does not wait:
 * IO still in flight keeps its mapping, which is undone once that IO has
 * completed (the device's dma_tag/unmaps counts it then). Another entry of
 * the buffer on the same device (a registered file of it) keeps the mapping.
 *
 * Return: 0; -EINVAL, -EFAULT, -ENXIO or -EBADF for the argument errors of
 * io_register_map_buffers() (whatever the file is: a file that cannot have
 * been mapped has nothing to unmap).
 */
int io_register_unmap_buffers(struct io_ring_ctx *ctx, void __user *arg,
			      unsigned int nr_args)
{
	struct io_uring_map_buffers mb;
	struct block_device *bdev = NULL;
	struct io_dma_tag *e;
	struct file *file;
	unsigned int i;
	bool plain;
	int ret;

	ret = io_dma_tag_args(ctx, arg, nr_args, &mb, &file, NULL, &plain);
	if (ret)
		return ret;
	if (plain) {
		/* a descriptor is named by its device; none: nothing mapped */
		bdev = io_dma_tag_bdev(file);
		if (IS_ERR(bdev))
			goto out;
	}

	mutex_lock(&ctx->dma_tag_lock);
	for (i = mb.buf_start; i < mb.buf_end; i++) {
		struct io_mapped_ubuf *imu;

		imu = ctx->user_bufs[array_index_nospec(i, ctx->nr_user_bufs)];
		if (imu == ctx->dummy_ubuf)
			continue;
		/* no entry: never mapped for the file, nothing to opt out of */
		e = io_dma_tag_entry(ctx, imu, file, bdev, plain);
		if (!e)
			continue;
		io_dma_tag_clear(ctx, e);
		/* a device's opt-out stays: it no longer counts in the bound */
		if (plain && !e->opt_out) {
			e->opt_out = true;
			imu->dma_buf->nr_dev--;
		}
		/* auto mode finds the entry, and leaves the buffer alone */
		WRITE_ONCE(imu->dma_tag_hint, io_dma_tag_hint(file, !plain));
	}
	mutex_unlock(&ctx->dma_tag_lock);
out:
	if (plain)
		fput(file);
	return 0;
}

/**
 * io_dma_tag_drop_buf() - a registered buffer goes away
 * @ctx: the ring
 * @imu: the buffer; no request uses it any more
 *
 * Return: true when a map of the buffer was ever tried: it is then freed
 * (pages unpinned and uncharged, @imu freed) when its last mapping has been
 * undone, maybe at once; false when the caller frees it.
 */
bool io_dma_tag_drop_buf(struct io_ring_ctx *ctx, struct io_mapped_ubuf *imu)
{
	struct io_dma_buf *d;
	struct io_dma_tag *e, *tmp;

	mutex_lock(&ctx->dma_tag_lock);
	d = imu->dma_buf;
	if (d)
		list_for_each_entry_safe(e, tmp, &d->entries, buf_node)
			io_dma_tag_free(ctx, e);
	mutex_unlock(&ctx->dma_tag_lock);
	if (!d)
		return false;
	blk_dma_buf_put(&d->buf);
	return true;
}

/**
 * io_dma_tag_drop_file() - a registered file goes away
 * @ctx: the ring
 * @file: the file, not yet put; no request uses its slot any more
 */
void io_dma_tag_drop_file(struct io_ring_ctx *ctx, struct file *file)
{
	struct io_dma_tag *e, *tmp;

	mutex_lock(&ctx->dma_tag_lock);
	list_for_each_entry_safe(e, tmp, &ctx->dma_tags, node) {
		if (e->file != file)
			continue;
		WRITE_ONCE(e->imu->dma_tag_hint, NULL);
		io_dma_tag_free(ctx, e);
	}
	mutex_unlock(&ctx->dma_tag_lock);
}

/**
 * __io_dma_tag_auto() - premap a buffer on its first IO through a file
 * @ctx: the ring
 * @imu: the fixed buffer of the request
 * @file: the request's file, opened O_DIRECT
 * @fixed: @file is a registered file; else a plain descriptor, whose
 *	mapping is the device's
 *
 * Only where the device that the IO goes to (the block device, or the one
 * that holds a regular file's data) has queue/dma_premap "auto". A failure
 * is remembered, and the IO goes the ordinary way.
 */
void __io_dma_tag_auto(struct io_ring_ctx *ctx, struct io_mapped_ubuf *imu,
		       struct file *file, bool fixed)
{
	struct block_device *bdev;
	struct io_dma_tag *e;

	if (imu == ctx->dummy_ubuf)
		return;
	bdev = io_dma_tag_bdev(file);
	if (IS_ERR(bdev) || !bdev_dma_premap_auto(bdev))
		return;
	mutex_lock(&ctx->dma_tag_lock);
	e = io_dma_tag_entry(ctx, imu, file, bdev, !fixed);
	if (!e)
		io_dma_tag_map_one(ctx, imu, fixed ? file : NULL, bdev, NULL,
				   true);
	else if (!fixed && e->tag)
		/* the device is the most recently used of the buffer's */
		list_move_tail(&e->buf_node, &imu->dma_buf->entries);
	/*
	 * IO alternating between files: remember the last one, also when
	 * the map failed and was not recorded (no room without dropping a
	 * mapping, no memory): tried again when IO switches files
	 */
	WRITE_ONCE(imu->dma_tag_hint, io_dma_tag_hint(file, fixed));
	mutex_unlock(&ctx->dma_tag_lock);
}
