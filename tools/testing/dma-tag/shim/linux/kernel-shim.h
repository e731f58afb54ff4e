/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the kernel for block/blk-dma-tag.c to build and run in
 * userspace, under ASan and UBSan (the tools/testing/radix-tree model).
 */
#ifndef KERNEL_SHIM_H
#define KERNEL_SHIM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint64_t sector_t;
typedef unsigned int gfp_t;

#define GFP_KERNEL 0u
#define EXPORT_SYMBOL_GPL(sym)
#define __packed __attribute__((packed))
#define __rcu
#define __aligned(x) __attribute__((aligned(x)))

static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr)
{
	return (unsigned long)ptr >= (unsigned long)-4095;
}

/* allocation failures on demand, to test the error paths */
extern int shim_fail_alloc_after;

static inline void *shim_alloc(size_t size)
{
	if (shim_fail_alloc_after >= 0 && shim_fail_alloc_after-- == 0)
		return NULL;
	return calloc(1, size);
}

static inline void *kzalloc(size_t size, gfp_t gfp)
{
	(void)gfp;
	return shim_alloc(size);
}

static inline void *kvmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	(void)gfp;
	if (size && n > SIZE_MAX / size)
		return NULL;
	return shim_alloc(n * size);
}

static inline void kfree(const void *p) { free((void *)p); }
static inline void kvfree(const void *p) { free((void *)p); }

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

struct gendisk {
	int dummy;
};

struct block_device {
	struct gendisk *bd_disk;
};

struct blk_dma_tag;

struct bio {
	struct block_device *bi_bdev;
	struct bvec_iter bi_iter;
	struct bio_vec *bi_io_vec;
	unsigned short bi_vcnt;
	struct blk_dma_tag *bi_dma_tag;
};

#endif
