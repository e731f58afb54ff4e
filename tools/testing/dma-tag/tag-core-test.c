// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace tests of block/blk-dma-tag.c, built unmodified against the
 * shims in shim/ and run under ASan and UBSan. blk_dma_tag_locate() is
 * checked against a brute-force model on many random buffers and bio
 * positions, including bios whose bvec array starts inside the buffer's
 * (io_uring skips the segments before an IO's start) and bios reaching past
 * the end. Prints one "ok - NAME" or "not ok - NAME # WHY" line per case.
 *
 * Usage: tag-core-test [SEED [TRIALS]]
 */
#include <stdio.h>
#include <linux/blk-dma-tag.h>

static int failed;
static u64 rng_state;

static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static unsigned int rnd_between(unsigned int lo, unsigned int hi)
{
	return lo + (unsigned int)(rnd() % (hi - lo + 1));
}

static void verdict(const char *name, bool ok, const char *why)
{
	printf("%sok - %s%s%s\n", ok ? "" : "not ", name, ok ? "" : " # ", ok ? "" : why);
	if (!ok)
		failed = 1;
}

/* a random buffer: ragged first and last bvec, random interior lengths */
static struct bio_vec *random_buffer(unsigned int *nr)
{
	struct bio_vec *bv;
	unsigned int i;

	*nr = rnd_between(1, 64);
	bv = calloc(*nr, sizeof(*bv));
	for (i = 0; i < *nr; i++) {
		bv[i].bv_offset = i == 0 ? rnd_between(0, 4095) & ~511u : 0;
		bv[i].bv_len = rnd_between(1, 8192);
	}
	return bv;
}

/* the model: which bvec holds byte S, and where it starts */
static void model_find(const struct bio_vec *bv, unsigned int nr, u64 s,
		       unsigned int *idx, u64 *start)
{
	u64 pos = 0;
	unsigned int i;

	for (i = 0; i < nr; i++) {
		if (s < pos + bv[i].bv_len)
			break;
		pos += bv[i].bv_len;
	}
	*idx = i;
	*start = pos;
}

static void test_locate_matches_model(unsigned int trials)
{
	static char why[256];
	unsigned int t;

	why[0] = 0;
	for (t = 0; t < trials && !why[0]; t++) {
		struct gendisk disk;
		struct blk_dma_tag *tag;
		struct blk_dma_tag_loc loc;
		struct bio bio = { 0 };
		struct bio_vec *bv;
		unsigned int nr, idx, skip;
		u64 len = 0, s, l, start;
		bool expect, got;

		bv = random_buffer(&nr);
		for (idx = 0; idx < nr; idx++)
			len += bv[idx].bv_len;
		tag = blk_dma_tag_alloc(&disk, BLK_DMA_TAG_LEAF, bv, nr, GFP_KERNEL);
		if (IS_ERR(tag)) {
			snprintf(why, sizeof(why), "alloc failed: %ld", PTR_ERR(tag));
			free(bv);
			break;
		}
		s = rnd() % len;
		l = 1 + rnd() % (len - s + 64);
		if (l > UINT32_MAX)
			l = UINT32_MAX;
		model_find(bv, nr, s, &idx, &start);
		skip = rnd_between(0, idx);	/* the bio's array starts here */
		bio.bi_io_vec = bv + skip;
		bio.bi_iter.bi_idx = idx - skip;
		bio.bi_iter.bi_bvec_done = (unsigned int)(s - start);
		bio.bi_iter.bi_size = (unsigned int)l;
		expect = s + l <= len;
		got = blk_dma_tag_locate(tag, &bio, &loc);
		if (got != expect)
			snprintf(why, sizeof(why),
				 "trial %u: nr %u len %llu start %llu size %llu: got %d",
				 t, nr, (unsigned long long)len, (unsigned long long)s,
				 (unsigned long long)l, got);
		else if (got && (loc.idx != idx || loc.pos != s ||
				 loc.offset != s - start))
			snprintf(why, sizeof(why),
				 "trial %u: at %llu expected bvec %u+%llu, got %u+%u (pos %llu)",
				 t, (unsigned long long)s, idx,
				 (unsigned long long)(s - start), loc.idx, loc.offset,
				 (unsigned long long)loc.pos);
		blk_dma_tag_free(tag);
		free(bv);
	}
	verdict("locate-matches-model", !why[0], why);
}

static void test_locate_rejects(void)
{
	struct bio_vec bv[4] = {
		{ NULL, 4096, 0 }, { NULL, 4096, 0 }, { NULL, 4096, 0 }, { NULL, 512, 0 },
	};
	struct bio_vec copy[4];
	struct gendisk disk;
	struct blk_dma_tag *tag = blk_dma_tag_alloc(&disk, BLK_DMA_TAG_LEAF, bv, 4, 0);
	struct blk_dma_tag_loc loc;
	struct bio bio = { .bi_io_vec = bv, .bi_iter = { .bi_size = 512 } };

	memcpy(copy, bv, sizeof(copy));
	verdict("locate-in-buffer", blk_dma_tag_locate(tag, &bio, &loc), "rejected");
	bio.bi_io_vec = copy;
	verdict("locate-rejects-copy", !blk_dma_tag_locate(tag, &bio, &loc), "accepted");
	bio.bi_io_vec = (struct bio_vec *)((char *)bv + 4);
	verdict("locate-rejects-misaligned", !blk_dma_tag_locate(tag, &bio, &loc), "accepted");
	bio.bi_io_vec = bv;
	bio.bi_iter.bi_idx = 4;
	verdict("locate-rejects-past-array", !blk_dma_tag_locate(tag, &bio, &loc), "accepted");
	/* an iterator at the very end of a bvec: never a valid position */
	bio.bi_iter.bi_idx = 0;
	bio.bi_iter.bi_bvec_done = 4096;
	verdict("locate-rejects-done-past-bvec", !blk_dma_tag_locate(tag, &bio, &loc), "accepted");
	bio.bi_iter.bi_idx = 3;
	bio.bi_iter.bi_bvec_done = 0;
	bio.bi_iter.bi_size = 513;
	verdict("locate-rejects-past-end", !blk_dma_tag_locate(tag, &bio, &loc), "accepted");
	blk_dma_tag_free(tag);
}

static void test_alloc_errors(void)
{
	struct bio_vec bv[2] = { { NULL, 4096, 0 }, { NULL, 0, 0 } };
	struct gendisk disk;
	struct blk_dma_tag *tag;
	int step;
	bool ok = true;

	verdict("alloc-empty", PTR_ERR(blk_dma_tag_alloc(&disk, 0, bv, 0, 0)) == -EINVAL,
		"not -EINVAL");
	verdict("alloc-null", PTR_ERR(blk_dma_tag_alloc(&disk, 0, NULL, 1, 0)) == -EINVAL,
		"not -EINVAL");
	verdict("alloc-zero-length-bvec",
		PTR_ERR(blk_dma_tag_alloc(&disk, 0, bv, 2, 0)) == -EINVAL, "not -EINVAL");
	/* each allocation failing in turn: -ENOMEM, nothing leaked (LSan) */
	for (step = 0; step < 2; step++) {
		shim_fail_alloc_after = step;
		tag = blk_dma_tag_alloc(&disk, 0, bv, 1, 0);
		shim_fail_alloc_after = -1;
		if (PTR_ERR(tag) != -ENOMEM)
			ok = false;
	}
	verdict("alloc-enomem-each-step", ok, "not -ENOMEM");
	blk_dma_tag_free(NULL);
	verdict("free-null", true, "");
}

/* composite translation lives in blk-dma-tag-disk.c; leaf tags never reach it */
struct blk_dma_tag *blk_dma_tag_translate(struct blk_dma_tag *tag,
					  struct gendisk *member)
{
	(void)tag;
	(void)member;
	return NULL;
}

static void test_prep_and_merge(void)
{
	struct bio_vec bv[1] = { { NULL, 4096, 0 } };
	struct gendisk own, other;
	struct block_device own_bdev = { &own }, other_bdev = { &other };
	struct blk_dma_tag *tag = blk_dma_tag_alloc(&own, 0, bv, 1, 0);
	struct bio a = { .bi_bdev = &own_bdev, .bi_dma_tag = tag };
	struct bio b = { 0 }, c = { 0 };

	blk_dma_tag_bio_prep(&a);
	verdict("prep-keeps-own", a.bi_dma_tag == tag, "dropped");
	a.bi_bdev = &other_bdev;
	blk_dma_tag_bio_prep(&a);
	verdict("prep-drops-foreign", a.bi_dma_tag == NULL, "kept");
	verdict("merge-plain-plain", blk_dma_tag_merge_ok(&b, &c), "refused");
	c.bi_dma_tag = tag;
	verdict("merge-plain-tagged", !blk_dma_tag_merge_ok(&b, &c) &&
		!blk_dma_tag_merge_ok(&c, &b), "allowed");
	verdict("merge-tagged-tagged", !blk_dma_tag_merge_ok(&c, &c), "allowed");
	blk_dma_tag_free(tag);
}

int main(int argc, char **argv)
{
	u64 seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x5eed1234abcdULL;
	unsigned int trials = argc > 2 ? (unsigned int)strtoul(argv[2], NULL, 0) : 20000;

	rng_state = seed ? seed : 1;
	printf("# seed %#llx, %u trials\n", (unsigned long long)seed, trials);
	test_alloc_errors();
	test_locate_rejects();
	test_locate_matches_model(trials);
	test_prep_and_merge();
	return failed;
}
