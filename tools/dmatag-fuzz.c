// SPDX-License-Identifier: GPL-2.0
/*
 * dmatag-fuzz: random and hostile io_uring sequences against premapped
 * (DMA-tagged) registered buffers, with a fixed seed.
 *
 *   dmatag-fuzz [--seed N] [--iters N] [--no-sysfs] DEV...
 *
 * For --iters steps, pick one of: register / unregister the (sparse) buffer
 * and file tables; put a random, often hostile iovec into a buffer slot
 * (zero and huge lengths, NULL, unmapped, PROT_NONE and file-backed memory,
 * unaligned starts, ranges overlapping other slots); put a block device, a
 * regular file, a pipe, /dev/null or a closed descriptor into a file slot;
 * IORING_REGISTER_MAP_BUFFERS / UNMAP_BUFFERS with random file indices or
 * plain descriptors (IORING_MAP_BUFFERS_FD), ranges and flags; READ_FIXED /
 * WRITE_FIXED through registered files or the devices' plain descriptors
 * with random buffer indices,
 * addresses, lengths and offsets, left in flight up to a queue depth; close
 * the original descriptor of a registered device; tear the ring down with
 * IO in flight and make a new one. A second thread writes good and bad
 * strings to every DEV's queue/dma_premap and dma_tag/max_mapped_bytes
 * meanwhile (unless --no-sysfs).
 *
 * Every return value is checked against the errnos the operation documents;
 * every IO that a model of the ring says is valid must transfer all its
 * bytes; every read of sectors the fuzzer wrote must return what it wrote
 * (writes stamp each 8-byte word with a generation and its position). At the
 * end every ring is gone and every DEV's dma_tag/mapped_bytes must be back
 * to 0. The errno table (operation, errno, count) is printed.
 *
 * Output: "ok NAME" / "not ok NAME: why" lines, "errno OP NAME COUNT" lines.
 * Exit status 0 only when every check passed.
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

#include "dmatag.h"

#define NR_BUFS		8
#define NR_FILES	8
#define QD		16
#define ARENA		(16 * MIB)
#define REGION		(16 * MIB)	/* the part of each DEV the fuzzer uses */
#define SECTOR		512
#define MAX_DEVS	8
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static int failures;
static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned int below(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

/* the first 20 failures are printed, all are counted */
static void fail(const char *fmt, ...)
{
	va_list ap;

	if (++failures > 20)
		return;
	printf("not ok ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void die(const char *what, int err)
{
	fprintf(stderr, "dmatag-fuzz: %s: %s\n", what, strerror(err));
	exit(2);
}

/* --- the errno table ---------------------------------------------------- */

enum op {
	OP_REG_BUFS, OP_UNREG_BUFS, OP_UPD_BUF, OP_REG_FILES, OP_UNREG_FILES,
	OP_UPD_FILE, OP_MAP, OP_UNMAP, OP_IO, OP_SYSFS, OP_OTHER, NR_OPS,
};

static const char *const op_name[NR_OPS] = {
	"register-buffers", "unregister-buffers", "update-buffer",
	"register-files", "unregister-files", "update-file", "map-buffers",
	"unmap-buffers", "io", "sysfs-write", "other-register",
};

/* what each operation may return besides success (its documented errnos) */
static const int allowed[NR_OPS][12] = {
	[OP_REG_BUFS] = { EBUSY },
	[OP_UNREG_BUFS] = { ENXIO },
	[OP_UPD_BUF] = { EFAULT, EINVAL, EOVERFLOW, ENOMEM, EOPNOTSUPP, ENXIO },
	[OP_REG_FILES] = { EBUSY },
	[OP_UNREG_FILES] = { ENXIO },
	[OP_UPD_FILE] = { EBADF, EINVAL, ENXIO, EOVERFLOW },
	[OP_MAP] = { EINVAL, EFAULT, ENXIO, EBADF, ENOTBLK, EOPNOTSUPP, ENODEV,
		     ENOSPC, EDQUOT, ENOMEM },
	[OP_UNMAP] = { EINVAL, EFAULT, ENXIO, EBADF },
	/* opcodes stock 6.1 does not know, up to ours: what a newer liburing asks */
	[OP_OTHER] = { EINVAL },
	[OP_IO] = { EFAULT, EINVAL, EBADF, ECANCELED },
	[OP_SYSFS] = { EINVAL, ERANGE },
};

#define MAX_ERRNO 200
static unsigned long table[NR_OPS][MAX_ERRNO];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

/* record RET (0 or more: success, else -errno); false if not documented */
static int record(enum op op, int ret)
{
	int e = ret < 0 ? -ret : 0;
	unsigned int i;
	bool ok = e == 0;

	for (i = 0; !ok && i < ARRAY_SIZE(allowed[op]) && allowed[op][i]; i++)
		ok = allowed[op][i] == e;
	pthread_mutex_lock(&table_lock);
	table[op][e < MAX_ERRNO ? e : 0]++;
	pthread_mutex_unlock(&table_lock);
	return ok;
}

static void print_table(void)
{
	unsigned int op, e;

	for (op = 0; op < NR_OPS; op++)
		for (e = 0; e < MAX_ERRNO; e++)
			if (table[op][e])
				printf("errno %s %s %lu\n", op_name[op],
				       e ? strerrorname_np((int)e) : "0",
				       table[op][e]);
}

/* --- devices and other files -------------------------------------------- */

static struct dev {
	const char *path;
	char sysdir[128];
	int fd;			/* O_DIRECT; -1 while "closed" */
	uint64_t size;		/* the region used: min(REGION, device) */
	uint64_t *stamp;	/* per sector: 0 unknown, else its generation */
	unsigned char *tainted;	/* a torn-down ring's write may still land */
	int *busy;		/* per sector: writes in flight */
	long long premapped0;	/* premapped_ios at the start */
} devs[MAX_DEVS];
static unsigned int nr_devs;
static int reg_fd = -1, pipe_fd[2] = { -1, -1 }, null_fd = -1;
static char reg_path[] = "/tmp/dmatag-fuzz.XXXXXX";

static void find_sysdir(struct dev *d)
{
	if (dmatag_sysdir(d->path, d->sysdir, sizeof(d->sysdir)))
		die(d->path, ENOTBLK);
}

static long long counter(struct dev *d, const char *name)
{
	return dmatag_counter(d->sysdir, name);
}

static int write_sysfs(struct dev *d, const char *rel, const char *val)
{
	return dmatag_write_sysfs(d->sysdir, rel, val);
}

static void dev_open(struct dev *d)
{
	uint64_t size;

	d->fd = open(d->path, O_RDWR | O_DIRECT);
	if (d->fd < 0)
		die(d->path, errno);
	if (!d->stamp) {
		if (ioctl(d->fd, BLKGETSIZE64, &size))
			die("BLKGETSIZE64", errno);
		d->size = size < REGION ? size : REGION;
		d->stamp = calloc(d->size / SECTOR, sizeof(*d->stamp));
		d->busy = calloc(d->size / SECTOR, sizeof(*d->busy));
		d->tainted = calloc(d->size / SECTOR, 1);
	}
}

/* --- memory for buffers ------------------------------------------------- */

static char *arena;		/* registered buffers point into it */
/* arena pages that a torn-down ring's IO may still write: never used again */
static unsigned char quarantined[ARENA / 4096];
static char *guard;		/* PROT_NONE */
static char *filemem;		/* backed by the regular file */

/* a random iovec for a buffer slot, often hostile; *good: pinnable */
static struct iovec random_iov(bool *good)
{
	struct iovec iov;
	size_t off, len;

	*good = false;
	switch (below(12)) {
	case 0:
		iov = (struct iovec){ arena + below(64) * 4096, 0 };
		break;
	case 1:
		iov = (struct iovec){ NULL, 4096 };
		break;
	case 2:
		iov = (struct iovec){ arena, 2UL << 30 };	/* over 1 GiB */
		break;
	case 3:
		iov = (struct iovec){ guard, 8192 };
		break;
	case 4:
		iov = (struct iovec){ filemem, 8192 };
		break;
	case 5:
		iov = (struct iovec){ (void *)(uintptr_t)-4096, 8192 };
		break;
	default:	/* inside the arena: aligned or not, overlapping others */
		len = (below(4) ? 4096 * (1 + below(64)) : 1 + below(300000));
		off = below(2) ? 4096 * below((ARENA - len) / 4096)
			       : below(ARENA - len);
		iov = (struct iovec){ arena + off, len };
		*good = true;
	}
	return iov;
}

/* --- rings -------------------------------------------------------------- */

enum file_kind { F_NONE, F_DEV, F_REG, F_PIPE, F_NULL };

struct inflight {
	bool used;
	bool write;
	bool expect_ok;		/* the model says it must transfer @len */
	bool verify;
	struct dev *dev;
	char *addr;
	unsigned int len;
	uint64_t off;
	uint64_t gen;
};

static struct ring {
	struct io_uring r;
	bool bufs;			/* a buffer table is registered */
	bool files;
	struct iovec iov[NR_BUFS];	/* iov_base NULL: empty slot */
	enum file_kind kind[NR_FILES];
	struct dev *fdev[NR_FILES];
	struct inflight io[QD];
	unsigned int nr_inflight;
} R;

static unsigned long steps_done, ios_ok, ios_failed, sectors_verified,
	teardowns, closes;
static uint64_t generation;

static int reg(unsigned int op, void *arg, unsigned int nr)
{
	int ret = syscall(__NR_io_uring_register, R.r.ring_fd, op, arg, nr);

	return ret < 0 ? -errno : ret;
}

static void ring_new(void)
{
	int ret = io_uring_queue_init(QD * 2, &R.r, 0);

	if (ret)
		die("io_uring_queue_init", -ret);
	memset(R.iov, 0, sizeof(R.iov));
	memset(R.kind, 0, sizeof(R.kind));
	memset(R.io, 0, sizeof(R.io));
	R.bufs = R.files = false;
	R.nr_inflight = 0;
}

static void word_fill(char *p, struct dev *d, uint64_t off, unsigned int len,
		      uint64_t gen)
{
	uint64_t *w = (uint64_t *)p;
	unsigned int i;

	for (i = 0; i < len / 8; i++)
		w[i] = gen * 0x9e3779b97f4a7c15ULL ^ (off + 8 * i) ^
		       (uint64_t)(d - devs) << 56;
}

/* a completed IO: check its result and data, update the model */
static void complete(struct inflight *io, int res)
{
	unsigned int s, first = io->off / SECTOR, n = io->len / SECTOR;
	uint64_t want[SECTOR / 8];

	if (!record(OP_IO, res < 0 ? res : 0))
		fail("io %s len %u off %" PRIu64 ": %s", io->write ? "write" : "read",
		     io->len, io->off, strerror(-res));
	if (io->expect_ok && res != (int)io->len && res != -ECANCELED)
		fail("io %s of a valid request: %d, not %u", io->write ? "write" : "read",
		     res, io->len);
	if (res == (int)io->len)
		ios_ok++;
	else
		ios_failed++;
	if (io->dev && io->write) {
		for (s = first; s < first + n; s++) {
			io->dev->busy[s]--;
			io->dev->stamp[s] = res == (int)io->len ? io->gen : 0;
		}
	} else if (io->dev && io->verify && res == (int)io->len) {
		for (s = 0; s < n; s++) {
			uint64_t gen = io->dev->stamp[first + s];

			if (!gen || io->dev->tainted[first + s])
				continue;
			word_fill((char *)want, io->dev, (uint64_t)(first + s) * SECTOR,
				  SECTOR, gen);
			if (memcmp(io->addr + s * SECTOR, want, SECTOR))
				fail("data: %s sector %u read back other data than written",
				     io->dev->path, first + s);
			sectors_verified++;
		}
	}
	io->used = false;
	R.nr_inflight--;
}

static void reap(unsigned int want)
{
	struct io_uring_cqe *cqe;

	while (R.nr_inflight > want) {
		int ret = io_uring_wait_cqe(&R.r, &cqe);

		if (ret)
			die("io_uring_wait_cqe", -ret);
		complete(&R.io[cqe->user_data], cqe->res);
		io_uring_cqe_seen(&R.r, cqe);
	}
}

/*
 * Tear the ring down, perhaps with IO in flight: that IO completes later,
 * unseen. The sectors its writes target are never verified again, and the
 * memory its reads fill is never used again.
 */
static void ring_exit(void)
{
	unsigned int i, s;
	size_t p;

	for (i = 0; i < QD; i++) {
		struct inflight *io = &R.io[i];

		if (!io->used)
			continue;
		if (io->addr >= arena && io->addr < arena + ARENA)
			for (p = (io->addr - arena) / 4096;
			     p <= (size_t)(io->addr + io->len - 1 - arena) / 4096 && p < ARENA / 4096; p++)
				quarantined[p] = 1;
		if (!io->write || !io->dev)
			continue;
		for (s = io->off / SECTOR; s < (io->off + io->len) / SECTOR; s++) {
			io->dev->busy[s]--;
			io->dev->stamp[s] = 0;
			io->dev->tainted[s] = 1;
		}
	}
	io_uring_queue_exit(&R.r);
}

static bool in_quarantine(const char *addr, unsigned int len)
{
	size_t p;

	if (addr < arena || addr + len > arena + ARENA)
		return false;
	for (p = (size_t)(addr - arena) / 4096; p <= (size_t)(addr + len - 1 - arena) / 4096; p++)
		if (quarantined[p])
			return true;
	return false;
}

/* where the last writes went, for reads that verify them */
#define NR_RECENT 16
static struct recent {
	struct dev *dev;
	uint64_t off;
} recent[NR_RECENT];
static unsigned int next_recent;

static bool overlaps(const char *a, size_t alen, const char *b, size_t blen)
{
	return a < b + blen && b < a + alen;
}

/* a slot holding a buffer (a file of @kind), mostly; any index sometimes */
static unsigned int pick_buf(void)
{
	unsigned int i, start = below(NR_BUFS);

	for (i = 0; below(5) && i < NR_BUFS; i++)
		if (R.iov[(start + i) % NR_BUFS].iov_base)
			return (start + i) % NR_BUFS;
	return below(NR_BUFS + 1);
}

static unsigned int pick_file(void)
{
	unsigned int i, start = below(NR_FILES);

	for (i = 0; below(5) && i < NR_FILES; i++)
		if (R.kind[(start + i) % NR_FILES] == F_DEV)
			return (start + i) % NR_FILES;
	return below(NR_FILES + 1);
}

static void step_io(void)
{
	unsigned int bi = pick_buf(), fi = pick_file(), slot, i, s;
	bool write = below(2), expect_ok = true, verify = true, plain = false;
	struct io_uring_sqe *sqe;
	struct inflight *io;
	struct dev *d = NULL;
	uint64_t off;
	unsigned int len;
	char *addr;

	/* a quarter through a device's own descriptor, not a registered file */
	if (below(4) == 0) {
		d = &devs[below(nr_devs)];
		plain = d->fd >= 0;
		if (!plain)
			d = NULL;
	}

	if (R.nr_inflight == QD)
		reap(QD - 1);
	for (slot = 0; R.io[slot].used; slot++)
		;
	/* the buffer: mostly inside a registered one */
	if (bi < NR_BUFS && R.bufs && R.iov[bi].iov_base && below(8)) {
		struct iovec *v = &R.iov[bi];
		size_t room = v->iov_len;

		len = SECTOR * (1 + below(64));
		if (len > room)
			len = room & ~(SECTOR - 1);
		if (!len)
			len = SECTOR;
		addr = (char *)v->iov_base + (room > len ? below(room - len + 1) : 0);
		if (below(6))
			addr = (char *)((uintptr_t)addr & ~(uintptr_t)(SECTOR - 1));
		if (addr < (char *)v->iov_base)
			addr += SECTOR;
		expect_ok = addr + len <= (char *)v->iov_base + v->iov_len &&
			    !((uintptr_t)addr % SECTOR);
	} else {
		addr = arena + below(ARENA / 4096) * 4096;
		len = SECTOR * (1 + below(16));
		expect_ok = false;
	}
	if (!(bi < NR_BUFS && R.bufs && R.iov[bi].iov_base))
		expect_ok = false;
	if (!plain && fi < NR_FILES && R.files && R.kind[fi] == F_DEV)
		d = R.fdev[fi];
	if (d && !write && below(2) && recent[below(NR_RECENT)].dev == d) {
		/* read back something written lately */
		off = recent[below(NR_RECENT)].off;
		if (off + len > d->size)
			off = d->size - len;
	} else if (d) {
		off = SECTOR * (uint64_t)below((unsigned int)((d->size - len) / SECTOR + 1));
		if (below(4) == 0)
			off &= ~4095ULL;
	} else {
		off = below(8) * 4096;
	}
	if (below(16) == 0) {
		off += 1 + below(SECTOR - 1);	/* unaligned offset */
		expect_ok = false;
	}
	if (!plain &&
	    !(fi < NR_FILES && R.files && R.kind[fi] != F_NONE && R.kind[fi] != F_PIPE))
		expect_ok = false;
	if (!plain && fi < NR_FILES && R.files && R.kind[fi] == F_PIPE)
		return;		/* a pipe would block: it is only mapped */
	if (!plain && fi < NR_FILES && R.files && R.kind[fi] == F_NULL && !write)
		expect_ok = false;	/* reads nothing */
	if (in_quarantine(addr, len))
		return;
	if (!d || !expect_ok)
		verify = false;
	/* memory that no other IO in flight touches; else drain first */
	for (i = 0; i < QD; i++)
		if (R.io[i].used && overlaps(R.io[i].addr, R.io[i].len, addr, len)) {
			reap(0);
			break;
		}
	if (d) {
		for (s = off / SECTOR; s < (off + len + SECTOR - 1) / SECTOR &&
		     s < d->size / SECTOR; s++) {
			if (d->busy[s]) {
				verify = false;
				if (write) {
					reap(0);
					break;
				}
			}
		}
		/* a write makes reads in flight of those sectors unverifiable */
		for (i = 0; write && i < QD; i++)
			if (R.io[i].used && R.io[i].dev == d &&
			    overlaps((char *)R.io[i].off, R.io[i].len, (char *)off, len))
				R.io[i].verify = false;
	}
	io = &R.io[slot];
	*io = (struct inflight){
		.used = true, .write = write, .expect_ok = expect_ok,
		.verify = verify, .dev = expect_ok ? d : NULL, .addr = addr,
		.len = len, .off = off, .gen = ++generation,
	};
	if (write && io->dev) {
		recent[next_recent++ % NR_RECENT] = (struct recent){ d, off };
		word_fill(addr, d, off, len, io->gen);
		for (s = off / SECTOR; s < (off + len) / SECTOR; s++) {
			d->busy[s]++;
			d->stamp[s] = 0;
		}
	} else if (write && d && off % SECTOR == 0) {
		/* a write the model says fails may still land: forget it */
		for (s = off / SECTOR; s < (off + len) / SECTOR && s < d->size / SECTOR; s++)
			d->stamp[s] = 0;
	}
	sqe = io_uring_get_sqe(&R.r);
	if (plain)
		fi = (unsigned int)d->fd;
	if (write)
		io_uring_prep_write_fixed(sqe, (int)fi, addr, len, off, (int)bi);
	else
		io_uring_prep_read_fixed(sqe, (int)fi, addr, len, off, (int)bi);
	if (!plain)
		sqe->flags |= IOSQE_FIXED_FILE;
	sqe->user_data = slot;
	R.nr_inflight++;
	if (io_uring_submit(&R.r) != 1)
		die("io_uring_submit", EIO);
	if (below(3) == 0)
		reap(0);
}

static void update_buf(unsigned int slot, struct iovec iov, bool good);

static void step_update_buf(void)
{
	bool good;
	struct iovec iov = random_iov(&good);

	if (below(8) == 0)
		iov = (struct iovec){ NULL, 0 };	/* empty the slot */
	update_buf(below(NR_BUFS + 2), iov, good);
}

/* a good buffer: page-aligned, 4 KiB .. 256 KiB, inside the arena */
static struct iovec good_iov(void)
{
	size_t len = 4096 * (1 + below(64));

	return (struct iovec){ arena + 4096 * below((ARENA - len) / 4096), len };
}

static void update_buf(unsigned int slot, struct iovec iov, bool good)
{
	int ret;

	ret = io_uring_register_buffers_update_tag(&R.r, slot, &iov, NULL, 1);
	if (!record(OP_UPD_BUF, ret))
		fail("update-buffer slot %u %p+%zu: %s", slot, iov.iov_base,
		     iov.iov_len, strerror(-ret));
	if (ret == 1 && slot < NR_BUFS)
		R.iov[slot] = iov;
	else if (ret == 1)
		fail("update-buffer of slot %u past the table succeeded", slot);
	if (ret < 0 && R.bufs && slot < NR_BUFS && good && ret != -ENOMEM)
		fail("update-buffer of good memory: %s", strerror(-ret));
}

static void update_file(unsigned int slot, unsigned int k);

static void step_update_file(void)
{
	update_file(below(NR_FILES + 2), below(6));
}

/* put into @slot: 0 the regular file, 1 a pipe, 2 /dev/null, 3 nothing or a
 * closed descriptor, else a DEV
 */
static void update_file(unsigned int slot, unsigned int k)
{
	struct dev *d = &devs[below(nr_devs)];
	int fd, ret;
	enum file_kind kind;

	switch (k) {
	case 0:
		fd = reg_fd;
		kind = F_REG;
		break;
	case 1:
		fd = pipe_fd[1];
		kind = F_PIPE;
		break;
	case 2:
		fd = null_fd;
		kind = F_NULL;
		break;
	case 3:
		fd = below(2) ? -1 : 1000;	/* empty the slot / closed fd */
		kind = F_NONE;
		break;
	default:
		fd = d->fd;
		kind = fd < 0 ? F_NONE : F_DEV;
	}
	ret = io_uring_register_files_update(&R.r, slot, &fd, 1);
	if (!record(OP_UPD_FILE, ret))
		fail("update-file slot %u fd %d: %s", slot, fd, strerror(-ret));
	if (ret == 1 && slot < NR_FILES) {
		R.kind[slot] = fd < 0 ? F_NONE : kind;
		R.fdev[slot] = d;
	} else if (ret == -EBADF && slot < NR_FILES) {
		/* 6.1 drops the slot's old file before it looks the new fd up */
		R.kind[slot] = F_NONE;
	}
}

static void step_map(bool unmap)
{
	struct io_uring_map_buffers mb = {
		.file_index = below(4) ? pick_file() : below(NR_FILES + 2) - 1,
		.buf_start = below(NR_BUFS),
	};
	enum op op = unmap ? OP_UNMAP : OP_MAP;
	int ret;

	mb.buf_end = below(4) ? mb.buf_start + 1 + below(NR_BUFS - mb.buf_start)
			      : below(NR_BUFS + 2);
	if (below(32) == 0)
		mb.buf_end = 0xffffffffu;
	if (below(32) == 0)
		mb.flags = 1u << below(32);
	/* a plain descriptor: a device's (open or not), a pipe, /dev/null */
	if (below(6) == 0) {
		int fds[] = { devs[below(nr_devs)].fd, pipe_fd[0], null_fd,
			      reg_fd };

		mb.flags |= IORING_MAP_BUFFERS_FD;
		mb.file_index = (uint32_t)(below(4) ? fds[0] : fds[below(4)]);
	}
	if (below(32) == 0)
		mb.resv[below(2)] = rnd();
	ret = reg(unmap ? IORING_REGISTER_UNMAP_BUFFERS : IORING_REGISTER_MAP_BUFFERS,
		  &mb, 1);
	if (!record(op, ret))
		fail("%s file %d [%u, %u) flags %#x: %s", op_name[op],
		     (int)mb.file_index,
		     mb.buf_start, mb.buf_end, mb.flags, strerror(-ret));
}

/*
 * A register opcode between stock 6.1's last (25) and ours (126), with
 * whatever argument: upstream's later ones (26 IORING_REGISTER_PBUF_STATUS,
 * 27 IORING_REGISTER_NAPI, ...) as a newer liburing sends them. All -EINVAL,
 * and nothing may change: no buffer unmapped (the counters and the no-leak
 * check at the end tell).
 */
static void step_other(void)
{
	uint64_t arg[4] = { rnd(), rnd(), rnd(), rnd() };
	unsigned int opcode = 26 + below(126 - 26);
	int ret;

	if (below(2))
		memset(arg, 0, sizeof(arg));
	if (below(2))
		arg[below(4)] = 1;
	ret = reg(opcode, below(4) ? (void *)arg : NULL, below(3));
	if (!record(OP_OTHER, ret) || ret >= 0)
		fail("register opcode %u: %d", opcode, ret);
}

/* a sparse table, then most slots filled the way an application would */
static void register_buffers(void)
{
	unsigned int i;
	int ret = io_uring_register_buffers_sparse(&R.r, NR_BUFS);

	if (!record(OP_REG_BUFS, ret))
		fail("register-buffers: %s", strerror(-ret));
	if (ret)
		return;
	R.bufs = true;
	memset(R.iov, 0, sizeof(R.iov));
	for (i = 0; i < NR_BUFS; i++)
		if (below(4))
			update_buf(i, good_iov(), true);
}

static void register_files(void)
{
	unsigned int i;
	int ret = io_uring_register_files_sparse(&R.r, NR_FILES);

	if (!record(OP_REG_FILES, ret))
		fail("register-files: %s", strerror(-ret));
	if (ret)
		return;
	R.files = true;
	memset(R.kind, 0, sizeof(R.kind));
	for (i = 0; i < NR_FILES; i++)
		if (below(4))
			update_file(i, below(4) ? 5 : below(5));
}

static void step(void)
{
	struct dev *d;
	int ret;
	unsigned int k = below(100);

	if (k < 50) {
		step_io();
	} else if (k < 62) {
		step_map(false);
	} else if (k < 65) {
		step_map(true);
	} else if (k < 66) {
		step_other();
	} else if (k < 74) {
		step_update_buf();
	} else if (k < 82) {
		step_update_file();
	} else if (k < 84) {
		register_buffers();
	} else if (k < 85 && below(2)) {
		ret = io_uring_unregister_buffers(&R.r);
		if (!record(OP_UNREG_BUFS, ret))
			fail("unregister-buffers: %s", strerror(-ret));
		if (!ret)
			R.bufs = false;
	} else if (k < 87) {
		register_files();
	} else if (k < 88 && below(2)) {
		ret = io_uring_unregister_files(&R.r);
		if (!record(OP_UNREG_FILES, ret))
			fail("unregister-files: %s", strerror(-ret));
		if (!ret)
			R.files = false;
	} else if (k < 90) {
		/* the original descriptor goes; the registered file stays */
		d = &devs[below(nr_devs)];
		if (d->fd >= 0) {
			close(d->fd);
			d->fd = -1;
			closes++;
		} else {
			dev_open(d);
		}
	} else if (k < 91 || (k < 92 && below(2))) {
		ring_exit();		/* with whatever is in flight */
		ring_new();
		teardowns++;
		register_buffers();
		register_files();
	} else {
		reap(0);
	}
}

/* --- the sysfs knobs, from another thread -------------------------------- */

static volatile int stop_sysfs;
static unsigned long sysfs_writes;

static void *sysfs_thread(void *arg)
{
	static const char *const modes[] = { "on", "auto\n", "off", "auto", "auto" };
	static const char *const bad_modes[] = { "x", "of", "autox", "on off", "\n\n" };
	static const char *const bounds[] = { "4096", "0x1000000", "4294967296\n",
					      "4294967296" };
	static const char *const bad_bounds[] = { "-1", "abc", "0x", "1 2",
						  "99999999999999999999999" };
	uint64_t r = 0x5157f5;

	(void)arg;
	while (!stop_sysfs) {
		struct dev *d;
		const char *v;
		bool good = (r >> 3) & 1;
		int ret;

		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		d = &devs[r % nr_devs];
		if ((r >> 8) & 1) {
			v = good ? modes[(r >> 16) % 5] : bad_modes[(r >> 16) % 5];
			ret = write_sysfs(d, "queue/dma_premap", v);
		} else {
			v = good ? bounds[(r >> 16) % 4] : bad_bounds[(r >> 16) % 5];
			ret = write_sysfs(d, "dma_tag/max_mapped_bytes", v);
		}
		if (!record(OP_SYSFS, ret) || (good && ret) || (!good && !ret))
			fail("sysfs %s \"%s\": %s", d->path, v, strerror(-ret));
		sysfs_writes++;
		usleep(20000);
	}
	return NULL;
}

static void prepare_files(void)
{
	int fd = mkstemp(reg_path);

	if (fd < 0 || ftruncate(fd, MIB))
		die(reg_path, errno);
	reg_fd = fd;
	if (pipe(pipe_fd))
		die("pipe", errno);
	null_fd = open("/dev/null", O_RDWR);
	arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	guard = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	filemem = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, reg_fd, 0);
	if (arena == MAP_FAILED || guard == MAP_FAILED || filemem == MAP_FAILED)
		die("mmap", errno);
}

int main(int argc, char **argv)
{
	uint64_t seed = 0x5eedf00d;
	unsigned long iters = 2000, i;
	bool sysfs = true;
	pthread_t thr;
	const char *name;
	long long premapped = 0;
	unsigned int k;
	int waited;

	for (k = 1; k < (unsigned int)argc; k++) {
		if (!strcmp(argv[k], "--seed") && k + 1 < (unsigned int)argc)
			seed = strtoull(argv[++k], NULL, 0);
		else if (!strcmp(argv[k], "--iters") && k + 1 < (unsigned int)argc)
			iters = strtoul(argv[++k], NULL, 0);
		else if (!strcmp(argv[k], "--no-sysfs"))
			sysfs = false;
		else if (argv[k][0] != '-' && nr_devs < MAX_DEVS)
			devs[nr_devs++].path = argv[k];
		else
			die(argv[k], EINVAL);
	}
	if (!nr_devs)
		die("usage: dmatag-fuzz [--seed N] [--iters N] [--no-sysfs] DEV...", EINVAL);
	rng = seed ? seed : 1;
	printf("# dmatag-fuzz seed %#" PRIx64 ", %lu steps, %u devices\n", seed,
	       iters, nr_devs);
	prepare_files();
	for (k = 0; k < nr_devs; k++) {
		find_sysdir(&devs[k]);
		dev_open(&devs[k]);
		if (write_sysfs(&devs[k], "queue/dma_premap", "auto") && sysfs)
			die("queue/dma_premap", EIO);
		devs[k].premapped0 = counter(&devs[k], "premapped_ios");
	}
	ring_new();
	register_buffers();
	register_files();
	if (sysfs && pthread_create(&thr, NULL, sysfs_thread, NULL))
		die("pthread_create", errno);
	for (i = 0; i < iters; i++) {
		step();
		steps_done++;
	}
	reap(0);
	if (sysfs) {
		stop_sysfs = 1;
		pthread_join(thr, NULL);
	}
	ring_exit();
	/* the last ring's buffers are unmapped by its (asynchronous) exit */
	for (k = 0; k < nr_devs; k++) {
		struct dev *d = &devs[k];

		write_sysfs(d, "dma_tag/max_mapped_bytes", "4294967296");
		write_sysfs(d, "queue/dma_premap", "on");
		for (waited = 0; counter(d, "mapped_bytes") && waited < 200; waited++)
			usleep(50000);
		name = strrchr(d->path, '/') ? strrchr(d->path, '/') + 1 : d->path;
		if (counter(d, "mapped_bytes"))
			fail("mapped-bytes-zero-%s: %lld bytes still mapped", name,
			     counter(d, "mapped_bytes"));
		else
			printf("ok mapped-bytes-zero-%s\n", name);
		printf("counters %s: premapped_ios=%lld fallback_ios=%lld maps=%lld unmaps=%lld\n",
		       d->path, counter(d, "premapped_ios"), counter(d, "fallback_ios"),
		       counter(d, "maps"), counter(d, "unmaps"));
		if (d->premapped0 >= 0 && counter(d, "premapped_ios") > d->premapped0)
			premapped += counter(d, "premapped_ios") - d->premapped0;
		if (d->fd >= 0)
			close(d->fd);
	}
	unlink(reg_path);
	print_table();
	printf("# %lu steps: %lu IOs completed in full, %lu failed or short, %lu sectors verified, %lu ring teardowns, %lu descriptor closes, %lu sysfs writes\n",
	       steps_done, ios_ok, ios_failed, sectors_verified, teardowns, closes,
	       sysfs_writes);
	/* a run in which nothing was premapped or verified tested nothing */
	if (!table[OP_MAP][0] || premapped <= 0)
		fail("premapped: %lu maps succeeded, %lld IOs premapped",
		     table[OP_MAP][0], premapped);
	else
		printf("ok premapped %lu maps succeeded, %lld IOs premapped\n",
		       table[OP_MAP][0], premapped);
	if (!sectors_verified || !ios_ok)
		fail("verified: %lu IOs completed, %lu sectors verified", ios_ok,
		     sectors_verified);
	else
		printf("ok verified %lu sectors\n", sectors_verified);
	if (!failures)
		printf("ok fuzz %lu steps, every errno documented, every byte as written\n",
		       steps_done);
	else
		printf("# %d failures\n", failures);
	return failures ? 1 : 0;
}
