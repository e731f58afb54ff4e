/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the dmatag tools share: the io_uring opcodes and argument of
 * premapping (patch 0012, include/uapi/linux/io_uring.h) for builds against
 * headers that lack them, and the sysfs files of a block device's DMA tags.
 */
#ifndef DMATAG_TOOLS_H
#define DMATAG_TOOLS_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef IORING_REGISTER_MAP_BUFFERS
#define IORING_REGISTER_MAP_BUFFERS	126
#define IORING_REGISTER_UNMAP_BUFFERS	127
struct io_uring_map_buffers {
	uint32_t file_index;	/* in the registered file table */
	uint32_t buf_start;
	uint32_t buf_end;
	uint32_t flags;
	uint64_t resv[2];
};
#endif
#ifndef IORING_MAP_BUFFERS_FD
#define IORING_MAP_BUFFERS_FD	(1U << 0)	/* file_index is a descriptor */
#endif

#define KIB 1024UL
#define MIB (1024 * KIB)

#ifdef DMATAG_VERDICTS
#include <stdarg.h>
#include <stdlib.h>

/*
 * The verdict lines that tests/guest/lib.sh tool_cases reads: "ok NAME" and
 * "not ok NAME: why" (counted in failures); die() ends a tool that cannot
 * go on (exit 2).
 */
static int failures;

static inline void ok(const char *name)
{
	printf("ok %s\n", name);
}

static inline __attribute__((format(printf, 2, 3)))
void fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("not ok %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failures++;
}

static inline __attribute__((noreturn)) void die(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what,
		strerror(err));
	exit(2);
}
#endif

/*
 * The sysfs directory of the disk that holds block device @dev (the parent
 * of a partition), or for a regular file the device of its filesystem (XFS:
 * the data device), into @dir. Return 0, or -ENOTBLK.
 */
static inline int dmatag_sysdir(const char *dev, char *dir, size_t len)
{
	struct stat st;
	char link[64], path[128];
	dev_t d;

	if (stat(dev, &st))
		return -ENOTBLK;
	if (S_ISBLK(st.st_mode))
		d = st.st_rdev;
	else if (S_ISREG(st.st_mode))
		d = st.st_dev;
	else
		return -ENOTBLK;
	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(d), minor(d));
	snprintf(path, sizeof(path), "%s/partition", link);
	snprintf(dir, len, access(path, F_OK) ? "%s" : "%s/..", link);
	return 0;
}

/* dma_tag/@name under @dir, or -1 */
static inline long long dmatag_counter(const char *dir, const char *name)
{
	char path[512];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/dma_tag/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/*
 * Every buffer mapped on the disk at @dir was unmapped: its maps and unmaps
 * counters are both readable and equal. Both are stored in @maps, @unmaps
 * (-1 when unreadable): a disk without counters is not "balanced".
 */
static inline int dmatag_balanced(const char *dir, long long *maps,
				  long long *unmaps)
{
	*maps = dmatag_counter(dir, "maps");
	*unmaps = dmatag_counter(dir, "unmaps");
	return *maps >= 0 && *unmaps >= 0 && *maps == *unmaps;
}

/* write @val to @path: 0 or -errno */
static inline int dmatag_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* write @val to @rel under @dir: 0 or -errno */
static inline int dmatag_write_sysfs(const char *dir, const char *rel,
				     const char *val)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return dmatag_write_file(path, val);
}

#endif
