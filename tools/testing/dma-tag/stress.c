// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency stress of the composite-tag core: block/blk-dma-tag.c and
 * block/blk-dma-tag-disk.c, unmodified, in userspace (shims in shim/, RCU
 * from liburcu), built twice: ASan/UBSan and ThreadSanitizer.
 *
 * The model: leaf disks with a fake driver that records its mappings, a
 * stacking disk S over some of them (md- and dm-like), and a stacking disk N
 * over S and one more leaf (nesting). Threads, for a bounded time:
 *   io        bios on registered buffers through N, S or a leaf, the way the
 *             block layer runs them: attach, pick a member the way md does
 *             (under its lock, with a pending count), translate, "DMA": the
 *             member tag's mapping must be live until the IO completes
 *   owner     map and unmap buffers on N, S and leaves (io_uring's register
 *             and unregister), every errno checked against the documented ones
 *   members   md fail/remove/add of members, surprise removal of a member
 *             (queue drained, disk deleted, then md drops it) and a new disk
 *             in its place, dm table swaps while S is suspended, premap mode
 *             changes through the sysfs store; after each change the member
 *             table of every tag of S must name exactly the members of S
 * Allocations fail at random (shim_fail_permille) to drive the error paths
 * concurrently. At the end every tag is unmapped and every disk deleted:
 * the fake driver must hold no mapping, counters must balance, and
 * LeakSanitizer must find nothing.
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
#define NR_BUFS		12
#define NR_IO		3
#define NR_OWNERS	2
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

/* --- leaf disks and their fake driver ------------------------------- */

struct fake_map {
	unsigned int magic;
	struct blk_dma_tag *tag;
};

struct leaf {
	struct gendisk disk;
	struct block_device bdev;
	int id;
	int queue_users;	/* IO that entered the queue */
	int dying;		/* del_gendisk() started: no new IO */
	long mapped;		/* live driver mappings */
	struct leaf *next_dead;
};

static long driver_maps, driver_refusals;

static int leaf_map(struct gendisk *disk, struct blk_dma_tag *tag)
{
	struct leaf *l = disk->private_data;
	struct fake_map *fm;

	if (rnd_below(10) == 0) {	/* this buffer does not suit the device */
		__atomic_fetch_add(&driver_refusals, 1, __ATOMIC_RELAXED);
		return -EOPNOTSUPP;
	}
	fm = malloc(sizeof(*fm));
	fm->magic = MAP_MAGIC;
	fm->tag = tag;
	tag->priv = fm;
	__atomic_fetch_add(&l->mapped, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&driver_maps, 1, __ATOMIC_RELAXED);
	return 0;
}

static void leaf_unmap(struct gendisk *disk, struct blk_dma_tag *tag)
{
	struct leaf *l = disk->private_data;
	struct fake_map *fm = tag->priv;

	if (!fm || fm->magic != MAP_MAGIC || fm->tag != tag)
		fail("driver unmap of a tag it did not map");
	if (shim_ref_users(&tag->users))
		fail("driver unmap with %ld IOs carrying the tag",
		     shim_ref_users(&tag->users));
	fm->magic = UNMAP_MAGIC;
	free(fm);
	__atomic_fetch_sub(&l->mapped, 1, __ATOMIC_RELAXED);
}

static const struct blk_dma_tag_ops leaf_ops = {
	.map = leaf_map,
	.unmap = leaf_unmap,
};
static const struct block_device_operations leaf_fops = {
	.dma_tag_ops = &leaf_ops,
};

static int next_leaf_id;
static struct leaf *dead_leaves;	/* deleted, freed at the end */

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

static struct leaf *pool[NR_POOL];	/* S's candidates; NULL: unplugged */

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

/* --- registered buffers ------------------------------------------------ */

static struct buf {
	struct bio_vec *bv;
	unsigned int nr;
	u64 len;
	struct blk_dma_tag *tag;	/* owned by one owner thread */
	struct block_device *on;
} bufs[NR_BUFS];

static void bufs_init(void)
{
	unsigned int i, j;

	for (i = 0; i < NR_BUFS; i++) {
		bufs[i].nr = 1 + rnd_below(16);
		bufs[i].bv = calloc(bufs[i].nr, sizeof(struct bio_vec));
		for (j = 0; j < bufs[i].nr; j++) {
			bufs[i].bv[j].bv_len = 4096;
			bufs[i].len += 4096;
		}
	}
}

/* --- io ---------------------------------------------------------------- */

static struct io_stats {
	long ios, premapped, plain, dead_member;
} io_total;

/* the "DMA": a member tag must stay mapped while the IO runs */
static void dma(struct bio *bio, struct leaf *l, struct buf *b,
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
	if (mt->bvec != b->bv || !blk_dma_tag_locate(mt, bio, &loc))
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
static void io_through_s(struct bio *bio, struct buf *b, struct io_stats *st)
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
		dma(bio, l, b, st);
		leaf_exit(l);
	} else {
		st->dead_member++;	/* md fails it and retries elsewhere */
	}
	__atomic_fetch_sub(&S.pending[slot], 1, __ATOMIC_RELEASE);
}

static void io_one(struct io_stats *st)
{
	struct buf *b = &bufs[rnd_below(NR_BUFS)];
	unsigned int idx = rnd_below(b->nr), skip = rnd_below(idx + 1);
	unsigned int route = rnd_below(10);
	struct bio bio = {
		.bi_flags = 1u << BIO_NO_PAGE_REF,
		.bi_io_vec = b->bv + skip,
		.bi_iter = { .bi_idx = idx - skip, .bi_size = 4096 },
	};
	struct blk_dma_tag *tag;
	struct leaf *l;

	st->ios++;
	if (route < 2) {	/* straight to a leaf of the pool */
		l = __atomic_load_n(&pool[rnd_below(NR_POOL)], __ATOMIC_ACQUIRE);
		if (!l || !leaf_enter(l)) {
			st->dead_member++;
			return;
		}
		bio.bi_bdev = &l->bdev;
		tag = blk_dma_tag_attach(&bio);
		if (tag && (tag->disk != &l->disk || tag->bvec != b->bv))
			fail("attach on leaf %d found a foreign tag", l->id);
		blk_dma_tag_bio_prep(&bio);
		dma(&bio, l, b, st);
		leaf_exit(l);
		blk_dma_tag_put(tag);
		return;
	}
	pthread_rwlock_rdlock(&S.suspend);
	bio.bi_bdev = route < 5 ? &N_bdev : &S.bdev;
	tag = blk_dma_tag_attach(&bio);
	if (tag && (tag->disk != bio.bi_bdev->bd_disk || tag->bvec != b->bv ||
		    tag->kind != BLK_DMA_TAG_COMPOSITE))
		fail("attach on a stack found a foreign tag");
	if (bio.bi_bdev == &N_bdev && rnd_below(3) == 0) {
		/* N sends it to E */
		bio.bi_bdev = &E->bdev;
		blk_dma_tag_bio_prep(&bio);
		if (leaf_enter(E)) {
			dma(&bio, E, b, st);
			leaf_exit(E);
		}
	} else {
		if (bio.bi_bdev == &N_bdev) {	/* N sends it to S */
			bio.bi_bdev = &S.bdev;
			blk_dma_tag_bio_prep(&bio);
			if (bio.bi_dma_tag && bio.bi_dma_tag->disk != &S.disk)
				fail("N's tag translated to another disk than S");
		}
		io_through_s(&bio, b, st);
	}
	blk_dma_tag_put(tag);
	pthread_rwlock_unlock(&S.suspend);
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

static long map_ok, map_err[8], unmaps_done;
static const int map_errnos[] = { EOPNOTSUPP, ENODEV, ENOSPC, ENOMEM, EINVAL };

static void owner_step(struct buf *b)
{
	struct leaf *l;
	struct block_device *on;
	struct blk_dma_tag *tag;
	unsigned int i;

	if (b->tag) {
		blk_dma_tag_unmap(b->tag);
		b->tag = NULL;
		__atomic_fetch_add(&unmaps_done, 1, __ATOMIC_RELAXED);
		return;
	}
	switch (rnd_below(4)) {
	case 0:
		on = &N_bdev;
		break;
	case 1:
		l = __atomic_load_n(&pool[rnd_below(NR_POOL)], __ATOMIC_ACQUIRE);
		if (!l)
			return;
		on = &l->bdev;
		break;
	default:
		on = &S.bdev;
	}
	/*
	 * A leaf may be deleted and replaced meanwhile: its gendisk stays
	 * (dead_leaves) as an opened block device would.
	 */
	tag = blk_dma_tag_map(on, b->bv, b->nr);
	if (!IS_ERR(tag)) {
		if (tag->disk != on->bd_disk || tag->pos[tag->nr_bvecs] != b->len)
			fail("map returned a tag for another disk or length");
		b->tag = tag;
		b->on = on;
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

static void *owner_thread(void *arg)
{
	unsigned long id = (unsigned long)(uintptr_t)arg;
	unsigned int i;

	rng = 0x9e3779b97f4a7c15ULL * (id + 1);
	shim_thread_start();
	while (!stopping()) {
		i = rnd_below(NR_BUFS / NR_OWNERS) * NR_OWNERS + (unsigned int)id;
		owner_step(&bufs[i]);
		__atomic_fetch_add(&progress, 1, __ATOMIC_RELAXED);
	}
	for (i = (unsigned int)id; i < NR_BUFS; i += NR_OWNERS)
		if (bufs[i].tag)
			owner_step(&bufs[i]);
	shim_thread_stop();
	return NULL;
}

/* --- membership changes ------------------------------------------------ */

static long n_remove, n_add, n_unplug, n_swap, n_mode, n_bound, n_checks;

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
	struct list_head *lists[] = { &dt->tags, &dt->retiring };
	struct blk_dma_tag *tag;
	unsigned int i, k, nr = 0;
	int s;

	mutex_lock(&dt->lock);
	pthread_rwlock_rdlock(&S.lock);
	for (s = 0; s < NR_SLOTS; s++)
		nr += !!S.slot[s];
	for (k = 0; k < ARRAY_SIZE(lists); k++) {
		list_for_each_entry(tag, lists[k], node) {
			struct blk_dma_tag_members *t = blk_dma_tag_table(dt, tag);

			if (!t)
				continue;	/* no memory: plain IO */
			if (k == 0 && t->nr != nr)
				fail("a table of %u members for %u", t->nr, nr);
			for (i = 0; i < t->nr; i++) {
				struct leaf *l = t->m[i].disk->private_data;
				struct blk_dma_tag *mt = t->m[i].tag;

				if (!in_s(l))
					fail("a table names leaf %d, not a member", l->id);
				if (mt && (mt->disk != t->m[i].disk || mt->revoked ||
					   !mt->priv))
					fail("a member tag that is not %d's live tag", l->id);
			}
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

	switch (rnd_below(7)) {
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
		leaf_delete(l);		/* del_gendisk revokes its tags */
		s_remove(slot);		/* then md drops the failed device */
		for (p = 0; p < NR_POOL && pool[p] != l; p++)
			;
		__atomic_store_n(&pool[p], leaf_new(), __ATOMIC_RELEASE);
		l->next_dead = dead_leaves;
		dead_leaves = l;
		n_unplug++;
		break;
	case 3:		/* dm table swap: suspend, new members, resume */
		pthread_rwlock_wrlock(&S.suspend);
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
		blk_dma_tag_members_changed(&S.disk);
		pthread_rwlock_unlock(&S.suspend);
		n_swap++;
		break;
	case 4:		/* echo MODE > queue/dma_premap */
		i = (int)rnd_below(ARRAY_SIZE(modes));
		p = (int)blk_dma_premap_store(&q, modes[i], strlen(modes[i]));
		if ((i < 4 && p != (int)strlen(modes[i])) || (i >= 4 && p != -EINVAL))
			fail("dma_premap store of \"%s\": %d", modes[i], p);
		blk_dma_premap_show(&q, page);
		if (!strstr(page, "[") || page[strlen(page) - 1] != '\n')
			fail("dma_premap show: \"%.60s\"", page);
		n_mode++;
		break;
	case 5:		/* echo BYTES > dma_tag/max_mapped_bytes of a leaf */
		i = (int)rnd_below(ARRAY_SIZE(bounds));
		l = pool[rnd_below(NR_POOL)];
		p = (int)max_mapped_bytes_store(&l->disk.part0_dev, NULL, bounds[i],
						strlen(bounds[i]));
		if ((i < 4 && p != (int)strlen(bounds[i])) || (i >= 4 && p >= 0))
			fail("max_mapped_bytes store of \"%s\": %d", bounds[i], p);
		n_bound++;
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

/* --- directed cases (one thread, before the stress) --------------------- */

static void verdict(const char *name, bool ok, const char *why);

/*
 * IO in flight to a member that stays must keep its mapping through a
 * membership change, whichever of the change's allocations fails.
 */
static void directed_enomem_keeps_inflight(void)
{
	struct buf *b = &bufs[0];
	struct blk_dma_tag *tag, *mt;
	struct bio bio;
	struct leaf *a = S.slot[0];
	struct fake_map *fm;
	bool ok = true;
	int step;
	char why[128] = "";

	for (step = 0; step < 4 && ok; step++) {
		for (;;) {	/* the fake driver refuses one map in ten */
			tag = blk_dma_tag_map(&S.bdev, b->bv, b->nr);
			if (IS_ERR(tag))
				continue;
			if (blk_dma_tag_translate(tag, &a->disk))
				break;
			blk_dma_tag_unmap(tag);
		}
		bio = (struct bio){
			.bi_flags = 1u << BIO_NO_PAGE_REF, .bi_bdev = &S.bdev,
			.bi_io_vec = b->bv, .bi_iter = { .bi_size = 4096 },
		};
		if (blk_dma_tag_attach(&bio) != tag)
			shim_bug("attach");
		bio.bi_bdev = &a->bdev;
		blk_dma_tag_bio_prep(&bio);	/* the IO now runs on a */
		mt = bio.bi_dma_tag;
		fm = mt->priv;
		shim_fail_alloc_after = step;
		blk_dma_tag_members_changed(&S.disk);
		shim_fail_alloc_after = -1;
		if (a->mapped == 0 || mt->priv != fm || fm->magic != MAP_MAGIC) {
			ok = false;
			snprintf(why, sizeof(why),
				 "allocation %d failing unmapped a member under IO", step);
		}
		blk_dma_tag_put(tag);		/* the IO completes */
		blk_dma_tag_unmap(tag);
	}
	verdict("enomem-in-members-change-keeps-inflight-io", ok, why);
}

/* --- the run ----------------------------------------------------------- */

static void verdict(const char *name, bool ok, const char *why)
{
	printf("%sok - %s%s%s\n", ok ? "" : "not ", name, ok ? "" : " # ", ok ? "" : why);
	fflush(stdout);
	if (!ok)
		failed = 1;
}

static void on_alarm(int sig)
{
	static const char msg[] = "not ok - stress-progress # no progress for 30 s (a hang)\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

static u64 disk_stat(struct gendisk *disk, size_t off)
{
	return *(u64 *)((char *)disk->dma_tag + off);
}

#define STAT(disk, f) disk_stat(disk, offsetof(struct blk_dma_tag_disk, f))

int main(int argc, char **argv)
{
	u64 seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x5eed1234abcdULL;
	long ms = argc > 2 ? strtol(argv[2], NULL, 0) : 2000;
	pthread_t io[NR_IO], owners[NR_OWNERS], members;
	pthread_rwlockattr_t attr;
	struct leaf *all[NR_POOL + 1], *next;
	unsigned int nall = 0, i;
	long mapped = 0, last = -1;
	bool balanced = true;
	struct timespec t0, t;
	char why[256];
	struct leaf *l;

	rng = seed ? seed : 1;
	printf("# seed %#llx, %ld ms, %d io threads, %d owners\n",
	       (unsigned long long)seed, ms, NR_IO, NR_OWNERS);
	shim_thread_start();
	bufs_init();
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
	shim_fail_permille = 20;
	signal(SIGALRM, on_alarm);
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
	shim_fail_permille = 0;
	verdict("stress-invariants", !failed, first_failure);

	printf("# ios %ld: premapped %ld, plain %ld, to a dead member %ld\n",
	       io_total.ios, io_total.premapped, io_total.plain, io_total.dead_member);
	printf("# maps %ld, unmaps %ld, errors: EOPNOTSUPP %ld ENODEV %ld ENOSPC %ld ENOMEM %ld\n",
	       map_ok, unmaps_done, map_err[0], map_err[1], map_err[2], map_err[3]);
	printf("# members: %ld removed, %ld added, %ld unplugged, %ld dm swaps, %ld table checks\n",
	       n_remove, n_add, n_unplug, n_swap, n_checks);
	printf("# sysfs: %ld dma_premap writes, %ld max_mapped_bytes writes\n", n_mode, n_bound);
	printf("# driver: %ld mappings made, %ld refused; S remapped %llu tags\n",
	       driver_maps, driver_refusals, (unsigned long long)STAT(&S.disk, remaps));
	verdict("stress-did-work", io_total.premapped > 0 && io_total.plain > 0 &&
		map_ok > 0 && n_remove + n_unplug > 0 && n_add > 0 && n_swap > 0,
		"some kind of step never happened: run longer");

	/* every owner unmapped its buffers: nothing may stay mapped */
	for (i = 0; i < NR_POOL; i++)
		all[nall++] = pool[i];
	all[nall++] = E;
	for (i = 0; i < nall; i++) {
		mapped += all[i]->mapped;
		if (STAT(&all[i]->disk, mapped_bytes) ||
		    STAT(&all[i]->disk, maps) != STAT(&all[i]->disk, unmaps))
			balanced = false;
	}
	for (l = dead_leaves; l; l = l->next_dead) {
		mapped += l->mapped;
		if (STAT(&l->disk, mapped_bytes) ||
		    STAT(&l->disk, maps) != STAT(&l->disk, unmaps))
			balanced = false;
	}
	if (STAT(&S.disk, mapped_bytes) || STAT(&N, mapped_bytes) ||
	    STAT(&S.disk, maps) != STAT(&S.disk, unmaps) ||
	    STAT(&N, maps) != STAT(&N, unmaps))
		balanced = false;
	snprintf(why, sizeof(why), "%ld driver mappings left", mapped);
	verdict("stress-no-mapping-left", mapped == 0, why);
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
	for (l = dead_leaves; l; l = next) {
		next = l->next_dead;
		blk_dma_tag_release_disk(&l->disk);
		free(l);
	}
	for (i = 0; i < NR_BUFS; i++)
		free(bufs[i].bv);
	shim_rcu_barrier();
	shim_thread_stop();
	return failed;
}
