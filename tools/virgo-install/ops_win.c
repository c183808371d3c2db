/* SPDX-License-Identifier: MIT */
/*
 * ops_win.c: install.h answered by Windows. Never run on Windows; under
 * Wine the test double (ops_fake.c) stands in for this file.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <setupapi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "install.h"

#define SYSTEM_CODE_INTEGRITY_INFORMATION 103
#define CODEINTEGRITY_OPTION_TESTSIGN     0x02
#define INSTALLFLAG_FORCE                 0x01

struct code_integrity {
	ULONG length;
	ULONG options;
};

typedef LONG(WINAPI *query_fn)(ULONG, void *, ULONG, ULONG *);
typedef BOOL(WINAPI *update_fn)(HWND, const wchar_t *, const wchar_t *, DWORD, BOOL *);

static int testsign_active(void)
{
	HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
	query_fn query = ntdll ? (query_fn)(void (*)(void))GetProcAddress(ntdll, "NtQuerySystemInformation") : NULL;
	struct code_integrity ci = { .length = sizeof(ci) };

	if (!query || query(SYSTEM_CODE_INTEGRITY_INFORMATION, &ci, sizeof(ci), NULL) < 0)
		return -1;
	return (ci.options & CODEINTEGRITY_OPTION_TESTSIGN) != 0;
}

static void system_exe(wchar_t *out, const wchar_t *name)
{
	wchar_t sys[MAX_PATH];

	if (!GetSystemDirectoryW(sys, MAX_PATH))
		wcscpy(sys, L"C:\\Windows\\System32");
	_snwprintf(out, MAX_PATH, L"%ls\\%ls", sys, name);
	out[MAX_PATH - 1] = 0;
}

/* Runs exe with args; with out, its stdout is collected there (NUL
 * terminated), else it shares ours. The exit status, -1 if it did not run. */
static int run(const wchar_t *exe, const wchar_t *args, char *out, size_t size)
{
	wchar_t path[MAX_PATH], *cmd;
	STARTUPINFOW si = { .cb = sizeof(si) };
	PROCESS_INFORMATION pi;
	SECURITY_ATTRIBUTES sa = { .nLength = sizeof(sa), .bInheritHandle = TRUE };
	HANDLE rd = NULL, wr = NULL;
	DWORD status = (DWORD)-1, got;
	size_t len, used = 0;
	BOOL ok;

	system_exe(path, exe);
	len = wcslen(path) + wcslen(args) + 4;
	cmd = malloc(len * sizeof(wchar_t));
	if (!cmd)
		return -1;
	_snwprintf(cmd, len, L"\"%ls\" %ls", path, args);
	cmd[len - 1] = 0;
	if (out) {
		if (!CreatePipe(&rd, &wr, &sa, 0)) {
			free(cmd);
			return -1;
		}
		SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
		si.dwFlags = STARTF_USESTDHANDLES;
		si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
		si.hStdOutput = wr;
		si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
	}
	fflush(stdout);
	ok = CreateProcessW(path, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
	free(cmd);
	if (wr)
		CloseHandle(wr);
	if (!ok) {
		if (rd)
			CloseHandle(rd);
		return -1;
	}
	if (rd) {
		while (used + 1 < size && ReadFile(rd, out + used, (DWORD)(size - 1 - used), &got, NULL) && got)
			used += got;
		out[used] = 0;
		CloseHandle(rd);
	}
	WaitForSingleObject(pi.hProcess, INFINITE);
	GetExitCodeProcess(pi.hProcess, &status);
	CloseHandle(pi.hThread);
	CloseHandle(pi.hProcess);
	return (int)status;
}

/* bcdedit's element names are not translated ("testsigning"), its Yes may
 * be: a value other than No on that line counts as on. */
static int testsign_configured(void)
{
	static char out[32768];
	char *line;

	if (run(L"bcdedit.exe", L"/enum {current}", out, sizeof(out)) != 0)
		return -1;
	for (line = strtok(out, "\r\n"); line; line = strtok(NULL, "\r\n")) {
		char *v;

		if (_strnicmp(line, "testsigning", 11))
			continue;
		v = line + 11;
		while (*v == ' ' || *v == '\t')
			v++;
		return *v && _strnicmp(v, "No", 2);
	}
	return 0;
}

static int pnputil(const wchar_t *args)
{
	return run(L"pnputil.exe", args, NULL, 0);
}

static int list_devices(struct vtp_devnode *out, int max)
{
	return vtp_list_devnodes(out, max);
}

static unsigned long update_driver(const char *hwid, const wchar_t *inf, bool force, bool *reboot)
{
	HMODULE newdev = LoadLibraryW(L"newdev.dll");
	update_fn update = newdev ? (update_fn)(void (*)(void))GetProcAddress(newdev, "UpdateDriverForPlugAndPlayDevicesW")
				  : NULL;
	wchar_t whwid[128];
	BOOL need = FALSE;
	unsigned long err = 0;

	if (!update)
		return ERROR_PROC_NOT_FOUND;
	MultiByteToWideChar(CP_ACP, 0, hwid, -1, whwid, 128);
	if (!update(NULL, whwid, inf, force ? INSTALLFLAG_FORCE : 0, &need))
		err = GetLastError();
	if (need)
		*reboot = true;
	return err;
}

/* %windir%\INF\oem*.inf whose original name (SetupAPI's record of what was
 * published) is virgo.inf: no parsing of pnputil's translated output. */
static int find_oem_infs(wchar_t names[][64], int max)
{
	wchar_t dir[MAX_PATH], pattern[MAX_PATH], path[MAX_PATH];
	WIN32_FIND_DATAW fd;
	HANDLE h;
	int n = 0;

	if (!GetWindowsDirectoryW(dir, MAX_PATH))
		return 0;
	_snwprintf(pattern, MAX_PATH, L"%ls\\INF\\oem*.inf", dir);
	pattern[MAX_PATH - 1] = 0;
	h = FindFirstFileW(pattern, &fd);
	if (h == INVALID_HANDLE_VALUE)
		return 0;
	do {
		SP_INF_INFORMATION *info;
		SP_ORIGINAL_FILE_INFO_W orig = { .cbSize = sizeof(orig) };
		DWORD need = 0;
		const wchar_t *base;

		_snwprintf(path, MAX_PATH, L"%ls\\INF\\%ls", dir, fd.cFileName);
		path[MAX_PATH - 1] = 0;
		if (!SetupGetInfInformationW(path, INFINFO_INF_NAME_IS_ABSOLUTE, NULL, 0, &need) || !need)
			continue;
		info = malloc(need);
		if (!info)
			break;
		if (SetupGetInfInformationW(path, INFINFO_INF_NAME_IS_ABSOLUTE, info, need, NULL) &&
		    SetupQueryInfOriginalFileInformationW(info, 0, NULL, &orig)) {
			base = wcsrchr(orig.OriginalInfName, L'\\');
			base = base ? base + 1 : orig.OriginalInfName;
			if (!_wcsicmp(base, L"virgo.inf") && wcslen(fd.cFileName) < 64)
				wcscpy(names[n++], fd.cFileName);
		}
		free(info);
	} while (n < max && FindNextFileW(h, &fd));
	FindClose(h);
	return n;
}

const struct install_ops install_ops = {
	.testsign_active = testsign_active,
	.testsign_configured = testsign_configured,
	.pnputil = pnputil,
	.list_devices = list_devices,
	.update_driver = update_driver,
	.find_oem_infs = find_oem_infs,
};
