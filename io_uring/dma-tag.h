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
		       struct file *file, bool fixed);

/*
 * What auto mode remembers of the last file a buffer's IO used
 * (imu->dma_tag_hint): a registered file itself, whose slot names its
 * entry; for a plain descriptor, which may be closed and its struct file
 * reused at once, the address space of the device or inode it reaches
 * (all descriptors of a block device share it). Compared, never
 * dereferenced.
 */
static inline const void *io_dma_tag_hint(struct file *file, bool fixed)
{
	return fixed ? (const void *)file : (const void *)file->f_mapping;
}

/*
 * auto mode: premap @imu for @file (a registered file if @fixed, else a
 * plain descriptor) on the first fixed-buffer direct IO; buffered IO never
 * carries a tag
 */
static inline void io_dma_tag_auto(struct io_ring_ctx *ctx,
				   struct io_mapped_ubuf *imu,
				   struct file *file, bool fixed)
{
	if (blk_dma_premap_auto_any() && (file->f_flags & O_DIRECT) &&
	    READ_ONCE(imu->dma_tag_hint) != io_dma_tag_hint(file, fixed))
		__io_dma_tag_auto(ctx, imu, file, fixed);
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
				   struct file *file, bool fixed) { }
#endif

#endif /* IOU_DMA_TAG_H */
