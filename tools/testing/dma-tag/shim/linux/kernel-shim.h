/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the kernel for block/blk-dma-tag.c and
 * block/blk-dma-tag-disk.c to build and run unmodified in userspace, under
 * ASan/UBSan and under ThreadSanitizer (the tools/testing/radix-tree model).
 * Locks, completions, percpu_refs and the workqueue are real (pthreads,
 * atomics, a worker thread); RCU is liburcu (see rcupdate.h).
 */
#ifndef KERNEL_SHIM_H
#define KERNEL_SHIM_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "atomic.h"

/* linux/build_bug.h's, on C11's keyword */
#ifndef static_assert
#define static_assert(expr, ...) _Static_assert(expr, #expr)
#endif

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint64_t sector_t;
typedef unsigned int gfp_t;
typedef unsigned short umode_t;

#define GFP_KERNEL 0u
#define __GFP_NOFAIL 1u
#define __GFP_ACCOUNT 2u
#define __GFP_RETRY_MAYFAIL 4u
#define __GFP_NOWARN 8u
#define __GFP_NORETRY 16u
#define GFP_KERNEL_ACCOUNT (GFP_KERNEL | __GFP_ACCOUNT)
#define EXPORT_SYMBOL_GPL(sym)
#define __packed __attribute__((packed))
#define __rcu
#define __percpu
#define __aligned(x) __attribute__((aligned(x)))
#define BIT_ULL(n) (1ULL << (n))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define struct_size(p, member, n) \
	(sizeof(*(p)) + (size_t)(n) * sizeof((p)->member[0]))
#define READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* a broken kernel invariant ends the program: the test reports it */
#define shim_bug(...) do {						\
	fprintf(stderr, "shim: BUG at %s:%d: ", __FILE__, __LINE__);	\
	fprintf(stderr, __VA_ARGS__);					\
	fputc('\n', stderr);						\
	abort();							\
} while (0)
#define WARN_ON_ONCE(cond) ({						\
	bool __c = !!(cond);						\
	if (__c)							\
		shim_bug("WARN_ON_ONCE(%s)", #cond);			\
	__c;								\
})
/* the shim's racy peeks are atomics already (mtree_empty()) */
#define data_race(expr) (expr)

/*
 * Atomic context: RCU read-side critical sections and RCU callbacks (the
 * kernel runs those in softirq). A sleeping call there (a mutex, a wait, a
 * grace period, an allocation that may sleep) is a kernel bug: the shim ends
 * the program, as might_sleep() would warn.
 */
extern __thread unsigned int shim_atomic;
#define might_sleep() do {						\
	if (shim_atomic)						\
		shim_bug("sleeping function called from atomic context"); \
} while (0)

/* current->flags, for memalloc_noio_save() (sched/mm.h) */
extern __thread unsigned int shim_task_flags;

static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr)
{
	return (unsigned long)ptr >= (unsigned long)-4095;
}

/*
 * Allocation failures on demand, to test the error paths: the next
 * shim_fail_alloc_after allocations succeed and the one after fails
 * (single-threaded tests), or each fails with probability
 * shim_fail_permille (threaded tests). __GFP_NOFAIL allocations never fail.
 * Every allocation of the core may sleep (GFP_KERNEL), and may do IO unless
 * the thread is in a memalloc_noio scope: shim_alloc_hook, when a test sets
 * it, sees each one first (to check where reclaim could write to a device).
 * Threaded tests set the knobs with __atomic_store_n(): the retire worker
 * allocates whenever it runs.
 */
extern int shim_fail_alloc_after;
extern unsigned int shim_fail_permille;
extern void (*shim_alloc_hook)(gfp_t gfp);
bool shim_fail_now(void);

static inline void shim_alloc_enter(gfp_t gfp)
{
	void (*hook)(gfp_t gfp) = __atomic_load_n(&shim_alloc_hook,
						  __ATOMIC_ACQUIRE);

	might_sleep();
	if (hook)
		hook(gfp);
}

static inline bool shim_fail_random(void)
{
	return __atomic_load_n(&shim_fail_permille, __ATOMIC_RELAXED) &&
	       shim_fail_now();
}

static inline void *shim_alloc(size_t size, gfp_t gfp)
{
	shim_alloc_enter(gfp);
	if (!(gfp & __GFP_NOFAIL)) {
		if (shim_fail_alloc_after >= 0 && shim_fail_alloc_after-- == 0)
			return NULL;
		if (shim_fail_random())
			return NULL;
	}
	return calloc(1, size ? size : 1);
}

static inline void *kzalloc(size_t size, gfp_t gfp)
{
	return shim_alloc(size, gfp);
}

static inline void *kvmalloc(size_t size, gfp_t gfp)
{
	return shim_alloc(size, gfp);
}

static inline void *kvmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return shim_alloc(n * size, gfp);
}

static inline void *krealloc_array(void *p, size_t n, size_t size, gfp_t gfp)
{
	void *q;

	if (size && n > SIZE_MAX / size)
		return NULL;
	shim_alloc_enter(gfp);
	if (!(gfp & __GFP_NOFAIL) && shim_fail_random())
		return NULL;
	q = realloc(p, n * size);
	if (!q && (gfp & __GFP_NOFAIL))
		shim_bug("__GFP_NOFAIL allocation failed");
	return q;
}

static inline void kfree(const void *p) { free((void *)p); }
static inline void kvfree(const void *p) { free((void *)p); }

/* one "CPU": the counters are atomics */
#define alloc_percpu(type) ((type *)calloc(1, sizeof(type)))
#define free_percpu(p) free(p)
#define per_cpu_ptr(p, cpu) ((void)(cpu), (p))
#define for_each_possible_cpu(cpu) for ((cpu) = 0; (cpu) < 1; (cpu)++)
#define this_cpu_inc(x) __atomic_fetch_add(&(x), 1, __ATOMIC_RELAXED)

struct page;

struct bio_vec {
	struct page *bv_page;
	unsigned int bv_len;
	unsigned int bv_offset;
};

struct bvec_iter {
	sector_t bi_sector;
	unsigned int bi_size;
	unsigned int bi_idx;
	unsigned int bi_bvec_done;
} __packed __aligned(4);

struct kobject {
	int dummy;
};

struct device {
	struct kobject kobj;
};

struct attribute {
	const char *name;
	umode_t mode;
};

struct device_attribute {
	struct attribute attr;
	ssize_t (*show)(struct device *dev, struct device_attribute *attr,
			char *buf);
	ssize_t (*store)(struct device *dev, struct device_attribute *attr,
			 const char *buf, size_t count);
};

struct attribute_group {
	const char *name;
	struct attribute **attrs;
	umode_t (*is_visible)(struct kobject *kobj, struct attribute *a, int n);
};

#define DEVICE_ATTR_RO(_name)						\
	struct device_attribute dev_attr_##_name = {			\
		.attr = { .name = #_name, .mode = 0444 },		\
		.show = _name##_show,					\
	}
#define DEVICE_ATTR_RW(_name)						\
	struct device_attribute dev_attr_##_name = {			\
		.attr = { .name = #_name, .mode = 0644 },		\
		.show = _name##_show, .store = _name##_store,		\
	}

struct blk_dma_tag_ops;
struct blk_dma_tag_disk;

struct block_device_operations {
	const struct blk_dma_tag_ops *dma_tag_ops;
};

struct gendisk {
	const struct block_device_operations *fops;
	struct blk_dma_tag_disk *dma_tag;
	struct device part0_dev;
	void *private_data;
};

struct block_device {
	struct gendisk *bd_disk;
};

struct request_queue {
	struct gendisk *disk;
};

static inline struct gendisk *dev_to_disk(struct device *dev)
{
	return container_of(dev, struct gendisk, part0_dev);
}

static inline struct device *kobj_to_dev(struct kobject *kobj)
{
	return container_of(kobj, struct device, kobj);
}

struct blk_dma_tag;

#define BIO_NO_PAGE_REF 0
struct bio {
	struct block_device *bi_bdev;
	unsigned short bi_flags;
	struct bvec_iter bi_iter;
	struct bio_vec *bi_io_vec;
	unsigned short bi_vcnt;
	struct blk_dma_tag *bi_dma_tag;
};

static inline bool bio_flagged(const struct bio *bio, unsigned int bit)
{
	return bio->bi_flags & (1u << bit);
}

#endif
