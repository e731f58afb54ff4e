// SPDX-License-Identifier: GPL-2.0
/*
 * md: the members of an array for DMA tags (premapped buffers).
 * See Documentation/block/dma-tags.rst.
 */
#include <linux/blk-dma-tag.h>
#include <linux/rculist.h>
#include <linux/slab.h>

#include "md.h"
#include "md-dma-tag.h"

/**
 * DOC: md arrays
 *
 * The members of a running array are its devices that have a slot in the
 * personality (raid_disk >= 0): in sync, being rebuilt, replacements, and
 * failed ones that still hold their slot, since IO may still be in flight to
 * them. Spares are left out. A raid5 journal device has a slot too and is
 * mapped, though md writes it from its own pages only. Every personality
 * sends at least some bios on with their original pages: linear, raid0,
 * raid1 and raid10 all of them, raid4/5/6 only the chunk-aligned reads that
 * bypass the stripe cache (raid5_read_one_chunk()); everything md copies
 * carries no tag and is mapped per IO.
 *
 * A device leaves the personality only once no IO is pending on it
 * (remove_and_add_spares(), nr_pending == 0), and leaves the array in
 * unbind_rdev_from_array() before md closes it. md_dma_tag_update() is called
 * at both points, after a device joined the personality (spare activation,
 * hot add, slot_store(), reshape, level change), when the array starts and
 * when it stops. A device that joins gets plain IO until the update has
 * mapped the buffers for it: no IO ever waits for a mapping.
 */

/*
 * The core calls this with the array disk's tag lock held. A device leaves
 * mddev->disks only in unbind_rdev_from_array(), which then calls
 * md_dma_tag_update() and so waits for that lock before md closes it: the
 * block devices gathered here stay open while @fn maps on them.
 */
static int md_dma_tag_members(struct gendisk *disk, blk_dma_tag_member_fn fn,
			      void *data)
{
	struct mddev *mddev = disk->private_data;
	struct block_device **bdev;
	struct md_rdev *rdev;
	unsigned int nr = 0, max = 0, i;
	int ret = 0;

	rcu_read_lock();
	rdev_for_each_rcu(rdev, mddev)
		max++;
	rcu_read_unlock();
	/* a membership change must not fail (see blk_dma_tag_ops): a few bytes */
	bdev = kmalloc_array(max, sizeof(*bdev), GFP_KERNEL | __GFP_NOFAIL);
	/* a device added since counting reports itself with its own update */
	rcu_read_lock();
	if (READ_ONCE(mddev->pers)) {
		rdev_for_each_rcu(rdev, mddev) {
			if (nr == max)
				break;
			if (READ_ONCE(rdev->raid_disk) >= 0)
				bdev[nr++] = rdev->bdev;
		}
	}
	rcu_read_unlock();
	for (i = 0; !ret && i < nr; i++)
		ret = fn(bdev[i], data);
	kfree(bdev);
	return ret;
}

const struct blk_dma_tag_ops md_dma_tag_ops = {
	.members = md_dma_tag_members,
};

/**
 * md_dma_tag_update() - the devices of an array's personality changed
 * @mddev: the array
 *
 * Remaps the array's premapped buffers: devices that joined are mapped,
 * devices that left are let go of (their mappings are undone in the
 * background). Arrays without a disk of their own (under dm-raid) have
 * nothing to do: dm reports its members.
 *
 * Context: process context, reconfig_mutex held or md's own thread. It may
 * wait for a mapping being made on the array, never for IO or a grace
 * period, and allocates without IO (the core's noio scope), as the md thread
 * may be needed to complete writeback.
 */
void md_dma_tag_update(struct mddev *mddev)
{
	if (mddev->gendisk)
		blk_dma_tag_members_changed(mddev->gendisk);
}
