/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the dmatag tools share: the io_uring opcodes and argument of
 * premapping (patch 0008, include/uapi/linux/io_uring.h) for builds against
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
#define IORING_REGISTER_MAP_BUFFERS	26
#define IORING_REGISTER_UNMAP_BUFFERS	27
struct io_uring_map_buffers {
	int32_t fd;
	uint32_t buf_start;
	uint32_t buf_end;
	uint32_t flags;
	uint64_t resv[2];
};
#endif

#define KIB 1024UL
#define MIB (1024 * KIB)

/*
 * The sysfs directory of the disk that holds block device @dev (the parent
 * of a partition) into @dir. Return 0, or -ENOTBLK.
 */
static inline int dmatag_sysdir(const char *dev, char *dir, size_t len)
{
	struct stat st;
	char link[64], path[128];

	if (stat(dev, &st) || !S_ISBLK(st.st_mode))
		return -ENOTBLK;
	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u",
		 major(st.st_rdev), minor(st.st_rdev));
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
