/* SPDX-License-Identifier: MIT */
/*
 * vtp_log.c: see vtp_log.h. A message is formatted once into a fixed buffer
 * (no allocation: it may be the report of running out of memory).
 */
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#endif

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vtp_log.h"

#define LINE_MAX_CHARS 1024
#define FILE_LIMIT     (256 * 1024)

#ifdef _WIN32
#define ONCE_VAR "VIRGO_LOG_WRITTEN_PID"

static volatile LONG file_written;
static char written_to[MAX_PATH];

/* %LOCALAPPDATA%\virgo\virgo.log, else %TEMP%\virgo\virgo.log; the folder
 * is made on the way. */
static bool log_path(char *path, size_t n)
{
	char base[MAX_PATH];
	DWORD len = GetEnvironmentVariableA("LOCALAPPDATA", base, sizeof(base));

	if (!len || len >= sizeof(base)) {
		len = GetTempPathA(sizeof(base), base);
		if (!len || len >= sizeof(base))
			return false;
	}
	while (len && (base[len - 1] == '\\' || base[len - 1] == '/'))
		base[--len] = 0;
	if (snprintf(path, n, "%s\\virgo", base) >= (int)n)
		return false;
	CreateDirectoryA(path, NULL); /* may exist already */
	return snprintf(path, n, "%s\\%s", base, VTP_LOG_FILE) < (int)n;
}

/* The first error of the process, with when, which program and its pid:
 * one file collects what every OpenGL program of this user ran into. */
static void write_file_once(const char *line)
{
	char path[MAX_PATH], exe[MAX_PATH], rec[LINE_MAX_CHARS + MAX_PATH + 96], old[MAX_PATH + 8];
	SYSTEMTIME st;
	HANDLE f;
	LARGE_INTEGER size;
	DWORD wrote;
	int n;

	if (InterlockedExchange(&file_written, 1))
		return;
	/* Once per process, not per load of the DLL: a program that frees
	 * and loads opengl32.dll again (SDL, GLFW) would otherwise write a
	 * line each time. The process's environment outlives the DLL; the
	 * pid in the value keeps child processes, which inherit it, logging. */
	snprintf(exe, sizeof(exe), "%lu", (unsigned long)GetCurrentProcessId());
	if (GetEnvironmentVariableA(ONCE_VAR, old, sizeof(old)) && !strcmp(old, exe))
		return;
	SetEnvironmentVariableA(ONCE_VAR, exe);
	if (!log_path(path, sizeof(path)))
		return;
	if (!GetModuleFileNameA(NULL, exe, sizeof(exe)))
		strcpy(exe, "?");
	GetLocalTime(&st);
	n = snprintf(rec, sizeof(rec), "%04u-%02u-%02u %02u:%02u:%02u %s (pid %lu): %s\r\n", st.wYear, st.wMonth,
		     st.wDay, st.wHour, st.wMinute, st.wSecond, exe, (unsigned long)GetCurrentProcessId(), line);
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(rec))
		n = (int)sizeof(rec) - 1;
	f = CreateFileA(path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
			OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
	if (f == INVALID_HANDLE_VALUE)
		return;
	/* A file that only grows would fill the disk over the years: the
	 * full one becomes virgo.log.old and a new one starts. */
	if (GetFileSizeEx(f, &size) && size.QuadPart > FILE_LIMIT) {
		CloseHandle(f);
		snprintf(old, sizeof(old), "%s.old", path);
		MoveFileExA(path, old, MOVEFILE_REPLACE_EXISTING);
		f = CreateFileA(path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
				OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
		if (f == INVALID_HANDLE_VALUE)
			return;
	}
	if (WriteFile(f, rec, (DWORD)n, &wrote, NULL) && wrote == (DWORD)n)
		snprintf(written_to, sizeof(written_to), "%s", path);
	CloseHandle(f);
}

const char *vtp_log_written_to(void)
{
	return written_to;
}
#else
const char *vtp_log_written_to(void)
{
	return "";
}
#endif

void vtp_log(enum vtp_log_level level, const char *fmt, ...)
{
	char line[LINE_MAX_CHARS];
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	len = strlen(line);
	while (len && line[len - 1] == '\n')
		line[--len] = 0;
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
#ifdef _WIN32
	{
		char dbg[LINE_MAX_CHARS + 2];

		snprintf(dbg, sizeof(dbg), "%s\n", line);
		OutputDebugStringA(dbg);
	}
	if (level == VTP_LOG_ERROR)
		write_file_once(line);
#else
	(void)level;
#endif
}
