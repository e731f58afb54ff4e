/* SPDX-License-Identifier: GPL-2.0 */
#ifndef IOU_DMA_TAG_H
#define IOU_DMA_TAG_H

#include <linux/blk-dma-tag.h>

struct file;
struct io_mapped_ubuf;
struct io_ring_ctx;

#ifdef CONFIG_BLK_DMA_TAG
int io_register_map_buffers(struct io_ring_ctx *ctx, void __user *arg,
			    unsigned int nr_args);
int io_register_unmap_buffers(struct io_ring_ctx *ctx, void __user *arg,
			      unsigned int nr_args);
bool io_dma_tag_drop_buf(struct io_ring_ctx *ctx, struct io_mapped_ubuf *imu);
void io_dma_tag_drop_file(struct io_ring_ctx *ctx, struct file *file);
void __io_dma_tag_auto(struct io_ring_ctx *ctx, struct io_mapped_ubuf *imu,
		       struct file *file);

/*
 * auto mode: premap @imu for @file on the first fixed-buffer direct IO;
 * buffered IO never carries a tag
 */
static inline void io_dma_tag_auto(struct io_ring_ctx *ctx,
				   struct io_mapped_ubuf *imu,
				   struct file *file)
{
	if (blk_dma_premap_auto_any() && (file->f_flags & O_DIRECT) &&
	    READ_ONCE(imu->dma_tag_file) != file)
		__io_dma_tag_auto(ctx, imu, file);
}
#else
static inline int io_register_map_buffers(struct io_ring_ctx *ctx,
					  void __user *arg,
					  unsigned int nr_args)
{
	return -EOPNOTSUPP;
}

static inline int io_register_unmap_buffers(struct io_ring_ctx *ctx,
					    void __user *arg,
					    unsigned int nr_args)
{
	return -EOPNOTSUPP;
}

static inline bool io_dma_tag_drop_buf(struct io_ring_ctx *ctx,
				       struct io_mapped_ubuf *imu)
{
	return false;
}

static inline void io_dma_tag_drop_file(struct io_ring_ctx *ctx,
					struct file *file) { }
static inline void io_dma_tag_auto(struct io_ring_ctx *ctx,
				   struct io_mapped_ubuf *imu,
				   struct file *file) { }
#endif

#endif /* IOU_DMA_TAG_H */
