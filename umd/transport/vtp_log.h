/* SPDX-License-Identifier: MIT */
/*
 * vtp_log.h: messages from virgo's user-mode driver for a person.
 *
 * GUI programs discard stderr, and an OpenGL program whose driver fails
 * usually carries on with Windows' "GDI Generic" OpenGL 1.1, so a message on
 * stderr alone is a message nobody sees. On Windows every message also goes
 * to the debugger (OutputDebugString: DebugView, a debugger's output
 * window), and the first error of each process is appended to a file,
 * VTP_LOG_FILE under %LOCALAPPDATA% (the package's README names it). On
 * Linux: stderr only.
 */
#ifndef VIRGO_VTP_LOG_H
#define VIRGO_VTP_LOG_H

#include <stddef.h>

/* Below %LOCALAPPDATA% (else the TEMP folder); kept under 256 KiB. */
#define VTP_LOG_FILE "virgo\\virgo.log"

enum vtp_log_level { VTP_LOG_ERROR, VTP_LOG_WARN };

/* One line (no newline needed); messages start "virgo: ". */
void vtp_log(enum vtp_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/* Where the first error of this process went ("" on Linux, or when no
 * error was written). */
const char *vtp_log_written_to(void);

#endif
