/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DMA tags: a per-bio hint that the pages of the bio's bvec array are already
 * DMA-mapped for the device the bio is submitted to.
 *
 * See Documentation/block/dma-tags.rst.
 */
#ifndef __LINUX_BLK_DMA_TAG_H
#define __LINUX_BLK_DMA_TAG_H

#include <linux/blk_types.h>
#include <linux/bvec.h>

struct gendisk;

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
 *
 * The caller that makes a tag keeps it, and the buffer, alive until every
 * bio that carries it has completed, the way blk-crypto keys outlive their
 * bios: io_uring's resource nodes do that for registered buffers.
 */
struct blk_dma_tag {
	struct gendisk *disk;
	enum blk_dma_tag_kind kind;
	const struct bio_vec *bvec;
	unsigned int nr_bvecs;
	u64 *pos;
	void *priv;
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
bool blk_dma_tag_locate(const struct blk_dma_tag *tag, const struct bio *bio,
			struct blk_dma_tag_loc *loc);
void __blk_dma_tag_bio_prep(struct bio *bio);

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

/*
 * Submission to a device: keep the tag when it is the device's own,
 * otherwise translate it (composite) or drop it. Next to blk-crypto's prep.
 */
static inline void blk_dma_tag_bio_prep(struct bio *bio)
{
	if (bio->bi_dma_tag)
		__blk_dma_tag_bio_prep(bio);
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

static inline void bio_set_dma_tag(struct bio *bio, struct blk_dma_tag *tag) { }
static inline void blk_dma_tag_bio_prep(struct bio *bio) { }

static inline bool blk_dma_tag_merge_ok(const struct bio *a,
					const struct bio *b)
{
	return true;
}

#endif /* CONFIG_BLK_DMA_TAG */

#endif /* __LINUX_BLK_DMA_TAG_H */
