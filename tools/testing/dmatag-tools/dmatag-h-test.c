// SPDX-License-Identifier: GPL-2.0
/*
 * The sysfs helpers of tools/dmatag.h on a fake disk directory: a counter
 * that cannot be read is -1, and a disk whose maps or unmaps cannot be read
 * is never "balanced" (the tools' no-leak checks once passed on -1 == -1).
 *
 * Usage: dmatag-h-test DIR   (an empty scratch directory)
 * Output: TAP lines "ok - NAME" / "not ok - NAME # why"; exit 1 on a failure.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "../../dmatag.h"

static int failed;

static long long m, u;	/* what the last balanced() read */

/* dmatag_balanced() of @dir; its reads in m and u */
static int balanced(const char *dir)
{
	return dmatag_balanced(dir, &m, &u);
}

static void verdict(const char *name, int good)
{
	if (good) {
		printf("ok - %s\n", name);
	} else {
		printf("not ok - %s # maps %lld unmaps %lld\n", name, m, u);
		failed = 1;
	}
}

static void put(const char *dir, const char *name, const char *val)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/dma_tag/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(val, f) < 0 || fclose(f)) {
		perror(path);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	char sub[512];

	if (argc != 2)
		return 2;
	/* no dma_tag directory: unreadable, not balanced */
	verdict("counter-missing-is-minus-1",
		dmatag_counter(argv[1], "maps") == -1);
	verdict("missing-counters-not-balanced", !balanced(argv[1]));

	snprintf(sub, sizeof(sub), "%s/dma_tag", argv[1]);
	if (mkdir(sub, 0755)) {
		perror(sub);
		return 2;
	}
	put(argv[1], "maps", "7\n");
	verdict("one-counter-missing-not-balanced", !balanced(argv[1]));
	put(argv[1], "unmaps", "garbage\n");
	verdict("garbage-not-balanced", !balanced(argv[1]));
	put(argv[1], "unmaps", "6\n");
	verdict("leak-not-balanced", !balanced(argv[1]));
	put(argv[1], "unmaps", "7\n");
	verdict("equal-balanced", balanced(argv[1]) && m == 7 && u == 7);
	put(argv[1], "maps", "0\n");
	put(argv[1], "unmaps", "0\n");
	verdict("zero-balanced", balanced(argv[1]));
	return failed;
}
