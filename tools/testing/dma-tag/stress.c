// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency stress of the composite-tag core: block/blk-dma-tag.c and
 * block/blk-dma-tag-disk.c, unmodified, in userspace (shims in shim/, RCU
 * from liburcu, the retire worker on the shim's workqueue thread), built
 * twice: ASan/UBSan/LSan and ThreadSanitizer.
 *
 * The model: leaf disks with a fake driver that records its mappings, a
 * stacking disk S over some of them (md- and dm-like), and a stacking disk N
 * over S and one more leaf (nesting). Registered buffers are io_uring's: a
 * buffer object with a struct blk_dma_buf, freed (bvec array included) by
 * its release, which must come exactly once, after the last tag on it is
 * freed. Threads, for a bounded time:
 *   io        bios on registered buffers through N, S or a leaf, the way the
 *             block layer runs them: attach, pick a member the way md does
 *             (under its lock, with a pending count), translate, "DMA": the
 *             member tag's mapping must be live until the IO completes
 *   owner     map and unmap buffers on N, S and leaves (io_uring's register
 *             and unregister), one at a time and in bursts (a ring exit
 *             unmapping all its buffers at once, on several owners at
 *             once), replace buffers, and sometimes check that a buffer let
 *             go is released by a blk_dma_tag_flush()
 *   members   md fail/remove/add of members, surprise removal of a member
 *             or of another leaf (queue drained, disk deleted, md drops it,
 *             the disk released and freed while tags of it live on), dm
 *             table swaps (blk_dma_tag_members_left() suspended, which must
 *             map nothing, then blk_dma_tag_members_joined() resumed, which
 *             maps in the background),
 *             premap mode changes through the sysfs store, flushes; after
 *             each change the member table of every tag of S must name
 *             exactly the members of S
 * While S is suspended no allocation that may do IO (outside a
 * memalloc_noio scope) may run under the tag lock of S or of a member S had
 * when it suspended: blk_dma_tag_members_left() waits for those locks, and
 * reclaim may wait for IO that the suspended S holds. Allocations fail at
 * random (shim_fail_permille) to drive the error paths concurrently. At the
 * end every tag is unmapped and every disk deleted: every buffer must have
 * been released once, the fake driver must hold no mapping, counters must
 * balance, and LeakSanitizer must find nothing.
 *
 * Directed cases first, one scenario each: a membership change running out
 * of memory keeps in-flight IO's mappings; del_gendisk() and the owner's
 * unmap while the last IO reference is being dropped; 256 composite tags
 * over 4 members unmapped at once retire in a bounded number of grace
 * periods, none of them waited for by the unmapping threads.
 *
 * Usage: stress [SEED [MILLISECONDS]]. Prints "ok - NAME" / "not ok - NAME".
 */
#include "../../../block/blk-dma-tag.c"
#include "../../../block/blk-dma-tag-disk.c"

#include <signal.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

static __thread u64 rng;

static u64 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned int rnd_below(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

#define NR_SLOTS	4	/* member slots of S */
#define NR_POOL		6	/* leaves S may use */
#define NR_OWNERS	3
#define OWNER_BUFS	16	/* registered buffers per owner */
#define NR_BUFS		(NR_OWNERS * OWNER_BUFS)
#define NR_IO		3
#define NR_BATCH	256	/* the batched-retirement case */
#define MAP_MAGIC	0x6d617070u
#define UNMAP_MAGIC	0xdeadu

static int stop;
#define stopping() __atomic_load_n(&stop, __ATOMIC_ACQUIRE)
static int failed;
static char first_failure[256];
static long progress;

#define fail(...) do {							\
	if (!__atomic_exchange_n(&failed, 1, __ATOMIC_ACQ_REL))		\
		snprintf(first_failure, sizeof(first_failure), __VA_ARGS__); \
} while (0)

static void verdict(const char *name, bool ok, const char *why)
{
	printf("%sok - %s%s%s\n", ok ? "" : "not ", name, ok ? "" : " # ", ok ? "" : why);
	fflush(stdout);
	if (!ok)
		failed = 1;
}

/* --- registered buffers (io_uring's io_mapped_ubuf) ------------------- */

struct ubuf {
	struct blk_dma_buf dma_buf;
	struct bio_vec *bv;	/* freed by the release */
	unsigned int nr;
	u64 len;
	int users;		/* the slot's reference, and IOs issuing on it */
	int owner_dropped;	/* the owner's blk_dma_buf reference is gone */
	int owner_put_done;	/* ... and the put has returned */
	long live_maps;		/* leaf driver mappings of the buffer */
	int released;		/* release calls */
	struct ubuf *next_all;
};

static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ubuf *all_ubufs;
static long nr_ubufs, nr_released;

static void ubuf_release(struct blk_dma_buf *buf)
{
	struct ubuf *ub = container_of(buf, struct ubuf, dma_buf);

	if (__atomic_exchange_n(&ub->released, 1, __ATOMIC_ACQ_REL))
		fail("a buffer released twice");
	if (!__atomic_load_n(&ub->owner_dropped, __ATOMIC_ACQUIRE))
		fail("a buffer released before its owner let go");
	if (__atomic_load_n(&ub->live_maps, __ATOMIC_ACQUIRE))
		fail("a buffer released with %ld driver mappings of it live",
		     __atomic_load_n(&ub->live_maps, __ATOMIC_RELAXED));
	if (shim_atomic)
		fail("a buffer released in atomic context");
	/* io_uring unpins the pages and frees the bvec array now */
	free(ub->bv);
	ub->bv = NULL;
	__atomic_fetch_add(&nr_released, 1, __ATOMIC_RELAXED);
}

static struct ubuf *ubuf_new(unsigned int nr)
{
	struct ubuf *ub = calloc(1, sizeof(*ub));
	unsigned int j;

	ub->nr = nr;
	ub->bv = calloc(nr, sizeof(struct bio_vec));
	for (j = 0; j < nr; j++) {
		ub->bv[j].bv_len = 4096;
		ub->len += 4096;
	}
	ub->users = 1;
	blk_dma_buf_init(&ub->dma_buf, ubuf_release);
	pthread_mutex_lock(&all_lock);
	ub->next_all = all_ubufs;
	all_ubufs = ub;
	nr_ubufs++;
	pthread_mutex_unlock(&all_lock);
	return ub;
}

/* io_dma_tag_drop_buf(): no request uses the buffer, the owner lets go */
static void ubuf_put(struct ubuf *ub)
{
	if (__atomic_sub_fetch(&ub->users, 1, __ATOMIC_ACQ_REL))
		return;
	__atomic_store_n(&ub->owner_dropped, 1, __ATOMIC_RELEASE);
	blk_dma_buf_put(&ub->dma_buf);
	__atomic_store_n(&ub->owner_put_done, 1, __ATOMIC_RELEASE);
}

/* a slot of the ring's buffer table; ->tag and ->on are its owner's */
static struct slot {
	pthread_mutex_t lock;	/* ->ub against IO taking it */
	struct ubuf *ub;
	struct blk_dma_tag *tag;
} slots[NR_BUFS];

static struct ubuf *slot_get(struct slot *s)
{
	struct ubuf *ub;

	pthread_mutex_lock(&s->lock);
	ub = s->ub;
	__atomic_fetch_add(&ub->users, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&s->lock);
	return ub;
}

/* --- leaf disks and their fake driver ------------------------------- */

struct fake_map {
	unsigned int magic;
	struct blk_dma_tag *tag;
};

struct leaf {
	struct gendisk disk;
	struct block_device bdev;
	int id;
	int opens;		/* threads holding the block device open */
	int queue_users;	/* IO that entered the queue */
	int dying;		/* del_gendisk() started: no new IO */
	long mapped;		/* live driver mappings */
};

static long driver_maps, driver_unmaps, driver_refusals;
static unsigned int refuse_permille = 100;	/* the buffer does not suit */
static __thread long my_driver_maps;		/* made by this thread */

static int leaf_map(struct gendisk *disk, struct blk_dma_tag *tag)
{
	struct leaf *l = disk->private_data;
	struct ubuf *ub = container_of(tag->buf, struct ubuf, dma_buf);
	struct fake_map *fm;

	if (rnd_below(1000) < __atomic_load_n(&refuse_permille, __ATOMIC_RELAXED)) {
		__atomic_fetch_add(&driver_refusals, 1, __ATOMIC_RELAXED);
		return -EOPNOTSUPP;
	}
	if (tag->bvec != ub->bv)
		fail("a tag on a buffer whose blk_dma_buf is another's");
	fm = malloc(sizeof(*fm));
	fm->magic = MAP_MAGIC;
	fm->tag = tag;
	tag->priv = fm;
	__atomic_fetch_add(&l->mapped, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&ub->live_maps, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&driver_maps, 1, __ATOMIC_RELAXED);
	my_driver_maps++;
	return 0;
}

static void leaf_unmap(struct gendisk *disk, struct blk_dma_tag *tag)
{
	struct leaf *l = disk->private_data;
	struct ubuf *ub = container_of(tag->buf, struct ubuf, dma_buf);
	struct fake_map *fm = tag->priv;

	if (!fm || fm->magic != MAP_MAGIC || fm->tag != tag)
		fail("driver unmap of a tag it did not map");
	if (shim_ref_users(&tag->users))
		fail("driver unmap with %ld IOs carrying the tag",
		     shim_ref_users(&tag->users));
	if (shim_atomic)
		fail("driver unmap in atomic context");
	if (__atomic_load_n(&ub->released, __ATOMIC_ACQUIRE))
		fail("driver unmap of a buffer already released");
	fm->magic = UNMAP_MAGIC;
	free(fm);
	__atomic_fetch_sub(&l->mapped, 1, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&ub->live_maps, 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&driver_unmaps, 1, __ATOMIC_RELAXED);
}

static const struct blk_dma_tag_ops leaf_ops = {
	.map = leaf_map,
	.unmap = leaf_unmap,
};
static const struct block_device_operations leaf_fops = {
	.dma_tag_ops = &leaf_ops,
};

static int next_leaf_id;

static struct leaf *leaf_new(void)
{
	struct leaf *l = calloc(1, sizeof(*l));

	l->disk.fops = &leaf_fops;
	l->disk.private_data = l;
	l->bdev.bd_disk = &l->disk;
	l->id = next_leaf_id++;
	while (blk_dma_tag_add_disk(&l->disk))	/* -ENOMEM injected: retry */
		;
	return l;
}

/* IO enters a leaf's queue unless the disk is being deleted */
static bool leaf_enter(struct leaf *l)
{
	__atomic_fetch_add(&l->queue_users, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&l->dying, __ATOMIC_SEQ_CST)) {
		__atomic_fetch_sub(&l->queue_users, 1, __ATOMIC_SEQ_CST);
		return false;
	}
	return true;
}

static void leaf_exit(struct leaf *l)
{
	__atomic_fetch_sub(&l->queue_users, 1, __ATOMIC_RELEASE);
}

static void wait_zero(int *count)
{
	while (__atomic_load_n(count, __ATOMIC_ACQUIRE))
		sched_yield();
}

/* del_gendisk(): freeze the queue, wait for its IO, revoke the tags */
static void leaf_delete(struct leaf *l)
{
	__atomic_store_n(&l->dying, 1, __ATOMIC_SEQ_CST);
	wait_zero(&l->queue_users);
	blk_dma_tag_del_disk(&l->disk);
}

/* a counter of the disk, as sysfs shows it (dma_tag/NAME) */
static u64 disk_stat(struct gendisk *disk,
		     ssize_t (*show)(struct device *dev,
				     struct device_attribute *attr, char *buf))
{
	char page[PAGE_SIZE];

	show(&disk->part0_dev, NULL, page);
	return strtoull(page, NULL, 10);
}

#define STAT(disk, f) disk_stat(disk, f##_show)

/*
 * The last opener of a deleted disk closes it: disk_release(), and the
 * gendisk is freed, while tags of it may still wait for their owners. Only
 * their premapping state may be left; ASan sees any other use.
 */
static long leaves_freed;

static void leaf_release(struct leaf *l)
{
	wait_zero(&l->opens);
	if (__atomic_load_n(&l->mapped, __ATOMIC_ACQUIRE))
		fail("leaf %d deleted with %ld driver mappings left", l->id, l->mapped);
	if (STAT(&l->disk, mapped_bytes) ||
	    STAT(&l->disk, maps) != STAT(&l->disk, unmaps))
		fail("leaf %d deleted with mapped_bytes or maps != unmaps", l->id);
	blk_dma_tag_release_disk(&l->disk);
	free(l);
	leaves_freed++;
}

/* --- the stacking disks ----------------------------------------------- */

/*
 * S: members in slots; IO picks a member under @lock and counts itself in
 * @pending[slot] (md's nr_pending); a member leaves its slot under @lock and
 * S waits for its pending IO before reporting the change (md removes a
 * device at nr_pending == 0). @suspend is dm's suspend: IO holds it shared,
 * a table swap exclusively.
 */
static struct stack {
	struct gendisk disk;
	struct block_device bdev;
	pthread_rwlock_t lock;
	pthread_rwlock_t suspend;
	struct leaf *slot[NR_SLOTS];
	int pending[NR_SLOTS];
} S;

/* S's candidates; NULL: unplugged. Replaced under @pool_lock, opened under it */
static struct leaf *pool[NR_POOL];
static pthread_rwlock_t pool_lock = PTHREAD_RWLOCK_INITIALIZER;

static struct leaf *pool_open(unsigned int p)
{
	struct leaf *l;

	pthread_rwlock_rdlock(&pool_lock);
	l = pool[p];
	if (l)
		__atomic_fetch_add(&l->opens, 1, __ATOMIC_ACQ_REL);
	pthread_rwlock_unlock(&pool_lock);
	return l;
}

static void leaf_close(struct leaf *l)
{
	__atomic_fetch_sub(&l->opens, 1, __ATOMIC_RELEASE);
}

static int s_members(struct gendisk *disk, blk_dma_tag_member_fn fn,
		     void *data)
{
	int i, ret = 0;

	pthread_rwlock_rdlock(&S.lock);
	for (i = 0; i < NR_SLOTS && !ret; i++)
		if (S.slot[i])
			ret = fn(&S.slot[i]->bdev, data);
	pthread_rwlock_unlock(&S.lock);
	return ret;
}

static const struct blk_dma_tag_ops s_ops = { .members = s_members };
static const struct block_device_operations s_fops = { .dma_tag_ops = &s_ops };

/* N: S and one more leaf, E */
static struct gendisk N;
static struct block_device N_bdev;
static struct leaf *E;

static int n_members(struct gendisk *disk, blk_dma_tag_member_fn fn,
		     void *data)
{
	int ret = fn(&S.bdev, data);

	return ret ? ret : fn(&E->bdev, data);
}

static const struct blk_dma_tag_ops n_ops = { .members = n_members };
static const struct block_device_operations n_fops = { .dma_tag_ops = &n_ops };

/*
 * While S is suspended: the tag locks blk_dma_tag_members_left() may wait
 * for (S's, and its members' when it suspended). An allocation that may do
 * IO under one of them could wait for reclaim writing to S: a deadlock.
 */
static pthread_rwlock_t suspend_lock = PTHREAD_RWLOCK_INITIALIZER;
static bool s_suspended;
static struct mutex *suspend_locks[NR_SLOTS + 1];
static long noio_hazards;

static void alloc_hook(gfp_t gfp)
{
	unsigned int i, j;

	(void)gfp;
	if (shim_task_flags & SHIM_PF_MEMALLOC_NOIO || !shim_nr_held)
		return;
	pthread_rwlock_rdlock(&suspend_lock);
	for (i = 0; s_suspended && i < shim_nr_held; i++)
		for (j = 0; j < ARRAY_SIZE(suspend_locks); j++)
			if (suspend_locks[j] && shim_held[i].lock == suspend_locks[j]) {
				if (!__atomic_fetch_add(&noio_hazards, 1, __ATOMIC_RELAXED))
					fail("an allocation that may do IO under %s tag lock while S is suspended (%s)",
					     j ? "a member's" : "S's",
					     shim_in_worker() ? "retire worker" : "not the worker");
			}
	pthread_rwlock_unlock(&suspend_lock);
}

static void s_suspend(void)
{
	int i;

	pthread_rwlock_wrlock(&S.suspend);
	pthread_rwlock_wrlock(&suspend_lock);
	s_suspended = true;
	suspend_locks[0] = &S.disk.dma_tag->lock;
	for (i = 0; i < NR_SLOTS; i++)
		suspend_locks[i + 1] = S.slot[i] ? &S.slot[i]->disk.dma_tag->lock : NULL;
	pthread_rwlock_unlock(&suspend_lock);
}

static void s_resume(void)
{
	pthread_rwlock_wrlock(&suspend_lock);
	s_suspended = false;
	pthread_rwlock_unlock(&suspend_lock);
	pthread_rwlock_unlock(&S.suspend);
}

/* --- io ---------------------------------------------------------------- */

static struct io_stats {
	long ios, premapped, plain, dead_member;
} io_total;

/* the "DMA": a member tag must stay mapped while the IO runs */
static void dma(struct bio *bio, struct leaf *l, struct ubuf *ub,
		struct io_stats *st)
{
	struct blk_dma_tag *mt = bio->bi_dma_tag;
	struct blk_dma_tag_loc loc;
	struct fake_map *fm;

	if (!mt) {
		st->plain++;
		return;
	}
	if (mt->disk != &l->disk || mt->kind != BLK_DMA_TAG_LEAF)
		fail("a bio on leaf %d carries a tag of another disk", l->id);
	if (mt->bvec != ub->bv || !blk_dma_tag_locate(mt, bio, &loc))
		fail("a bio carries the tag of another buffer");
	fm = mt->priv;
	if (!fm || fm->magic != MAP_MAGIC || fm->tag != mt)
		fail("IO on leaf %d with an unmapped tag", l->id);
	if (rnd_below(16) == 0)
		usleep(200);	/* a slow device: IO outlives grace periods */
	else if (rnd_below(4) == 0)
		sched_yield();
	if (fm->magic != MAP_MAGIC)
		fail("leaf %d's mapping undone under IO", l->id);
	st->premapped++;
}

/* a bio from S (or N through S) reaches a member the way md sends it */
static void io_through_s(struct bio *bio, struct ubuf *ub, struct io_stats *st)
{
	struct leaf *l = NULL;
	int slot, tries;

	pthread_rwlock_rdlock(&S.lock);
	for (tries = 0; tries < NR_SLOTS && !l; tries++) {
		slot = (int)rnd_below(NR_SLOTS);
		l = S.slot[slot];
	}
	if (l)
		__atomic_fetch_add(&S.pending[slot], 1, __ATOMIC_ACQ_REL);
	pthread_rwlock_unlock(&S.lock);
	if (!l) {
		st->plain++;
		return;
	}
	bio->bi_bdev = &l->bdev;
	blk_dma_tag_bio_prep(bio);
	if (leaf_enter(l)) {
		dma(bio, l, ub, st);
		leaf_exit(l);
	} else {
		st->dead_member++;	/* md fails it and retries elsewhere */
	}
	__atomic_fetch_sub(&S.pending[slot], 1, __ATOMIC_RELEASE);
}

static void io_on(struct ubuf *ub, struct io_stats *st)
{
	unsigned int idx = rnd_below(ub->nr), skip = rnd_below(idx + 1);
	unsigned int route = rnd_below(10);
	struct bio bio = {
		.bi_flags = 1u << BIO_NO_PAGE_REF,
		.bi_io_vec = ub->bv + skip,
		.bi_iter = { .bi_idx = idx - skip, .bi_size = 4096 },
	};
	struct blk_dma_tag *tag;
	struct leaf *l;

	st->ios++;
	if (route < 2) {	/* straight to a leaf of the pool */
		l = pool_open(rnd_below(NR_POOL));
		if (!l)
			return;
		if (!leaf_enter(l)) {
			st->dead_member++;
			leaf_close(l);
			return;
		}
		bio.bi_bdev = &l->bdev;
		tag = blk_dma_tag_attach(&bio);
		if (tag && (tag->disk != &l->disk || tag->bvec != ub->bv))
			fail("attach on leaf %d found a foreign tag", l->id);
		blk_dma_tag_bio_prep(&bio);
		dma(&bio, l, ub, st);
		leaf_exit(l);
		blk_dma_tag_put(tag);	/* the IO completes after the queue */
		leaf_close(l);
		return;
	}
	pthread_rwlock_rdlock(&S.suspend);
	bio.bi_bdev = route < 5 ? &N_bdev : &S.bdev;
	tag = blk_dma_tag_attach(&bio);
	if (tag && (tag->disk != bio.bi_bdev->bd_disk || tag->bvec != ub->bv ||
		    tag->kind != BLK_DMA_TAG_COMPOSITE))
		fail("attach on a stack found a foreign tag");
	if (bio.bi_bdev == &N_bdev && rnd_below(3) == 0) {
		/* N sends it to E */
		bio.bi_bdev = &E->bdev;
		blk_dma_tag_bio_prep(&bio);
		if (leaf_enter(E)) {
			dma(&bio, E, ub, st);
			leaf_exit(E);
		}
	} else {
		if (bio.bi_bdev == &N_bdev) {	/* N sends it to S */
			bio.bi_bdev = &S.bdev;
			blk_dma_tag_bio_prep(&bio);
			if (bio.bi_dma_tag && bio.bi_dma_tag->disk != &S.disk)
				fail("N's tag translated to another disk than S");
		}
		io_through_s(&bio, ub, st);
	}
	blk_dma_tag_put(tag);
	pthread_rwlock_unlock(&S.suspend);
}

static void io_one(struct io_stats *st)
{
	struct ubuf *ub = slot_get(&slots[rnd_below(NR_BUFS)]);

	io_on(ub, st);
	ubuf_put(ub);
}

static void *io_thread(void *arg)
{
	struct io_stats st = {};

	rng = (u64)(uintptr_t)arg;
	shim_thread_start();
	while (!stopping()) {
		io_one(&st);
		__atomic_fetch_add(&progress, 1, __ATOMIC_RELAXED);
	}
	shim_thread_stop();
	__atomic_fetch_add(&io_total.ios, st.ios, __ATOMIC_RELAXED);
	__atomic_fetch_add(&io_total.premapped, st.premapped, __ATOMIC_RELAXED);
	__atomic_fetch_add(&io_total.plain, st.plain, __ATOMIC_RELAXED);
	__atomic_fetch_add(&io_total.dead_member, st.dead_member, __ATOMIC_RELAXED);
	return NULL;
}

/* --- owners: register and unregister --------------------------------- */

static long map_ok, map_err[8], unmaps_done, bursts, replaced, verified;
static const int map_errnos[] = { EOPNOTSUPP, ENODEV, ENOSPC, ENOMEM, EINVAL };

static void owner_map(struct slot *s)
{
	struct block_device *on;
	struct blk_dma_tag *tag;
	struct leaf *l = NULL;
	struct ubuf *ub = s->ub;	/* only its owner replaces it */
	unsigned int i;

	switch (rnd_below(4)) {
	case 0:
		on = &N_bdev;
		break;
	case 1:
		l = pool_open(rnd_below(NR_POOL));
		if (!l)
			return;
		on = &l->bdev;
		break;
	default:
		on = &S.bdev;
	}
	tag = blk_dma_tag_map(on, ub->bv, ub->nr, &ub->dma_buf);
	if (l)
		leaf_close(l);	/* the tag may outlive the disk */
	if (!IS_ERR(tag)) {
		if (tag->disk != on->bd_disk || tag->pos[tag->nr_bvecs] != ub->len ||
		    tag->buf != &ub->dma_buf)
			fail("map returned a tag for another disk, length or buffer");
		s->tag = tag;
		__atomic_fetch_add(&map_ok, 1, __ATOMIC_RELAXED);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(map_errnos); i++)
		if (PTR_ERR(tag) == -map_errnos[i])
			break;
	if (i == ARRAY_SIZE(map_errnos) || map_errnos[i] == EINVAL)
		fail("map: undocumented error %ld", PTR_ERR(tag));
	__atomic_fetch_add(&map_err[i], 1, __ATOMIC_RELAXED);
}

static void owner_unmap(struct slot *s)
{
	long gp = shim_thread_nr_synchronize_rcu;

	blk_dma_tag_unmap(s->tag);
	if (shim_thread_nr_synchronize_rcu != gp)
		fail("blk_dma_tag_unmap() waited for a grace period");
	s->tag = NULL;
	__atomic_fetch_add(&unmaps_done, 1, __ATOMIC_RELAXED);
}

/*
 * Unregister the buffer and register a new one in its place. Sometimes
 * check the promise of blk_dma_tag_flush(): once the IO on the buffer is
 * done and its tags unmapped, a flush releases it.
 */
static void owner_replace(struct slot *s, bool check)
{
	struct ubuf *old, *ub = ubuf_new(1 + rnd_below(16));

	if (s->tag)
		owner_unmap(s);
	pthread_mutex_lock(&s->lock);
	old = s->ub;
	s->ub = ub;
	pthread_mutex_unlock(&s->lock);
	ubuf_put(old);
	__atomic_fetch_add(&replaced, 1, __ATOMIC_RELAXED);
	if (!check)
		return;
	while (!__atomic_load_n(&old->owner_put_done, __ATOMIC_ACQUIRE))
		sched_yield();	/* the IO still on it */
	blk_dma_tag_flush();
	if (!__atomic_load_n(&old->released, __ATOMIC_ACQUIRE))
		fail("a buffer let go, its tags unmapped and its IO done, not released by a flush");
	__atomic_fetch_add(&verified, 1, __ATOMIC_RELAXED);
}

static void owner_step(unsigned long id)
{
	struct slot *mine = &slots[id * OWNER_BUFS];
	unsigned int i, r = rnd_below(64);

	if (r == 0) {		/* a ring registers all its buffers */
		for (i = 0; i < OWNER_BUFS; i++)
			if (!mine[i].tag)
				owner_map(&mine[i]);
	} else if (r == 1) {	/* ... and exits: all unmapped at once */
		for (i = 0; i < OWNER_BUFS; i++)
			if (mine[i].tag)
				owner_unmap(&mine[i]);
		__atomic_fetch_add(&bursts, 1, __ATOMIC_RELAXED);
	} else if (r < 5) {
		owner_replace(&mine[rnd_below(OWNER_BUFS)], r == 2);
	} else {
		struct slot *s = &mine[rnd_below(OWNER_BUFS)];

		if (s->tag)
			owner_unmap(s);
		else
			owner_map(s);
	}
}

static void *owner_thread(void *arg)
{
	unsigned long id = (unsigned long)(uintptr_t)arg;
	unsigned int i;

	rng = 0x9e3779b97f4a7c15ULL * (id + 1);
	shim_thread_start();
	while (!stopping()) {
		owner_step(id);
		__atomic_fetch_add(&progress, 1, __ATOMIC_RELAXED);
	}
	for (i = 0; i < OWNER_BUFS; i++)
		if (slots[id * OWNER_BUFS + i].tag)
			owner_unmap(&slots[id * OWNER_BUFS + i]);
	shim_thread_stop();
	return NULL;
}

/* --- membership changes ------------------------------------------------ */

static long n_remove, n_add, n_unplug, n_delete, n_swap, n_mode, n_bound,
	    n_flush, n_checks;

static bool in_s(struct leaf *l)
{
	int i;

	for (i = 0; i < NR_SLOTS; i++)
		if (S.slot[i] == l)
			return true;
	return false;
}

/*
 * Every member table of S's tags names each member once and nothing else;
 * member tags are S's members', live and mapped (or NULL: plain IO).
 */
static void check_tables(void)
{
	struct blk_dma_tag_disk *dt = S.disk.dma_tag;
	struct blk_dma_tag *tag;
	unsigned int i, nr = 0;
	int s;

	mutex_lock(&dt->lock);
	pthread_rwlock_rdlock(&S.lock);
	for (s = 0; s < NR_SLOTS; s++)
		nr += !!S.slot[s];
	/* live tags and stopped ones whose mapping is not undone yet */
	list_for_each_entry(tag, &dt->tags, node) {
		struct blk_dma_tag_members *t = blk_dma_tag_table(dt, tag);

		if (!t)
			continue;	/* no memory: plain IO */
		if (!READ_ONCE(tag->stopped) && t->nr != nr)
			fail("a table of %u members for %u", t->nr, nr);
		for (i = 0; i < t->nr; i++) {
			struct leaf *l = t->m[i].disk->private_data;
			struct blk_dma_tag *mt = t->m[i].tag;

			if (!in_s(l)) {
				fail("a table names a leaf that is not a member");
				continue;
			}
			if (mt && (mt->disk != t->m[i].disk ||
				   READ_ONCE(mt->revoked) || !mt->priv))
				fail("a member tag that is not %d's live tag", l->id);
		}
	}
	pthread_rwlock_unlock(&S.lock);
	mutex_unlock(&dt->lock);
	n_checks++;
}

static int free_pool_leaf(void)
{
	int i, start = (int)rnd_below(NR_POOL);

	for (i = 0; i < NR_POOL; i++) {
		int p = (start + i) % NR_POOL;

		if (pool[p] && !in_s(pool[p]))
			return p;
	}
	return -1;
}

static int used_slot(void)
{
	int i, n = 0, start = (int)rnd_below(NR_SLOTS);

	for (i = 0; i < NR_SLOTS; i++)
		n += !!S.slot[i];
	if (n < 2)
		return -1;	/* keep one member */
	for (i = 0; i < NR_SLOTS; i++)
		if (S.slot[(start + i) % NR_SLOTS])
			return (start + i) % NR_SLOTS;
	return -1;
}

/* md: a member leaves its slot; S reports it once its IO is gone */
static void s_remove(int slot)
{
	pthread_rwlock_wrlock(&S.lock);
	S.slot[slot] = NULL;
	pthread_rwlock_unlock(&S.lock);
	wait_zero(&S.pending[slot]);
	blk_dma_tag_members_changed(&S.disk);
}

static void s_add(int p)
{
	int i;

	for (i = 0; i < NR_SLOTS; i++)
		if (!S.slot[i])
			break;
	if (i == NR_SLOTS)
		return;
	pthread_rwlock_wrlock(&S.lock);
	S.slot[i] = pool[p];
	pthread_rwlock_unlock(&S.lock);
	blk_dma_tag_members_changed(&S.disk);
}

/* a new disk takes the pool place of @l, which is being removed */
static void pool_replace(struct leaf *l)
{
	int p;

	for (p = 0; p < NR_POOL && pool[p] != l; p++)
		;
	pthread_rwlock_wrlock(&pool_lock);
	pool[p] = leaf_new();
	pthread_rwlock_unlock(&pool_lock);
}

/* dm: a table swap while suspended, the members that join mapped on resume */
static void s_swap(void)
{
	long maps;
	int i, p;

	s_suspend();
	pthread_rwlock_wrlock(&S.lock);
	for (i = 0; i < NR_SLOTS; i++)
		S.slot[i] = NULL;
	for (i = 0; i < NR_SLOTS; i++) {
		p = (int)rnd_below(NR_POOL);
		if (!in_s(pool[p]))
			S.slot[i] = pool[p];
	}
	if (!S.slot[0] && !S.slot[1] && !S.slot[2] && !S.slot[3])
		S.slot[0] = pool[0];
	pthread_rwlock_unlock(&S.lock);
	maps = my_driver_maps;
	blk_dma_tag_members_left(&S.disk);
	if (my_driver_maps != maps)
		fail("blk_dma_tag_members_left() mapped %ld buffers", my_driver_maps - maps);
	check_tables();
	usleep(3000);	/* dmsetup resume comes later: the worker retires meanwhile */
	s_resume();
	blk_dma_tag_members_joined(&S.disk);	/* mapped by a worker */
}

static void members_step(void)
{
	static const char *const modes[] = {
		"on", "auto", "off\n", "on\n", "bogus", "", "o", "auto\n\n",
	};
	static const char *const bounds[] = {
		"4096", "0x10000", "4294967296\n", "0", "-1", "", "12abc",
		"99999999999999999999999",
	};
	struct request_queue q = { .disk = &S.disk };
	int slot, p, i;
	struct leaf *l;
	char page[PAGE_SIZE];

	switch (rnd_below(10)) {
	case 0:		/* mdadm --fail --remove */
		slot = used_slot();
		if (slot >= 0) {
			s_remove(slot);
			n_remove++;
		}
		break;
	case 1:		/* mdadm --add (and the rebuild's IO) */
		p = free_pool_leaf();
		if (p >= 0) {
			s_add(p);
			n_add++;
		}
		break;
	case 2:		/* surprise removal of a member, a new disk plugged */
		slot = used_slot();
		if (slot < 0)
			break;
		l = S.slot[slot];
		pool_replace(l);
		leaf_delete(l);		/* del_gendisk revokes its tags */
		s_remove(slot);		/* then md drops the failed device */
		leaf_release(l);
		n_unplug++;
		break;
	case 3:		/* removal of a disk S does not use (its own tags) */
		p = free_pool_leaf();
		if (p < 0)
			break;
		l = pool[p];
		pool_replace(l);
		leaf_delete(l);
		leaf_release(l);
		n_delete++;
		break;
	case 4:
		s_swap();
		n_swap++;
		break;
	case 5:		/* echo MODE > queue/dma_premap */
		i = (int)rnd_below(ARRAY_SIZE(modes));
		p = (int)blk_dma_premap_store(&q, modes[i], strlen(modes[i]));
		if ((i < 4 && p != (int)strlen(modes[i])) || (i >= 4 && p != -EINVAL))
			fail("dma_premap store of \"%s\": %d", modes[i], p);
		blk_dma_premap_show(&q, page);
		if (!strstr(page, "[") || page[strlen(page) - 1] != '\n')
			fail("dma_premap show: \"%.60s\"", page);
		n_mode++;
		break;
	case 6:		/* echo BYTES > dma_tag/max_mapped_bytes of a leaf */
		i = (int)rnd_below(ARRAY_SIZE(bounds));
		l = pool[rnd_below(NR_POOL)];
		p = (int)max_mapped_bytes_store(&l->disk.part0_dev, NULL, bounds[i],
						strlen(bounds[i]));
		if ((i < 4 && p != (int)strlen(bounds[i])) || (i >= 4 && p >= 0))
			fail("max_mapped_bytes store of \"%s\": %d", bounds[i], p);
		n_bound++;
		break;
	case 7:
		blk_dma_tag_flush();
		n_flush++;
		break;
	case 8:		/* a no-op left: must keep the tables */
		blk_dma_tag_members_left(&S.disk);
		break;
	default:	/* nothing changed: a no-op call must keep the tables */
		blk_dma_tag_members_changed(&S.disk);
	}
	check_tables();
}

static void *members_thread(void *arg)
{
	(void)arg;
	rng = 0xfeedf00d;
	shim_thread_start();
	while (!stopping()) {
		members_step();
		__atomic_fetch_add(&progress, 1, __ATOMIC_RELAXED);
	}
	shim_thread_stop();
	return NULL;
}

/* --- directed cases (before the stress) ------------------------------- */

/* map until the fake driver takes it (it refuses one in ten) */
static struct blk_dma_tag *map_hard(struct block_device *on, struct ubuf *ub)
{
	struct blk_dma_tag *tag;

	do
		tag = blk_dma_tag_map(on, ub->bv, ub->nr, &ub->dma_buf);
	while (IS_ERR(tag));
	return tag;
}

/*
 * IO in flight to a member that stays must keep its mapping through a
 * membership change, whichever of the change's allocations fails.
 */
static void directed_enomem_keeps_inflight(void)
{
	struct ubuf *ub = ubuf_new(4);
	struct blk_dma_tag *tag, *mt;
	struct bio bio;
	struct leaf *a = S.slot[0];
	struct fake_map *fm;
	bool ok = true;
	int step;
	char why[128] = "";

	for (step = 0; step < 4 && ok; step++) {
		for (;;) {
			tag = map_hard(&S.bdev, ub);
			if (blk_dma_tag_translate(tag, &a->disk))
				break;
			blk_dma_tag_unmap(tag);
		}
		bio = (struct bio){
			.bi_flags = 1u << BIO_NO_PAGE_REF, .bi_bdev = &S.bdev,
			.bi_io_vec = ub->bv, .bi_iter = { .bi_size = 4096 },
		};
		if (blk_dma_tag_attach(&bio) != tag)
			shim_bug("attach");
		bio.bi_bdev = &a->bdev;
		blk_dma_tag_bio_prep(&bio);	/* the IO now runs on a */
		mt = bio.bi_dma_tag;
		fm = mt->priv;
		blk_dma_tag_flush();		/* the worker allocates too */
		shim_fail_alloc_after = step;
		blk_dma_tag_members_changed(&S.disk);
		shim_fail_alloc_after = -1;
		if (!__atomic_load_n(&a->mapped, __ATOMIC_ACQUIRE) ||
		    mt->priv != fm || fm->magic != MAP_MAGIC) {
			ok = false;
			snprintf(why, sizeof(why),
				 "allocation %d failing unmapped a member under IO", step);
		}
		blk_dma_tag_put(tag);		/* the IO completes */
		blk_dma_tag_unmap(tag);
	}
	ubuf_put(ub);
	blk_dma_tag_flush();
	if (ok && !__atomic_load_n(&ub->released, __ATOMIC_ACQUIRE)) {
		ok = false;
		snprintf(why, sizeof(why), "the buffer was not released");
	}
	verdict("enomem-in-members-change-keeps-inflight-io", ok, why);
}

/*
 * del_gendisk() waits for a tag's IO while its owner is about to unmap it;
 * the last IO reference drops, and the thread that dropped it is preempted
 * right after it woke del_gendisk() (shim_complete_all_hook holds it there
 * until the owner's unmap has returned). The tag must be retired once: the
 * driver unmaps it once (del_gendisk), the buffer is released once, and
 * nothing touches the tag after it is freed (ASan, TSan).
 */
static struct completion *race_completion;
static int race_unmapped;
static struct leaf *race_leaf;
static struct blk_dma_tag *race_tag;

static void race_hook(struct completion *x)
{
	int i;

	if (x != race_completion)
		return;
	for (i = 0; i < 2000 && !__atomic_load_n(&race_unmapped, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
}

static void *race_deleter(void *arg)
{
	(void)arg;
	shim_thread_start();
	leaf_delete(race_leaf);
	shim_thread_stop();
	return NULL;
}

static void *race_owner(void *arg)
{
	pthread_t *deleter = arg;

	shim_thread_start();
	pthread_join(*deleter, NULL);
	blk_dma_tag_unmap(race_tag);
	__atomic_store_n(&race_unmapped, 1, __ATOMIC_RELEASE);
	shim_thread_stop();
	return NULL;
}

static void directed_revoke_during_last_put(void)
{
	struct ubuf *ub = ubuf_new(2);
	pthread_t deleter, owner;
	struct blk_dma_tag *got;
	struct bio bio;
	long unmaps = __atomic_load_n(&driver_unmaps, __ATOMIC_RELAXED);
	char why[160];

	race_leaf = leaf_new();
	race_tag = map_hard(&race_leaf->bdev, ub);
	bio = (struct bio){
		.bi_flags = 1u << BIO_NO_PAGE_REF, .bi_bdev = &race_leaf->bdev,
		.bi_io_vec = ub->bv, .bi_iter = { .bi_size = 4096 },
	};
	got = blk_dma_tag_attach(&bio);		/* an IO past the queue */
	race_completion = &race_tag->drained;
	__atomic_store_n(&shim_complete_all_hook, race_hook, __ATOMIC_RELEASE);
	pthread_create(&deleter, NULL, race_deleter, NULL);
	while (!shim_ref_dead(&race_tag->users))
		sched_yield();
	rcu_barrier();		/* the kill's grace period: only the IO's is left */
	pthread_create(&owner, NULL, race_owner, &deleter);
	blk_dma_tag_put(got);	/* the IO completes */
	pthread_join(owner, NULL);
	__atomic_store_n(&shim_complete_all_hook, NULL, __ATOMIC_RELEASE);
	ubuf_put(ub);
	blk_dma_tag_flush();
	unmaps = __atomic_load_n(&driver_unmaps, __ATOMIC_RELAXED) - unmaps;
	snprintf(why, sizeof(why), "tag %s, %ld driver unmaps, %d releases, %ld mappings left",
		 got == race_tag ? "attached" : "not attached", unmaps, ub->released,
		 race_leaf->mapped);
	verdict("revoke-and-unmap-during-the-last-put",
		got == race_tag && unmaps == 1 && ub->released == 1 &&
		!race_leaf->mapped, why);
	leaf_release(race_leaf);
}

struct unmapper {
	pthread_t thread;
	struct blk_dma_tag **tags;
	unsigned int nr;
	long gp;		/* synchronize_rcu() calls it made */
};

static void *unmapper_thread(void *arg)
{
	struct unmapper *u = arg;
	unsigned int i;

	shim_thread_start();
	for (i = 0; i < u->nr; i++)
		blk_dma_tag_unmap(u->tags[i]);
	u->gp = shim_thread_nr_synchronize_rcu;
	shim_thread_stop();
	return NULL;
}

/*
 * A ring exit on a stack: 256 composite tags over 4 members, 1280 tags,
 * unmapped at once by 4 threads that wait for no grace period. The worker
 * waits one grace period per run (per batch), the batches merge while it is
 * busy (shim_wq_delay_us: a kworker that takes 5 ms to get there), and the
 * whole retirement, two stacking levels, takes a handful of grace periods,
 * not one per tag. Every buffer is released once.
 */
static void directed_batched_retirement(void)
{
	static struct blk_dma_tag *tags[NR_BATCH];
	static struct ubuf *ubs[NR_BATCH];
	struct unmapper u[4];
	long gp, runs, max_gp, unmap_gp = 0, unmaps;
	unsigned int i, j, members = 0, released = 0;
	char why[200];

	__atomic_store_n(&refuse_permille, 0, __ATOMIC_RELAXED);
	pthread_rwlock_wrlock(&S.lock);
	for (i = 0; i < NR_SLOTS; i++)
		S.slot[i] = pool[i];
	pthread_rwlock_unlock(&S.lock);
	for (i = 0; i < NR_BATCH; i++) {
		ubs[i] = ubuf_new(1 + i % 3);
		tags[i] = map_hard(&S.bdev, ubs[i]);
		for (j = 0; j < NR_SLOTS; j++)
			members += !!blk_dma_tag_translate(tags[i], &pool[j]->disk);
		ubuf_put(ubs[i]);	/* the tags hold the buffers now */
	}
	blk_dma_tag_flush();
	unmaps = __atomic_load_n(&driver_unmaps, __ATOMIC_RELAXED);
	shim_wq_reset_stats();
	gp = shim_synchronize_rcu_count();
	__atomic_store_n(&shim_wq_delay_us, 5000, __ATOMIC_RELAXED);
	for (i = 0; i < ARRAY_SIZE(u); i++) {
		u[i].tags = tags + i * (NR_BATCH / ARRAY_SIZE(u));
		u[i].nr = NR_BATCH / ARRAY_SIZE(u);
		pthread_create(&u[i].thread, NULL, unmapper_thread, &u[i]);
	}
	for (i = 0; i < ARRAY_SIZE(u); i++) {
		pthread_join(u[i].thread, NULL);
		unmap_gp += u[i].gp;
	}
	blk_dma_tag_flush();
	gp = shim_synchronize_rcu_count() - gp;
	__atomic_store_n(&shim_wq_delay_us, 0, __ATOMIC_RELAXED);
	shim_wq_stats(&runs, &max_gp);
	unmaps = __atomic_load_n(&driver_unmaps, __ATOMIC_RELAXED) - unmaps;
	for (i = 0; i < NR_BATCH; i++)
		released += ubs[i]->released;
	printf("# batched retirement: %u + %u tags, %ld grace periods, %ld worker runs\n",
	       NR_BATCH, members, gp, runs);
	snprintf(why, sizeof(why), "%ld synchronize_rcu() calls in the unmapping threads",
		 unmap_gp);
	verdict("unmap-of-many-waits-for-no-grace-period", unmap_gp == 0, why);
	snprintf(why, sizeof(why),
		 "%ld grace periods in %ld worker runs (most in one run: %ld) for %u + %u tags",
		 gp, runs, max_gp, NR_BATCH, members);
	verdict("batched-retirement-grace-periods",
		members == NR_BATCH * NR_SLOTS && gp >= 2 && gp <= 8 && max_gp <= 1, why);
	snprintf(why, sizeof(why), "%u of %u buffers released, %ld of %u member tags unmapped",
		 released, NR_BATCH, unmaps, members);
	verdict("batched-retirement-releases-every-buffer",
		released == NR_BATCH && unmaps == members, why);
	pthread_rwlock_wrlock(&S.lock);
	S.slot[NR_SLOTS - 1] = NULL;
	pthread_rwlock_unlock(&S.lock);
	__atomic_store_n(&refuse_permille, 100, __ATOMIC_RELAXED);
}

/* --- the run ----------------------------------------------------------- */

static void on_alarm(int sig)
{
	static const char msg[] = "not ok - stress-progress # no progress for 30 s (a hang)\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

int main(int argc, char **argv)
{
	u64 seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x5eed1234abcdULL;
	long ms = argc > 2 ? strtol(argv[2], NULL, 0) : 2000;
	pthread_t io[NR_IO], owners[NR_OWNERS], members;
	pthread_rwlockattr_t attr;
	struct leaf *all[NR_POOL + 1];
	unsigned int nall = 0, i;
	long mapped = 0, last = -1, unreleased = 0, twice = 0;
	bool balanced = true;
	struct timespec t0, t;
	struct ubuf *ub, *next;
	char why[256];

	rng = seed ? seed : 1;
	printf("# seed %#llx, %ld ms, %d io threads, %d owners\n",
	       (unsigned long long)seed, ms, NR_IO, NR_OWNERS);
	shim_thread_start();
	signal(SIGALRM, on_alarm);
	alarm(60);
	for (i = 0; i < NR_BUFS; i++) {
		pthread_mutex_init(&slots[i].lock, NULL);
		slots[i].ub = ubuf_new(1 + rnd_below(16));
	}
	for (i = 0; i < NR_POOL; i++)
		pool[i] = leaf_new();
	E = leaf_new();
	S.disk.fops = &s_fops;
	S.bdev.bd_disk = &S.disk;
	/* writers first: dm's suspend and md's changes must not starve */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&S.lock, &attr);
	pthread_rwlock_init(&S.suspend, &attr);
	for (i = 0; i < NR_SLOTS - 1; i++)
		S.slot[i] = pool[i];
	blk_dma_tag_add_disk(&S.disk);
	N.fops = &n_fops;
	N_bdev.bd_disk = &N;
	blk_dma_tag_add_disk(&N);

	directed_enomem_keeps_inflight();
	directed_revoke_during_last_put();
	directed_batched_retirement();

	__atomic_store_n(&shim_alloc_hook, alloc_hook, __ATOMIC_RELEASE);
	__atomic_store_n(&shim_fail_permille, 20, __ATOMIC_RELAXED);
	for (i = 0; i < NR_IO; i++)
		pthread_create(&io[i], NULL, io_thread, (void *)(uintptr_t)(seed + 7 * i + 1));
	for (i = 0; i < NR_OWNERS; i++)
		pthread_create(&owners[i], NULL, owner_thread, (void *)(uintptr_t)i);
	pthread_create(&members, NULL, members_thread, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		long now = __atomic_load_n(&progress, __ATOMIC_RELAXED);

		if (now != last) {
			alarm(30);
			last = now;
		}
		usleep(50000);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms &&
		 !__atomic_load_n(&failed, __ATOMIC_ACQUIRE));
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	alarm(30);
	for (i = 0; i < NR_IO; i++)
		pthread_join(io[i], NULL);
	for (i = 0; i < NR_OWNERS; i++)
		pthread_join(owners[i], NULL);
	pthread_join(members, NULL);
	__atomic_store_n(&shim_fail_permille, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&shim_alloc_hook, NULL, __ATOMIC_RELEASE);
	/* the rings go: every buffer let go, then everything retired */
	for (i = 0; i < NR_BUFS; i++)
		ubuf_put(slots[i].ub);
	blk_dma_tag_flush();
	verdict("stress-invariants", !failed, first_failure);

	printf("# ios %ld: premapped %ld, plain %ld, to a dead member %ld\n",
	       io_total.ios, io_total.premapped, io_total.plain, io_total.dead_member);
	printf("# maps %ld, unmaps %ld (%ld bursts), errors: EOPNOTSUPP %ld ENODEV %ld ENOSPC %ld ENOMEM %ld\n",
	       map_ok, unmaps_done, bursts, map_err[0], map_err[1], map_err[2], map_err[3]);
	printf("# buffers: %ld made, %ld replaced, %ld released, %ld checked released by a flush\n",
	       nr_ubufs, replaced, nr_released, verified);
	printf("# members: %ld removed, %ld added, %ld unplugged, %ld other disks deleted, %ld dm swaps, %ld flushes, %ld table checks\n",
	       n_remove, n_add, n_unplug, n_delete, n_swap, n_flush, n_checks);
	printf("# sysfs: %ld dma_premap writes, %ld max_mapped_bytes writes\n", n_mode, n_bound);
	printf("# driver: %ld mappings made, %ld undone, %ld refused; S remapped %llu tags; %ld disks freed\n",
	       driver_maps, driver_unmaps, driver_refusals,
	       (unsigned long long)STAT(&S.disk, remaps), leaves_freed);
	verdict("stress-did-work", io_total.premapped > 0 && io_total.plain > 0 &&
		map_ok > 0 && n_remove + n_unplug > 0 && n_add > 0 && n_swap > 0 &&
		n_delete > 0 && n_flush > 0 && bursts > 0 && verified > 0,
		"some kind of step never happened: run longer");

	/* every buffer was let go: each released once, nothing mapped */
	for (ub = all_ubufs; ub; ub = ub->next_all) {
		unreleased += !ub->released;
		twice += ub->released > 1;
	}
	snprintf(why, sizeof(why), "%ld of %ld buffers not released", unreleased, nr_ubufs);
	verdict("stress-every-buffer-released", !unreleased && !twice &&
		nr_released == nr_ubufs, why);
	for (i = 0; i < NR_POOL; i++)
		all[nall++] = pool[i];
	all[nall++] = E;
	for (i = 0; i < nall; i++) {
		mapped += all[i]->mapped;
		if (STAT(&all[i]->disk, mapped_bytes) ||
		    STAT(&all[i]->disk, maps) != STAT(&all[i]->disk, unmaps))
			balanced = false;
	}
	if (STAT(&S.disk, mapped_bytes) || STAT(&N, mapped_bytes) ||
	    STAT(&S.disk, maps) != STAT(&S.disk, unmaps) ||
	    STAT(&N, maps) != STAT(&N, unmaps))
		balanced = false;
	snprintf(why, sizeof(why), "%ld driver mappings left, %ld made, %ld undone",
		 mapped, driver_maps, driver_unmaps);
	verdict("stress-no-mapping-left", mapped == 0 && driver_maps == driver_unmaps, why);
	verdict("stress-counters-balance", balanced,
		"mapped_bytes not 0 or maps != unmaps on a disk");

	blk_dma_tag_del_disk(&N);
	blk_dma_tag_release_disk(&N);
	blk_dma_tag_del_disk(&S.disk);
	blk_dma_tag_release_disk(&S.disk);
	for (i = 0; i < nall; i++) {
		blk_dma_tag_del_disk(&all[i]->disk);
		blk_dma_tag_release_disk(&all[i]->disk);
		free(all[i]);
	}
	blk_dma_tag_flush();
	for (ub = all_ubufs; ub; ub = next) {
		next = ub->next_all;
		free(ub);
	}
	shim_rcu_barrier();
	shim_thread_stop();
	return failed;
}
