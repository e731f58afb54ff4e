// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace tests of block/blk-dma-tag.c and block/blk-dma-tag-disk.c,
 * built unmodified against the shims in shim/ and run under ASan and UBSan.
 * blk_dma_tag_locate() is checked against a brute-force model on many random
 * buffers and bio positions, including bios whose bvec array starts inside
 * the buffer's (io_uring skips the segments before an IO's start) and bios
 * reaching past the end. The lifetime cases check, one step at a time, what
 * the background retirement promises: unmap returns at once, the driver
 * unmaps and the owner's buffer is released only after the last IO and a
 * blk_dma_tag_flush(), exactly once, after every tag on the buffer (member
 * tags included) is freed; a disk's premapping state outlives the disk while
 * a tag of it is not freed; unmapping works in any context; dm's resume
 * maps the members that joined in the background. Prints one "ok - NAME" or
 * "not ok - NAME # WHY" line per case.
 *
 * Usage: tag-core-test [SEED [TRIALS]]
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <linux/blk-dma-tag.h>
#include <linux/mutex.h>
#include <linux/sched/mm.h>
#include <linux/workqueue.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

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
	fflush(stdout);		/* a sanitizer or shim report may end the run */
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

/* --- premapping on disks: the lifetime of tags and buffers ------------- */

#ifndef __SANITIZE_ADDRESS__
#error "tag-core-test tells freed blocks by ASan's poisoning: build it with ASan"
#endif

/* a block the program freed: ASan poisons it and keeps it in quarantine */
static bool freed(const void *p)
{
	return __asan_address_is_poisoned(p);
}

/*
 * A disk: a leaf with a fake driver that counts its calls, or a stacking
 * disk over up to four others. Unmaps come from the retire worker.
 */
struct fdisk {
	struct gendisk disk;
	struct block_device bdev;
	int maps, unmaps;
	int maps_without_noio;	/* made for a composite outside a noio scope */
	struct fdisk *member[4];
	unsigned int nr_members;
};

/* the owner's buffer (io_uring's io_mapped_ubuf) */
struct obuf {
	struct blk_dma_buf dma_buf;
	struct bio_vec bv[4];
	int released;		/* release calls */
	int live_maps;		/* leaf driver mappings of the buffer */
	bool owner_put;		/* the owner dropped its reference */
	struct blk_dma_tag *tags[16];	/* every tag made on it */
	unsigned int nr_tags;
	char why[160];		/* what the release found wrong */
};

static void obuf_note(struct obuf *o, const char *fmt, ...)
{
	va_list args;

	if (o->why[0])
		return;
	va_start(args, fmt);
	vsnprintf(o->why, sizeof(o->why), fmt, args);
	va_end(args);
}

static void obuf_record(struct obuf *o, struct blk_dma_tag *tag)
{
	if (tag && o->nr_tags < ARRAY_SIZE(o->tags))
		o->tags[o->nr_tags++] = tag;
}

/* release: once, after the owner let go and every tag on it is freed */
static void obuf_release(struct blk_dma_buf *buf)
{
	struct obuf *o = container_of(buf, struct obuf, dma_buf);
	unsigned int i;

	if (__atomic_fetch_add(&o->released, 1, __ATOMIC_RELAXED))
		obuf_note(o, "released twice");
	if (__atomic_load_n(&o->live_maps, __ATOMIC_RELAXED))
		obuf_note(o, "released with %d driver mappings live", o->live_maps);
	if (!__atomic_load_n(&o->owner_put, __ATOMIC_RELAXED))
		obuf_note(o, "released before its owner let go");
	if (shim_atomic)
		obuf_note(o, "released in atomic context");
	for (i = 0; i < o->nr_tags; i++)
		if (!freed(o->tags[i]))
			obuf_note(o, "released while tag %u on it is not freed", i);
}

static void obuf_init(struct obuf *o)
{
	unsigned int i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < ARRAY_SIZE(o->bv); i++)
		o->bv[i].bv_len = 4096;
	blk_dma_buf_init(&o->dma_buf, obuf_release);
}

static void owner_put(struct obuf *o)
{
	__atomic_store_n(&o->owner_put, true, __ATOMIC_RELAXED);
	blk_dma_buf_put(&o->dma_buf);
}

static __thread int my_maps;		/* driver maps made by this thread */
static struct blk_dma_tag *unmap_in_map;	/* unmapped by the next map */

static int fake_map(struct gendisk *disk, struct blk_dma_tag *tag)
{
	struct fdisk *d = disk->private_data;
	struct obuf *o = container_of(tag->buf, struct obuf, dma_buf);

	my_maps++;
	if (unmap_in_map) {	/* with the disk's tag lock held */
		blk_dma_tag_unmap(unmap_in_map);
		unmap_in_map = NULL;
	}

	if (tag->depth && !(shim_task_flags & SHIM_PF_MEMALLOC_NOIO))
		__atomic_fetch_add(&d->maps_without_noio, 1, __ATOMIC_RELAXED);
	tag->priv = d;
	__atomic_fetch_add(&d->maps, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&o->live_maps, 1, __ATOMIC_RELAXED);
	obuf_record(o, tag);
	return 0;
}

static void fake_unmap(struct gendisk *disk, struct blk_dma_tag *tag)
{
	struct fdisk *d = disk->private_data;
	struct obuf *o = container_of(tag->buf, struct obuf, dma_buf);

	if (tag->priv != d || shim_ref_users(&tag->users))
		obuf_note(o, "driver unmap of a tag not mapped, or with IO");
	tag->priv = NULL;
	__atomic_fetch_add(&d->unmaps, 1, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&o->live_maps, 1, __ATOMIC_RELAXED);
}

static const struct blk_dma_tag_ops fake_ops = {
	.map = fake_map,
	.unmap = fake_unmap,
};
static const struct block_device_operations fake_fops = {
	.dma_tag_ops = &fake_ops,
};

static int stack_members(struct gendisk *disk, blk_dma_tag_member_fn fn,
			 void *data)
{
	struct fdisk *d = disk->private_data;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < d->nr_members && !ret; i++)
		ret = fn(&d->member[i]->bdev, data);
	return ret;
}

static const struct blk_dma_tag_ops stack_ops = { .members = stack_members };
static const struct block_device_operations stack_fops = {
	.dma_tag_ops = &stack_ops,
};

static void fdisk_add(struct fdisk *d, const struct block_device_operations *fops)
{
	memset(d, 0, sizeof(*d));
	d->disk.fops = fops;
	d->disk.private_data = d;
	d->bdev.bd_disk = &d->disk;
	if (blk_dma_tag_add_disk(&d->disk))
		shim_bug("blk_dma_tag_add_disk");
}

static void fdisk_leaf(struct fdisk *d)
{
	fdisk_add(d, &fake_fops);
}

static void fdisk_stack(struct fdisk *d, struct fdisk *m0, struct fdisk *m1)
{
	fdisk_add(d, &stack_fops);
	d->member[d->nr_members++] = m0;
	if (m1)
		d->member[d->nr_members++] = m1;
}

/* del_gendisk() and disk_release() */
static void fdisk_remove(struct fdisk *d)
{
	blk_dma_tag_del_disk(&d->disk);
	blk_dma_tag_release_disk(&d->disk);
}

/* a direct-IO bio on the first page of @o, as bio_iov_bvec_set() builds it */
static struct bio obio(struct fdisk *d, struct obuf *o)
{
	return (struct bio){
		.bi_bdev = &d->bdev, .bi_flags = 1u << BIO_NO_PAGE_REF,
		.bi_io_vec = o->bv, .bi_iter = { .bi_size = 4096 },
	};
}

/*
 * Every allocation the core makes under a disk's tag lock is made without
 * IO: a dm table swap inside a suspend waits for those locks (a stacking
 * disk's, its members'), and reclaim may wait for the suspended device.
 */
static int noio_violations;
static const char *noio_first;
static const char *current_case = "";

static void noio_hook(gfp_t gfp)
{
	(void)gfp;
	if (shim_nr_held && !(shim_task_flags & SHIM_PF_MEMALLOC_NOIO) &&
	    !__atomic_fetch_add(&noio_violations, 1, __ATOMIC_RELAXED))
		__atomic_store_n(&noio_first, current_case, __ATOMIC_RELAXED);
}

static char why[512];
#define WHY(...) (snprintf(why, sizeof(why), __VA_ARGS__), why)

/*
 * Tags of one bvec range on one disk (the owner's and a stack member's) are
 * chained in the disk's lookup tree: with the tag stored there unmapped,
 * and then retired, and with one behind it retired, a lookup finds a live
 * one; with all gone, none. A range that overlaps another in part is
 * refused, and the disk's index is empty at the end (the disk state's free
 * warns otherwise).
 */
static void attach_one(struct fdisk *d, struct obuf *o,
		       struct blk_dma_tag **got)
{
	struct bio bio = obio(d, o);

	*got = blk_dma_tag_attach(&bio);
	blk_dma_tag_put(*got);
}

static void test_same_range_chain(void)
{
	struct fdisk a;
	struct obuf o;
	struct blk_dma_tag *t1, *t2, *t3, *part, *g1, *g2, *g3, *g4;

	fdisk_leaf(&a);
	obuf_init(&o);
	t1 = blk_dma_tag_map(&a.bdev, o.bv, 4, &o.dma_buf);
	t2 = blk_dma_tag_map(&a.bdev, o.bv, 4, &o.dma_buf);
	t3 = blk_dma_tag_map(&a.bdev, o.bv, 4, &o.dma_buf);
	part = blk_dma_tag_map(&a.bdev, o.bv + 1, 2, &o.dma_buf);
	verdict("same-range-chained-partial-refused",
		!IS_ERR(t1) && !IS_ERR(t2) && !IS_ERR(t3) &&
		PTR_ERR(part) == -EBUSY,
		WHY("maps %ld %ld %ld, partial %ld", IS_ERR(t1) ? PTR_ERR(t1) : 0,
		    IS_ERR(t2) ? PTR_ERR(t2) : 0, IS_ERR(t3) ? PTR_ERR(t3) : 0,
		    IS_ERR(part) ? PTR_ERR(part) : 0));
	if (IS_ERR(t1) || IS_ERR(t2) || IS_ERR(t3)) {
		owner_put(&o);
		blk_dma_tag_flush();
		fdisk_remove(&a);
		return;
	}
	if (!IS_ERR(part))
		blk_dma_tag_unmap(part);
	blk_dma_tag_unmap(t1);		/* the one stored: stopped, still there */
	attach_one(&a, &o, &g1);
	blk_dma_tag_flush();		/* retired: t3 stored in its place */
	attach_one(&a, &o, &g2);
	blk_dma_tag_unmap(t2);		/* the one behind it */
	blk_dma_tag_flush();
	attach_one(&a, &o, &g3);
	blk_dma_tag_unmap(t3);
	blk_dma_tag_flush();
	attach_one(&a, &o, &g4);
	verdict("same-range-chain-finds-a-live-tag",
		(g1 == t2 || g1 == t3) && (g2 == t2 || g2 == t3) && g3 == t3 &&
		!g4,
		WHY("found %s, %s, %s, %s", g1 ? "a tag" : "none",
		    g2 ? "a tag" : "none", g3 == t3 ? "t3" : "other",
		    g4 ? "a tag" : "none"));
	owner_put(&o);
	blk_dma_tag_flush();
	verdict("same-range-chain-released",
		o.released == 1 && a.maps == a.unmaps && !o.why[0],
		WHY("releases %d, %d maps, %d unmaps; %s", o.released, a.maps,
		    a.unmaps, o.why));
	fdisk_remove(&a);
}

/*
 * Unmapping with an IO in flight returns at once (a wait would hang the
 * test: one thread) and waits for no grace period; neither the driver unmap
 * nor the release happens before the IO completes, flush or not, and both
 * happen once after it and a flush.
 */
static void test_unmap_with_io_in_flight(void)
{
	struct fdisk a;
	struct obuf o;
	struct blk_dma_tag *tag, *got, *got2;
	struct bio bio;
	long gp;

	fdisk_leaf(&a);
	obuf_init(&o);
	tag = blk_dma_tag_map(&a.bdev, o.bv, 4, &o.dma_buf);
	if (IS_ERR(tag)) {
		verdict("unmap-returns-with-io-in-flight", false, "map failed");
		return;
	}
	bio = obio(&a, &o);
	got = blk_dma_tag_attach(&bio);
	gp = shim_thread_nr_synchronize_rcu;
	blk_dma_tag_unmap(tag);
	verdict("unmap-returns-with-io-in-flight",
		got == tag && a.unmaps == 0 && o.live_maps == 1 && !o.released,
		WHY("attach %s, %d driver unmaps, %d releases",
		    got == tag ? "ok" : "missed", a.unmaps, o.released));
	verdict("unmap-waits-for-no-grace-period",
		shim_thread_nr_synchronize_rcu == gp,
		WHY("%ld synchronize_rcu() calls", shim_thread_nr_synchronize_rcu - gp));
	bio = obio(&a, &o);
	got2 = blk_dma_tag_attach(&bio);
	verdict("unmapped-tag-not-found", !got2, "attach found it");
	blk_dma_tag_put(got2);
	blk_dma_tag_flush();
	verdict("flush-keeps-a-tag-with-io-in-flight",
		__atomic_load_n(&a.unmaps, __ATOMIC_RELAXED) == 0 &&
		o.live_maps == 1 && !o.released,
		WHY("%d driver unmaps, %d releases", a.unmaps, o.released));
	owner_put(&o);
	verdict("owner-put-with-a-tag-left-releases-nothing", !o.released,
		"released");
	blk_dma_tag_put(got);	/* the IO completes */
	blk_dma_tag_flush();
	verdict("driver-unmap-and-release-after-io-and-flush",
		a.unmaps == 1 && o.released == 1 && !o.why[0],
		WHY("%d driver unmaps, %d releases; %s", a.unmaps, o.released, o.why));
	fdisk_remove(&a);
}

/*
 * A composite tag and its member tags each hold the buffer: the release
 * comes once, after the member tags are freed too, and never while a
 * driver mapping is left.
 */
static void test_composite_release(void)
{
	struct fdisk a, b, c;
	struct obuf o;
	struct blk_dma_tag *tag, *ma, *mb;

	fdisk_leaf(&a);
	fdisk_leaf(&b);
	fdisk_stack(&c, &a, &b);
	obuf_init(&o);
	tag = blk_dma_tag_map(&c.bdev, o.bv, 4, &o.dma_buf);
	if (IS_ERR(tag)) {
		verdict("composite-maps-members-without-io", false, "map failed");
		return;
	}
	obuf_record(&o, tag);
	ma = blk_dma_tag_translate(tag, &a.disk);
	mb = blk_dma_tag_translate(tag, &b.disk);
	verdict("composite-maps-members-without-io",
		ma && mb && a.maps == 1 && b.maps == 1 && !a.maps_without_noio &&
		!b.maps_without_noio && !shim_task_flags,
		WHY("members %p %p, maps %d %d, outside noio %d %d, flags %#x",
		    (void *)ma, (void *)mb, a.maps, b.maps, a.maps_without_noio,
		    b.maps_without_noio, shim_task_flags));
	owner_put(&o);
	verdict("composite-holds-the-buffer", !o.released, "released");
	blk_dma_tag_unmap(tag);
	blk_dma_tag_flush();
	verdict("buffer-released-once-after-member-tags",
		o.released == 1 && !o.why[0] && a.unmaps == 1 && b.unmaps == 1,
		WHY("%d releases, driver unmaps %d %d; %s", o.released, a.unmaps,
		    b.unmaps, o.why));
	fdisk_remove(&c);
	fdisk_remove(&a);
	fdisk_remove(&b);
}

/* the three levels of a nested stack settle in one flush */
static void test_nested_flush(void)
{
	struct fdisk a, b, c, n;
	struct obuf o;
	struct blk_dma_tag *tag;

	fdisk_leaf(&a);
	fdisk_leaf(&b);
	fdisk_stack(&c, &a, &b);
	fdisk_stack(&n, &c, NULL);
	obuf_init(&o);
	tag = blk_dma_tag_map(&n.bdev, o.bv, 4, &o.dma_buf);
	if (IS_ERR(tag)) {
		verdict("flush-settles-every-level", false, "map failed");
		return;
	}
	obuf_record(&o, tag);
	obuf_record(&o, blk_dma_tag_translate(tag, &c.disk));
	owner_put(&o);
	blk_dma_tag_unmap(tag);
	blk_dma_tag_flush();
	verdict("flush-settles-every-level",
		o.nr_tags == 4 && o.released == 1 && !o.why[0] &&
		a.unmaps == 1 && b.unmaps == 1,
		WHY("%u tags, %d releases, driver unmaps %d %d; %s", o.nr_tags,
		    o.released, a.unmaps, b.unmaps, o.why));
	fdisk_remove(&n);
	fdisk_remove(&c);
	fdisk_remove(&a);
	fdisk_remove(&b);
}

/*
 * The disk goes first (del_gendisk() unmaps at once, disk_release() lets go
 * of the state), the owner unmaps later: the state lives until the last tag
 * is freed, and the driver unmaps exactly once. A member disk as well: its
 * tag is freed when the composite drops it or is retired itself.
 */
static void test_disk_state_outlives_disk(void)
{
	struct fdisk d, m, s, m2, s2;
	struct blk_dma_tag_disk *dt, *dtm, *dtm2;
	struct obuf o, p, q;
	struct blk_dma_tag *tag, *ts, *ts2;

	fdisk_leaf(&d);
	obuf_init(&o);
	tag = blk_dma_tag_map(&d.bdev, o.bv, 4, &o.dma_buf);
	dt = d.disk.dma_tag;
	if (IS_ERR(tag)) {
		verdict("del-disk-unmaps-at-once", false, "map failed");
		return;
	}
	blk_dma_tag_del_disk(&d.disk);
	verdict("del-disk-unmaps-at-once",
		d.unmaps == 1 && !o.live_maps && !o.released,
		WHY("%d driver unmaps, %d releases", d.unmaps, o.released));
	blk_dma_tag_release_disk(&d.disk);
	verdict("disk-state-held-by-its-tags", !d.disk.dma_tag && !freed(dt),
		"freed with a tag left");
	if (freed(dt))
		return;		/* the unmap would use it */
	owner_put(&o);
	blk_dma_tag_flush();
	verdict("revoked-tag-holds-the-buffer", !o.released, "released");
	blk_dma_tag_unmap(tag);
	blk_dma_tag_flush();
	verdict("disk-state-freed-with-its-last-tag",
		freed(dt) && o.released == 1 && d.unmaps == 1 && !o.why[0],
		WHY("state %s, %d releases, %d driver unmaps; %s",
		    freed(dt) ? "freed" : "left", o.released, d.unmaps, o.why));

	/* a member removed by surprise, then dropped by its stack */
	fdisk_leaf(&m);
	fdisk_stack(&s, &m, NULL);
	obuf_init(&p);
	ts = blk_dma_tag_map(&s.bdev, p.bv, 4, &p.dma_buf);
	dtm = m.disk.dma_tag;
	fdisk_leaf(&m2);
	fdisk_stack(&s2, &m2, NULL);
	obuf_init(&q);
	ts2 = blk_dma_tag_map(&s2.bdev, q.bv, 4, &q.dma_buf);
	dtm2 = m2.disk.dma_tag;
	if (IS_ERR(ts) || IS_ERR(ts2)) {
		verdict("member-state-freed-with-its-last-tag", false, "map failed");
		return;
	}
	obuf_record(&p, ts);
	obuf_record(&q, ts2);
	fdisk_remove(&m);
	fdisk_remove(&m2);
	s.nr_members = 0;
	blk_dma_tag_members_changed(&s.disk);	/* md drops the failed member */
	blk_dma_tag_flush();
	verdict("member-state-freed-with-its-last-tag",
		freed(dtm) && !freed(dtm2) && m.unmaps == 1 && !p.released,
		WHY("states %s %s, %d driver unmaps, %d releases",
		    freed(dtm) ? "freed" : "left", freed(dtm2) ? "freed" : "left",
		    m.unmaps, p.released));
	owner_put(&p);
	owner_put(&q);
	blk_dma_tag_unmap(ts);
	blk_dma_tag_unmap(ts2);		/* its member tag goes with it */
	blk_dma_tag_flush();
	verdict("revoked-member-freed-with-its-composite",
		freed(dtm2) && m2.unmaps == 1 && p.released == 1 &&
		q.released == 1 && !p.why[0] && !q.why[0],
		WHY("state %s, %d driver unmaps, releases %d %d; %s%s",
		    freed(dtm2) ? "freed" : "left", m2.unmaps, p.released,
		    q.released, p.why, q.why));
	fdisk_remove(&s);
	fdisk_remove(&s2);
}

/*
 * members_left() maps nothing, members_changed() maps the members that
 * joined, neither waits for a grace period, and the tag of a member that
 * left is retired once the IO that carries it has completed.
 */
static void test_members_left(void)
{
	struct fdisk a, b, c;
	struct obuf o;
	struct blk_dma_tag *tag, *ma, *mb, *got;
	struct bio bio;
	long gp;

	fdisk_leaf(&a);
	fdisk_leaf(&b);
	fdisk_stack(&c, &a, NULL);
	obuf_init(&o);
	tag = blk_dma_tag_map(&c.bdev, o.bv, 4, &o.dma_buf);
	if (IS_ERR(tag)) {
		verdict("members-left-maps-nothing", false, "map failed");
		return;
	}
	ma = blk_dma_tag_translate(tag, &a.disk);
	c.member[c.nr_members++] = &b;
	gp = shim_thread_nr_synchronize_rcu;
	blk_dma_tag_members_left(&c.disk);
	verdict("members-left-maps-nothing",
		ma && !b.maps && !blk_dma_tag_translate(tag, &b.disk) &&
		blk_dma_tag_translate(tag, &a.disk) == ma && !shim_task_flags,
		WHY("%d maps on the new member, flags %#x", b.maps, shim_task_flags));
	blk_dma_tag_members_changed(&c.disk);
	mb = blk_dma_tag_translate(tag, &b.disk);
	verdict("members-changed-maps-who-joined",
		mb && b.maps == 1 && !b.maps_without_noio && !shim_task_flags &&
		blk_dma_tag_translate(tag, &a.disk) == ma,
		WHY("%d maps, %d outside noio, flags %#x", b.maps,
		    b.maps_without_noio, shim_task_flags));

	/* IO straight on a finds a's member tag; then a leaves */
	bio = obio(&a, &o);
	got = blk_dma_tag_attach(&bio);
	c.member[0] = &b;
	c.nr_members = 1;
	blk_dma_tag_members_left(&c.disk);
	verdict("membership-changes-wait-for-no-grace-period",
		shim_thread_nr_synchronize_rcu == gp,
		WHY("%ld synchronize_rcu() calls", shim_thread_nr_synchronize_rcu - gp));
	blk_dma_tag_flush();
	verdict("member-tag-retired-after-its-io",
		got == ma && !blk_dma_tag_translate(tag, &a.disk) &&
		blk_dma_tag_translate(tag, &b.disk) == mb && a.unmaps == 0,
		WHY("attach %s, %d driver unmaps under IO",
		    got == ma ? "ok" : "missed", a.unmaps));
	blk_dma_tag_put(got);
	blk_dma_tag_flush();
	verdict("member-tag-unmapped-after-its-io", a.unmaps == 1,
		WHY("%d driver unmaps", a.unmaps));
	owner_put(&o);
	blk_dma_tag_unmap(tag);
	blk_dma_tag_flush();
	verdict("members-buffer-released-once",
		o.released == 1 && b.unmaps == 1 && !o.why[0],
		WHY("%d releases, %d driver unmaps; %s", o.released, b.unmaps, o.why));
	fdisk_remove(&c);
	fdisk_remove(&a);
	fdisk_remove(&b);
}

/* a composite map failing at each allocation leaves no noio scope behind */
static void test_composite_map_errors(void)
{
	struct fdisk a, b, c;
	struct obuf o;
	struct blk_dma_tag *tag;
	int step, errors = 0;
	bool ok = true;

	fdisk_leaf(&a);
	fdisk_leaf(&b);
	fdisk_stack(&c, &a, &b);
	obuf_init(&o);
	for (step = 0; step < 24; step++) {
		blk_dma_tag_flush();	/* the worker allocates too */
		shim_fail_alloc_after = step;
		tag = blk_dma_tag_map(&c.bdev, o.bv, 4, &o.dma_buf);
		shim_fail_alloc_after = -1;
		if (shim_task_flags)
			ok = false;
		if (IS_ERR(tag)) {
			errors++;
			if (PTR_ERR(tag) != -ENOMEM && PTR_ERR(tag) != -EOPNOTSUPP)
				ok = false;
		} else {
			blk_dma_tag_unmap(tag);
		}
	}
	owner_put(&o);
	blk_dma_tag_flush();
	verdict("composite-map-errors-restore-noio",
		ok && errors > 0 && o.released == 1 && !o.live_maps && !o.why[0] &&
		a.maps == a.unmaps && b.maps == b.unmaps,
		WHY("flags left or bad errno: %s, %d errors, %d releases, "
		    "maps %d/%d %d/%d; %s", ok ? "no" : "yes", errors, o.released,
		    a.maps, a.unmaps, b.maps, b.unmaps, o.why));
	fdisk_remove(&c);
	fdisk_remove(&a);
	fdisk_remove(&b);
}

/*
 * Unmapping never waits for the disk's tag lock and never sleeps: from a
 * driver's map callback (the lock held: a recursive lock would end the
 * run) and in an RCU read-side critical section (atomic context).
 */
static void test_unmap_context(void)
{
	struct fdisk a;
	struct obuf o, p;
	struct blk_dma_tag *t1, *t2, *t3;

	fdisk_leaf(&a);
	obuf_init(&o);
	obuf_init(&p);
	t1 = blk_dma_tag_map(&a.bdev, o.bv, 2, &o.dma_buf);
	t3 = blk_dma_tag_map(&a.bdev, o.bv + 2, 2, &o.dma_buf);
	if (IS_ERR(t1) || IS_ERR(t3)) {
		verdict("unmap-under-the-disk-lock", false, "map failed");
		return;
	}
	unmap_in_map = t1;
	t2 = blk_dma_tag_map(&a.bdev, p.bv, 4, &p.dma_buf);
	verdict("unmap-under-the-disk-lock", !IS_ERR(t2) && !unmap_in_map,
		"the map or the unmap in it failed");
	rcu_read_lock();
	blk_dma_tag_unmap(t3);
	rcu_read_unlock();
	verdict("unmap-in-atomic-context", true, "");
	blk_dma_tag_flush();	/* the worker rebuilds the index around t2 */
	if (!IS_ERR(t2))
		blk_dma_tag_unmap(t2);
	owner_put(&o);
	owner_put(&p);
	blk_dma_tag_flush();
	verdict("unmapped-in-any-context-retired",
		o.released == 1 && p.released == 1 && a.maps == a.unmaps &&
		!o.why[0] && !p.why[0],
		WHY("releases %d %d, %d maps, %d unmaps; %s%s", o.released,
		    p.released, a.maps, a.unmaps, o.why, p.why));
	fdisk_remove(&a);
}

/* wait up to 5 s for the retire/remap worker to map @tag on @member */
static struct blk_dma_tag *wait_member(struct blk_dma_tag *tag,
				       struct fdisk *member)
{
	struct blk_dma_tag *mt = NULL;
	int i;

	for (i = 0; i < 5000 && !mt; i++) {
		mt = blk_dma_tag_translate(tag, &member->disk);
		if (!mt)
			usleep(1000);
	}
	return mt;
}

/*
 * dm's resume: blk_dma_tag_members_joined() maps the members that joined
 * in the background, not on the caller; del_gendisk() cancels a remap still
 * queued (the disk may be freed right after: ASan sees a late one).
 */
static void test_members_joined(void)
{
	struct fdisk a, b, *c, *d;
	struct obuf o;
	struct blk_dma_tag *tag, *mb;
	int mine;

	fdisk_leaf(&a);
	fdisk_leaf(&b);
	c = malloc(sizeof(*c));
	d = malloc(sizeof(*d));
	fdisk_leaf(d);
	fdisk_stack(c, &a, NULL);
	obuf_init(&o);
	tag = blk_dma_tag_map(&c->bdev, o.bv, 4, &o.dma_buf);
	if (IS_ERR(tag)) {
		verdict("members-joined-maps-nothing-itself", false, "map failed");
		return;
	}
	c->member[c->nr_members++] = &b;
	blk_dma_tag_members_left(&c->disk);	/* the swap, suspended */
	mine = my_maps;
	blk_dma_tag_members_joined(&c->disk);	/* resumed */
	verdict("members-joined-maps-nothing-itself", my_maps == mine,
		WHY("%d maps on the resuming thread", my_maps - mine));
	mb = wait_member(tag, &b);
	verdict("members-joined-maps-in-the-background",
		mb && b.maps == 1 && !b.maps_without_noio,
		WHY("member tag %p, %d maps, %d outside noio", (void *)mb,
		    b.maps, b.maps_without_noio));

	/* a remap queued, the worker slow to get there, the disk deleted */
	__atomic_store_n(&shim_wq_delay_us, 100000, __ATOMIC_RELAXED);
	c->member[c->nr_members++] = d;
	blk_dma_tag_members_joined(&c->disk);
	fdisk_remove(c);
	free(c);
	usleep(200000);
	__atomic_store_n(&shim_wq_delay_us, 0, __ATOMIC_RELAXED);
	verdict("del-disk-cancels-a-queued-remap", d->maps == 0,
		WHY("%d maps on the member that joined", d->maps));

	owner_put(&o);
	blk_dma_tag_unmap(tag);
	blk_dma_tag_flush();
	verdict("members-joined-buffer-released-once",
		o.released == 1 && a.maps == a.unmaps && b.maps == b.unmaps &&
		!o.why[0],
		WHY("%d releases, maps/unmaps %d/%d %d/%d; %s", o.released,
		    a.maps, a.unmaps, b.maps, b.unmaps, o.why));
	fdisk_remove(&a);
	fdisk_remove(&b);
	fdisk_remove(d);
	free(d);
}

static void on_alarm(int sig)
{
	static const char msg[] = "not ok - tag-core-test-hang # no end in 60 s\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
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

	signal(SIGALRM, on_alarm);
	alarm(60);
	shim_thread_start();
	__atomic_store_n(&shim_alloc_hook, noio_hook, __ATOMIC_RELEASE);
#define CASE(fn) (__atomic_store_n(&current_case, #fn, __ATOMIC_RELAXED), fn())
	CASE(test_unmap_with_io_in_flight);
	CASE(test_composite_release);
	CASE(test_nested_flush);
	CASE(test_disk_state_outlives_disk);
	CASE(test_members_left);
	CASE(test_composite_map_errors);
	CASE(test_unmap_context);
	CASE(test_same_range_chain);
	CASE(test_members_joined);
	blk_dma_tag_flush();
	verdict("allocations-under-tag-locks-do-no-io", !noio_violations,
		WHY("%d allocations that may do IO, the first in %s",
		    noio_violations, noio_first));
	shim_rcu_barrier();
	shim_thread_stop();
	return failed;
}
