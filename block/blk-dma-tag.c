// SPDX-License-Identifier: GPL-2.0
/*
 * DMA tags: buffers premapped for DMA, carried by bios as a hint.
 *
 * See Documentation/block/dma-tags.rst.
 */

#define pr_fmt(fmt) "blk-dma-tag: " fmt

#include <linux/bio.h>
#include <linux/blk-dma-tag.h>
#include <linux/blkdev.h>
#include <linux/export.h>
#include <linux/mm.h>
#include <linux/slab.h>

/**
 * DOC: the tag core
 *
 * A DMA tag names a buffer (a bvec array, in practice an io_uring registered
 * buffer) that is already DMA-mapped for one block device. A bio built on the
 * buffer may carry the tag in bi_dma_tag: it keeps its ordinary bvecs, so any
 * layer may drop the hint and the IO is then mapped per IO as usual.
 *
 * A driver uses a tag only after blk_dma_tag_locate() confirmed that the bio's
 * data lies inside the tag's buffer. The position comes from the bio's place in
 * the bvec array (bi_io_vec, bi_iter.bi_idx, bi_iter.bi_bvec_done), so split,
 * clone and advance need no tag-specific code. Tagged bios never merge.
 *
 * The tag is valid only for its @disk: on submission to any other device the
 * block core translates it (a composite tag of a stacking device has one entry
 * per member) or drops it.
 */

/**
 * blk_dma_tag_alloc() - allocate a tag for a buffer
 * @disk: the device the tag will be valid for
 * @kind: leaf or composite
 * @bvec: the buffer's bvec array; it must outlive the tag
 * @nr_bvecs: number of entries in @bvec, at least one
 * @gfp: allocation flags
 *
 * Records where each bvec starts in the buffer, so that a bio's extent can be
 * checked in constant time. The driver or the composite core fills in the
 * mapping.
 *
 * Context: process context when @gfp may sleep.
 * Return: the tag, or an ERR_PTR(): -EINVAL for an empty buffer or an empty
 * bvec, -ENOMEM.
 */
struct blk_dma_tag *blk_dma_tag_alloc(struct gendisk *disk,
				      enum blk_dma_tag_kind kind,
				      const struct bio_vec *bvec,
				      unsigned int nr_bvecs, gfp_t gfp)
{
	struct blk_dma_tag *tag;
	unsigned int i;
	u64 pos = 0;

	if (!nr_bvecs || !bvec)
		return ERR_PTR(-EINVAL);

	tag = kzalloc(sizeof(*tag), gfp);
	if (!tag)
		return ERR_PTR(-ENOMEM);
	tag->pos = kvmalloc_array(nr_bvecs + 1, sizeof(*tag->pos), gfp);
	if (!tag->pos)
		goto out_free_tag;

	for (i = 0; i < nr_bvecs; i++) {
		if (!bvec[i].bv_len)
			goto out_free_pos;
		tag->pos[i] = pos;
		pos += bvec[i].bv_len;
	}
	tag->pos[nr_bvecs] = pos;
	tag->disk = disk;
	tag->kind = kind;
	tag->bvec = bvec;
	tag->nr_bvecs = nr_bvecs;
	return tag;

out_free_pos:
	kvfree(tag->pos);
	kfree(tag);
	return ERR_PTR(-EINVAL);
out_free_tag:
	kfree(tag);
	return ERR_PTR(-ENOMEM);
}
EXPORT_SYMBOL_GPL(blk_dma_tag_alloc);

/**
 * blk_dma_tag_free() - free a tag allocated by blk_dma_tag_alloc()
 * @tag: the tag; its mapping must already be undone. NULL is ignored.
 *
 * Context: any context that may call kvfree().
 */
void blk_dma_tag_free(struct blk_dma_tag *tag)
{
	if (!tag)
		return;
	kvfree(tag->pos);
	kfree(tag);
}
EXPORT_SYMBOL_GPL(blk_dma_tag_free);

