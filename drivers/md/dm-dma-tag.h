/* SPDX-License-Identifier: GPL-2.0 */
#ifndef DM_DMA_TAG_H
#define DM_DMA_TAG_H

#include <linux/blk-dma-tag.h>

#ifdef CONFIG_BLK_DMA_TAG
extern const struct blk_dma_tag_ops dm_dma_tag_ops;

/* after a resume: map live buffers on the members that joined, in a worker */
static inline void dm_dma_tag_members_changed(struct gendisk *disk)
{
	blk_dma_tag_members_joined(disk);
}

/* a table swap, suspended: drop the members that left, map nothing */
static inline void dm_dma_tag_members_left(struct gendisk *disk)
{
	blk_dma_tag_members_left(disk);
}

static inline void dm_dma_tag_release_members(struct gendisk *disk)
{
	blk_dma_tag_del_disk(disk);
}
#else
static inline void dm_dma_tag_members_changed(struct gendisk *disk) { }
static inline void dm_dma_tag_members_left(struct gendisk *disk) { }
static inline void dm_dma_tag_release_members(struct gendisk *disk) { }
#endif

#endif /* DM_DMA_TAG_H */
