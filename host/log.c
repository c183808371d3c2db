/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int hlog_level = HLOG_WARN;

void hlog(int level, const char *fmt, ...)
{
	static const char *tag[] = { "error", "warn", "info", "debug" };
	struct timespec ts;
	char line[1024];
	va_list ap;

	if (level > hlog_level)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line so that threads do not interleave mid-line. */
	fprintf(stderr, "virgo-host[%ld.%03ld] %s: %s\n", (long)ts.tv_sec, ts.tv_nsec / 1000000L,
		tag[level < 0 ? 0 : level > 3 ? 3 : level], line);
}

int hlog_parse_level(const char *s)
{
	static const char *names[] = { "error", "warn", "info", "debug" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}
