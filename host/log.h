/* SPDX-License-Identifier: MIT */
/* log.h: virgo-host's log: one level for the whole process, set from the
 * command line, messages to stderr with a level tag. */
#ifndef VIRGO_HOST_LOG_H
#define VIRGO_HOST_LOG_H

enum hlog_level { HLOG_ERR, HLOG_WARN, HLOG_INFO, HLOG_DEBUG };

extern int hlog_level;
void hlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int hlog_parse_level(const char *s); /* -1 if unknown */

#endif
