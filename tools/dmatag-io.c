// SPDX-License-Identifier: GPL-2.0
/*
 * dmatag-io: premapped (DMA-tagged) io_uring IO on a block device, or on a
 * regular file of ext4 or XFS (DEV may be either; the counters are those of
 * the disk that holds the file).
 *
 *   dmatag-io verify DEV [--plain] [--buf-size BYTES] [--writes-plain]
 *		[--min-share PCT] [--huge]
 *	Register two buffers (one page-aligned, one starting 1536 bytes into
 *	a page) and DEV, premap them (unless --plain), then for IO sizes
 *	512 B .. 1 MiB at many buffer offsets (misaligned starts, IOs that
 *	cross PRP list pages) write with WRITE_FIXED and read back with plain
 *	O_DIRECT pread, and write with pwrite and read back with READ_FIXED.
 *	Every byte is compared. The device's premapped_ios must grow by at
 *	least the number of fixed IOs (half of them with --writes-plain: a
 *	stack such as dm mirror writes through copies; PCT percent with
 *	--min-share: md raid5 premaps only the reads inside one chunk) with
 *	no fallback. With --huge the two buffers are in 2 MiB huge pages.
 *   dmatag-io load DEV [--plain] [--write] [--ios N] [--bs BYTES] [--qd N]
 *		[--profile FILE] [--warmup N]
 *	Random READ_FIXED IOs at queue depth N (WRITE_FIXED with --write,
 *	in the first 64 MiB of DEV). With --profile, write 1 to
 *	FILE (the ftrace function profiler switch) once the buffers are
 *	premapped and 0 when the IO is done, so that only the IO is counted;
 *	with --warmup, after N IOs more that are not counted.
 *   dmatag-io errnos DEV [--unsupported DEV2] [--regular FILE]
 *	Every bad input of IORING_REGISTER_(UN)MAP_BUFFERS with its errno.
 *   dmatag-io inflight DEV
 *	Unmap, unregister buffers and unregister files while IO is in flight;
 *	every IO must complete and verify.
 *   dmatag-io map DEV [--expect ERRNO]
 *	Register a buffer and DEV and premap it: succeeds, or fails with the
 *	given positive errno (e.g. 95 for EOPNOTSUPP).
 *   dmatag-io mapcost DEV [--buf-size BYTES]
 *	Map one registered buffer of BYTES on DEV and unmap it; print
 *	"mapcost BYTES MAP_US UNMAP_US MEMFREE_DROP_KIB".
 *   dmatag-io churn DEV [--seconds N] [--offset BYTES]
 *	For N seconds (default 120), write and read back (verify) 16 KiB IOs on
 *	8 premapped buffers in 16 MiB of DEV from OFFSET while a second thread
 *	unregisters and re-registers the buffers, unmaps and maps them, and
 *	replaces buffer slots. Every map and register call succeeds; an IO
 *	may fail with -EFAULT only while the buffers are unregistered, or
 *	with -EAGAIN (done again); every read returns what was written, and
 *	the device counted premapped IO.
 *   dmatag-io held DEV --go FILE
 *	Premap 8 buffers of 64 KiB and print "mapped"; once FILE exists (the
 *	caller suspended DEV, a dm device, and created it) submit one
 *	READ_FIXED per buffer, which the device holds, and half a second later
 *	IORING_REGISTER_UNMAP_BUFFERS; print "unmap returned RET after MS
 *	ms". Then wait for the reads (the caller resumes DEV, or kills the
 *	process): each must return its length.
 *   dmatag-io buffered FILE
 *	FILE, a regular file on ext4 or XFS, opened without O_DIRECT: the
 *	map succeeds, a buffered WRITE_FIXED and READ_FIXED return the data
 *	and are not premapped; after fcntl() sets O_DIRECT on the same file,
 *	they are.
 *   dmatag-io bounds DEV
 *	The ring's bounds (sysctl kernel.io_uring_premap_max_buffers and
 *	_max_bytes: -EDQUOT, all or nothing, another ring unaffected), the
 *	opt-out of an explicit unmap in auto mode, and the register opcodes
 *	between stock 6.1's and ours (what a newer liburing sends: -EINVAL,
 *	nothing unmapped).
 *   dmatag-io memcg DEV [--bufs N] [--margin KIB] [--go FILE]
 *	Register N (default 4096) buffers of 4 KiB, then lower the memory.max
 *	of the process's own cgroup to its usage plus KIB (default 1024) and
 *	map the buffers one by one until a map fails: it must fail with
 *	-ENOMEM (charged, and no OOM kill) after at least one success; print
 *	"memcg mapped X of N", and lift the limit. With --go FILE, print
 *	"at-limit" and wait for FILE (the caller maps from another cgroup
 *	while this one holds its tags). Then IO works and the rest maps.
 *   dmatag-io memcost DEV [--bufs N] [--buf-size BYTES]
 *	Register N buffers of BYTES, map them all, and print "memcost N BYTES
 *	MAP_MS FREE_KIB_PER_MIB CHARGED_KIB_PER_MIB": the MemFree drop of the
 *	map per MiB premapped (all kernel memory, IOMMU page tables and IOVA
 *	nodes included; noisy), and what was charged to the memory cgroup the
 *	process moved to for the map ("-" without cgroup v2), a second after
 *	the map (once RCU has freed what the map replaced).
 *   dmatag-io plain DEV --dev2 DEV2 --dev3 DEV3
 *	Fixed buffers through plain descriptors in auto mode (the caller sets
 *	it on the three devices): through two descriptors of DEV one mapping
 *	per buffer, through DEV2 one more, after closing every descriptor of
 *	DEV a new one uses its mapping; with io_uring_premap_max_devices 2,
 *	DEV3 evicts the least recently used device (dma_tag/evictions), which
 *	maps again when used again. Every byte is compared (WRITE_FIXED,
 *	READ_FIXED, pread), every fixed IO premapped, nothing left mapped.
 *   dmatag-io closefd DEV
 *	Premap 32 buffers through a plain descriptor (IORING_MAP_BUFFERS_FD),
 *	queue a READ_FIXED per buffer, close the descriptor and exit with the
 *	reads in flight.
 *   dmatag-io hold DEV [--seconds N]
 *	Premap, then read with READ_FIXED until an IO fails or reads nothing
 *	(the device was removed) or N seconds (default 120) pass; then check
 *	that new maps fail with -ENODEV, unmap and unregister.
 *
 * Output: one "ok NAME" or "not ok NAME: why" line per check, then the
 * DEV's dma_tag counters. Exit status 0 only when every check passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#define DMATAG_VERDICTS
#include "dmatag.h"

static const char *dev_path;
static char sysdir[256];	/* /sys/class/block/<name> */


static int reg(struct io_uring *ring, unsigned int op, void *arg,
	       unsigned int nr)
{
	int ret = syscall(__NR_io_uring_register, ring->ring_fd, op, arg, nr);

	return ret < 0 ? -errno : ret;
}

static int map_bufs(struct io_uring *ring, unsigned int op, int fd,
		    unsigned int start, unsigned int end)
{
	struct io_uring_map_buffers mb = {
		.file_index = (uint32_t)fd, .buf_start = start, .buf_end = end,
	};

	return reg(ring, op, &mb, 1);
}

/* map_bufs() for the plain descriptor FD (IORING_MAP_BUFFERS_FD) */
static int map_bufs_fd(struct io_uring *ring, unsigned int op, int fd,
		       unsigned int start, unsigned int end)
{
	struct io_uring_map_buffers mb = {
		.file_index = (uint32_t)fd, .buf_start = start, .buf_end = end,
		.flags = IORING_MAP_BUFFERS_FD,
	};

	return reg(ring, op, &mb, 1);
}

/* the sysfs directory of the disk holding DEV (a partition's parent) */
static void find_sysdir(const char *dev)
{
	if (dmatag_sysdir(dev, sysdir, sizeof(sysdir)))
		die(dev, ENOTBLK);
}

static long long counter(const char *name)
{
	return dmatag_counter(sysdir, name);
}

/*
 * Unmapping does not wait for the block layer: the mappings are undone, and
 * counted, a grace period or two later. Wait up to 10 s for counter @name to
 * reach @want; return what it shows then.
 */
static long long counter_settled(const char *name, long long want)
{
	long long v;
	int i;

	for (i = 0; (v = counter(name)) != want && i < 100; i++)
		usleep(100000);
	return v;
}

/* the check @name: every map of the device was unmapped (both counted) */
/* ... waiting up to @tenths tenths of a second for the last unmaps */
static void expect_balanced_within(const char *name, int tenths)
{
	long long maps, unmaps;
	int i;

	for (i = 0; !dmatag_balanced(sysdir, &maps, &unmaps) && i < tenths;
	     i++)
		usleep(100000);
	if (dmatag_balanced(sysdir, &maps, &unmaps))
		ok(name);
	else
		fail(name, "maps %lld unmaps %lld (-1: unreadable)", maps,
		     unmaps);
}

static void expect_balanced(const char *name)
{
	expect_balanced_within(name, 100);
}

static int write_file(const char *path, const char *val)
{
	return dmatag_write_file(path, val);
}

/* write VAL to REL under the device's sysfs directory */
static int write_sysfs(const char *rel, const char *val)
{
	return dmatag_write_sysfs(sysdir, rel, val);
}

static void print_counters(const char *label)
{
	static const char *const names[] = {
		"premapped_ios", "fallback_ios", "maps", "unmaps",
		"mapped_bytes",
	};
	unsigned int i;

	printf("counters %s:", label);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		printf(" %s=%lld", names[i], counter(names[i]));
	printf("\n");
}

/* the size of a block device, or of a regular file */
static uint64_t dev_size(int fd)
{
	struct stat st;
	uint64_t size;

	if (!fstat(fd, &st) && S_ISREG(st.st_mode))
		return st.st_size;
	if (ioctl(fd, BLKGETSIZE64, &size))
		die("BLKGETSIZE64", errno);
	return size;
}

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		die("mmap", errno);
	return p;
}

/*
 * --huge: the registered buffers of verify come from 2 MiB huge pages
 * (vm.nr_hugepages reserved by the caller), physically contiguous: without
 * an IOMMU a buffer inside one huge page is one DMA segment
 */
static int huge;
#define HUGE_SIZE	(2 * MIB)

static void *map_buf(size_t len)
{
	void *p;

	if (!huge)
		return map_anon(len);
	len = (len + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE,
		 -1, 0);
	if (p == MAP_FAILED)
		die("mmap MAP_HUGETLB", errno);
	return p;
}

/* a byte pattern that differs per (seed, position) */
static void fill(unsigned char *p, size_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
}

/* submit one fixed IO and wait for it; returns res */
/* one READ_FIXED or WRITE_FIXED through plain descriptor FD, or with FD -1
 * through registered file 0; its result */
static int fixed_io_fd(struct io_uring *ring, int fd, int write, void *addr,
		       unsigned int len, uint64_t off, int buf_index)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int ret;

	if (write)
		io_uring_prep_write_fixed(sqe, fd < 0 ? 0 : fd, addr, len, off,
					  buf_index);
	else
		io_uring_prep_read_fixed(sqe, fd < 0 ? 0 : fd, addr, len, off,
					 buf_index);
	if (fd < 0)
		sqe->flags |= IOSQE_FIXED_FILE;
	ret = io_uring_submit(ring);
	if (ret != 1)
		die("io_uring_submit", -ret);
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret)
		die("io_uring_wait_cqe", -ret);
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

static int fixed_io(struct io_uring *ring, int write, void *addr,
		    unsigned int len, uint64_t off, int buf_index)
{
	return fixed_io_fd(ring, -1, write, addr, len, off, buf_index);
}

struct setup {
	struct io_uring ring;
	int fd;
	uint64_t size;
	unsigned char *buf[2];		/* registered: [0] page-aligned */
	size_t buf_len;
	unsigned char *plain;		/* not registered, for pread/pwrite */
};

static void setup(struct setup *s, const char *dev, size_t buf_len,
		  unsigned int entries)
{
	struct iovec iov[2];
	int ret;

	s->fd = open(dev, O_RDWR | O_DIRECT);
	if (s->fd < 0)
		die(dev, errno);
	s->size = dev_size(s->fd);
	s->buf_len = buf_len;
	s->buf[0] = map_buf(buf_len);
	/* the second buffer starts 1536 bytes into a page */
	s->buf[1] = (unsigned char *)map_buf(buf_len + 4096) + 1536;
	s->plain = map_anon(2 * MIB);
	ret = io_uring_queue_init(entries, &s->ring, 0);
	if (ret)
		die("io_uring_queue_init", -ret);
	iov[0].iov_base = s->buf[0];
	iov[0].iov_len = buf_len;
	iov[1].iov_base = s->buf[1];
	iov[1].iov_len = buf_len;
	ret = io_uring_register_buffers(&s->ring, iov, 2);
	if (ret)
		die("io_uring_register_buffers", -ret);
	ret = io_uring_register_files(&s->ring, &s->fd, 1);
	if (ret)
		die("io_uring_register_files", -ret);
}

static void teardown(struct setup *s)
{
	io_uring_queue_exit(&s->ring);
	close(s->fd);
}

/*
 * One verify case: SIZE bytes at buffer offset BOFF of buffer B and device
 * offset DOFF, in both directions.
 */
static char why[256];

#define vfail(...) do { \
	snprintf(why, sizeof(why), __VA_ARGS__); \
	return -1; \
} while (0)

static int verify_one(struct setup *s, int b, size_t boff, unsigned int size,
		      uint64_t doff, uint64_t seed)
{
	unsigned char *p = s->buf[b] + boff;
	size_t g0, g1, i, j = 0;
	int ret;

	/* premapped write, plain read */
	fill(p, size, seed);
	ret = fixed_io(&s->ring, 1, p, size, doff, b);
	if (ret != (int)size) {
		vfail("write_fixed returned %d", ret);
	}
	memset(s->plain, 0, size);
	if (pread(s->fd, s->plain, size, doff) != (ssize_t)size) {
		vfail("pread: %s", strerror(errno));
	}
	if (memcmp(s->plain, p, size)) {
		vfail("write_fixed data differs from what pread reads");
	}

	/* plain write, premapped read */
	fill(s->plain, size, seed + 1);
	if (pwrite(s->fd, s->plain, size, doff) != (ssize_t)size) {
		vfail("pwrite: %s", strerror(errno));
	}
	/* guard bytes around the IO must stay as they are */
	g0 = boff < 512 ? boff : 512;
	g1 = s->buf_len - boff - size < 512 ? s->buf_len - boff - size : 512;
	memset(p - g0, 0xa5, g0 + size + g1);
	ret = fixed_io(&s->ring, 0, p, size, doff, b);
	if (ret != (int)size) {
		vfail("read_fixed returned %d", ret);
	}
	if (memcmp(s->plain, p, size)) {
		vfail("read_fixed data differs from what pwrite wrote");
	}
	for (i = 0; i < g0; i++)
		if (p[-1 - (long)i] != 0xa5)
			break;
	for (j = 0; i == g0 && j < g1; j++)
		if (p[size + j] != 0xa5)
			break;
	if (i != g0 || j != g1) {
		vfail("read_fixed changed bytes outside the IO");
	}
	return 0;
}

static int cmd_verify(int premap, size_t buf_len, unsigned int min_share)
{
	static const unsigned int sizes[] = {
		512, 4096, 8192, 12288, 65536, 131072, 524288, 1048576,
	};
	/* in pages: the first list page, its end, the chain slot region */
	static const unsigned int pages[] = {
		0, 1, 2, 255, 256, 382, 383, 384, 500, 505, 508, 509, 510,
		511, 512, 513, 760, 765, 766, 767, 1000, 1019, 1020, 1021,
		1022, 1023,
	};
	static const unsigned int sub[] = { 0, 512, 3584 };
	struct setup s;
	uint64_t doff = 0, seed = 1;
	unsigned int i, j, k;
	int b, ret;
	long long pm0, fb0, pm1, fb1, fixed = 0;

	setup(&s, dev_path, buf_len, 8);
	if (premap) {
		ret = map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, 2);
		if (ret) {
			fail("map", "IORING_REGISTER_MAP_BUFFERS: %s",
			     strerror(-ret));
			teardown(&s);
			return 1;
		}
		ok("map");
	}
	pm0 = counter("premapped_ios");
	fb0 = counter("fallback_ios");
	for (b = 0; b < 2; b++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			char name[64], first[300] = "";
			unsigned int n = 0, bad = 0;

			snprintf(name, sizeof(name), "io-buf%d-size%u", b,
				 sizes[i]);
			for (j = 0; j < sizeof(pages) / sizeof(pages[0]); j++) {
				for (k = 0; k < sizeof(sub) / sizeof(sub[0]);
				     k++) {
					size_t boff = (size_t)pages[j] * 4096 +
						      sub[k];

					if (boff + sizes[i] > buf_len)
						continue;
					/* sub-page offsets for small IO only */
					if (sub[k] && sizes[i] > 131072 &&
					    j % 4)
						continue;
					n++;
					if (verify_one(&s, b, boff, sizes[i],
						       doff, seed++) && !bad++)
						snprintf(first, sizeof(first),
							 "buffer offset %zu: %s",
							 boff, why);
					fixed += 2;
					doff = (doff + sizes[i] + 7 * 4096) %
					       (s.size - 2 * MIB);
					doff &= ~511ULL;
				}
			}
			if (bad)
				fail(name, "%u of %u offsets; first at %s",
				     bad, n, first);
			else
				printf("ok %s (%u offsets)\n", name, n);
		}
	}
	pm1 = counter("premapped_ios");
	fb1 = counter("fallback_ios");
	printf("fixed_ios %lld premapped_delta %lld fallback_delta %lld\n",
	       fixed, pm1 - pm0, fb1 - fb0);
	if (premap) {
		/* a request may be split: at least one premapped per IO */
		if ((pm1 - pm0) * 100 >= fixed * min_share && fb1 == fb0)
			ok("counters-premapped");
		else
			fail("counters-premapped",
			     "%lld fixed IOs, %lld premapped, %lld fallback",
			     fixed, pm1 - pm0, fb1 - fb0);
	} else if (pm1 == pm0) {
		ok("counters-plain");
	} else {
		fail("counters-plain", "%lld premapped without a mapping",
		     pm1 - pm0);
	}
	teardown(&s);
	return 0;
}

static uint64_t rnd(void)
{
	static uint64_t x = 88172645463325252ULL;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* IOS random fixed-buffer IOs at queue depth QD; returns the errors */
static unsigned long load_run(struct io_uring *ring, struct iovec *iov,
			      unsigned int qd, unsigned long ios, int write,
			      uint64_t blocks, unsigned int bs)
{
	unsigned long submitted = 0, done = 0, errors = 0;
	unsigned int *free_slots, nr_free, i;
	int ret;

	/* a slot (buffer) is reused only after its IO has completed */
	free_slots = calloc(qd, sizeof(*free_slots));
	for (i = 0; i < qd; i++)
		free_slots[i] = i;
	nr_free = qd;
	while (done < ios) {
		while (submitted < ios && nr_free) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
			unsigned int slot = free_slots[--nr_free];

			if (write)
				io_uring_prep_write_fixed(sqe, 0,
							  iov[slot].iov_base,
							  bs,
							  (rnd() % blocks) * bs,
							  slot);
			else
				io_uring_prep_read_fixed(sqe, 0,
							 iov[slot].iov_base,
							 bs,
							 (rnd() % blocks) * bs,
							 slot);
			sqe->flags |= IOSQE_FIXED_FILE;
			sqe->user_data = slot;
			submitted++;
		}
		ret = io_uring_submit_and_wait(ring, 1);
		if (ret < 0)
			die("io_uring_submit_and_wait", -ret);
		for (;;) {
			struct io_uring_cqe *cqe;

			if (io_uring_peek_cqe(ring, &cqe))
				break;
			if (cqe->res != (int)bs)
				errors++;
			free_slots[nr_free++] = cqe->user_data;
			io_uring_cqe_seen(ring, cqe);
			done++;
		}
	}
	free(free_slots);
	return errors;
}

static int cmd_load(int premap, int write, unsigned long ios,
		    unsigned int bs, unsigned int qd, const char *profile,
		    unsigned long warmup)
{
	struct io_uring ring;
	struct iovec *iov;
	unsigned long errors;
	uint64_t size, blocks;
	double t0, t1;
	unsigned int i;
	int fd, ret;

	fd = open(dev_path, (write ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0)
		die(dev_path, errno);
	size = dev_size(fd);
	/* writes stay clear of what other tests keep past 64 MiB */
	if (write && size > 64 * MIB)
		size = 64 * MIB;
	blocks = size / bs;
	ret = io_uring_queue_init(qd, &ring, 0);
	if (ret)
		die("io_uring_queue_init", -ret);
	iov = calloc(qd, sizeof(*iov));
	for (i = 0; i < qd; i++) {
		iov[i].iov_base = map_anon(bs);
		iov[i].iov_len = bs;
	}
	if (io_uring_register_buffers(&ring, iov, qd) ||
	    io_uring_register_files(&ring, &fd, 1))
		die("register", EINVAL);
	if (premap) {
		ret = map_bufs(&ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, qd);
		if (ret)
			die("IORING_REGISTER_MAP_BUFFERS", -ret);
	}
	/* caches, the IOVA allocator's magazines, the tags' first lookups */
	errors = load_run(&ring, iov, qd, warmup, write, blocks, bs);
	if (profile && write_file(profile, "1"))
		die(profile, errno);
	t0 = now();
	errors += load_run(&ring, iov, qd, ios, write, blocks, bs);
	t1 = now();
	if (profile)
		write_file(profile, "0");
	printf("load %s %s ios=%lu errors=%lu iops=%.0f\n",
	       premap ? "premapped" : "plain", write ? "write" : "read", ios,
	       errors, ios / (t1 - t0));
	if (errors)
		fail("load", "%lu IOs failed", errors);
	else
		ok("load");
	io_uring_queue_exit(&ring);
	close(fd);
	return 0;
}

static void expect(const char *name, int got, int want)
{
	if (got == want)
		ok(name);
	else
		fail(name, "got %d (%s), want %d (%s)", got,
		     got < 0 ? strerror(-got) : "success", want,
		     want < 0 ? strerror(-want) : "success");
}

/* map buffer 0 with the sysfs file REL set to VAL, then set it to RESTORE */
static void expect_map_with(struct io_uring *ring, const char *name,
			    const char *rel, const char *val,
			    const char *restore, int want)
{
	if (write_sysfs(rel, val)) {
		fail(name, "cannot write %s", rel);
		return;
	}
	expect(name, map_bufs(ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, 1),
	       want);
	write_sysfs(rel, restore);
}

/*
 * IORING_MAP_BUFFERS_FD: the errnos of a plain descriptor, and what a map
 * through one is: the device's, shared by its descriptors, kept after they
 * are closed, undone by an unmap through any descriptor of the device.
 */
static void errnos_fd(unsigned char *buf, const char *unsupported,
		      const char *regular)
{
	struct iovec iov = { buf, 64 * KIB };
	long long maps0, unmaps0, pm0;
	struct io_uring r3;
	int fd, fd2, closed, p[2], dir, null, ret;

	ret = io_uring_queue_init(4, &r3, 0);
	if (ret)
		die("io_uring_queue_init", -ret);
	expect("fd-no-buffers",
	       map_bufs_fd(&r3, IORING_REGISTER_MAP_BUFFERS, 0, 0, 1), -ENXIO);
	if (io_uring_register_buffers(&r3, &iov, 1))
		die("io_uring_register_buffers", EINVAL);
	fd = open(dev_path, O_RDWR | O_DIRECT);
	closed = dup(fd);
	dir = open("/", O_RDONLY | O_DIRECTORY);
	null = open("/dev/null", O_RDWR);
	if (fd < 0 || closed < 0 || dir < 0 || null < 0 || pipe(p))
		die("open", errno);
	close(closed);
	expect("fd-closed",
	       map_bufs_fd(&r3, IORING_REGISTER_MAP_BUFFERS, closed, 0, 1),
	       -EBADF);
	expect("fd-negative",
	       map_bufs_fd(&r3, IORING_REGISTER_MAP_BUFFERS, -1, 0, 1), -EBADF);
	{
		int opath = open(dev_path, O_PATH);

		expect("fd-o-path",
		       map_bufs_fd(&r3, IORING_REGISTER_MAP_BUFFERS, opath, 0,
				   1), -EBADF);
		close(opath);
	}
	expect("fd-pipe", map_bufs_fd(&r3, IORING_REGISTER_MAP_BUFFERS, p[0],
				      0, 1), -ENOTBLK);
	expect("fd-ring", map_bufs_fd(&r3, IORING_REGISTER_MAP_BUFFERS,
				      r3.ring_fd, 0, 1), -ENOTBLK);
	expect("fd-char-device",
	       map_bufs_fd(&r3, IORING_REGISTER_MAP_BUFFERS, null, 0, 1),
	       -ENOTBLK);
	expect("fd-directory",
	       map_bufs_fd(&r3, IORING_REGISTER_MAP_BUFFERS, dir, 0, 1),
	       -EINVAL);
	expect("fd-range-past-end",
	       map_bufs_fd(&r3, IORING_REGISTER_MAP_BUFFERS, fd, 0, 2), -EINVAL);
	if (regular) {
		int rfd = open(regular, O_RDWR | O_CREAT, 0600);

		expect("fd-regular-file-no-bdev",
		       map_bufs_fd(&r3, IORING_REGISTER_MAP_BUFFERS, rfd, 0, 1),
		       -EOPNOTSUPP);
		close(rfd);
	}
	if (unsupported) {
		int ufd = open(unsupported, O_RDWR | O_DIRECT);

		expect("fd-device-without-support",
		       map_bufs_fd(&r3, IORING_REGISTER_MAP_BUFFERS, ufd, 0, 1),
		       -EOPNOTSUPP);
		close(ufd);
	}
	/* an unmap: argument errors only, nothing mapped is not an error */
	expect("fd-unmap-closed",
	       map_bufs_fd(&r3, IORING_REGISTER_UNMAP_BUFFERS, closed, 0, 1),
	       -EBADF);
	expect("fd-unmap-pipe",
	       map_bufs_fd(&r3, IORING_REGISTER_UNMAP_BUFFERS, p[0], 0, 1), 0);
	expect("fd-unmap-not-mapped",
	       map_bufs_fd(&r3, IORING_REGISTER_UNMAP_BUFFERS, fd, 0, 1), 0);
	expect("fd-no-tag-made", (int)counter("mapped_bytes"), 0);

	/* one mapping for the device, whichever descriptor names it */
	maps0 = counter("maps");
	unmaps0 = counter("unmaps");
	expect("fd-map", map_bufs_fd(&r3, IORING_REGISTER_MAP_BUFFERS, fd, 0, 1),
	       0);
	fd2 = open(dev_path, O_RDWR | O_DIRECT);
	expect("fd-map-second-descriptor",
	       map_bufs_fd(&r3, IORING_REGISTER_MAP_BUFFERS, fd2, 0, 1), 0);
	expect("fd-one-mapping", (int)(counter("maps") - maps0), 1);
	/* the registered-file map of the same device shares it */
	if (io_uring_register_files(&r3, &fd, 1))
		die("io_uring_register_files", EINVAL);
	expect("fd-and-registered-file",
	       map_bufs(&r3, IORING_REGISTER_MAP_BUFFERS, 0, 0, 1), 0);
	expect("fd-shared-with-registered-file",
	       (int)(counter("maps") - maps0), 1);
	io_uring_unregister_files(&r3);
	usleep(100000);
	expect("fd-kept-after-unregister-files",
	       (int)(counter("unmaps") - unmaps0), 0);
	close(fd);
	close(fd2);
	/* kept after the descriptors closed; used by a new one */
	fd = open(dev_path, O_RDWR | O_DIRECT);
	pm0 = counter("premapped_ios");
	expect("fd-io-after-close", fixed_io_fd(&r3, fd, 0, buf, 4096, 0, 0),
	       4096);
	expect("fd-io-premapped", (int)(counter("premapped_ios") - pm0), 1);
	expect("fd-still-one-mapping", (int)(counter("maps") - maps0), 1);
	expect("fd-unmap", map_bufs_fd(&r3, IORING_REGISTER_UNMAP_BUFFERS, fd,
				       0, 1), 0);
	expect("fd-unmapped",
	       (int)(counter_settled("unmaps", unmaps0 + 1) - unmaps0), 1);
	pm0 = counter("premapped_ios");
	expect("fd-io-after-unmap", fixed_io_fd(&r3, fd, 0, buf, 4096, 0, 0),
	       4096);
	expect("fd-io-after-unmap-plain",
	       (int)(counter("premapped_ios") - pm0), 0);
	close(fd);
	close(dir);
	close(null);
	close(p[0]);
	close(p[1]);
	io_uring_queue_exit(&r3);
}

static int cmd_errnos(const char *unsupported, const char *regular)
{
	struct io_uring_map_buffers mb = { .file_index = 0, .buf_start = 0,
					   .buf_end = 1 };
	struct io_uring r2;
	struct setup s;
	long long maps0, unmaps0;
	int fds[2], ret;

	setup(&s, dev_path, 64 * KIB, 8);
	maps0 = counter("maps");
	unmaps0 = counter("unmaps");

	expect("nr-args-0", reg(&s.ring, IORING_REGISTER_MAP_BUFFERS, &mb, 0),
	       -EINVAL);
	expect("nr-args-2", reg(&s.ring, IORING_REGISTER_MAP_BUFFERS, &mb, 2),
	       -EINVAL);
	expect("arg-null", reg(&s.ring, IORING_REGISTER_MAP_BUFFERS, NULL, 1),
	       -EINVAL);
	expect("arg-bad-pointer",
	       reg(&s.ring, IORING_REGISTER_MAP_BUFFERS, (void *)8, 1),
	       -EFAULT);
	mb.flags = 2;
	expect("flags-unknown",
	       reg(&s.ring, IORING_REGISTER_MAP_BUFFERS, &mb, 1), -EINVAL);
	mb.flags = IORING_MAP_BUFFERS_FD | 0x80000000u;
	expect("flags-fd-and-unknown",
	       reg(&s.ring, IORING_REGISTER_MAP_BUFFERS, &mb, 1), -EINVAL);
	expect("unmap-flags-fd-and-unknown",
	       reg(&s.ring, IORING_REGISTER_UNMAP_BUFFERS, &mb, 1), -EINVAL);
	mb.flags = 0;
	mb.resv[1] = 1;
	expect("resv-nonzero",
	       reg(&s.ring, IORING_REGISTER_MAP_BUFFERS, &mb, 1), -EINVAL);
	mb.resv[1] = 0;
	expect("range-empty",
	       map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 1, 1),
	       -EINVAL);
	expect("range-reversed",
	       map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 2, 1),
	       -EINVAL);
	expect("range-past-end",
	       map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, 3),
	       -EINVAL);
	expect("range-huge",
	       map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 1,
			0xffffffffu), -EINVAL);
	expect("file-index-past-end",
	       map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 1, 0, 1),
	       -EBADF);
	expect("file-index-negative",
	       map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, -1, 0, 1),
	       -EBADF);
	expect("unmap-range-past-end",
	       map_bufs(&s.ring, IORING_REGISTER_UNMAP_BUFFERS, 0, 0, 3),
	       -EINVAL);
	expect("unmap-not-mapped",
	       map_bufs(&s.ring, IORING_REGISTER_UNMAP_BUFFERS, 0, 0, 2), 0);

	/* switched off, and over the byte bound */
	expect_map_with(&s.ring, "premap-off", "queue/dma_premap", "off", "on",
			-EOPNOTSUPP);
	expect("premap-bad-mode", write_sysfs("queue/dma_premap", "sometimes"),
	       -EINVAL);
	expect_map_with(&s.ring, "over-max-mapped-bytes",
			"dma_tag/max_mapped_bytes", "4096", "4294967296",
			-ENOSPC);

	/* mapping twice is idempotent; the maps counter moves once */
	expect("map", map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, 2),
	       0);
	expect("map-again",
	       map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, 2), 0);
	expect("maps-counter", (int)(counter("maps") - maps0), 2);
	expect("mapped-bytes", (int)counter("mapped_bytes"), 2 * 64 * KIB);

	/* IO on the mapped buffers with bad arguments: stock errnos */
	expect("io-bad-buffer-index",
	       fixed_io(&s.ring, 0, s.buf[0], 4096, 0, 5), -EFAULT);
	expect("io-outside-buffer",
	       fixed_io(&s.ring, 0, s.buf[0] + 60 * KIB, 8192, 0, 0),
	       -EFAULT);
	expect("io-unaligned", fixed_io(&s.ring, 0, s.buf[0] + 100, 4096, 0, 0),
	       -EINVAL);
	expect("io-unaligned-offset",
	       fixed_io(&s.ring, 0, s.buf[0], 4096, 100, 0), -EINVAL);
	expect("io-past-device-end",
	       fixed_io(&s.ring, 0, s.buf[0], 4096, s.size, 0), 0);
	expect("io-good", fixed_io(&s.ring, 0, s.buf[0], 4096, 0, 0), 4096);

	/* unregistering the buffers unmaps them */
	expect("unregister-buffers", io_uring_unregister_buffers(&s.ring), 0);
	expect("unmaps-counter",
	       (int)(counter_settled("unmaps", unmaps0 + 2) - unmaps0), 2);
	expect("mapped-bytes-zero", (int)counter_settled("mapped_bytes", 0), 0);
	expect("no-buffers",
	       map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, 1),
	       -ENXIO);

	/* an empty buffer slot */
	expect("sparse-buffers", io_uring_register_buffers_sparse(&s.ring, 2),
	       0);
	expect("empty-buffer-slot",
	       map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, 1),
	       -EFAULT);
	io_uring_unregister_buffers(&s.ring);

	/* files: none registered, an empty slot, not a block device */
	ret = io_uring_queue_init(4, &r2, 0);
	if (ret)
		die("io_uring_queue_init", -ret);
	{
		struct iovec iov = { s.buf[0], 64 * KIB };

		io_uring_register_buffers(&r2, &iov, 1);
	}
	expect("no-files", map_bufs(&r2, IORING_REGISTER_MAP_BUFFERS, 0, 0, 1),
	       -EBADF);
	fds[0] = -1;
	fds[1] = regular ? open(regular, O_RDWR | O_CREAT, 0600) : -1;
	expect("sparse-files", io_uring_register_files(&r2, fds, 2), 0);
	expect("empty-file-slot",
	       map_bufs(&r2, IORING_REGISTER_MAP_BUFFERS, 0, 0, 1), -EBADF);
	/* a regular file on a filesystem without a block device (tmpfs) */
	if (regular)
		expect("regular-file-no-bdev",
		       map_bufs(&r2, IORING_REGISTER_MAP_BUFFERS, 1, 0, 1),
		       -EOPNOTSUPP);
	if (fds[1] >= 0)
		close(fds[1]);
	io_uring_unregister_files(&r2);
	/* a directory, and a character device */
	fds[0] = open("/", O_RDONLY | O_DIRECTORY);
	fds[1] = open("/dev/null", O_RDWR);
	if (fds[0] < 0 || fds[1] < 0)
		die("open / and /dev/null", errno);
	expect("dir-and-chardev-files", io_uring_register_files(&r2, fds, 2),
	       0);
	expect("directory", map_bufs(&r2, IORING_REGISTER_MAP_BUFFERS, 0, 0, 1),
	       -EINVAL);
	expect("char-device",
	       map_bufs(&r2, IORING_REGISTER_MAP_BUFFERS, 1, 0, 1), -ENOTBLK);
	close(fds[0]);
	close(fds[1]);
	io_uring_unregister_files(&r2);
	if (unsupported) {
		fds[0] = open(unsupported, O_RDWR | O_DIRECT);
		if (fds[0] < 0)
			die(unsupported, errno);
		io_uring_register_files(&r2, fds, 1);
		expect("device-without-support",
		       map_bufs(&r2, IORING_REGISTER_MAP_BUFFERS, 0, 0, 1),
		       -EOPNOTSUPP);
		close(fds[0]);
	}
	io_uring_queue_exit(&r2);

	errnos_fd(s.buf[0], unsupported, regular);

	/* closing the fd keeps the registered file; unregistering unmaps */
	{
		struct iovec iov = { s.buf[1], 64 * KIB };
		long long u;

		io_uring_register_buffers(&s.ring, &iov, 1);
		expect("map-for-close",
		       map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, 1),
		       0);
		close(s.fd);
		expect("io-after-close",
		       fixed_io(&s.ring, 0, s.buf[1], 4096, 0, 0), 4096);
		u = counter("unmaps");
		expect("unregister-files", io_uring_unregister_files(&s.ring),
		       0);
		expect("unregister-files-unmaps",
		       (int)(counter_settled("unmaps", u + 1) - u), 1);
	}
	io_uring_queue_exit(&s.ring);
	expect_balanced("no-leak");
	return 0;
}

/* queue IO on every slot without waiting; returns the number queued */
static unsigned int queue_reads(struct io_uring *ring, unsigned char **bufs,
				unsigned int nr, unsigned int bs)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

		io_uring_prep_read_fixed(sqe, 0, bufs[i], bs,
					 (uint64_t)i * bs, i);
		sqe->flags |= IOSQE_FIXED_FILE;
		sqe->user_data = i;
	}
	return io_uring_submit(ring);
}

static void reap_verify(const char *name, struct io_uring *ring,
			unsigned char **bufs, unsigned int nr,
			unsigned int bs, const unsigned char *ref)
{
	unsigned int i, bad = 0, errs = 0;

	for (i = 0; i < nr; i++) {
		struct io_uring_cqe *cqe;

		if (io_uring_wait_cqe(ring, &cqe))
			die("io_uring_wait_cqe", errno);
		if (cqe->res != (int)bs)
			errs++;
		else if (memcmp(bufs[cqe->user_data],
				ref + cqe->user_data * bs, bs))
			bad++;
		io_uring_cqe_seen(ring, cqe);
	}
	if (errs || bad)
		fail(name, "%u IOs failed, %u returned wrong data", errs, bad);
	else
		ok(name);
}

/* register @nr buffers and @fd (file 0) on @ring and premap them all */
static void register_and_map(struct io_uring *ring, struct iovec *iov,
			     unsigned int nr, int fd)
{
	int ret;

	if (io_uring_register_buffers(ring, iov, nr) ||
	    io_uring_register_files(ring, &fd, 1))
		die("register", EINVAL);
	ret = map_bufs(ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, nr);
	if (ret)
		die("IORING_REGISTER_MAP_BUFFERS", -ret);
}

static int cmd_inflight(void)
{
	enum { NR = 32, BS = 256 * 1024 };
	unsigned char *bufs[NR], *ref;
	struct iovec iov[NR];
	struct io_uring ring;
	int fd, ret, round;
	unsigned int i;

	fd = open(dev_path, O_RDWR | O_DIRECT);
	if (fd < 0)
		die(dev_path, errno);
	ref = map_anon((size_t)NR * BS);
	fill(ref, (size_t)NR * BS, 42);
	if (pwrite(fd, ref, (size_t)NR * BS, 0) != (ssize_t)NR * BS)
		die("pwrite", errno);
	for (i = 0; i < NR; i++) {
		bufs[i] = map_anon(BS);
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = BS;
	}
	ret = io_uring_queue_init(NR, &ring, 0);
	if (ret)
		die("io_uring_queue_init", -ret);

	for (round = 0; round < 3; round++) {
		static const char *const names[] = {
			"unmap-in-flight", "unregister-buffers-in-flight",
			"unregister-files-in-flight",
		};

		register_and_map(&ring, iov, NR, fd);
		for (i = 0; i < NR; i++)
			memset(bufs[i], 0, BS);
		if (queue_reads(&ring, bufs, NR, BS) != NR)
			die("io_uring_submit", EIO);
		switch (round) {
		case 0:
			ret = map_bufs(&ring, IORING_REGISTER_UNMAP_BUFFERS, 0,
				       0, NR);
			break;
		case 1:
			ret = io_uring_unregister_buffers(&ring);
			break;
		default:
			ret = io_uring_unregister_files(&ring);
			break;
		}
		if (ret)
			fail(names[round], "returned %s", strerror(-ret));
		reap_verify(names[round], &ring, bufs, NR, BS, ref);
		io_uring_unregister_buffers(&ring);
		io_uring_unregister_files(&ring);
	}
	io_uring_queue_exit(&ring);
	close(fd);
	expect_balanced("inflight-no-leak");
	return 0;
}

/*
 * churn: IO with verification on 8 premapped buffers while another thread
 * unregisters and re-registers them, unmaps and maps them, and replaces
 * buffer slots. Slot i owns buffer i and the i-th eighth of the region: one
 * IO in flight per slot, a write of a fresh pattern then a read-back.
 *
 * -EAGAIN is an IO to do again, as for any io_uring application: on 6.1, md
 * splits a REQ_NOWAIT bio at a chunk boundary, the remainder meets the
 * barrier of a recovery and fails with BLK_STS_AGAIN, and the whole bio then
 * completes from the member's interrupt, where io_uring cannot reissue it;
 * it happens with premapping off as well (no DMA tag code returns -EAGAIN).
 * The summary counts them (eagain); a write that met it may have been done
 * in part, so the slot writes before it reads again.
 */
#define CHURN_SLOTS	8
#define CHURN_BUF	(64 * KIB)
#define CHURN_REGION	(16 * MIB)

static struct io_uring churn_ring;
static struct iovec churn_iov[CHURN_SLOTS];
static int churn_epoch;		/* odd: the buffers are unregistered */
static volatile int churn_stop;
static unsigned long churn_kind[3];
static unsigned long churn_maps;	/* map calls that succeeded */

static void *churn_thread(void *arg)
{
	uint64_t r = 0xc0ffee;
	unsigned int slot;
	int ret;

	(void)arg;
	while (!churn_stop) {
		usleep(20000 + (r % 80) * 1000);
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		switch (r % 3) {
		case 0:	/* unregister, register again, map */
			__atomic_add_fetch(&churn_epoch, 1, __ATOMIC_SEQ_CST);
			ret = io_uring_unregister_buffers(&churn_ring);
			if (!ret)
				ret = io_uring_register_buffers(&churn_ring, churn_iov,
								CHURN_SLOTS);
			__atomic_add_fetch(&churn_epoch, 1, __ATOMIC_SEQ_CST);
			if (!ret)
				ret = map_bufs(&churn_ring, IORING_REGISTER_MAP_BUFFERS, 0,
					       0, CHURN_SLOTS);
			churn_maps += !ret;
			break;
		case 1:	/* unmap, IO goes plain for a while, map again */
			ret = map_bufs(&churn_ring, IORING_REGISTER_UNMAP_BUFFERS, 0, 0,
				       CHURN_SLOTS);
			usleep(10000);
			if (!ret)
				ret = map_bufs(&churn_ring, IORING_REGISTER_MAP_BUFFERS, 0,
					       0, CHURN_SLOTS);
			churn_maps += !ret;
			break;
		default: /* a slot replaced by the same memory: a new buffer */
			slot = (unsigned int)(r >> 8) % CHURN_SLOTS;
			ret = io_uring_register_buffers_update_tag(&churn_ring, slot,
								   &churn_iov[slot],
								   NULL, 1);
			ret = ret == 1 ? 0 : ret;
		}
		/* every step succeeds on a device that premaps */
		if (ret) {
			fail("churn-register", "step %lu: %s", r % 3, strerror(-ret));
			break;
		}
		churn_kind[r % 3]++;
	}
	return NULL;
}

static int cmd_churn(unsigned int seconds, uint64_t offset)
{
	uint64_t gen[CHURN_SLOTS] = { 0 }, pos[CHURN_SLOTS], wpos[CHURN_SLOTS];
	uint64_t stripe;
	int epoch[CHURN_SLOTS], writing[CHURN_SLOTS];
	unsigned long ios = 0, verified = 0, refused = 0, wrong = 0, errors = 0;
	unsigned long eagain = 0;
	long long pm0;
	unsigned char *want = map_anon(CHURN_BUF);
	unsigned int i, len = 16 * KIB;
	struct io_uring_cqe *cqe;
	pthread_t thr;
	double end;
	int fd, ret;

	fd = open(dev_path, O_RDWR | O_DIRECT);
	if (fd < 0)
		die(dev_path, errno);
	if (offset + CHURN_REGION > dev_size(fd))
		die("churn: device smaller than offset + 16 MiB", EINVAL);
	stripe = CHURN_REGION / CHURN_SLOTS;
	for (i = 0; i < CHURN_SLOTS; i++) {
		churn_iov[i].iov_base = map_anon(CHURN_BUF);
		churn_iov[i].iov_len = CHURN_BUF;
	}
	ret = io_uring_queue_init(2 * CHURN_SLOTS, &churn_ring, 0);
	if (ret || io_uring_register_buffers(&churn_ring, churn_iov, CHURN_SLOTS) ||
	    io_uring_register_files(&churn_ring, &fd, 1))
		die("churn: ring set-up", EINVAL);
	pm0 = counter("premapped_ios");
	ret = map_bufs(&churn_ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, CHURN_SLOTS);
	if (ret)
		fail("churn-map", "the first map: %s", strerror(-ret));
	else
		ok("churn-map");
	churn_maps += !ret;
	if (pthread_create(&thr, NULL, churn_thread, NULL))
		die("pthread_create", errno);

	end = now() + seconds;
	for (i = 0; i < CHURN_SLOTS; i++)
		writing[i] = -1;	/* nothing in flight */
	for (;;) {
		for (i = 0; i < CHURN_SLOTS && now() < end; i++) {
			struct io_uring_sqe *sqe;

			if (writing[i] >= 0)
				continue;
			/* a write of a fresh pattern, or the read-back of the last */
			writing[i] = !gen[i] || (rnd() & 1);
			if (writing[i]) {
				wpos[i] = offset + i * stripe +
					  (rnd() % ((stripe - len) / 4096)) * 4096;
				fill(churn_iov[i].iov_base, len, (gen[i] + 1) * 131 + i);
			} else {
				memset(churn_iov[i].iov_base, 0, len);
			}
			sqe = io_uring_get_sqe(&churn_ring);
			if (writing[i])
				io_uring_prep_write_fixed(sqe, 0, churn_iov[i].iov_base, len,
							  wpos[i], (int)i);
			else
				io_uring_prep_read_fixed(sqe, 0, churn_iov[i].iov_base, len,
							 pos[i], (int)i);
			sqe->flags |= IOSQE_FIXED_FILE;
			sqe->user_data = i;
			epoch[i] = __atomic_load_n(&churn_epoch, __ATOMIC_SEQ_CST);
			if (io_uring_submit(&churn_ring) != 1)
				die("io_uring_submit", EIO);
		}
		for (i = 0; i < CHURN_SLOTS && writing[i] < 0; i++)
			;
		if (i == CHURN_SLOTS)
			break;
		if (io_uring_wait_cqe(&churn_ring, &cqe))
			die("io_uring_wait_cqe", errno);
		i = (unsigned int)cqe->user_data;
		ios++;
		if (cqe->res == -EFAULT &&
		    (epoch[i] != __atomic_load_n(&churn_epoch, __ATOMIC_SEQ_CST) ||
		     (epoch[i] & 1))) {
			/* the buffers were (being) unregistered meanwhile */
			refused++;	/* not written: the last write stays */
		} else if (cqe->res == -EAGAIN) {
			eagain++;
			if (writing[i])
				gen[i] = 0;	/* maybe in part: write again first */
		} else if (cqe->res != (int)len) {
			if (errors++ < 5)
				printf("churn-error: %s of %u bytes at %" PRIu64 ": res %d (%s), epoch %d -> %d\n",
				       writing[i] ? "write" : "read", len,
				       writing[i] ? wpos[i] : pos[i], cqe->res,
				       cqe->res < 0 ? strerror(-cqe->res) : "short",
				       epoch[i], __atomic_load_n(&churn_epoch, __ATOMIC_SEQ_CST));
			if (writing[i])
				gen[i] = 0;	/* unknown: write again first */
		} else if (writing[i]) {
			gen[i]++;
			pos[i] = wpos[i];
		} else {
			fill(want, len, gen[i] * 131 + i);
			if (memcmp(churn_iov[i].iov_base, want, len))
				wrong++;
			verified++;
		}
		writing[i] = -1;
		io_uring_cqe_seen(&churn_ring, cqe);
	}
	churn_stop = 1;
	pthread_join(thr, NULL);
	io_uring_queue_exit(&churn_ring);
	close(fd);
	pm0 = counter("premapped_ios") - pm0;
	printf("churn: ios=%lu verified=%lu refused_while_unregistered=%lu eagain=%lu errors=%lu mismatches=%lu register_cycles=%lu unmap_cycles=%lu slot_updates=%lu maps=%lu premapped=%lld\n",
	       ios, verified, refused, eagain, errors, wrong, churn_kind[0],
	       churn_kind[1], churn_kind[2], churn_maps, pm0);
	/* the device counts every premapped IO, the soak's fio too: churn's own
	 * share is not separable, but none at all means nothing was premapped
	 */
	if (!churn_maps || pm0 <= 0)
		fail("churn-premapped", "%lu maps succeeded, premapped_ios +%lld",
		     churn_maps, pm0);
	else
		ok("churn-premapped");
	if (errors)
		fail("churn-errors", "%lu IOs failed outside an unregistered window", errors);
	else
		ok("churn-errors");
	if (wrong)
		fail("churn-data", "%lu reads returned other data than written", wrong);
	else if (!verified)
		fail("churn-data", "nothing was verified");
	else
		ok("churn-data");
	return 0;
}

static int cmd_map(int want)
{
	struct setup s;

	setup(&s, dev_path, 64 * KIB, 8);
	expect("map", map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, 2),
	       -want);
	teardown(&s);
	return 0;
}

/* MemFree from /proc/meminfo, in KiB */
static long mem_free_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemFree: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static int cmd_mapcost(size_t buf_len)
{
	struct setup s;
	double t0, t1, t2;
	long m0, m1;
	int ret;

	setup(&s, dev_path, buf_len, 8);
	m0 = mem_free_kib();
	t0 = now();
	ret = map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, 1);
	t1 = now();
	m1 = mem_free_kib();
	if (ret) {
		fail("mapcost-map", "%s", strerror(-ret));
		teardown(&s);
		return 0;
	}
	ret = map_bufs(&s.ring, IORING_REGISTER_UNMAP_BUFFERS, 0, 0, 1);
	t2 = now();
	expect("mapcost-unmap", ret, 0);
	printf("mapcost %zu %.0f %.0f %ld\n", buf_len, (t1 - t0) * 1e6,
	       (t2 - t1) * 1e6, m0 - m1);
	teardown(&s);
	return 0;
}

static void write_proc(const char *path, unsigned long long v)
{
	FILE *f = fopen(path, "w");

	if (!f || fprintf(f, "%llu\n", v) < 0 || fclose(f))
		die(path, errno);
}

static unsigned long long read_proc(const char *path)
{
	unsigned long long v = 0;
	FILE *f = fopen(path, "r");

	if (!f || fscanf(f, "%llu", &v) != 1)
		die(path, errno ? errno : EINVAL);
	fclose(f);
	return v;
}

#define MAX_BUFS_SYSCTL "/proc/sys/kernel/io_uring_premap_max_buffers"
#define MAX_BYTES_SYSCTL "/proc/sys/kernel/io_uring_premap_max_bytes"

/* the NAPI registration of 6.9 (opcode 27 there), as liburing sends it */
struct napi_reg {
	uint32_t busy_poll_to;
	uint8_t prefer_busy_poll;
	uint8_t pad[3];
	uint64_t resv;
};

/* unregister and register the two buffers of @s again: new buffers */
static void reregister(struct setup *s)
{
	struct iovec iov[2] = { { s->buf[0], s->buf_len },
				{ s->buf[1], s->buf_len } };

	io_uring_unregister_buffers(&s->ring);
	expect("reregister", io_uring_register_buffers(&s->ring, iov, 2), 0);
}

static int cmd_bounds(void)
{
	unsigned long long max_bufs = read_proc(MAX_BUFS_SYSCTL);
	unsigned long long max_bytes = read_proc(MAX_BYTES_SYSCTL);
	struct napi_reg napi = { .busy_poll_to = 0, .resv = 1 };
	uint64_t zero[4] = { 0 };
	struct setup s, s2;
	long long m0, p0, b0, base;
	unsigned int op;

	setup(&s, dev_path, 64 * KIB, 8);
	setup(&s2, dev_path, 64 * KIB, 8);

	/* per ring: number of tags */
	write_proc(MAX_BUFS_SYSCTL, 1);
	b0 = base = counter("mapped_bytes");
	expect("ring-max-buffers",
	       map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, 2), -EDQUOT);
	/* the map undone (in the background: mapped_bytes counts it until) */
	expect("ring-max-buffers-all-or-nothing",
	       (int)(counter_settled("mapped_bytes", b0) - b0), 0);
	expect("ring-max-buffers-one-fits",
	       map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, 1), 0);
	expect("ring-max-buffers-full",
	       map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 1, 2), -EDQUOT);
	/* another ring of the same device and process has its own budget */
	expect("ring-max-buffers-other-ring",
	       map_bufs(&s2.ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, 1), 0);
	/* an unmap returns the budget */
	expect("ring-max-buffers-unmap",
	       map_bufs(&s.ring, IORING_REGISTER_UNMAP_BUFFERS, 0, 0, 1), 0);
	expect("ring-max-buffers-after-unmap",
	       map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 1, 2), 0);
	write_proc(MAX_BUFS_SYSCTL, max_bufs);
	map_bufs(&s.ring, IORING_REGISTER_UNMAP_BUFFERS, 0, 0, 2);
	map_bufs(&s2.ring, IORING_REGISTER_UNMAP_BUFFERS, 0, 0, 2);

	/* per ring: bytes */
	write_proc(MAX_BYTES_SYSCTL, 64 * KIB);
	expect("ring-max-bytes",
	       map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, 2), -EDQUOT);
	expect("ring-max-bytes-one-fits",
	       map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 1, 2), 0);
	expect("ring-max-bytes-other-ring",
	       map_bufs(&s2.ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, 1), 0);
	write_proc(MAX_BYTES_SYSCTL, max_bytes);
	map_bufs(&s2.ring, IORING_REGISTER_UNMAP_BUFFERS, 0, 0, 2);

	/*
	 * opcodes a newer liburing uses: -EINVAL, buffer 1 stays mapped
	 * (once the unmaps of s2 above have been undone, in the background)
	 */
	b0 = counter_settled("mapped_bytes", base + 64 * KIB);
	expect("opcode-26-pbuf-status", reg(&s.ring, 26, zero, 1), -EINVAL);
	expect("opcode-27-napi", reg(&s.ring, 27, &napi, 1), -EINVAL);
	expect("opcode-28-unregister-napi", reg(&s.ring, 28, &napi, 1),
	       -EINVAL);
	for (op = 29; op < IORING_REGISTER_MAP_BUFFERS; op++)
		if (reg(&s.ring, op, zero, 1) != -EINVAL)
			break;
	expect("opcodes-29-125", (int)op, IORING_REGISTER_MAP_BUFFERS);
	expect("opcode-128", reg(&s.ring, 128, zero, 1), -EINVAL);
	expect("old-opcodes-unmap-nothing",
	       (int)(counter("mapped_bytes") - b0), 0);
	p0 = counter("premapped_ios");
	expect("still-mapped-io",
	       fixed_io(&s.ring, 0, s.buf[1], 4096, 0, 1), 4096);
	expect("still-premapped", (int)(counter("premapped_ios") - p0), 1);
	map_bufs(&s.ring, IORING_REGISTER_UNMAP_BUFFERS, 0, 0, 2);
	teardown(&s2);

	/*
	 * An explicit unmap keeps auto mode off a buffer it mapped; an
	 * explicit map, or registering the buffer again, ends it. Fresh
	 * buffers first: the unmaps above opted these out already.
	 */
	if (write_sysfs("queue/dma_premap", "auto")) {
		fail("auto-mode", "cannot write queue/dma_premap");
		teardown(&s);
		return 0;
	}
	reregister(&s);
	m0 = counter("maps");
	p0 = counter("premapped_ios");
	/* never mapped: nothing to opt out of, auto mode maps it */
	expect("unmap-never-mapped",
	       map_bufs(&s.ring, IORING_REGISTER_UNMAP_BUFFERS, 0, 0, 2), 0);
	expect("auto-io", fixed_io(&s.ring, 0, s.buf[0], 4096, 0, 0), 4096);
	expect("auto-maps", (int)(counter("maps") - m0), 1);
	expect("auto-premapped", (int)(counter("premapped_ios") - p0), 1);
	expect("opt-out",
	       map_bufs(&s.ring, IORING_REGISTER_UNMAP_BUFFERS, 0, 0, 1), 0);
	expect("opt-out-io", fixed_io(&s.ring, 0, s.buf[0], 4096, 0, 0), 4096);
	expect("opt-out-io-again",
	       fixed_io(&s.ring, 0, s.buf[0], 4096, 4096, 0), 4096);
	expect("opt-out-no-map", (int)(counter("maps") - m0), 1);
	expect("opt-out-not-premapped",
	       (int)(counter("premapped_ios") - p0), 1);
	/* the other buffer still follows auto mode */
	expect("auto-other-io", fixed_io(&s.ring, 0, s.buf[1], 4096, 0, 1),
	       4096);
	expect("auto-other-maps", (int)(counter("maps") - m0), 2);
	/* an explicit map takes a buffer back */
	expect("opt-in-map",
	       map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, 1), 0);
	expect("opt-in-io", fixed_io(&s.ring, 0, s.buf[0], 4096, 0, 0), 4096);
	expect("opt-in-premapped", (int)(counter("premapped_ios") - p0), 3);
	expect("opt-out-again",
	       map_bufs(&s.ring, IORING_REGISTER_UNMAP_BUFFERS, 0, 0, 1), 0);
	/* so does registering it again */
	reregister(&s);
	m0 = counter("maps");
	expect("reregistered-io",
	       fixed_io(&s.ring, 0, s.buf[0], 4096, 0, 0), 4096);
	expect("reregistered-auto-maps", (int)(counter("maps") - m0), 1);
	write_sysfs("queue/dma_premap", "on");
	teardown(&s);
	expect_balanced("no-leak");
	return 0;
}

/* the cgroup v2 directory of this process */
static void own_cgroup(char *dir, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/self/cgroup", "r");

	if (!f || !fgets(line, sizeof(line), f) || strncmp(line, "0::", 3))
		die("/proc/self/cgroup", EINVAL);
	fclose(f);
	line[strcspn(line, "\n")] = 0;
	snprintf(dir, len, "/sys/fs/cgroup%s", line + 3);
}

static int cmd_memcg(unsigned int nr, unsigned long margin_kib,
		     const char *go)
{
	char cg[600], path[700], val[32];
	int max_fd;
	struct iovec *iov = calloc(nr, sizeof(*iov));
	unsigned char *mem = map_anon((size_t)nr * 4096);
	struct io_uring ring;
	unsigned int i, mapped = 0;
	unsigned long long cur;
	int fd, ret = 0;

	own_cgroup(cg, sizeof(cg));
	fd = open(dev_path, O_RDWR | O_DIRECT);
	if (fd < 0 || !iov)
		die(dev_path, errno);
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret)
		die("io_uring_queue_init", -ret);
	for (i = 0; i < nr; i++) {
		iov[i].iov_base = mem + (size_t)i * 4096;
		iov[i].iov_len = 4096;
	}
	ret = io_uring_register_buffers(&ring, iov, nr);
	if (ret)
		die("io_uring_register_buffers", -ret);
	ret = io_uring_register_files(&ring, &fd, 1);
	if (ret)
		die("io_uring_register_files", -ret);
	snprintf(path, sizeof(path), "%s/memory.current", cg);
	cur = read_proc(path);
	/*
	 * Nothing but the maps may allocate while the limit is low: any other
	 * charged allocation (a dentry, a page of the log file) would meet the
	 * limit without __GFP_RETRY_MAYFAIL and call the OOM killer. So the
	 * file is opened before, and the limit lifted before anything else.
	 */
	snprintf(path, sizeof(path), "%s/memory.max", cg);
	max_fd = open(path, O_WRONLY);
	if (max_fd < 0)
		die(path, errno);
	snprintf(val, sizeof(val), "%llu\n", cur + margin_kib * 1024);
	if (write(max_fd, val, strlen(val)) < 0)
		die(path, errno);
	for (i = 0; i < nr; i++) {
		ret = map_bufs(&ring, IORING_REGISTER_MAP_BUFFERS, 0, i, i + 1);
		if (ret)
			break;
		mapped++;
	}
	if (write(max_fd, "max\n", 4) < 0)
		die(path, errno);
	close(max_fd);
	printf("memcg mapped %u of %u: %s\n", mapped, nr,
	       ret ? strerror(-ret) : "all");
	if (go) {
		/* the caller maps from outside, this one holding its tags */
		printf("at-limit\n");
		while (access(go, F_OK))
			usleep(20000);
	}
	expect("memcg-enomem", ret, -ENOMEM);
	expect("memcg-some-mapped", mapped > 0 && mapped < nr, 1);
	expect("memcg-io-after", fixed_io(&ring, 0, mem, 4096, 0, 0), 4096);
	expect("memcg-map-after-limit-lifted",
	       map_bufs(&ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, nr), 0);
	io_uring_queue_exit(&ring);
	close(fd);
	/*
	 * The ring's exit retires thousands of tags from a workqueue after
	 * an RCU grace period: on the debug kernel of a slow host more than
	 * 10 s (3,140 of 4,109 unmaps seen after 10 s once). A leak never
	 * balances; a minute tells a slow retirement from it.
	 */
	expect_balanced_within("memcg-no-leak", 600);
	return 0;
}

/*
 * Move this process into a new child cgroup of the cgroup v2 root with the
 * memory controller (if there is one): what it allocates from then on is
 * charged there, and nothing else is. Returns the cgroup's memory.current
 * path in @path, or false.
 */
static bool memcg_enter(char *path, size_t len)
{
	const char *dir = "/sys/fs/cgroup/dmatag-memcost";
	char procs[128];
	FILE *f;

	if (mkdir(dir, 0755) && errno != EEXIST)
		return false;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	f = fopen(procs, "w");
	if (!f)
		return false;
	fprintf(f, "%d\n", getpid());
	if (fclose(f))
		return false;
	snprintf(path, len, "%s/memory.current", dir);
	return access(path, R_OK) == 0;
}

static void memcg_leave(void)
{
	FILE *f = fopen("/sys/fs/cgroup/cgroup.procs", "w");

	if (f) {
		fprintf(f, "%d\n", getpid());
		fclose(f);
	}
	rmdir("/sys/fs/cgroup/dmatag-memcost");
}

static int cmd_memcost(unsigned int nr, size_t buf_len)
{
	struct iovec *iov = calloc(nr, sizeof(*iov));
	unsigned char *mem = map_anon((size_t)nr * buf_len);
	unsigned long long c0 = 0, c1 = 0;
	char cur[128];
	struct io_uring ring;
	bool charged;
	unsigned int i;
	double t0, t1, mib = (double)nr * buf_len / MIB;
	long m0, m1;
	int fd, ret;

	fd = open(dev_path, O_RDWR | O_DIRECT);
	if (fd < 0 || !iov)
		die(dev_path, errno);
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret)
		die("io_uring_queue_init", -ret);
	for (i = 0; i < nr; i++) {
		iov[i].iov_base = mem + (size_t)i * buf_len;
		iov[i].iov_len = buf_len;
	}
	ret = io_uring_register_buffers(&ring, iov, nr);
	if (!ret)
		ret = io_uring_register_files(&ring, &fd, 1);
	if (ret)
		die("io_uring_register", -ret);
	charged = memcg_enter(cur, sizeof(cur));
	sleep(1);
	if (charged)
		c0 = read_proc(cur);
	m0 = mem_free_kib();
	t0 = now();
	ret = map_bufs(&ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, nr);
	t1 = now();
	/* what the map freed after a grace period (the disk's old indexes) */
	sleep(1);
	m1 = mem_free_kib();
	if (charged)
		c1 = read_proc(cur);
	expect("memcost-map", ret, 0);
	if (!ret && charged)
		printf("memcost %u %zu %.1f %.2f %.2f\n", nr, buf_len,
		       (t1 - t0) * 1e3, (double)(m0 - m1) / mib,
		       (double)(c1 - c0) / 1024 / mib);
	else if (!ret)
		printf("memcost %u %zu %.1f %.2f -\n", nr, buf_len,
		       (t1 - t0) * 1e3, (double)(m0 - m1) / mib);
	io_uring_queue_exit(&ring);
	close(fd);
	if (charged)
		memcg_leave();
	/*
	 * Unmapping 64 MiB on every member (an IOVA and a flush per page,
	 * dma-debug's checks) takes seconds on the debug kernel: a minute.
	 */
	expect_balanced_within("memcost-no-leak", 600);
	return 0;
}

static int cmd_hold(unsigned int seconds)
{
	struct setup s;
	double end;
	unsigned long n = 0;
	int ret = 0;

	setup(&s, dev_path, 64 * KIB, 8);
	ret = map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, 2);
	if (ret) {
		fail("hold-map", "%s", strerror(-ret));
		teardown(&s);
		return 0;
	}
	ok("hold-map");
	printf("holding\n");
	end = now() + seconds;
	while (now() < end) {
		ret = fixed_io(&s.ring, 0, s.buf[0], 4096,
			       (rnd() % (s.size / 4096)) * 4096, 0);
		if (ret != 4096)
			break;
		n++;
	}
	printf("hold: %lu IOs, then %d (%s)\n", n, ret,
	       ret < 0 ? strerror(-ret) : "no error");
	/* a removed disk has capacity 0: reads end (0) or fail (errno) */
	if (ret <= 0)
		ok("hold-io-ends-after-removal");
	else
		fail("hold-io-ends-after-removal", "IO returned %d", ret);
	/*
	 * del_gendisk() revokes the mappings after the queue drained, a little
	 * after the capacity dropped: new maps then fail with -ENODEV.
	 */
	end = now() + 30;
	while ((ret = map_bufs(&s.ring, IORING_REGISTER_MAP_BUFFERS, 0, 0,
			       2)) == 0 && now() < end) {
		map_bufs(&s.ring, IORING_REGISTER_UNMAP_BUFFERS, 0, 0, 2);
		usleep(100000);
	}
	expect("hold-map-after-removal", ret, -ENODEV);
	expect("hold-unmap-after-removal",
	       map_bufs(&s.ring, IORING_REGISTER_UNMAP_BUFFERS, 0, 0, 2), 0);
	expect("hold-unregister-buffers", io_uring_unregister_buffers(&s.ring),
	       0);
	expect("hold-unregister-files", io_uring_unregister_files(&s.ring), 0);
	teardown(&s);
	return 0;
}

/*
 * A regular file opened without O_DIRECT: the map succeeds, buffered fixed
 * IO stays plain (it never reaches the device on the buffer), and once
 * fcntl() sets O_DIRECT the same registered file's IO is premapped.
 */
static int cmd_buffered(void)
{
	enum { BS = 64 * KIB };
	struct io_uring ring;
	struct iovec iov;
	unsigned char *ref;
	long long pm0;
	int fd, ret, i;

	fd = open(dev_path, O_RDWR);
	if (fd < 0)
		die(dev_path, errno);
	iov.iov_base = map_anon(BS);
	iov.iov_len = BS;
	ref = map_anon(BS);
	ret = io_uring_queue_init(4, &ring, 0);
	if (ret)
		die("io_uring_queue_init", -ret);
	if (io_uring_register_buffers(&ring, &iov, 1) ||
	    io_uring_register_files(&ring, &fd, 1))
		die("register", EINVAL);
	expect("map-without-o-direct",
	       map_bufs(&ring, IORING_REGISTER_MAP_BUFFERS, 0, 0, 1), 0);
	for (i = 0; i < 2; i++) {
		const char *name = i ? "direct-after-fcntl" : "buffered";
		uint64_t off = (uint64_t)i * BS;
		char what[64];

		pm0 = counter("premapped_ios");
		memset(iov.iov_base, 0x5a + i, BS);
		memcpy(ref, iov.iov_base, BS);
		ret = fixed_io(&ring, 1, iov.iov_base, BS, off, 0);
		if (!i && ret == BS && fsync(fd))
			ret = -errno;
		memset(iov.iov_base, 0, BS);
		if (ret == BS)
			ret = fixed_io(&ring, 0, iov.iov_base, BS, off, 0);
		snprintf(what, sizeof(what), "%s-io", name);
		expect(what, ret, BS);
		snprintf(what, sizeof(what), "%s-data", name);
		if (memcmp(ref, iov.iov_base, BS))
			fail(what, "read back other data");
		else
			ok(what);
		snprintf(what, sizeof(what), "%s-premapped", name);
		if ((counter("premapped_ios") > pm0) == !!i)
			ok(what);
		else
			fail(what, "premapped_ios +%lld", counter("premapped_ios") - pm0);
		if (!i && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_DIRECT))
			die("fcntl O_DIRECT", errno);
	}
	io_uring_queue_exit(&ring);
	close(fd);
	return 0;
}

/*
 * DEV opened O_DIRECT (the descriptor), @nr anonymous buffers of @bs in
 * @iov, not registered, and @ring of @nr entries
 */
static int open_with_bufs(struct io_uring *ring, struct iovec *iov,
			  unsigned int nr, size_t bs)
{
	unsigned int i;
	int fd, ret;

	fd = open(dev_path, O_RDWR | O_DIRECT);
	if (fd < 0)
		die(dev_path, errno);
	for (i = 0; i < nr; i++) {
		iov[i].iov_base = map_anon(bs);
		iov[i].iov_len = bs;
	}
	ret = io_uring_queue_init(nr, ring, 0);
	if (ret)
		die("io_uring_queue_init", -ret);
	return fd;
}

static int cmd_held(const char *go)
{
	enum { NR = 8, BS = 64 * KIB };
	struct io_uring_cqe *cqe;
	struct iovec iov[NR];
	struct io_uring ring;
	unsigned int i;
	double t0;
	int fd, ret;

	fd = open_with_bufs(&ring, iov, NR, BS);
	register_and_map(&ring, iov, NR, fd);
	printf("mapped\n");
	while (access(go, F_OK))
		usleep(20000);
	for (i = 0; i < NR; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		io_uring_prep_read_fixed(sqe, 0, iov[i].iov_base, BS,
					 (uint64_t)i * BS, i);
		sqe->flags |= IOSQE_FIXED_FILE;
	}
	ret = io_uring_submit(&ring);
	if (ret != NR)
		die("io_uring_submit", ret < 0 ? -ret : EIO);
	/*
	 * The suspended device fails the nowait attempts; io_uring's workers
	 * issue the reads again, with the tags, and the device holds them.
	 */
	usleep(500000);
	t0 = now();
	ret = map_bufs(&ring, IORING_REGISTER_UNMAP_BUFFERS, 0, 0, NR);
	printf("unmap returned %d after %.0f ms\n", ret, (now() - t0) * 1000);
	expect("held-unmap", ret, 0);
	for (i = 0; i < NR; i++) {
		ret = io_uring_wait_cqe(&ring, &cqe);
		if (ret)
			die("io_uring_wait_cqe", -ret);
		if (cqe->res != BS)
			fail("held-reads", "a read returned %d", cqe->res);
		io_uring_cqe_seen(&ring, cqe);
	}
	ok("held-reads-done");
	io_uring_queue_exit(&ring);
	close(fd);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: dmatag-io verify DEV [--plain] [--buf-size BYTES] [--writes-plain]\n"
		"                 [--min-share PCT] [--huge]\n"
		"       dmatag-io load DEV [--plain] [--write] [--ios N] [--bs BYTES] [--qd N]\n"
		"                 [--profile FILE] [--warmup N]\n"
		"       dmatag-io errnos DEV [--unsupported DEV2] [--regular FILE]\n"
		"       dmatag-io inflight DEV\n"
		"       dmatag-io map DEV [--expect ERRNO]\n"
		"       dmatag-io mapcost DEV [--buf-size BYTES]\n"
		"       dmatag-io held DEV --go FILE\n"
		"       dmatag-io buffered FILE\n"
		"       dmatag-io hold DEV [--seconds N]\n"
		"       dmatag-io churn DEV [--seconds N] [--offset BYTES]\n");
	exit(2);
}

/* --- plain descriptors ---------------------------------------------------- */

struct plain_dev {
	const char *path;
	char sysdir[256];
	int fd;
};

static long long pcounter(struct plain_dev *d, const char *name)
{
	return dmatag_counter(d->sysdir, name);
}

static long long pcounter_settled(struct plain_dev *d, const char *name,
				  long long want)
{
	long long v;
	int i;

	for (i = 0; (v = pcounter(d, name)) != want && i < 100; i++)
		usleep(100000);
	return v;
}

static void plain_open(struct plain_dev *d)
{
	d->fd = open(d->path, O_RDWR | O_DIRECT);
	if (d->fd < 0)
		die(d->path, errno);
}

#define PLAIN_BUFS	4
#define PLAIN_BUF	(128 * KIB)

/*
 * Write a fresh pattern from each buffer with WRITE_FIXED through WFD, read
 * it back with READ_FIXED through RFD (descriptors of one device) into the
 * buffer after clearing it, and compare; then read it once more with a
 * plain pread. Every IO a full 128 KiB at its own offset. Return the fixed
 * IOs done, or -1 after a failed check NAME.
 */
static int plain_round(const char *name, struct io_uring *ring,
		       unsigned char **bufs, int wfd, int rfd,
		       unsigned char *ref, uint64_t seed)
{
	unsigned int b;
	int ret;

	for (b = 0; b < PLAIN_BUFS; b++) {
		uint64_t off = (uint64_t)b * PLAIN_BUF;

		fill(bufs[b], PLAIN_BUF, seed + b);
		memcpy(ref, bufs[b], PLAIN_BUF);
		ret = fixed_io_fd(ring, wfd, 1, bufs[b], PLAIN_BUF, off, b);
		if (ret != (int)PLAIN_BUF)
			goto io_failed;
		memset(bufs[b], 0, PLAIN_BUF);
		ret = fixed_io_fd(ring, rfd, 0, bufs[b], PLAIN_BUF, off, b);
		if (ret != (int)PLAIN_BUF)
			goto io_failed;
		if (memcmp(bufs[b], ref, PLAIN_BUF)) {
			fail(name, "buffer %u: READ_FIXED returned other data",
			     b);
			return -1;
		}
		memset(bufs[b], 0, PLAIN_BUF);
		if (pread(rfd, bufs[b], PLAIN_BUF, off) != (ssize_t)PLAIN_BUF ||
		    memcmp(bufs[b], ref, PLAIN_BUF)) {
			fail(name, "buffer %u: pread returned other data", b);
			return -1;
		}
	}
	ok(name);
	return 2 * PLAIN_BUFS;

io_failed:
	fail(name, "buffer %u: %s", b, ret < 0 ? strerror(-ret) : "short IO");
	return -1;
}

/* the check NAME: D's counter C grew by WANT since V0 */
static void expect_grew(const char *name, struct plain_dev *d, const char *c,
			long long v0, long long want)
{
	long long v = pcounter(d, c);

	if (v - v0 == want)
		ok(name);
	else
		fail(name, "%s %s +%lld, want +%lld", d->path, c, v - v0, want);
}

#define MAX_DEVICES_SYSCTL "/proc/sys/kernel/io_uring_premap_max_devices"

/*
 * plain: fixed buffers through plain descriptors in auto mode (the caller
 * switched DEV, DEV2 and DEV3 to auto). A buffer used through two
 * descriptors of DEV is mapped once; through a descriptor of DEV2 once
 * more; after every descriptor is closed a new one uses the mapping; with
 * io_uring_premap_max_devices 2, DEV3 evicts the least recently used
 * device, and that one maps again when used again. Every fixed IO is
 * premapped and every byte is compared. Unregistering the buffers unmaps
 * everything.
 */
static int cmd_plain(const char *dev2, const char *dev3)
{
	struct plain_dev d[3] = {
		{ .path = dev_path }, { .path = dev2 }, { .path = dev3 },
	};
	long long maps[3], unmaps[3], pm[3], fb[3], ev[3];
	unsigned char *bufs[PLAIN_BUFS], *ref;
	struct iovec iov[PLAIN_BUFS];
	unsigned long long max_dev;
	struct io_uring ring;
	int fd2, n[3] = { 0 }, ret, i;
	unsigned int b;

	for (i = 0; i < 3; i++) {
		if (dmatag_sysdir(d[i].path, d[i].sysdir, sizeof(d[i].sysdir)))
			die(d[i].path, ENOTBLK);
		plain_open(&d[i]);
		maps[i] = pcounter(&d[i], "maps");
		unmaps[i] = pcounter(&d[i], "unmaps");
		pm[i] = pcounter(&d[i], "premapped_ios");
		fb[i] = pcounter(&d[i], "fallback_ios");
		ev[i] = pcounter(&d[i], "evictions");
	}
	ref = map_anon(PLAIN_BUF);
	for (b = 0; b < PLAIN_BUFS; b++) {
		bufs[b] = map_anon(PLAIN_BUF);
		iov[b].iov_base = bufs[b];
		iov[b].iov_len = PLAIN_BUF;
	}
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret)
		die("io_uring_queue_init", -ret);
	ret = io_uring_register_buffers(&ring, iov, PLAIN_BUFS);
	if (ret)
		die("io_uring_register_buffers", -ret);

	/* two descriptors of DEV: one mapping per buffer */
	fd2 = open(dev_path, O_RDWR | O_DIRECT);
	if (fd2 < 0)
		die(dev_path, errno);
	n[0] += plain_round("two-descriptors-verify", &ring, bufs, d[0].fd,
			    fd2, ref, 1);
	n[0] += plain_round("two-descriptors-again", &ring, bufs, fd2,
			    d[0].fd, ref, 11);
	expect_grew("two-descriptors-one-mapping", &d[0], "maps", maps[0],
		    PLAIN_BUFS);
	/* DEV2: one mapping more per buffer, DEV's stay */
	n[1] += plain_round("second-device-verify", &ring, bufs, d[1].fd,
			    d[1].fd, ref, 21);
	expect_grew("second-device-one-mapping", &d[1], "maps", maps[1],
		    PLAIN_BUFS);
	expect_grew("second-device-keeps-first", &d[0], "unmaps", unmaps[0],
		    0);
	/* alternating between the devices maps nothing more */
	n[0] += plain_round("back-to-first-device", &ring, bufs, d[0].fd,
			    d[0].fd, ref, 31);
	n[1] += plain_round("back-to-second-device", &ring, bufs, d[1].fd,
			    d[1].fd, ref, 41);
	expect_grew("alternating-maps-nothing", &d[0], "maps", maps[0],
		    PLAIN_BUFS);
	/* every descriptor of DEV closed: a new one uses the same mapping */
	close(d[0].fd);
	close(fd2);
	plain_open(&d[0]);
	n[0] += plain_round("new-descriptor-verify", &ring, bufs, d[0].fd,
			    d[0].fd, ref, 51);
	expect_grew("new-descriptor-same-mapping", &d[0], "maps", maps[0],
		    PLAIN_BUFS);

	/* two devices per buffer: DEV3 evicts DEV2, least recently used */
	max_dev = read_proc(MAX_DEVICES_SYSCTL);
	write_proc(MAX_DEVICES_SYSCTL, 2);
	n[2] += plain_round("third-device-verify", &ring, bufs, d[2].fd,
			    d[2].fd, ref, 61);
	expect_grew("third-device-maps", &d[2], "maps", maps[2], PLAIN_BUFS);
	expect_grew("lru-device-evicted", &d[1], "evictions", ev[1],
		    PLAIN_BUFS);
	expect_grew("recent-device-kept", &d[0], "evictions", ev[0], 0);
	if (pcounter_settled(&d[1], "unmaps", unmaps[1] + PLAIN_BUFS) -
	    unmaps[1] == PLAIN_BUFS)
		ok("evicted-device-unmapped");
	else
		fail("evicted-device-unmapped", "unmaps +%lld",
		     pcounter(&d[1], "unmaps") - unmaps[1]);
	/* DEV2 again: mapped anew, evicting DEV now */
	n[1] += plain_round("evicted-device-again", &ring, bufs, d[1].fd,
			    d[1].fd, ref, 71);
	expect_grew("evicted-device-maps-again", &d[1], "maps", maps[1],
		    2 * PLAIN_BUFS);
	expect_grew("next-lru-device-evicted", &d[0], "evictions", ev[0],
		    PLAIN_BUFS);
	write_proc(MAX_DEVICES_SYSCTL, max_dev);

	/* every fixed IO was premapped, none fell back */
	for (i = 0; i < 3; i++) {
		char name[64];

		snprintf(name, sizeof(name), "dev%d-all-premapped", i + 1);
		expect_grew(name, &d[i], "premapped_ios", pm[i], n[i]);
		snprintf(name, sizeof(name), "dev%d-no-fallback", i + 1);
		expect_grew(name, &d[i], "fallback_ios", fb[i], 0);
	}
	printf("fixed_ios plain descriptors: %d %d %d\n", n[0], n[1], n[2]);

	ret = io_uring_unregister_buffers(&ring);
	expect("unregister-buffers", ret, 0);
	for (i = 0; i < 3; i++) {
		char name[64];

		snprintf(name, sizeof(name), "dev%d-unmapped", i + 1);
		if (pcounter_settled(&d[i], "mapped_bytes", 0) == 0)
			ok(name);
		else
			fail(name, "mapped_bytes %lld",
			     pcounter(&d[i], "mapped_bytes"));
		close(d[i].fd);
	}
	io_uring_queue_exit(&ring);
	return 0;
}

/*
 * closefd: premap 32 buffers through a plain descriptor (explicitly, with
 * IORING_MAP_BUFFERS_FD), queue a 64 KiB READ_FIXED per buffer through it,
 * close it while they are in flight and exit without waiting for them. The
 * caller checks that nothing stays mapped or leaks.
 */
static int cmd_closefd(void)
{
	enum { NR = 32, BS = 64 * 1024 };
	struct iovec iov[NR];
	struct io_uring ring;
	unsigned int i;
	int fd, ret;

	fd = open_with_bufs(&ring, iov, NR, BS);
	ret = io_uring_register_buffers(&ring, iov, NR);
	if (ret)
		die("io_uring_register_buffers", -ret);
	expect("closefd-map",
	       map_bufs_fd(&ring, IORING_REGISTER_MAP_BUFFERS, fd, 0, NR), 0);
	for (i = 0; i < NR; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		io_uring_prep_read_fixed(sqe, fd, iov[i].iov_base, BS,
					 (uint64_t)i * BS, i);
	}
	ret = io_uring_submit(&ring);
	if (ret != NR)
		die("io_uring_submit", ret < 0 ? -ret : EIO);
	close(fd);
	printf("closefd: %d reads in flight, descriptor closed, exiting\n",
	       NR);
	print_counters("at exit");
	/* the ring, its buffers and their mappings go with the process */
	fflush(stdout);
	_exit(failures ? 1 : 0);
}

int main(int argc, char **argv)
{
	const char *cmd, *profile = NULL, *unsupported = NULL, *regular = NULL;
	const char *go = NULL, *dev2 = NULL, *dev3 = NULL;
	size_t buf_len = 5 * MIB;
	unsigned long ios = 4096, warmup = 0;
	unsigned int bs = 4096, qd = 8, seconds = 120, want = 0, share = 100;
	unsigned int bufs = 4096;
	unsigned long margin = 1024;
	int premap = 1, write = 0, i;
	uint64_t offset = 0;

	if (argc < 3)
		usage();
	cmd = argv[1];
	dev_path = argv[2];
	for (i = 3; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--plain")) {
			premap = 0;
			continue;
		}
		if (!strcmp(a, "--writes-plain")) {
			share = 50;
			continue;
		}
		if (!strcmp(a, "--write")) {
			write = 1;
			continue;
		}
		if (!strcmp(a, "--huge")) {
			huge = 1;
			continue;
		}
		if (!v)
			usage();
		if (!strcmp(a, "--buf-size"))
			buf_len = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--ios"))
			ios = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--warmup"))
			warmup = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--bs"))
			bs = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--qd"))
			qd = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--min-share"))
			share = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--expect"))
			want = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--seconds"))
			seconds = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--offset"))
			offset = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--profile"))
			profile = v;
		else if (!strcmp(a, "--unsupported"))
			unsupported = v;
		else if (!strcmp(a, "--regular"))
			regular = v;
		else if (!strcmp(a, "--go"))
			go = v;
		else if (!strcmp(a, "--dev2"))
			dev2 = v;
		else if (!strcmp(a, "--dev3"))
			dev3 = v;
		else if (!strcmp(a, "--bufs"))
			bufs = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--margin"))
			margin = strtoul(v, NULL, 0);
		else
			usage();
		i++;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	find_sysdir(dev_path);
	print_counters("before");
	if (!strcmp(cmd, "verify"))
		cmd_verify(premap, buf_len, share);
	else if (!strcmp(cmd, "load"))
		cmd_load(premap, write, ios, bs, qd, profile, warmup);
	else if (!strcmp(cmd, "errnos"))
		cmd_errnos(unsupported, regular);
	else if (!strcmp(cmd, "inflight"))
		cmd_inflight();
	else if (!strcmp(cmd, "map"))
		cmd_map(want);
	else if (!strcmp(cmd, "mapcost"))
		cmd_mapcost(buf_len);
	else if (!strcmp(cmd, "hold"))
		cmd_hold(seconds);
	else if (!strcmp(cmd, "held") && go)
		cmd_held(go);
	else if (!strcmp(cmd, "buffered"))
		cmd_buffered();
	else if (!strcmp(cmd, "churn"))
		cmd_churn(seconds, offset);
	else if (!strcmp(cmd, "bounds"))
		cmd_bounds();
	else if (!strcmp(cmd, "memcg") && bufs)
		cmd_memcg(bufs, margin, go);
	else if (!strcmp(cmd, "memcost") && bufs)
		cmd_memcost(bufs, buf_len);
	else if (!strcmp(cmd, "plain") && dev2 && dev3)
		cmd_plain(dev2, dev3);
	else if (!strcmp(cmd, "closefd"))
		cmd_closefd();
	else
		usage();
	print_counters("after");
	printf("%s: %d failed\n", cmd, failures);
	return failures ? 1 : 0;
}
