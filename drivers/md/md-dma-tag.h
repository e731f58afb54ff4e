/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MD_DMA_TAG_H
#define MD_DMA_TAG_H

#include <linux/blk-dma-tag.h>

struct mddev;

#ifdef CONFIG_BLK_DMA_TAG
extern const struct blk_dma_tag_ops md_dma_tag_ops;
void md_dma_tag_update(struct mddev *mddev);
#else
static inline void md_dma_tag_update(struct mddev *mddev) { }
#endif

#endif /* MD_DMA_TAG_H */
