// SPDX-License-Identifier: GPL-2.0
/*
 * dmatag-fsrace: premapped direct IO on a file racing the operations that
 * move or free its blocks (the review's "stale data" question).
 *
 *   dmatag-fsrace FILE [--plain] [--seconds N] [--ops LIST]
 *
 * The race runs N seconds (default 15), and on, up to 4 N, until it has
 * made at least 100 strict and 10 loose reads (see below).
 * FILE (created, 8 MiB) lives on ext4 or XFS. One thread keeps 8 random
 * READ_FIXED and WRITE_FIXED IOs of 4 KiB .. 64 KiB in flight on premapped
 * registered buffers (plain with --plain, the reference); another thread
 * loops over the operations of LIST (default trunc,punch,collapse,insert):
 *   trunc     ftruncate to a random smaller size, then back to 8 MiB
 *   punch     fallocate(FALLOC_FL_PUNCH_HOLE)
 *   collapse  fallocate(FALLOC_FL_COLLAPSE_RANGE), then back to 8 MiB
 *   insert    fallocate(FALLOC_FL_INSERT_RANGE), then back to 8 MiB
 *   clone     FICLONERANGE from a donor file (XFS with reflink)
 *   swap      XFS_IOC_SWAPEXT with a donor file of the same size (XFS);
 *             writes pause for it, reads go on; -EINVAL (extent lists
 *             that do not fit each other's inode fork) is counted apart
 * Every 4 KiB block written carries a unique seed and a pattern derived
 * from it. A model of the file (the seed of each block, 0 for zeroes) is
 * moved by each operation the way the operation moves the data. A read that
 * overlapped no operation must return exactly what the model says
 * ("strict"); a read that overlapped one, or a block that a write in flight
 * across an operation may have reached before or after it, must return
 * some block that was written whole, or zeroes ("loose"): old or new data.
 * Nothing else may come back: no poison left in the buffer, no torn block,
 * no stranger's data. After the race every block is read strictly, then
 * the whole file is written and read back.
 *
 * dmatag-fsrace --selftest feeds the block checks what they must reject
 * (poison, a torn block, another block, zeroes for data, a flipped bit).
 *
 * Prints "ok NAME" / "not ok NAME: why" lines (for tests/guest/lib.sh
 * tool_cases) and a summary line "fsrace ...". Exit 0 when all are ok.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <xfs/xfs.h>

#define DMATAG_VERDICTS
#include "dmatag.h"

#define BLK		4096U
#define FILE_SIZE	(8 * MIB)
#define NR_BLKS		(FILE_SIZE / BLK)
#define MAX_BLKS	16U		/* per IO: 64 KiB */
#define QD		8U
#define MAGIC		0x646d617461677a31ULL	/* "dmatagz1" */
#define POISON		0xa5

enum { OP_TRUNC, OP_PUNCH, OP_COLLAPSE, OP_INSERT, OP_CLONE, OP_SWAP, NR_OPS };
static const char *const op_names[NR_OPS] = {
	"trunc", "punch", "collapse", "insert", "clone", "swap",
};

/* the model of one file: seed per block (0: zeroes), and loose blocks */
struct model {
	uint64_t seed[NR_BLKS];
	unsigned char loose[NR_BLKS];
};

static struct model file_m, clone_m, swap_m;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long epoch;	/* operations begun so far */
static int in_op;		/* an operation is running */
static int pause_writes;	/* swap: no new writes */
static unsigned int writes_in_flight;
/* writes that completed during the running operation */
#define MAX_TOUCHED	256
static struct { unsigned int blk, nr; } touched[MAX_TOUCHED];
static unsigned int nr_touched;
static int touched_overflow;
static volatile int stop;
static uint64_t next_seed = 1;
static unsigned long nr_ops[NR_OPS], nr_unsupported[NR_OPS], nr_op_errors;
static unsigned long nr_swap_refused;
static int op_enabled[NR_OPS];

struct io {
	int write;
	unsigned int blk, nr;
	unsigned long epoch;	/* at submission */
	int overlapped;		/* an operation ran during the IO */
	uint64_t seed[MAX_BLKS];
	unsigned char *buf;
};

static struct io ios[QD];
static int fd, clone_fd = -1, swap_fd = -1;
static unsigned long reads, strict_reads, loose_reads, writes, io_errors;

/* the race was exercised: enough reads of both kinds to mean something */
static bool raced_enough(void)
{
	return strict_reads >= 100 && loose_reads >= 10;
}
static unsigned long bad_blocks, short_reads;


static uint64_t rnd_state = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* the content of a block written with @seed */
static void fill_block(unsigned char *p, uint64_t seed)
{
	uint64_t *w = (uint64_t *)p, x = seed * 0x9e3779b97f4a7c15ULL | 1;
	unsigned int i;

	w[0] = MAGIC;
	w[1] = seed;
	for (i = 2; i < BLK / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w[i] = x;
	}
}

static int is_zero(const unsigned char *p)
{
	unsigned int i;

	for (i = 0; i < BLK; i++)
		if (p[i])
			return 0;
	return 1;
}

/* a block written whole with its header's seed */
static int is_written(const unsigned char *p, uint64_t want)
{
	static __thread unsigned char ref[BLK];
	const uint64_t *w = (const uint64_t *)p;

	if (w[0] != MAGIC || !w[1] || (want && w[1] != want))
		return 0;
	fill_block(ref, w[1]);
	return !memcmp(ref, p, BLK);
}

/* check block @blk as read into @p: strictly against @m, or loosely */
static int block_ok(const struct model *m, unsigned int blk,
		    const unsigned char *p, int strict)
{
	if (strict && !m->loose[blk])
		return m->seed[blk] ? is_written(p, m->seed[blk]) : is_zero(p);
	return is_zero(p) || is_written(p, 0);
}

static void mark_loose(const struct io *io)
{
	unsigned int i;

	for (i = 0; i < io->nr; i++)
		file_m.loose[io->blk + i] = 1;
}

/* --- the IO thread --------------------------------------------------------- */

static int busy(unsigned int blk, unsigned int nr)
{
	unsigned int s, i;

	for (s = 0; s < QD; s++) {
		if (!ios[s].nr)
			continue;
		for (i = 0; i < nr; i++)
			if (blk + i >= ios[s].blk && blk + i < ios[s].blk + ios[s].nr)
				return 1;
	}
	return 0;
}

static void prep(struct io_uring *ring, unsigned int slot, int want_write)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io *io = &ios[slot];
	unsigned int i, nr, blk;

	do {
		nr = 1 + rnd() % MAX_BLKS;
		blk = rnd() % (NR_BLKS - nr + 1);
	} while (busy(blk, nr));
	io->blk = blk;
	io->nr = nr;
	pthread_mutex_lock(&lock);
	io->write = want_write && !pause_writes;
	io->epoch = epoch;
	io->overlapped = in_op;
	if (io->write) {
		for (i = 0; i < nr; i++)
			io->seed[i] = next_seed++;
		writes_in_flight++;
	}
	pthread_mutex_unlock(&lock);
	if (io->write)
		for (i = 0; i < nr; i++)
			fill_block(io->buf + i * BLK, io->seed[i]);
	else
		memset(io->buf, POISON, nr * BLK);
	if (io->write)
		io_uring_prep_write_fixed(sqe, 0, io->buf, nr * BLK,
					  (uint64_t)blk * BLK, slot);
	else
		io_uring_prep_read_fixed(sqe, 0, io->buf, nr * BLK,
					 (uint64_t)blk * BLK, slot);
	sqe->flags |= IOSQE_FIXED_FILE;
	sqe->user_data = slot;
}

static void complete(unsigned int slot, int res)
{
	struct io *io = &ios[slot];
	unsigned int i, got;
	int strict;

	pthread_mutex_lock(&lock);
	io->overlapped |= io->epoch != epoch || in_op;
	strict = !io->overlapped;
	if (io->write) {
		writes++;
		writes_in_flight--;
		if (res != (int)(io->nr * BLK)) {
			io_errors++;
			fprintf(stderr, "write %u+%u: %d\n", io->blk, io->nr, res);
			mark_loose(io);
		} else if (strict) {
			for (i = 0; i < io->nr; i++) {
				file_m.seed[io->blk + i] = io->seed[i];
				file_m.loose[io->blk + i] = 0;
			}
		} else {
			/* landed before or after the operation: both loose */
			mark_loose(io);
			if (in_op && nr_touched < MAX_TOUCHED) {
				touched[nr_touched].blk = io->blk;
				touched[nr_touched++].nr = io->nr;
			} else if (in_op) {
				touched_overflow = 1;
			}
		}
	} else {
		reads++;
		if (res < 0) {
			io_errors++;
			fprintf(stderr, "read %u+%u: %d\n", io->blk, io->nr, res);
		} else {
			got = res / BLK;
			if (strict && got < io->nr)
				short_reads++;
			strict ? strict_reads++ : loose_reads++;
			for (i = 0; i < got; i++) {
				if (block_ok(&file_m, io->blk + i,
					     io->buf + i * BLK, strict))
					continue;
				bad_blocks++;
				fprintf(stderr, "%s read: block %u: seed %" PRIu64
					" loose %d, got %016" PRIx64 " %016" PRIx64 "\n",
					strict ? "strict" : "loose", io->blk + i,
					file_m.seed[io->blk + i],
					file_m.loose[io->blk + i],
					((uint64_t *)(io->buf + i * BLK))[0],
					((uint64_t *)(io->buf + i * BLK))[1]);
			}
		}
	}
	io->nr = 0;
	pthread_mutex_unlock(&lock);
}

/* --- the operations -------------------------------------------------------- */

/* every IO in flight now overlaps the operation that begins */
static void op_begin(void)
{
	unsigned int s;

	pthread_mutex_lock(&lock);
	epoch++;
	in_op = 1;
	nr_touched = 0;
	touched_overflow = 0;
	for (s = 0; s < QD; s++)
		if (ios[s].nr && ios[s].write)
			mark_loose(&ios[s]);	/* landed before: moved */
	pthread_mutex_unlock(&lock);
}

/*
 * The model moved: the writes in flight, and those that completed while the
 * operation ran (before or after the model moved), may be in place
 */
static void op_end(void)
{
	unsigned int s;

	pthread_mutex_lock(&lock);
	for (s = 0; s < QD; s++)
		if (ios[s].nr && ios[s].write)
			mark_loose(&ios[s]);
	for (s = 0; s < nr_touched; s++)
		memset(&file_m.loose[touched[s].blk], 1, touched[s].nr);
	if (touched_overflow)
		memset(file_m.loose, 1, NR_BLKS);
	in_op = 0;
	epoch++;
	pthread_mutex_unlock(&lock);
}

/* the model changes under the lock, after the operation returned */
static void model_zero(struct model *m, unsigned int from, unsigned int nr)
{
	memset(&m->seed[from], 0, nr * sizeof(m->seed[0]));
	memset(&m->loose[from], 0, nr);
}

static void model_move(struct model *m, unsigned int to, unsigned int from,
		       unsigned int nr)
{
	memmove(&m->seed[to], &m->seed[from], nr * sizeof(m->seed[0]));
	memmove(&m->loose[to], &m->loose[from], nr);
}

static void locked_zero(unsigned int from, unsigned int nr)
{
	pthread_mutex_lock(&lock);
	model_zero(&file_m, from, nr);
	pthread_mutex_unlock(&lock);
}

static int do_swap(void)
{
	struct xfs_swapext sx = { 0 };
	struct xfs_fsop_bulkreq req = { 0 };
	struct stat st;
	struct model tmp;
	__u64 ino;
	__s32 count = 0;
	int tries, ret = -1;

	pthread_mutex_lock(&lock);
	pause_writes = 1;
	pthread_mutex_unlock(&lock);
	for (;;) {		/* the writes in flight finish */
		pthread_mutex_lock(&lock);
		ret = writes_in_flight;
		if (stop)	/* nobody reaps them any more */
			pause_writes = 0;
		pthread_mutex_unlock(&lock);
		if (!ret)
			break;
		if (stop)
			return 1;
		usleep(1000);
	}
	if (fstat(fd, &st))
		die("fstat", errno);
	for (tries = 0; tries < 20; tries++) {
		ino = st.st_ino;
		req.lastip = &ino;
		req.icount = 1;
		req.ubuffer = &sx.sx_stat;
		req.ocount = &count;
		if (ioctl(fd, XFS_IOC_FSBULKSTAT_SINGLE, &req))
			die("XFS_IOC_FSBULKSTAT_SINGLE", errno);
		sx.sx_version = XFS_SX_VERSION;
		sx.sx_fdtarget = fd;
		sx.sx_fdtmp = swap_fd;
		sx.sx_offset = 0;
		sx.sx_length = FILE_SIZE;
		op_begin();
		ret = ioctl(fd, XFS_IOC_SWAPEXT, &sx) ? -errno : 0;
		if (!ret) {
			pthread_mutex_lock(&lock);
			tmp = file_m;
			file_m = swap_m;
			swap_m = tmp;
			pthread_mutex_unlock(&lock);
		}
		op_end();
		if (ret != -EBUSY)
			break;
	}
	pthread_mutex_lock(&lock);
	pause_writes = 0;
	pthread_mutex_unlock(&lock);
	return ret;
}

/*
 * One operation @op on random blocks: 0, -errno from the file system, or 1
 * when a swap could not start before the end of the run
 */
static int do_op(int op)
{
	unsigned int nr = 1 + rnd() % 64, blk = rnd() % (NR_BLKS - nr - 1);
	off_t off = (off_t)blk * BLK, len = (off_t)nr * BLK;
	struct file_clone_range fcr;
	int ret = 0;

	if (op == OP_SWAP)
		return do_swap();
	op_begin();
	switch (op) {
	case OP_TRUNC:
		if (ftruncate(fd, off + BLK) || ftruncate(fd, FILE_SIZE))
			ret = -errno;
		else
			locked_zero(blk + 1, NR_BLKS - blk - 1);
		break;
	case OP_PUNCH:
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      off, len))
			ret = -errno;
		else
			locked_zero(blk, nr);
		break;
	case OP_COLLAPSE:
		if (fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, off, len)) {
			ret = -errno;
			break;
		}
		pthread_mutex_lock(&lock);
		model_move(&file_m, blk, blk + nr, NR_BLKS - blk - nr);
		model_zero(&file_m, NR_BLKS - nr, nr);
		pthread_mutex_unlock(&lock);
		if (ftruncate(fd, FILE_SIZE))
			ret = -errno;
		break;
	case OP_INSERT:
		if (fallocate(fd, FALLOC_FL_INSERT_RANGE, off, len)) {
			ret = -errno;
			break;
		}
		pthread_mutex_lock(&lock);
		model_move(&file_m, blk + nr, blk, NR_BLKS - blk - nr);
		model_zero(&file_m, blk, nr);
		pthread_mutex_unlock(&lock);
		if (ftruncate(fd, FILE_SIZE))
			ret = -errno;
		break;
	case OP_CLONE:
		fcr.src_fd = clone_fd;
		fcr.src_offset = (uint64_t)(rnd() % (NR_BLKS - nr)) * BLK;
		fcr.src_length = len;
		fcr.dest_offset = off;
		if (ioctl(fd, FICLONERANGE, &fcr)) {
			ret = -errno;
			break;
		}
		pthread_mutex_lock(&lock);
		memcpy(&file_m.seed[blk], &clone_m.seed[fcr.src_offset / BLK],
		       nr * sizeof(file_m.seed[0]));
		memset(&file_m.loose[blk], 0, nr);
		pthread_mutex_unlock(&lock);
		break;
	}
	op_end();
	return ret;
}

static void *mutator(void *arg)
{
	unsigned int enabled[NR_OPS], n = 0, i;
	int ret;

	(void)arg;
	for (i = 0; i < NR_OPS; i++)
		if (op_enabled[i])
			enabled[n++] = i;
	while (!stop && n) {
		i = enabled[rnd() % n];
		ret = do_op(i);
		if (ret > 0)		/* not started: the run is over */
			break;
		if (!ret) {
			nr_ops[i]++;
		} else if (ret == -EOPNOTSUPP) {
			nr_unsupported[i]++;
		} else if (i == OP_SWAP && ret == -EINVAL) {
			/* the two extent lists do not fit each other's fork */
			nr_swap_refused++;
		} else {
			nr_op_errors++;
			fprintf(stderr, "%s: %s\n", op_names[i], strerror(-ret));
		}
		usleep(rnd() % 20000);
	}
	return NULL;
}

/* --- set-up and the quiescent checks --------------------------------------- */

/* write @m's blocks (fresh seeds) to @f with plain direct IO */
static void fill_file(int f, struct model *m)
{
	unsigned char *buf;
	unsigned int i;

	if (posix_memalign((void **)&buf, BLK, BLK))
		die("posix_memalign", ENOMEM);
	for (i = 0; i < NR_BLKS; i++) {
		m->seed[i] = next_seed++;
		m->loose[i] = 0;
		fill_block(buf, m->seed[i]);
		if (pwrite(f, buf, BLK, (off_t)i * BLK) != BLK)
			die("pwrite", errno);
	}
	free(buf);
}

static int open_file(const char *path, const char *suffix)
{
	char name[512];
	int f;

	snprintf(name, sizeof(name), "%s%s", path, suffix);
	f = open(name, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0600);
	if (f < 0 || ftruncate(f, FILE_SIZE))
		die(name, errno);
	return f;
}

/* IO on every block with one request per block; strict checks */
static void sweep(struct io_uring *ring, int write, const char *name)
{
	unsigned long bad0 = bad_blocks, err0 = io_errors;
	unsigned int blk, s;
	struct io_uring_cqe *cqe;

	for (blk = 0; blk < NR_BLKS; blk += MAX_BLKS) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
		struct io *io = &ios[0];

		io->blk = blk;
		io->nr = MAX_BLKS;
		io->write = write;
		io->epoch = epoch;
		io->overlapped = 0;
		if (write) {
			for (s = 0; s < MAX_BLKS; s++) {
				io->seed[s] = next_seed++;
				fill_block(io->buf + s * BLK, io->seed[s]);
			}
			writes_in_flight++;
			io_uring_prep_write_fixed(sqe, 0, io->buf, MAX_BLKS * BLK,
						  (uint64_t)blk * BLK, 0);
		} else {
			memset(io->buf, POISON, MAX_BLKS * BLK);
			io_uring_prep_read_fixed(sqe, 0, io->buf, MAX_BLKS * BLK,
						 (uint64_t)blk * BLK, 0);
		}
		sqe->flags |= IOSQE_FIXED_FILE;
		if (io_uring_submit_and_wait(ring, 1) < 0 ||
		    io_uring_wait_cqe(ring, &cqe))
			die("io_uring_wait_cqe", EIO);
		complete(0, cqe->res);
		io_uring_cqe_seen(ring, cqe);
	}
	if (bad_blocks != bad0 || io_errors != err0)
		fail(name, "%lu bad blocks, %lu IO errors", bad_blocks - bad0,
		     io_errors - err0);
	else
		ok(name);
}

/* --selftest: each check rejects what it is there to catch (can-fail) */
static int selftest(void)
{
	static struct model m;
	static unsigned char b[BLK], c[BLK];

#define EXPECT(name, cond) ((cond) ? ok(name) : fail(name, "not caught"))
	m.seed[0] = 7;
	fill_block(b, 7);
	EXPECT("selftest-accepts-expected", block_ok(&m, 0, b, 1));
	fill_block(b, 8);
	EXPECT("selftest-strict-other-block", !block_ok(&m, 0, b, 1));
	EXPECT("selftest-loose-other-block", block_ok(&m, 0, b, 0));
	memset(b, POISON, BLK);
	EXPECT("selftest-poison", !block_ok(&m, 0, b, 0));
	fill_block(b, 7);
	fill_block(c, 8);
	memcpy(b + BLK / 2, c + BLK / 2, BLK / 2);
	EXPECT("selftest-torn", !block_ok(&m, 0, b, 0));
	memset(b, 0, BLK);
	EXPECT("selftest-zeroes-for-data", !block_ok(&m, 0, b, 1));
	fill_block(b, 7);
	EXPECT("selftest-data-for-hole", !block_ok(&m, 1, b, 1));
	m.loose[0] = 1;
	fill_block(b, 9);
	EXPECT("selftest-loose-accepts-other", block_ok(&m, 0, b, 1));
	b[100] ^= 1;
	EXPECT("selftest-flipped-bit", !block_ok(&m, 0, b, 0));
#undef EXPECT
	return failures ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: dmatag-fsrace FILE [--plain] [--seconds N] "
		"[--ops trunc,punch,collapse,insert,clone,swap]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *path, *ops = "trunc,punch,collapse,insert";
	unsigned int seconds = 15, s, i;
	struct io_uring_map_buffers mb = { 0 };
	struct iovec iov[QD];
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	pthread_t thread;
	time_t start;
	int premap = 1, ret;
	char *list, *tok;

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "--selftest"))
		return selftest();
	path = argv[1];
	for (i = 2; i < (unsigned int)argc; i++) {
		if (!strcmp(argv[i], "--plain"))
			premap = 0;
		else if (!strcmp(argv[i], "--seconds") && i + 1 < (unsigned int)argc)
			seconds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--ops") && i + 1 < (unsigned int)argc)
			ops = argv[++i];
		else
			usage();
	}
	list = strdup(ops);
	for (tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		for (i = 0; i < NR_OPS; i++)
			if (!strcmp(tok, op_names[i]))
				break;
		if (i == NR_OPS)
			usage();
		op_enabled[i] = 1;
	}
	rnd_state ^= (uint64_t)time(NULL) << 16 ^ getpid();

	fd = open_file(path, "");
	fill_file(fd, &file_m);
	if (op_enabled[OP_CLONE]) {
		clone_fd = open_file(path, ".clone");
		fill_file(clone_fd, &clone_m);
	}
	if (op_enabled[OP_SWAP]) {
		swap_fd = open_file(path, ".swap");
		fill_file(swap_fd, &swap_m);
	}
	if (fsync(fd))
		die("fsync", errno);

	ret = io_uring_queue_init(2 * QD, &ring, 0);
	if (ret)
		die("io_uring_queue_init", -ret);
	for (s = 0; s < QD; s++) {
		ios[s].buf = mmap(NULL, MAX_BLKS * BLK, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				  -1, 0);
		if (ios[s].buf == MAP_FAILED)
			die("mmap", errno);
		iov[s].iov_base = ios[s].buf;
		iov[s].iov_len = MAX_BLKS * BLK;
	}
	ret = io_uring_register_buffers(&ring, iov, QD);
	if (ret)
		die("io_uring_register_buffers", -ret);
	ret = io_uring_register_files(&ring, &fd, 1);
	if (ret)
		die("io_uring_register_files", -ret);
	if (premap) {
		mb.file_index = 0;
		mb.buf_start = 0;
		mb.buf_end = QD;
		ret = syscall(__NR_io_uring_register, ring.ring_fd,
			      IORING_REGISTER_MAP_BUFFERS, &mb, 1);
		if (ret)
			fail("map", "IORING_REGISTER_MAP_BUFFERS: %s",
			     strerror(errno));
		else
			ok("map");
	}

	if (pthread_create(&thread, NULL, mutator, NULL))
		die("pthread_create", EAGAIN);
	start = time(NULL);
	for (s = 0; s < QD; s++)
		prep(&ring, s, rnd() % 2);
	/*
	 * SECONDS at least, then on until the race has enough of both kinds
	 * of reads (a slow machine gets fewer per second), 4 x SECONDS at most
	 */
	while (time(NULL) < start + seconds ||
	       (!raced_enough() && time(NULL) < start + 4 * seconds)) {
		ret = io_uring_submit_and_wait(&ring, 1);
		if (ret < 0)
			die("io_uring_submit_and_wait", -ret);
		while (!io_uring_peek_cqe(&ring, &cqe)) {
			s = cqe->user_data;
			complete(s, cqe->res);
			io_uring_cqe_seen(&ring, cqe);
			prep(&ring, s, rnd() % 2);
		}
	}
	stop = 1;
	pthread_join(thread, NULL);
	io_uring_submit(&ring);
	for (i = 0; i < QD; i++) {	/* drain: QD IOs are in flight */
		if (io_uring_wait_cqe(&ring, &cqe))
			die("io_uring_wait_cqe", EIO);
		complete(cqe->user_data, cqe->res);
		io_uring_cqe_seen(&ring, cqe);
	}

	printf("fsrace %s: reads=%lu (strict %lu, loose %lu) writes=%lu",
	       premap ? "premapped" : "plain", reads, strict_reads,
	       loose_reads, writes);
	for (i = 0; i < NR_OPS; i++)
		if (op_enabled[i])
			printf(" %s=%lu", op_names[i], nr_ops[i]);
	if (op_enabled[OP_SWAP])
		printf(" swap_refused=%lu", nr_swap_refused);
	printf(" bad_blocks=%lu io_errors=%lu short_reads=%lu op_errors=%lu\n",
	       bad_blocks, io_errors, short_reads, nr_op_errors);

	if (io_errors)
		fail("no-io-errors", "%lu IOs failed", io_errors);
	else
		ok("no-io-errors");
	if (bad_blocks)
		fail("old-new-or-zero", "%lu blocks read neither old nor new data nor zeroes",
		     bad_blocks);
	else
		ok("old-new-or-zero");
	if (short_reads)
		fail("no-short-reads", "%lu strict reads short", short_reads);
	else
		ok("no-short-reads");
	if (!raced_enough())
		fail("raced", "%lu strict and %lu loose reads", strict_reads,
		     loose_reads);
	else
		ok("raced");
	for (i = 0; i < NR_OPS; i++) {
		char name[32];

		if (!op_enabled[i])
			continue;
		snprintf(name, sizeof(name), "op-%s", op_names[i]);
		if (nr_ops[i] && !nr_unsupported[i])
			ok(name);
		else
			fail(name, "%lu done, %lu unsupported", nr_ops[i],
			     nr_unsupported[i]);
	}
	if (nr_op_errors)
		fail("ops-no-errors", "%lu operations failed", nr_op_errors);
	else
		ok("ops-no-errors");
	/* quiescent: what the race left, then all fresh data */
	sweep(&ring, 0, "after-race-read");
	sweep(&ring, 1, "rewrite");
	sweep(&ring, 0, "rewrite-read");
	io_uring_queue_exit(&ring);
	close(fd);
	return failures ? 1 : 0;
}
