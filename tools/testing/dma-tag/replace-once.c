// SPDX-License-Identifier: GPL-2.0
/*
 * replace-once FILE OLD NEW: replace the one occurrence of OLD in FILE by
 * NEW; exit 1 (FILE unchanged) when OLD occurs zero or several times. For
 * can-fail.sh's mutants.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	const char *old, *new, *hit;
	size_t len = 0, cap = 1 << 16, n;
	char *buf;
	FILE *f;

	if (argc != 4 || !*argv[2]) {
		fprintf(stderr, "usage: replace-once FILE OLD NEW\n");
		return 2;
	}
	old = argv[2];
	new = argv[3];
	f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	buf = malloc(cap + 1);
	while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap)
			buf = realloc(buf, (cap *= 2) + 1);
	}
	fclose(f);
	if (!buf)
		return 2;
	buf[len] = '\0';
	hit = strstr(buf, old);
	if (!hit || strstr(hit + 1, old))
		return 1;
	f = fopen(argv[1], "w");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	fwrite(buf, 1, hit - buf, f);
	fputs(new, f);
	fputs(hit + strlen(old), f);
	return fclose(f) ? 2 : 0;
}
