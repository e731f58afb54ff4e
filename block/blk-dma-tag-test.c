// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the DMA tag core: the range rule, the offset math under
 * advance, clone and split, the lifetime of the per-bio hint, merges and the
 * submit-time translation.
 */

#include <kunit/test.h>
#include <linux/bio.h>
#include <linux/blk-dma-tag.h>
#include <linux/blkdev.h>
#include <linux/delay.h>
#include <linux/mm.h>

#define NR_BVECS 8

/* A buffer like an io_uring registered one: a ragged first and last page. */
struct tag_fixture {
	struct bio_vec bvec[NR_BVECS];
	struct blk_dma_tag *tag;
	struct gendisk *disk;
	struct block_device *bdev;
	struct bio bio;
};

static int tag_init(struct kunit *test)
{
	struct tag_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, f);
	for (i = 0; i < NR_BVECS; i++) {
		f->bvec[i].bv_page = ZERO_PAGE(0);
		f->bvec[i].bv_offset = 0;
		f->bvec[i].bv_len = PAGE_SIZE;
	}
	f->bvec[0].bv_offset = 512;
	f->bvec[0].bv_len = PAGE_SIZE - 512;
	f->bvec[NR_BVECS - 1].bv_len = 1024;
	f->disk = kunit_kzalloc(test, sizeof(*f->disk), GFP_KERNEL);
	f->bdev = kunit_kzalloc(test, sizeof(*f->bdev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f->disk);
	KUNIT_ASSERT_NOT_NULL(test, f->bdev);
	f->bdev->bd_disk = f->disk;
	f->tag = blk_dma_tag_alloc(f->disk, BLK_DMA_TAG_LEAF, f->bvec,
				   NR_BVECS, GFP_KERNEL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(f->tag));
	/* a bio as bio_iov_bvec_set() builds it on the whole buffer */
	bio_init(&f->bio, NULL, NULL, 0, REQ_OP_READ);
	f->bio.bi_io_vec = f->bvec;
	f->bio.bi_vcnt = NR_BVECS;
	f->bio.bi_iter.bi_size = f->tag->pos[NR_BVECS];
	bio_set_dma_tag(&f->bio, f->tag);
	test->priv = f;
	return 0;
}

static void tag_exit(struct kunit *test)
{
	struct tag_fixture *f = test->priv;

	bio_uninit(&f->bio);
	blk_dma_tag_free(f->tag);
}

static u64 buffer_len(struct tag_fixture *f)
{
	return f->tag->pos[NR_BVECS];
}

static void tag_alloc_positions(struct kunit *test)
{
	struct tag_fixture *f = test->priv;

	KUNIT_EXPECT_EQ(test, f->tag->pos[0], 0ULL);
	KUNIT_EXPECT_EQ(test, f->tag->pos[1], (u64)(PAGE_SIZE - 512));
	KUNIT_EXPECT_EQ(test, buffer_len(f),
			(u64)(PAGE_SIZE - 512 + (NR_BVECS - 2) * PAGE_SIZE + 1024));
}

/* the errno of a tag allocation that must fail */
static long alloc_err(struct tag_fixture *f, const struct bio_vec *bvec,
		      unsigned int nr)
{
	struct blk_dma_tag *tag;

	tag = blk_dma_tag_alloc(f->disk, BLK_DMA_TAG_LEAF, bvec, nr, GFP_KERNEL);
	if (!IS_ERR(tag)) {
		blk_dma_tag_free(tag);
		return 0;
	}
	return PTR_ERR(tag);
}

static void tag_alloc_rejects_bad_buffers(struct kunit *test)
{
	struct tag_fixture *f = test->priv;
	struct bio_vec bad[2] = { f->bvec[1], f->bvec[2] };

	KUNIT_EXPECT_EQ(test, alloc_err(f, f->bvec, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, alloc_err(f, NULL, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, alloc_err(f, bad, 2), 0L);
	bad[1].bv_len = 0;
	KUNIT_EXPECT_EQ(test, alloc_err(f, bad, 2), -EINVAL);
}

static void tag_locate_whole_buffer(struct kunit *test)
{
	struct tag_fixture *f = test->priv;
	struct blk_dma_tag_loc loc;

	KUNIT_ASSERT_TRUE(test, blk_dma_tag_locate(f->tag, &f->bio, &loc));
	KUNIT_EXPECT_EQ(test, loc.idx, 0U);
	KUNIT_EXPECT_EQ(test, loc.offset, 0U);
	KUNIT_EXPECT_EQ(test, loc.pos, 0ULL);
}

static void tag_locate_rejects_past_end(struct kunit *test)
{
	struct tag_fixture *f = test->priv;
	struct blk_dma_tag_loc loc;

	f->bio.bi_iter.bi_size = buffer_len(f) + 512;
	KUNIT_EXPECT_FALSE(test, blk_dma_tag_locate(f->tag, &f->bio, &loc));
	/* starting in the last bvec, one byte too long */
	f->bio.bi_iter.bi_idx = NR_BVECS - 1;
	f->bio.bi_iter.bi_bvec_done = 0;
	f->bio.bi_iter.bi_size = 1025;
	KUNIT_EXPECT_FALSE(test, blk_dma_tag_locate(f->tag, &f->bio, &loc));
	f->bio.bi_iter.bi_size = 1024;
	KUNIT_EXPECT_TRUE(test, blk_dma_tag_locate(f->tag, &f->bio, &loc));
}

static void tag_locate_rejects_other_arrays(struct kunit *test)
{
	struct tag_fixture *f = test->priv;
	struct bio_vec copy[NR_BVECS];
	struct blk_dma_tag_loc loc;

	memcpy(copy, f->bvec, sizeof(copy));
	/* same pages, another array: not the registered buffer */
	f->bio.bi_io_vec = copy;
	KUNIT_EXPECT_FALSE(test, blk_dma_tag_locate(f->tag, &f->bio, &loc));
	/* past the array */
	f->bio.bi_io_vec = f->bvec;
	f->bio.bi_iter.bi_idx = NR_BVECS;
	f->bio.bi_iter.bi_size = 512;
	KUNIT_EXPECT_FALSE(test, blk_dma_tag_locate(f->tag, &f->bio, &loc));
	/* a pointer into the array that is not at a bvec boundary */
	f->bio.bi_io_vec = (struct bio_vec *)((char *)f->bvec + 4);
	f->bio.bi_iter.bi_idx = 0;
	KUNIT_EXPECT_FALSE(test, blk_dma_tag_locate(f->tag, &f->bio, &loc));
}

static void tag_locate_after_advance(struct kunit *test)
{
	struct tag_fixture *f = test->priv;
	struct blk_dma_tag_loc loc;
	unsigned int skip = PAGE_SIZE - 512 + PAGE_SIZE + 1536;

	bio_advance(&f->bio, skip);
	KUNIT_ASSERT_TRUE(test, blk_dma_tag_locate(f->tag, &f->bio, &loc));
	KUNIT_EXPECT_EQ(test, loc.idx, 2U);
	KUNIT_EXPECT_EQ(test, loc.offset, 1536U);
	KUNIT_EXPECT_EQ(test, loc.pos, (u64)skip);
	KUNIT_EXPECT_EQ(test, (u64)f->bio.bi_iter.bi_size, buffer_len(f) - skip);
}

static void tag_clone_carries_tag(struct kunit *test)
{
	struct tag_fixture *f = test->priv;
	struct blk_dma_tag_loc a, b;
	struct bio *clone;

	bio_advance(&f->bio, 3 * 512);
	clone = bio_alloc_clone(NULL, &f->bio, GFP_KERNEL, &fs_bio_set);
	KUNIT_ASSERT_NOT_NULL(test, clone);
	KUNIT_EXPECT_PTR_EQ(test, bio_dma_tag(clone), f->tag);
	KUNIT_EXPECT_TRUE(test, blk_dma_tag_locate(f->tag, &f->bio, &a));
	KUNIT_EXPECT_TRUE(test, blk_dma_tag_locate(f->tag, clone, &b));
	KUNIT_EXPECT_EQ(test, a.pos, b.pos);
	KUNIT_EXPECT_EQ(test, a.idx, b.idx);
	bio_put(clone);
}

static void tag_split_both_halves(struct kunit *test)
{
	struct tag_fixture *f = test->priv;
	struct blk_dma_tag_loc front, back;
	u64 len = buffer_len(f);
	struct bio *split;
	int sectors = 11;	/* 5632 bytes: ends inside the second bvec */

	split = bio_split(&f->bio, sectors, GFP_KERNEL, &fs_bio_set);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(split));
	KUNIT_EXPECT_PTR_EQ(test, bio_dma_tag(split), f->tag);
	KUNIT_ASSERT_TRUE(test, blk_dma_tag_locate(f->tag, split, &front));
	KUNIT_ASSERT_TRUE(test, blk_dma_tag_locate(f->tag, &f->bio, &back));
	KUNIT_EXPECT_EQ(test, front.pos, 0ULL);
	KUNIT_EXPECT_EQ(test, back.pos, (u64)sectors << SECTOR_SHIFT);
	KUNIT_EXPECT_EQ(test, back.idx, 1U);
	KUNIT_EXPECT_EQ(test, back.offset,
			(unsigned int)((sectors << SECTOR_SHIFT) - (PAGE_SIZE - 512)));
	KUNIT_EXPECT_EQ(test, back.pos + f->bio.bi_iter.bi_size, len);
	bio_put(split);
}

static void tag_bio_init_and_uninit_clear(struct kunit *test)
{
	struct tag_fixture *f = test->priv;
	struct bio fresh;

	/* bios built from scratch (bounce, raid5 stripes, copies) start bare */
	memset(&fresh, 0xa5, sizeof(fresh));
	bio_init(&fresh, NULL, NULL, 0, REQ_OP_WRITE);
	KUNIT_EXPECT_NULL(test, bio_dma_tag(&fresh));
	bio_uninit(&fresh);

	KUNIT_EXPECT_PTR_EQ(test, bio_dma_tag(&f->bio), f->tag);
	bio_uninit(&f->bio);
	KUNIT_EXPECT_NULL(test, bio_dma_tag(&f->bio));
}

static void tag_merges_refused(struct kunit *test)
{
	struct tag_fixture *f = test->priv;
	struct bio plain, other;

	bio_init(&plain, NULL, NULL, 0, REQ_OP_READ);
	bio_init(&other, NULL, NULL, 0, REQ_OP_READ);
	KUNIT_EXPECT_TRUE(test, blk_dma_tag_merge_ok(&plain, &other));
	KUNIT_EXPECT_FALSE(test, blk_dma_tag_merge_ok(&f->bio, &plain));
	KUNIT_EXPECT_FALSE(test, blk_dma_tag_merge_ok(&plain, &f->bio));
	bio_set_dma_tag(&other, f->tag);
	KUNIT_EXPECT_FALSE(test, blk_dma_tag_merge_ok(&f->bio, &other));
	bio_uninit(&plain);
	bio_uninit(&other);
}

static void tag_prep_keeps_own_drops_foreign(struct kunit *test)
{
	struct tag_fixture *f = test->priv;
	struct gendisk *member = kunit_kzalloc(test, sizeof(*member), GFP_KERNEL);
	struct block_device *mbdev = kunit_kzalloc(test, sizeof(*mbdev), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, member);
	KUNIT_ASSERT_NOT_NULL(test, mbdev);
	mbdev->bd_disk = member;

	f->bio.bi_bdev = f->bdev;
	blk_dma_tag_bio_prep(&f->bio);
	KUNIT_EXPECT_PTR_EQ(test, bio_dma_tag(&f->bio), f->tag);

	f->bio.bi_bdev = mbdev;
	blk_dma_tag_bio_prep(&f->bio);
	KUNIT_EXPECT_NULL(test, bio_dma_tag(&f->bio));
	/* a bio without a tag stays without one */
	blk_dma_tag_bio_prep(&f->bio);
	KUNIT_EXPECT_NULL(test, bio_dma_tag(&f->bio));
	f->bio.bi_bdev = NULL;
}

static struct kunit_case blk_dma_tag_cases[] = {
	KUNIT_CASE(tag_alloc_positions),
	KUNIT_CASE(tag_alloc_rejects_bad_buffers),
	KUNIT_CASE(tag_locate_whole_buffer),
	KUNIT_CASE(tag_locate_rejects_past_end),
	KUNIT_CASE(tag_locate_rejects_other_arrays),
	KUNIT_CASE(tag_locate_after_advance),
	KUNIT_CASE(tag_clone_carries_tag),
	KUNIT_CASE(tag_split_both_halves),
	KUNIT_CASE(tag_bio_init_and_uninit_clear),
	KUNIT_CASE(tag_merges_refused),
	KUNIT_CASE(tag_prep_keeps_own_drops_foreign),
	{}
};

static struct kunit_suite blk_dma_tag_suite = {
	.name = "blk-dma-tag",
	.init = tag_init,
	.exit = tag_exit,
	.test_cases = blk_dma_tag_cases,
};

/*
 * Premapping on a disk: a fake driver counts map and unmap calls and
 * refuses buffers whose first bvec has bv_offset 1.
 */
struct disk_fixture {
	struct gendisk disk;
	struct block_device bdev;
	struct request_queue q;
	struct bio_vec bvec[3][4];
	atomic_t attempts;	/* map calls, refused ones included */
	atomic_t maps, unmaps;
	bool refuse;		/* the driver refuses every buffer */
	struct blk_dma_buf buf;	/* the owner's hold on the buffers */
	atomic_t released;	/* buf's release calls */
};

static void fake_buf_release(struct blk_dma_buf *buf)
{
	atomic_inc(&container_of(buf, struct disk_fixture, buf)->released);
}

static int fake_map(struct gendisk *disk, struct blk_dma_tag *tag)
{
	struct disk_fixture *f = container_of(disk, struct disk_fixture, disk);

	atomic_inc(&f->attempts);
	if (tag->bvec[0].bv_offset == 1 || f->refuse)
		return -EOPNOTSUPP;
	atomic_inc(&f->maps);
	tag->priv = f;
	return 0;
}

static void fake_unmap(struct gendisk *disk, struct blk_dma_tag *tag)
{
	struct disk_fixture *f = container_of(disk, struct disk_fixture, disk);

	atomic_inc(&f->unmaps);
	tag->priv = NULL;
}

static const struct blk_dma_tag_ops fake_dma_tag_ops = {
	.map = fake_map,
	.unmap = fake_unmap,
};

static const struct block_device_operations fake_fops = {
	.dma_tag_ops = &fake_dma_tag_ops,
};

static void disk_setup(struct kunit *test, struct disk_fixture *f)
{
	int a, i;

	for (a = 0; a < 3; a++)
		for (i = 0; i < 4; i++) {
			f->bvec[a][i].bv_page = ZERO_PAGE(0);
			f->bvec[a][i].bv_len = PAGE_SIZE;
		}
	f->disk.fops = &fake_fops;
	f->disk.queue = &f->q;
	f->q.disk = &f->disk;
	f->bdev.bd_disk = &f->disk;
	blk_dma_buf_init(&f->buf, fake_buf_release);
	KUNIT_ASSERT_EQ(test, blk_dma_tag_add_disk(&f->disk), 0);
	KUNIT_ASSERT_NOT_NULL(test, f->disk.dma_tag);
}

static int disk_init(struct kunit *test)
{
	struct disk_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	disk_setup(test, f);
	test->priv = f;
	return 0;
}

static void disk_exit(struct kunit *test)
{
	struct disk_fixture *f = test->priv;

	/* nothing a case unmapped may run after the fixture is freed */
	blk_dma_tag_flush();
	blk_dma_tag_release_disk(&f->disk);
}

/* the buffer's owner lets go: released only once no tag holds it */
static void owner_put(struct kunit *test, struct blk_dma_buf *buf,
		      atomic_t *released)
{
	blk_dma_tag_flush();
	KUNIT_EXPECT_EQ(test, atomic_read(released), 0);
	blk_dma_buf_put(buf);
	KUNIT_EXPECT_EQ(test, atomic_read(released), 1);
}

/* a direct-IO bio on @bv as bio_iov_bvec_set() builds it */
static void dio_bio(struct disk_fixture *f, struct bio *bio,
		    struct bio_vec *bv, unsigned int nr)
{
	/* no bdev for bio_init(): no blkcg association with a fake disk */
	bio_init(bio, NULL, NULL, 0, REQ_OP_READ);
	bio->bi_bdev = &f->bdev;
	bio->bi_io_vec = bv;
	bio->bi_vcnt = nr;
	bio->bi_iter.bi_size = nr * PAGE_SIZE;
	bio_set_flag(bio, BIO_NO_PAGE_REF);
}

static void disk_map_unmap_calls_driver(struct kunit *test)
{
	struct disk_fixture *f = test->priv;
	struct blk_dma_tag *tag = blk_dma_tag_map(&f->bdev, f->bvec[0], 4, &f->buf);

	KUNIT_ASSERT_FALSE(test, IS_ERR(tag));
	KUNIT_EXPECT_PTR_EQ(test, tag->priv, (void *)f);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->maps), 1);
	blk_dma_tag_unmap(tag);
	blk_dma_tag_flush();
	KUNIT_EXPECT_EQ(test, atomic_read(&f->unmaps), 1);
	owner_put(test, &f->buf, &f->released);
}

/* what blk_dma_tag_attach() tests inline of the fixture's disk */
static unsigned int disk_nr_indexed(struct disk_fixture *f)
{
	const struct blk_dma_tag_disk_hot *hot = (const void *)f->disk.dma_tag;

	return READ_ONCE(hot->nr_indexed);
}

static void disk_attach_finds_own_buffer(struct kunit *test)
{
	struct disk_fixture *f = test->priv;
	struct blk_dma_tag *tag[2], *got;
	struct bio bio;

	/* no tag indexed: attach returns before any lookup (inline) */
	KUNIT_EXPECT_EQ(test, disk_nr_indexed(f), 0U);
	tag[0] = blk_dma_tag_map(&f->bdev, f->bvec[2], 4, &f->buf);
	tag[1] = blk_dma_tag_map(&f->bdev, f->bvec[0], 4, &f->buf);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tag[0]) || IS_ERR(tag[1]));
	KUNIT_EXPECT_EQ(test, disk_nr_indexed(f), 2U);

	/* inside each array, wherever the bio starts */
	dio_bio(f, &bio, f->bvec[0], 4);
	bio.bi_iter.bi_idx = 3;
	got = blk_dma_tag_attach(&bio);
	KUNIT_EXPECT_PTR_EQ(test, got, tag[1]);
	KUNIT_EXPECT_PTR_EQ(test, bio_dma_tag(&bio), tag[1]);
	blk_dma_tag_put(got);
	bio_uninit(&bio);

	dio_bio(f, &bio, f->bvec[2] + 1, 3);
	got = blk_dma_tag_attach(&bio);
	KUNIT_EXPECT_PTR_EQ(test, got, tag[0]);
	blk_dma_tag_put(got);
	bio_uninit(&bio);

	/* an array that is not mapped, and a bio on user pages */
	dio_bio(f, &bio, f->bvec[1], 4);
	KUNIT_EXPECT_NULL(test, blk_dma_tag_attach(&bio));
	KUNIT_EXPECT_NULL(test, bio_dma_tag(&bio));
	bio_uninit(&bio);
	dio_bio(f, &bio, f->bvec[0], 4);
	bio_clear_flag(&bio, BIO_NO_PAGE_REF);
	KUNIT_EXPECT_NULL(test, blk_dma_tag_attach(&bio));
	bio_uninit(&bio);

	blk_dma_tag_unmap(tag[0]);
	blk_dma_tag_unmap(tag[1]);
	/* unmapped: no longer found */
	dio_bio(f, &bio, f->bvec[0], 4);
	KUNIT_EXPECT_NULL(test, blk_dma_tag_attach(&bio));
	bio_uninit(&bio);
	/* retired: out of the index, and the inline test says so */
	blk_dma_tag_flush();
	KUNIT_EXPECT_EQ(test, disk_nr_indexed(f), 0U);
}

/*
 * Unmapping with an IO in flight returns at once (a wait would hang the
 * case); the driver unmaps, and the buffer is released, only once the IO
 * has put its reference.
 */
static void disk_unmap_retires_after_io(struct kunit *test)
{
	struct disk_fixture *f = test->priv;
	struct blk_dma_tag *tag, *got;
	struct bio bio;

	tag = blk_dma_tag_map(&f->bdev, f->bvec[0], 4, &f->buf);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tag));
	dio_bio(f, &bio, f->bvec[0], 4);
	got = blk_dma_tag_attach(&bio);
	KUNIT_ASSERT_PTR_EQ(test, got, tag);

	blk_dma_tag_unmap(tag);
	blk_dma_buf_put(&f->buf);
	blk_dma_tag_flush();
	KUNIT_EXPECT_EQ(test, atomic_read(&f->unmaps), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->released), 0);
	/* a new IO on the buffer no longer finds the tag */
	bio_uninit(&bio);
	dio_bio(f, &bio, f->bvec[0], 4);
	KUNIT_EXPECT_NULL(test, blk_dma_tag_attach(&bio));
	bio_uninit(&bio);

	blk_dma_tag_put(got);
	blk_dma_tag_flush();
	KUNIT_EXPECT_EQ(test, atomic_read(&f->unmaps), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->released), 1);
}

/*
 * A disk deleted and released while its owner still holds a revoked tag:
 * the per-disk state lives until the tag is freed (KASAN reports a use
 * after free otherwise).
 */
static void disk_state_outlives_disk(struct kunit *test)
{
	struct disk_fixture *f = test->priv;
	struct blk_dma_tag *tag;

	tag = blk_dma_tag_map(&f->bdev, f->bvec[0], 4, &f->buf);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tag));
	blk_dma_tag_del_disk(&f->disk);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->unmaps), 1);
	blk_dma_tag_release_disk(&f->disk);
	KUNIT_EXPECT_NULL(test, f->disk.dma_tag);
	blk_dma_tag_unmap(tag);
	owner_put(test, &f->buf, &f->released);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->unmaps), 1);
}

/*
 * An owner that remembers the disk by its state (io_uring's entries of
 * plain descriptors) keeps the state, and only the state, past the disk's
 * deletion and release: the pointer stays valid for comparison and no
 * mapping is left (KASAN reports a use after free otherwise).
 */
static void disk_state_held_by_owner(struct kunit *test)
{
	struct disk_fixture *f = test->priv;
	struct blk_dma_tag_disk *dt;
	struct blk_dma_tag *tag;

	dt = blk_dma_tag_disk_get(&f->bdev);
	KUNIT_ASSERT_PTR_EQ(test, dt, f->disk.dma_tag);
	tag = blk_dma_tag_map(&f->bdev, f->bvec[0], 4, &f->buf);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tag));
	KUNIT_EXPECT_PTR_EQ(test, tag->dt, dt);
	blk_dma_tag_unmap(tag);
	owner_put(test, &f->buf, &f->released);
	blk_dma_tag_del_disk(&f->disk);
	blk_dma_tag_release_disk(&f->disk);
	KUNIT_EXPECT_NULL(test, f->disk.dma_tag);
	/* still readable: the hot part the submit path tests */
	KUNIT_EXPECT_EQ(test,
			READ_ONCE(((struct blk_dma_tag_disk_hot *)dt)->nr_indexed),
			0U);
	blk_dma_tag_disk_put(dt);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->maps), atomic_read(&f->unmaps));
}

/* an eviction is an unmap (the VM tests read its dma_tag/evictions count) */
static void disk_evict_unmaps(struct kunit *test)
{
	struct disk_fixture *f = test->priv;
	struct blk_dma_tag *a, *b;

	a = blk_dma_tag_map(&f->bdev, f->bvec[0], 4, &f->buf);
	b = blk_dma_tag_map(&f->bdev, f->bvec[1], 4, &f->buf);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a) || IS_ERR(b));
	blk_dma_tag_evict(a);
	blk_dma_tag_unmap(b);
	blk_dma_tag_flush();
	KUNIT_EXPECT_EQ(test, atomic_read(&f->unmaps), 2);
	owner_put(test, &f->buf, &f->released);
}

static void disk_del_revokes(struct kunit *test)
{
	struct disk_fixture *f = test->priv;
	struct blk_dma_tag *a, *b, *c;

	a = blk_dma_tag_map(&f->bdev, f->bvec[0], 4, &f->buf);
	b = blk_dma_tag_map(&f->bdev, f->bvec[1], 4, &f->buf);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a) || IS_ERR(b));
	blk_dma_tag_del_disk(&f->disk);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->unmaps), 2);
	KUNIT_EXPECT_TRUE(test, a->revoked && b->revoked);
	c = blk_dma_tag_map(&f->bdev, f->bvec[2], 4, &f->buf);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(c), -ENODEV);
	/* the owners free revoked tags without the driver */
	blk_dma_tag_unmap(a);
	blk_dma_tag_unmap(b);
	owner_put(test, &f->buf, &f->released);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->unmaps), 2);
}

static void disk_refusals(struct kunit *test)
{
	struct disk_fixture *f = test->priv;
	struct blk_dma_tag *tag;
	struct bio bio;

	/* the driver says no: nothing is kept, nothing is found */
	f->bvec[1][0].bv_offset = 1;
	f->bvec[1][0].bv_len = PAGE_SIZE - 1;
	tag = blk_dma_tag_map(&f->bdev, f->bvec[1], 4, &f->buf);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(tag), -EOPNOTSUPP);
	dio_bio(f, &bio, f->bvec[1], 4);
	KUNIT_EXPECT_NULL(test, blk_dma_tag_attach(&bio));
	bio_uninit(&bio);

	/* switched off */
	KUNIT_EXPECT_EQ(test, blk_dma_premap_store(&f->q, "off\n", 4), 4L);
	tag = blk_dma_tag_map(&f->bdev, f->bvec[0], 4, &f->buf);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(tag), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, blk_dma_premap_store(&f->q, "maybe", 5),
			(ssize_t)-EINVAL);
	KUNIT_EXPECT_EQ(test, blk_dma_premap_store(&f->q, "auto", 4), 4L);
	KUNIT_EXPECT_TRUE(test, bdev_dma_premap_auto(&f->bdev));
	tag = blk_dma_tag_map(&f->bdev, f->bvec[0], 4, &f->buf);
	KUNIT_EXPECT_FALSE(test, IS_ERR(tag));
	if (!IS_ERR(tag))
		blk_dma_tag_unmap(tag);
	owner_put(test, &f->buf, &f->released);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->maps), atomic_read(&f->unmaps));
}

static struct kunit_case blk_dma_tag_disk_cases[] = {
	KUNIT_CASE(disk_map_unmap_calls_driver),
	KUNIT_CASE(disk_attach_finds_own_buffer),
	KUNIT_CASE(disk_unmap_retires_after_io),
	KUNIT_CASE(disk_state_outlives_disk),
	KUNIT_CASE(disk_state_held_by_owner),
	KUNIT_CASE(disk_evict_unmaps),
	KUNIT_CASE(disk_del_revokes),
	KUNIT_CASE(disk_refusals),
	{}
};

static struct kunit_suite blk_dma_tag_disk_suite = {
	.name = "blk-dma-tag-disk",
	.init = disk_init,
	.exit = disk_exit,
	.test_cases = blk_dma_tag_disk_cases,
};

/*
 * Composite tags: a fake stacking disk over three fake leaf disks; its
 * members are whatever stack_fixture.members lists (a second block_device
 * on one leaf stands for a partition).
 */
struct stack_fixture {
	struct disk_fixture leaf[3];
	struct block_device part;	/* a "partition" of leaf 0 */
	struct gendisk top;
	struct block_device top_bdev;
	struct request_queue q;
	struct block_device *members[4];
	unsigned int nr_members;
	struct bio_vec bvec[4];
	struct blk_dma_buf buf;
	atomic_t released;
};

static void stack_buf_release(struct blk_dma_buf *buf)
{
	atomic_inc(&container_of(buf, struct stack_fixture, buf)->released);
}

static int fake_members(struct gendisk *disk, blk_dma_tag_member_fn fn,
			void *data)
{
	struct stack_fixture *f = container_of(disk, struct stack_fixture, top);
	unsigned int i;
	int ret = 0;

	for (i = 0; !ret && i < f->nr_members; i++)
		ret = fn(f->members[i], data);
	return ret;
}

static const struct blk_dma_tag_ops fake_stack_ops = {
	.members = fake_members,
};

static const struct block_device_operations fake_stack_fops = {
	.dma_tag_ops = &fake_stack_ops,
};

static int stack_init(struct kunit *test)
{
	struct stack_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, f);
	for (i = 0; i < 3; i++)
		disk_setup(test, &f->leaf[i]);
	for (i = 0; i < 4; i++) {
		f->bvec[i].bv_page = ZERO_PAGE(0);
		f->bvec[i].bv_len = PAGE_SIZE;
	}
	f->part.bd_disk = &f->leaf[0].disk;
	f->top.fops = &fake_stack_fops;
	f->top.queue = &f->q;
	f->q.disk = &f->top;
	f->top_bdev.bd_disk = &f->top;
	blk_dma_buf_init(&f->buf, stack_buf_release);
	KUNIT_ASSERT_EQ(test, blk_dma_tag_add_disk(&f->top), 0);
	f->members[0] = &f->leaf[0].bdev;
	f->members[1] = &f->leaf[1].bdev;
	f->nr_members = 2;
	test->priv = f;
	return 0;
}

static void stack_exit(struct kunit *test)
{
	struct stack_fixture *f = test->priv;
	int i;

	blk_dma_tag_flush();
	blk_dma_tag_release_disk(&f->top);
	for (i = 0; i < 3; i++)
		blk_dma_tag_release_disk(&f->leaf[i].disk);
}

static int leaf_maps(struct stack_fixture *f, int i)
{
	return atomic_read(&f->leaf[i].maps);
}

/* the member unmaps once what was unmapped so far has been retired */
static int leaf_unmaps(struct stack_fixture *f, int i)
{
	blk_dma_tag_flush();
	return atomic_read(&f->leaf[i].unmaps);
}

static void stack_build_and_translate(struct kunit *test)
{
	struct stack_fixture *f = test->priv;
	struct blk_dma_tag *tag, *m0, *m1;

	tag = blk_dma_tag_map(&f->top_bdev, f->bvec, 4, &f->buf);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tag));
	KUNIT_EXPECT_EQ(test, tag->kind, BLK_DMA_TAG_COMPOSITE);
	KUNIT_EXPECT_EQ(test, leaf_maps(f, 0), 1);
	KUNIT_EXPECT_EQ(test, leaf_maps(f, 1), 1);
	m0 = blk_dma_tag_translate(tag, &f->leaf[0].disk);
	m1 = blk_dma_tag_translate(tag, &f->leaf[1].disk);
	KUNIT_ASSERT_NOT_NULL(test, m0);
	KUNIT_ASSERT_NOT_NULL(test, m1);
	KUNIT_EXPECT_PTR_EQ(test, m0->disk, &f->leaf[0].disk);
	KUNIT_EXPECT_EQ(test, m0->kind, BLK_DMA_TAG_LEAF);
	KUNIT_EXPECT_EQ(test, m0->depth, 1U);
	/* not a member: plain IO */
	KUNIT_EXPECT_NULL(test, blk_dma_tag_translate(tag, &f->leaf[2].disk));
	blk_dma_tag_unmap(tag);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 0), 1);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 1), 1);
	/* the composite and both member tags held the buffer */
	owner_put(test, &f->buf, &f->released);
}

static void stack_prep_translates(struct kunit *test)
{
	struct stack_fixture *f = test->priv;
	struct blk_dma_tag *tag;
	struct bio bio;

	tag = blk_dma_tag_map(&f->top_bdev, f->bvec, 4, &f->buf);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tag));
	/* a clone a stacking driver remapped to member 1 */
	bio_init(&bio, NULL, f->bvec, 4, REQ_OP_READ);
	bio.bi_bdev = &f->leaf[1].bdev;
	bio_set_dma_tag(&bio, tag);
	blk_dma_tag_bio_prep(&bio);
	KUNIT_ASSERT_NOT_NULL(test, bio_dma_tag(&bio));
	KUNIT_EXPECT_PTR_EQ(test, bio_dma_tag(&bio)->disk, &f->leaf[1].disk);
	/* submitted once more to the same member: it stays */
	blk_dma_tag_bio_prep(&bio);
	KUNIT_EXPECT_PTR_EQ(test, bio_dma_tag(&bio)->disk, &f->leaf[1].disk);
	bio_uninit(&bio);
	blk_dma_tag_unmap(tag);
}

static void stack_partial(struct kunit *test)
{
	struct stack_fixture *f = test->priv;
	struct blk_dma_tag *tag;

	/* one member refuses: it gets plain IO, the map succeeds */
	f->leaf[1].refuse = true;
	tag = blk_dma_tag_map(&f->top_bdev, f->bvec, 4, &f->buf);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tag));
	KUNIT_EXPECT_NOT_NULL(test, blk_dma_tag_translate(tag, &f->leaf[0].disk));
	KUNIT_EXPECT_NULL(test, blk_dma_tag_translate(tag, &f->leaf[1].disk));
	KUNIT_EXPECT_EQ(test, atomic_read(&f->leaf[1].attempts), 1);
	blk_dma_tag_unmap(tag);
	KUNIT_EXPECT_EQ(test, leaf_maps(f, 0), 1);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 0), 1);
	KUNIT_EXPECT_EQ(test, leaf_maps(f, 1), 0);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 1), 0);
}

/*
 * All members refuse: the stack cannot premap, and the attempt leaves
 * nothing behind. Every member was asked; the same buffer then maps afresh
 * (one driver map per member) once they accept. A tag that the refusal left
 * on the stacking disk or a member makes stack_exit()'s
 * blk_dma_tag_release_disk() warn, and memory it left is kmemleak's to
 * report: the KUnit boot of make check fails on either.
 */
static void stack_all_refuse(struct kunit *test)
{
	struct stack_fixture *f = test->priv;
	struct blk_dma_tag *tag;
	int i;

	f->leaf[0].refuse = true;
	f->leaf[1].refuse = true;
	tag = blk_dma_tag_map(&f->top_bdev, f->bvec, 4, &f->buf);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(tag), -EOPNOTSUPP);
	if (!IS_ERR(tag))
		blk_dma_tag_unmap(tag);
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ(test, atomic_read(&f->leaf[i].attempts), 1);
		KUNIT_EXPECT_EQ(test, leaf_maps(f, i), 0);
		KUNIT_EXPECT_EQ(test, leaf_unmaps(f, i), 0);
	}

	f->leaf[0].refuse = false;
	f->leaf[1].refuse = false;
	tag = blk_dma_tag_map(&f->top_bdev, f->bvec, 4, &f->buf);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tag));
	blk_dma_tag_unmap(tag);
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ(test, leaf_maps(f, i), 1);
		KUNIT_EXPECT_EQ(test, leaf_unmaps(f, i), 1);
	}
}

static void stack_partitions_share(struct kunit *test)
{
	struct stack_fixture *f = test->priv;
	struct blk_dma_tag *tag;

	f->members[1] = &f->part;	/* leaf 0 twice: whole and "partition" */
	tag = blk_dma_tag_map(&f->top_bdev, f->bvec, 4, &f->buf);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tag));
	KUNIT_EXPECT_EQ(test, leaf_maps(f, 0), 1);
	blk_dma_tag_unmap(tag);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 0), 1);
}

/*
 * A tag mapped on the stack {0, 1}, whose members then become {1, 2} (the
 * caller reports the change); *@kept is its member tag on leaf 1, which the
 * change must keep as it is.
 */
static struct blk_dma_tag *stack_swap_first(struct kunit *test,
					    struct stack_fixture *f,
					    struct blk_dma_tag **kept)
{
	struct blk_dma_tag *tag;

	tag = blk_dma_tag_map(&f->top_bdev, f->bvec, 4, &f->buf);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tag));
	*kept = blk_dma_tag_translate(tag, &f->leaf[1].disk);
	f->members[0] = &f->leaf[2].bdev;
	return tag;
}

static void stack_members_changed(struct kunit *test)
{
	struct stack_fixture *f = test->priv;
	struct blk_dma_tag *tag, *kept;

	/* {0, 1} -> {1, 2}: 0 is unmapped, 1 kept as it is, 2 mapped */
	tag = stack_swap_first(test, f, &kept);
	blk_dma_tag_members_changed(&f->top);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 0), 1);
	KUNIT_EXPECT_EQ(test, leaf_maps(f, 1), 1);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 1), 0);
	KUNIT_EXPECT_EQ(test, leaf_maps(f, 2), 1);
	KUNIT_EXPECT_PTR_EQ(test, blk_dma_tag_translate(tag, &f->leaf[1].disk),
			    kept);
	KUNIT_EXPECT_NOT_NULL(test, blk_dma_tag_translate(tag, &f->leaf[2].disk));
	KUNIT_EXPECT_NULL(test, blk_dma_tag_translate(tag, &f->leaf[0].disk));
	blk_dma_tag_unmap(tag);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 1), 1);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 2), 1);
}

/* map the buffer on the stacking disk and start a direct IO on it */
static struct blk_dma_tag *stack_map_and_io(struct kunit *test,
					    struct stack_fixture *f,
					    struct blk_dma_tag **tagp,
					    struct bio *bio)
{
	struct blk_dma_tag *got;

	*tagp = blk_dma_tag_map(&f->top_bdev, f->bvec, 4, &f->buf);
	KUNIT_ASSERT_FALSE(test, IS_ERR(*tagp));
	bio_init(bio, NULL, NULL, 0, REQ_OP_READ);
	bio->bi_bdev = &f->top_bdev;
	bio->bi_io_vec = f->bvec;
	bio->bi_vcnt = 4;
	bio->bi_iter.bi_size = 4 * PAGE_SIZE;
	bio_set_flag(bio, BIO_NO_PAGE_REF);
	got = blk_dma_tag_attach(bio);
	KUNIT_ASSERT_PTR_EQ(test, got, *tagp);
	return got;
}

static void stack_retire_waits_for_io(struct kunit *test)
{
	struct stack_fixture *f = test->priv;
	struct blk_dma_tag *tag, *got;
	struct bio bio;

	got = stack_map_and_io(test, f, &tag, &bio);
	blk_dma_tag_unmap(tag);
	blk_dma_buf_put(&f->buf);
	/* IO on the stack: no member may be unmapped, nothing released */
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 0) + leaf_unmaps(f, 1), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->released), 0);
	blk_dma_tag_put(got);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 0) + leaf_unmaps(f, 1), 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->released), 1);
	bio_uninit(&bio);
}

static void stack_unchanged_keeps_tables(struct kunit *test)
{
	struct stack_fixture *f = test->priv;
	struct blk_dma_tag *tag;
	void *table;

	tag = blk_dma_tag_map(&f->top_bdev, f->bvec, 4, &f->buf);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tag));
	table = rcu_access_pointer(tag->members);
	/* the same members again: nothing is rebuilt, mapped or unmapped */
	blk_dma_tag_members_changed(&f->top);
	KUNIT_EXPECT_PTR_EQ(test, rcu_access_pointer(tag->members), table);
	KUNIT_EXPECT_EQ(test, leaf_maps(f, 0) + leaf_maps(f, 1), 2);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 0) + leaf_unmaps(f, 1), 0);
	blk_dma_tag_unmap(tag);
}

static void stack_revoked_member(struct kunit *test)
{
	struct stack_fixture *f = test->priv;
	struct blk_dma_tag *tag;

	tag = blk_dma_tag_map(&f->top_bdev, f->bvec, 4, &f->buf);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tag));
	/* member 1 is removed under the stack (NVMe surprise removal) */
	blk_dma_tag_del_disk(&f->leaf[1].disk);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 1), 1);
	KUNIT_EXPECT_NULL(test, blk_dma_tag_translate(tag, &f->leaf[1].disk));
	KUNIT_EXPECT_NOT_NULL(test, blk_dma_tag_translate(tag, &f->leaf[0].disk));
	/* still listed: the stack tries again, the member says -ENODEV */
	blk_dma_tag_members_changed(&f->top);
	KUNIT_EXPECT_NULL(test, blk_dma_tag_translate(tag, &f->leaf[1].disk));
	/* the stacking driver lets it go */
	f->nr_members = 1;
	blk_dma_tag_members_changed(&f->top);
	blk_dma_tag_unmap(tag);
	KUNIT_EXPECT_EQ(test, leaf_maps(f, 0), leaf_unmaps(f, 0));
	KUNIT_EXPECT_EQ(test, leaf_maps(f, 1), 1);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 1), 1);
}

/*
 * A tag unmapped while its IO is in flight still follows membership changes
 * (md changes members while IO is in flight, and that IO may need md's
 * thread): members that leave are unmapped at once, new ones are not mapped
 * for it, the rest goes when the IO ends.
 */
static void stack_unmap_lets_members_change(struct kunit *test)
{
	struct stack_fixture *f = test->priv;
	struct blk_dma_tag *tag, *got;
	struct bio bio;

	got = stack_map_and_io(test, f, &tag, &bio);
	blk_dma_tag_unmap(tag);
	/* {0, 1} -> {1, 2} while the IO holds the tag */
	f->members[0] = &f->leaf[2].bdev;
	blk_dma_tag_members_changed(&f->top);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 0), 1);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 1), 0);
	KUNIT_EXPECT_EQ(test, leaf_maps(f, 2), 0);
	blk_dma_tag_put(got);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 1), 1);
	bio_uninit(&bio);
}

/*
 * A change made while the stack holds its IO (a dm table swap, suspended)
 * maps nothing: the member that joined gets plain IO until the next change
 * (dm: the resume) maps it; the one that left is unmapped at once.
 */
static void stack_members_left_maps_nothing(struct kunit *test)
{
	struct stack_fixture *f = test->priv;
	struct blk_dma_tag *tag, *kept;

	tag = stack_swap_first(test, f, &kept);
	blk_dma_tag_members_left(&f->top);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 0), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->leaf[2].attempts), 0);
	KUNIT_EXPECT_NULL(test, blk_dma_tag_translate(tag, &f->leaf[2].disk));
	KUNIT_EXPECT_PTR_EQ(test, blk_dma_tag_translate(tag, &f->leaf[1].disk),
			    kept);
	blk_dma_tag_members_changed(&f->top);
	KUNIT_EXPECT_EQ(test, leaf_maps(f, 2), 1);
	KUNIT_EXPECT_NOT_NULL(test, blk_dma_tag_translate(tag, &f->leaf[2].disk));
	KUNIT_EXPECT_PTR_EQ(test, blk_dma_tag_translate(tag, &f->leaf[1].disk),
			    kept);
	blk_dma_tag_unmap(tag);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 1) + leaf_unmaps(f, 2), 2);
	owner_put(test, &f->buf, &f->released);
}

/* a resume has a worker map the members that joined; removal cancels it */
static void stack_members_joined_later(struct kunit *test)
{
	struct stack_fixture *f = test->priv;
	struct blk_dma_tag *tag;
	int i;

	tag = blk_dma_tag_map(&f->top_bdev, f->bvec, 4, &f->buf);
	KUNIT_ASSERT_FALSE(test, IS_ERR(tag));
	f->members[1] = &f->leaf[2].bdev;
	blk_dma_tag_members_left(&f->top);
	KUNIT_EXPECT_NULL(test, blk_dma_tag_translate(tag, &f->leaf[2].disk));
	blk_dma_tag_members_joined(&f->top);
	for (i = 0; i < 100 && !blk_dma_tag_translate(tag, &f->leaf[2].disk); i++)
		msleep(50);
	KUNIT_EXPECT_NOT_NULL(test, blk_dma_tag_translate(tag, &f->leaf[2].disk));
	KUNIT_EXPECT_EQ(test, leaf_maps(f, 2), 1);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 1), 1);
	/* queued again, then the disk goes: the removal waits for it */
	blk_dma_tag_members_joined(&f->top);
	blk_dma_tag_del_disk(&f->top);
	KUNIT_EXPECT_EQ(test, leaf_maps(f, 2), 1);
	blk_dma_tag_unmap(tag);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 0) + leaf_unmaps(f, 2), 2);
	owner_put(test, &f->buf, &f->released);
}

/*
 * Many composite tags unmapped at once retire as one batch: every member
 * mapping is undone and the buffer released exactly once after the last.
 */
static void stack_batch_retire(struct kunit *test)
{
	struct stack_fixture *f = test->priv;
	struct blk_dma_tag *tag[64];
	int i;

	for (i = 0; i < ARRAY_SIZE(tag); i++) {
		tag[i] = blk_dma_tag_map(&f->top_bdev, f->bvec, 4, &f->buf);
		KUNIT_ASSERT_FALSE(test, IS_ERR(tag[i]));
	}
	KUNIT_EXPECT_EQ(test, leaf_maps(f, 0) + leaf_maps(f, 1), 128);
	for (i = 0; i < ARRAY_SIZE(tag); i++)
		blk_dma_tag_unmap(tag[i]);
	KUNIT_EXPECT_EQ(test, leaf_unmaps(f, 0) + leaf_unmaps(f, 1), 128);
	owner_put(test, &f->buf, &f->released);
}

static struct kunit_case blk_dma_tag_stack_cases[] = {
	KUNIT_CASE(stack_build_and_translate),
	KUNIT_CASE(stack_prep_translates),
	KUNIT_CASE(stack_partial),
	KUNIT_CASE(stack_all_refuse),
	KUNIT_CASE(stack_partitions_share),
	KUNIT_CASE(stack_members_changed),
	KUNIT_CASE(stack_retire_waits_for_io),
	KUNIT_CASE(stack_unchanged_keeps_tables),
	KUNIT_CASE(stack_revoked_member),
	KUNIT_CASE(stack_unmap_lets_members_change),
	KUNIT_CASE(stack_members_left_maps_nothing),
	KUNIT_CASE(stack_members_joined_later),
	KUNIT_CASE(stack_batch_retire),
	{}
};

static struct kunit_suite blk_dma_tag_stack_suite = {
	.name = "blk-dma-tag-stack",
	.init = stack_init,
	.exit = stack_exit,
	.test_cases = blk_dma_tag_stack_cases,
};

kunit_test_suites(&blk_dma_tag_suite, &blk_dma_tag_disk_suite,
		  &blk_dma_tag_stack_suite);

MODULE_LICENSE("GPL");
