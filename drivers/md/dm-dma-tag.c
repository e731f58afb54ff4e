// SPDX-License-Identifier: GPL-2.0
/*
 * device-mapper: the members of a mapped device for DMA tags (premapped
 * buffers). See Documentation/block/dma-tags.rst.
 */
#include <linux/blk-dma-tag.h>
#include <linux/device-mapper.h>

#include "dm-core.h"
#include "dm-dma-tag.h"

struct dm_dma_tag_walk {
	blk_dma_tag_member_fn fn;
	void *data;
};

static int dm_dma_tag_device(struct dm_target *ti, struct dm_dev *dev,
			     sector_t start, sector_t len, void *data)
{
	struct dm_dma_tag_walk *w = data;

	return w->fn(dev->bdev, w->data);
}

/*
 * The devices of the live table's targets that pass bios on with their
 * original pages (DM_TARGET_PASSES_DMA_TAG). Others (crypt, and any target
 * without the flag) are left out: bios they send to their devices find no
 * entry in the composite tag and are mapped per IO.
 */
static int dm_dma_tag_members(struct gendisk *disk, blk_dma_tag_member_fn fn,
			      void *data)
{
	struct mapped_device *md = disk->private_data;
	struct dm_dma_tag_walk w = { .fn = fn, .data = data };
	struct dm_table *t;
	unsigned int i;
	int srcu_idx, ret = 0;

	t = dm_get_live_table(md, &srcu_idx);
	for (i = 0; t && !ret && i < t->num_targets; i++) {
		struct dm_target *ti = dm_table_get_target(t, i);

		if (dm_target_passes_dma_tag(ti->type) &&
		    ti->type->iterate_devices)
			ret = ti->type->iterate_devices(ti, dm_dma_tag_device,
							&w);
	}
	dm_put_live_table(md, srcu_idx);
	return ret;
}

const struct blk_dma_tag_ops dm_dma_tag_ops = {
	.members = dm_dma_tag_members,
};
