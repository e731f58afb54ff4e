/* SPDX-License-Identifier: GPL-2.0 */
/* shim: the sysfs helpers the tag core's attributes use (PAGE_SIZE pages) */
#ifndef SHIM_SYSFS_H
#define SHIM_SYSFS_H
#include <stdarg.h>
#include "kernel-shim.h"

#define PAGE_SIZE 4096

static inline int sysfs_emit_at(char *buf, int at, const char *fmt, ...)
{
	va_list args;
	int len;

	if (at < 0 || at >= PAGE_SIZE)
		shim_bug("sysfs_emit_at: offset %d", at);
	va_start(args, fmt);
	len = vsnprintf(buf + at, PAGE_SIZE - at, fmt, args);
	va_end(args);
	return len < PAGE_SIZE - at ? len : PAGE_SIZE - at - 1;
}

#define sysfs_emit(buf, ...) sysfs_emit_at(buf, 0, __VA_ARGS__)

/* the kernel's: a trailing newline is ignored, anything else must match */
static inline int sysfs_streq(const char *s1, const char *s2)
{
	while (*s1 && *s1 == *s2) {
		s1++;
		s2++;
	}
	if (*s1 == *s2)
		return 1;
	if (!*s1 && *s2 == '\n' && !s2[1])
		return 1;
	if (*s1 == '\n' && !s1[1] && !*s2)
		return 1;
	return 0;
}

#define sysfs_match_string(arr, s) __sysfs_match_string(arr, ARRAY_SIZE(arr), s)
static inline int __sysfs_match_string(const char *const *array, size_t n,
				       const char *str)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (array[i] && sysfs_streq(array[i], str))
			return (int)i;
	return -EINVAL;
}

/* the kernel's kstrtou64: base 0, one trailing newline, no sign, no blanks */
static inline int kstrtou64(const char *s, unsigned int base, u64 *res)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+' || *s == ' ' || *s == '\t')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, (int)base);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s || (*end && !(*end == '\n' && !end[1])))
		return -EINVAL;
	*res = v;
	return 0;
}
#endif
