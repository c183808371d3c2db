/* SPDX-License-Identifier: MIT */
/*
 * The transport for Windows programs (MinGW-w64 or MSVC, C11). Two ways to
 * reach the driver, chosen by the spec, else $VIRGO_TRANSPORT:
 *
 *   (unset), "device"  the kernel driver (kmd/win): its device interface is
 *                      found with SetupAPI by VIRGO_INTERFACE_GUID, opened
 *                      with CreateFile, and each op is one DeviceIoControl
 *                      with the IOCTL_VIRGO_* code and the op's struct as
 *                      both buffers (uapi/ioctl_decode.h).
 *   "device:PATH"      the same, with the device named by PATH (a symbolic
 *                      link such as \\.\Name or an interface path).
 *   "tcp:HOST:PORT"    virgo-host over TCP, in the socket encoding of uapi.h
 *                      (uapi/wire.c): for programs under Wine on the host that
 *                      runs virgo-host.
 *
 * "unix:" is refused: a Windows program cannot receive the guest-RAM file
 * descriptor that UNIX-socket replies carry. $VIRGO_SOCKET is ignored for
 * the same reason.
 *
 * The device path has never run: no Windows machine exists in development.
 * It compiles, and follows what kmd/win/driver.c and ioctl_decode.c do; the
 * first run on Windows must check it (tests/wine/vtp covers everything up to
 * "no device present").
 *
 * Threads. Over the device, requests from several threads run at the same
 * time (the handle is overlapped, so the I/O manager does not serialise
 * them; the driver locks per handle and waits outside its lock). Over TCP
 * one request at a time is on the wire, as in vtp_posix.c, because
 * virgo-host answers one request per connection in order.
 *
 * Hangs. Over TCP every connect, send and receive has a deadline; the
 * request/reply exchange, its checks and its deadlines are
 * uapi/roundtrip.c's, shared with the Linux transport (roundtrip.h says
 * what a host that misses them gets).
 *
 * MAP over TCP. The reply names the guest-RAM file (on Linux
 * /proc/PID/fd/N of virgo-host's memfd, reached under Wine through
 * wine_get_dos_file_name or \\?\unix\...) and the runs of it that back the
 * resource, to be laid out one after the other. Windows places file views
 * only at offsets and addresses that are multiples of the allocation
 * granularity (64 KiB), so:
 *  - one run (virgo-host backs resources contiguously whenever guest RAM
 *    has room): one view from the offset rounded down; the caller gets the
 *    view + the remainder;
 *  - several runs: adjacent runs are merged first; what is left is stitched
 *    with one view per run at fixed addresses when every run after the
 *    first starts on a granularity boundary of the file and lands on one in
 *    the range; otherwise MAP fails with -VIRGO_ENOTSUP and one line on
 *    stderr (the server's record of the mapping is undone with an UNMAP).
 * The file's section is opened once and kept until vtp_close.
 */
#define WIN32_LEAN_AND_MEAN
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <setupapi.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ioctl_decode.h"
#include "client.h"
#include "vtp.h"
#include "vtp_devnode.h"
#include "vtp_log.h"

/* Newer than some SDKs' winerror.h (MinGW-w64's among them). */
#ifndef ERROR_NO_SUCH_DEVICE
#define ERROR_NO_SUCH_DEVICE 433L
#endif

#define CONNECT_TIMEOUT_MS 5000u
#define MAX_EVENTS         8u
#define MAX_OBJECT_PATH    260u
/* A fixed-address view can lose its range to another thread between the
 * probe and the map; a few tries make that vanishingly rare. */
#define STITCH_TRIES       16

/* A mapping's views: what UnmapViewOfFile takes. */
struct vtp_views {
	uint32_t n;
	void *views[];
};

enum vtp_kind { VTP_DEVICE, VTP_SOCKET };

struct vtp {
	enum vtp_kind kind;
	SRWLOCK lock;  /* device: the event pool; socket: everything below */

	/* device */
	HANDLE dev;
	HANDLE events[MAX_EVENTS];
	uint32_t nevents;

	/* socket */
	SOCKET sock;
	char peer[160];
	uint32_t granularity;
	HANDLE section;
	char section_path[MAX_OBJECT_PATH];
	uint64_t section_size;
	struct wire_client client; /* the exchange, the last reply, the mappings */
};

/* ---- errors ------------------------------------------------------------------- */

/* A Win32 error from CreateFile on the device. */
static int open_error(DWORD e)
{
	switch (e) {
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
	case ERROR_INVALID_NAME:
	case ERROR_NO_SUCH_DEVICE:
	case ERROR_DEVICE_NOT_CONNECTED:
	case ERROR_BAD_NETPATH:
	case ERROR_NOT_READY:          /* STATUS_DEVICE_NOT_READY: not started, or powered down */
		return -VIRGO_ENODEV;
	case ERROR_ACCESS_DENIED:
		return -VIRGO_EPERM;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
		return -VIRGO_ENOMEM;
	default:
		return virgo_status_from_win32(e);
	}
}

/* A Win32 error from DeviceIoControl: the driver's own codes map back one
 * to one (ioctl_decode.c); the rest come from the I/O manager. */
static int ioctl_error(DWORD e)
{
	switch (e) {
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
		return -VIRGO_ENOMEM;
	case ERROR_OPERATION_ABORTED:
		/* The driver cancelled a wait (CancelIo, a thread exiting), or
		 * the handle was closed under the request: either way, only
		 * this request is over. */
		return -VIRGO_ECANCELED;
	case ERROR_DEVICE_NOT_CONNECTED:
	case ERROR_NO_SUCH_DEVICE:
	case ERROR_INVALID_HANDLE:
		return -VIRGO_EDEVLOST;
	case ERROR_INSUFFICIENT_BUFFER:    /* sizes are fixed: a driver of another uAPI */
	case ERROR_MORE_DATA:
		return -VIRGO_EPROTO;
	default:
		return virgo_status_from_win32(e);
	}
}

/* ---- the kernel driver ------------------------------------------------------ */

static int open_device_path(const wchar_t *path, HANDLE *out, DWORD *err)
{
	/* Overlapped: a synchronous handle would make the I/O manager run
	 * one request per file object at a time, so a thread in FENCE_WAIT
	 * would stall every other thread of the context. */
	HANDLE h = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
			       OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);

	if (h == INVALID_HANDLE_VALUE) {
		*err = GetLastError();
		return open_error(*err);
	}
	*out = h;
	return 0;
}

/* The first present interface of our class that opens. */
static int find_device(HANDLE *out, unsigned *found, DWORD *err)
{
	static const GUID guid = VIRGO_INTERFACE_GUID_INIT;
	HDEVINFO set = SetupDiGetClassDevsW(&guid, NULL, NULL, DIGCF_PRESENT | DIGCF_DEVICEINTERFACE);
	int ret = -VIRGO_ENODEV;

	*found = 0;
	if (set == INVALID_HANDLE_VALUE) {
		*err = GetLastError();
		return -VIRGO_ENODEV;
	}
	for (DWORD i = 0; ret; i++) {
		SP_DEVICE_INTERFACE_DATA ifd = { .cbSize = sizeof(ifd) };
		SP_DEVICE_INTERFACE_DETAIL_DATA_W *detail;
		DWORD need = 0;

		if (!SetupDiEnumDeviceInterfaces(set, NULL, &guid, i, &ifd))
			break; /* ERROR_NO_MORE_ITEMS */
		(*found)++;
		/* The first call only says how big the detail is. */
		SetupDiGetDeviceInterfaceDetailW(set, &ifd, NULL, 0, &need, NULL);
		if (need < sizeof(*detail)) {
			*err = GetLastError();
			continue;
		}
		detail = malloc(need);
		if (!detail) {
			ret = -VIRGO_ENOMEM;
			break;
		}
		/* cbSize is the fixed part's size, not the buffer's. */
		detail->cbSize = sizeof(*detail);
		if (SetupDiGetDeviceInterfaceDetailW(set, &ifd, detail, need, NULL, NULL))
			ret = open_device_path(detail->DevicePath, out, err);
		else
			*err = GetLastError();
		free(detail);
	}
	SetupDiDestroyDeviceInfoList(set);
	return ret;
}

static int open_device(struct vtp *t, const char *path)
{
	DWORD err = 0;
	unsigned found = 0;
	int ret;

	if (path) {
		int n = MultiByteToWideChar(CP_UTF8, 0, path, -1, NULL, 0);
		wchar_t *w = n > 0 ? malloc(sizeof(wchar_t) * (size_t)n) : NULL;

		if (!w || !MultiByteToWideChar(CP_UTF8, 0, path, -1, w, n)) {
			free(w);
			vtp_log(VTP_LOG_ERROR, "virgo: device path '%s' is not valid UTF-8", path);
			return -VIRGO_EINVAL;
		}
		ret = open_device_path(w, &t->dev, &err);
		free(w);
		if (ret)
			vtp_log(VTP_LOG_ERROR, "virgo: cannot open the virgo device %s: %s (Win32 error %lu)", path,
				virgo_strerror(ret), (unsigned long)err);
		return ret;
	}
	ret = find_device(&t->dev, &found, &err);
	if (ret && !found) {
		/* No interface: say which of the usual reasons it is, from
		 * what Windows knows about the device. */
		struct vtp_devnode nodes[VTP_DEVNODES_MAX];
		char why[512];

		vtp_explain_devnodes(nodes, vtp_list_devnodes(nodes, VTP_DEVNODES_MAX), why, sizeof(why));
		vtp_log(VTP_LOG_ERROR, "virgo: no virgo device: %s", why);
	} else if (ret) {
		vtp_log(VTP_LOG_ERROR, "virgo: found %u virgo device interface(s) but opened none: %s (Win32 error %lu)%s",
			found, virgo_strerror(ret), (unsigned long)err,
			ret == -VIRGO_EPERM ? "; the device admits SYSTEM, Administrators and interactive users" : "");
	}
	return ret;
}

/* Events for OVERLAPPED, reused: one per request in flight. */
static HANDLE get_event(struct vtp *t)
{
	HANDLE e = NULL;

	AcquireSRWLockExclusive(&t->lock);
	if (t->nevents)
		e = t->events[--t->nevents];
	ReleaseSRWLockExclusive(&t->lock);
	/* Manual reset, as OVERLAPPED wants; DeviceIoControl resets it. */
	return e ? e : CreateEventW(NULL, TRUE, FALSE, NULL);
}

static void put_event(struct vtp *t, HANDLE e)
{
	AcquireSRWLockExclusive(&t->lock);
	if (t->nevents < MAX_EVENTS) {
		t->events[t->nevents++] = e;
		e = NULL;
	}
	ReleaseSRWLockExclusive(&t->lock);
	if (e)
		CloseHandle(e);
}

static int device_ioctl(struct vtp *t, uint32_t op, void *arg)
{
	uint32_t size = virgo_op_arg_size(op);
	OVERLAPPED ov = { 0 };
	DWORD got = 0, err = 0;

	if (!size)
		return -VIRGO_ENOTSUP;
	ov.hEvent = get_event(t);
	if (!ov.hEvent)
		return -VIRGO_ENOMEM;
	/* METHOD_BUFFERED: the struct goes in and, on success only, comes
	 * back with its out fields; embedded pointers are ours as they are.
	 * The driver completes in its dispatch routine, but a pending
	 * completion is waited for all the same. */
	if (!DeviceIoControl(t->dev, VIRGO_CTL_CODE(op), arg, size, arg, size, NULL, &ov) &&
	    GetLastError() != ERROR_IO_PENDING)
		err = GetLastError();
	else if (!GetOverlappedResult(t->dev, &ov, &got, TRUE))
		err = GetLastError();
	put_event(t, ov.hEvent);
	if (err)
		return ioctl_error(err);
	return got == size ? 0 : -VIRGO_EPROTO;
}

/* ---- virgo-host over TCP ------------------------------------------------------ */

static int sock_error(void)
{
	int e = WSAGetLastError();

	return e == WSAEWOULDBLOCK || e == WSAEINTR || e == WSAEINPROGRESS ? 0 : -VIRGO_EDEVLOST;
}

/* Until the socket can be read (or written), or the deadline passes. A
 * failed connect shows in the exception set, so writes watch that too. */
static int sock_ready(SOCKET s, bool write, ULONGLONG deadline)
{
	for (;;) {
		ULONGLONG now = GetTickCount64(), left;
		struct timeval tv;
		fd_set fs, ex;
		int n;

		if (now >= deadline)
			return -VIRGO_ETIMEDOUT;
		left = deadline - now;
		tv.tv_sec = (long)(left / 1000u);
		tv.tv_usec = (long)(left % 1000u) * 1000;
		FD_ZERO(&fs);
		FD_SET(s, &fs);
		FD_ZERO(&ex);
		FD_SET(s, &ex);
		n = select(0, write ? NULL : &fs, write ? &fs : NULL, write ? &ex : NULL, &tv);
		if (n > 0)
			return 0; /* ready or failed: the next call says which */
		if (n < 0 && WSAGetLastError() != WSAEINTR)
			return -VIRGO_EDEVLOST;
	}
}

static uint64_t now_ms(void *ctx)
{
	(void)ctx;
	return GetTickCount64();
}

static int send_full(void *ctx, const void *buf, size_t len, uint64_t deadline)
{
	SOCKET s = ((struct vtp *)ctx)->sock;
	const char *p = buf;

	while (len) {
		int chunk = len > (1u << 30) ? 1 << 30 : (int)len, n, ret;

		ret = sock_ready(s, true, deadline);
		if (ret)
			return ret;
		n = send(s, p, chunk, 0);
		if (n == SOCKET_ERROR) {
			ret = sock_error();
			if (ret)
				return ret;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int recv_full(void *ctx, void *buf, size_t len, uint64_t deadline)
{
	SOCKET s = ((struct vtp *)ctx)->sock;
	char *p = buf;

	while (len) {
		int chunk = len > (1u << 30) ? 1 << 30 : (int)len, n, ret;

		ret = sock_ready(s, false, deadline);
		if (ret)
			return ret;
		n = recv(s, p, chunk, 0);
		if (n == 0)
			return -VIRGO_EDEVLOST; /* the host closed the connection */
		if (n == SOCKET_ERROR) {
			ret = sock_error();
			if (ret)
				return ret;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Winsock once per process, and never WSACleanup: vtp_close runs when the
 * ICD unloads, inside DllMain, and WSACleanup unloads Winsock's helper DLLs,
 * which under the loader lock can deadlock (Microsoft's WSACleanup page:
 * not to be called from DllMain). Windows undoes the process's Winsock
 * state when it exits. */
static INIT_ONCE winsock_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK winsock_start(INIT_ONCE *once, void *param, void **ctx)
{
	WSADATA wsa;

	(void)once;
	(void)param;
	(void)ctx;
	return WSAStartup(MAKEWORD(2, 2), &wsa) == 0;
}

static bool winsock_up(void)
{
	return InitOnceExecuteOnce(&winsock_once, winsock_start, NULL, NULL) != 0;
}

static int connect_tcp(struct vtp *t, const char *hostport)
{
	char host[128];
	const char *colon = strrchr(hostport, ':');
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP };
	struct addrinfo *res = NULL;
	const char *why = NULL;
	u_long nonblocking = 1;
	BOOL one = TRUE;
	SOCKET s;
	int ret, e;

	if (!colon || colon == hostport || !colon[1] || (size_t)(colon - hostport) >= sizeof(host)) {
		vtp_log(VTP_LOG_ERROR, "virgo: transport 'tcp:%s' is not tcp:HOST:PORT", hostport);
		return -VIRGO_EINVAL;
	}
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = 0;
	e = getaddrinfo(host, colon + 1, &hints, &res);
	if (e || !res) {
		vtp_log(VTP_LOG_ERROR, "virgo: cannot resolve tcp:%s (error %d)", hostport, e);
		return -VIRGO_EINVAL;
	}
	/* Not inherited by child processes, as SOCK_CLOEXEC on Linux. */
	s = WSASocketW(res->ai_family, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
	if (s == INVALID_SOCKET) {
		freeaddrinfo(res);
		vtp_log(VTP_LOG_ERROR, "virgo: tcp:%s: no socket (WSA error %d)", hostport, WSAGetLastError());
		return -VIRGO_ENOMEM;
	}
	/* Non-blocking for good: every wait below is a select with a
	 * deadline, so neither connect nor a full send buffer can hang. */
	ioctlsocket(s, FIONBIO, &nonblocking);
	ret = 0;
	if (connect(s, res->ai_addr, (int)res->ai_addrlen) == SOCKET_ERROR) {
		e = WSAGetLastError();
		if (e != WSAEWOULDBLOCK && e != WSAEINPROGRESS) {
			ret = -VIRGO_ENODEV;
			why = e == WSAECONNREFUSED ? "connection refused" : "connect failed";
		} else {
			ret = sock_ready(s, true, GetTickCount64() + CONNECT_TIMEOUT_MS);
			if (ret == -VIRGO_ETIMEDOUT)
				why = "no answer within 5 s";
			if (!ret) {
				int soerr = 0, len = sizeof(soerr);

				if (getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&soerr, &len) == SOCKET_ERROR)
					soerr = WSAGetLastError();
				e = soerr;
				if (soerr) {
					ret = -VIRGO_ENODEV;
					why = soerr == WSAECONNREFUSED ? "connection refused" : "connect failed";
				}
			}
			if (ret && !why)
				why = "connect failed";
		}
	}
	freeaddrinfo(res);
	if (ret) {
		vtp_log(VTP_LOG_ERROR, "virgo: cannot reach virgo-host at tcp:%s: %s (WSA error %d)", hostport, why, e);
		closesocket(s);
		return ret == -VIRGO_ETIMEDOUT ? -VIRGO_ENODEV : ret;
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof(one));
	t->sock = s;
	snprintf(t->peer, sizeof(t->peer), "tcp:%s", hostport);
	return 0;
}

static void dropped(void *ctx, uint32_t op)
{
	struct vtp *t = ctx;

	vtp_log(VTP_LOG_ERROR, "virgo: %s: %s in op %u; connection dropped", t->peer, t->client.conn.why, op);
	shutdown(t->sock, SD_BOTH);
}

static void unmap_views(void **views, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (views[i])
			UnmapViewOfFile(views[i]);
}

static void unmap_record(void *ctx, uint64_t addr, uint64_t size, void *priv)
{
	struct vtp_views *v = priv;

	(void)ctx;
	(void)addr;
	(void)size;
	unmap_views(v->views, v->n);
	free(v);
}

typedef WCHAR *(CDECL *dos_name_fn)(const char *unix_path);

/* The file the host named, as a Windows path. A Unix path means a host on
 * this machine under Wine: Wine's own converter first (it knows the drive
 * mappings), else its \\?\unix\ prefix. Returns a malloc'd string. */
static wchar_t *object_path(const char *path)
{
	wchar_t *w;
	size_t n = strlen(path);

	if (path[0] == '/') {
		HMODULE k32 = GetModuleHandleW(L"kernel32.dll");
		dos_name_fn dos = k32 ? (dos_name_fn)(void (*)(void))GetProcAddress(k32, "wine_get_dos_file_name") : NULL;

		if (dos) {
			WCHAR *d = dos(path);

			if (d) {
				w = malloc(sizeof(wchar_t) * (wcslen(d) + 1));
				if (w)
					wcscpy(w, d);
				HeapFree(GetProcessHeap(), 0, d);
				return w;
			}
		}
		w = malloc(sizeof(wchar_t) * (n + 9));
		if (!w)
			return NULL;
		wcscpy(w, L"\\\\?\\unix");
		for (size_t i = 0; i <= n; i++)
			w[8 + i] = path[i] == '/' ? L'\\' : (wchar_t)(unsigned char)path[i];
		return w;
	}
	{
		int len = MultiByteToWideChar(CP_UTF8, 0, path, -1, NULL, 0);

		w = len > 0 ? malloc(sizeof(wchar_t) * (size_t)len) : NULL;
		if (w && !MultiByteToWideChar(CP_UTF8, 0, path, -1, w, len)) {
			free(w);
			w = NULL;
		}
		return w;
	}
}

/* The section of the guest-RAM file, opened on the first MAP. */
static int get_section(struct vtp *t, uint32_t handle, const char *path, uint64_t object_size)
{
	LARGE_INTEGER size = { 0 };
	wchar_t *w;
	HANDLE f, s;
	DWORD err = 0;

	if (t->section && !strcmp(t->section_path, path))
		return 0;
	w = object_path(path);
	if (!w)
		return -VIRGO_ENOMEM;
	f = CreateFileW(w, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
			OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
	free(w);
	if (f == INVALID_HANDLE_VALUE) {
		err = GetLastError();
		vtp_log(VTP_LOG_ERROR, "virgo: %s: cannot map resource %u: cannot open the guest-RAM file %s (Win32 error %lu)",
			t->peer, handle, path, (unsigned long)err);
		return -VIRGO_ENODEV;
	}
	if (!GetFileSizeEx(f, &size) || (uint64_t)size.QuadPart < object_size) {
		CloseHandle(f);
		vtp_log(VTP_LOG_ERROR, "virgo: %s: cannot map resource %u: the guest-RAM file %s is smaller than the host says",
			t->peer, handle, path);
		return -VIRGO_EPROTO;
	}
	/* Size 0: the whole file. The section keeps the file open. */
	s = CreateFileMappingW(f, NULL, PAGE_READWRITE, 0, 0, NULL);
	err = GetLastError();
	CloseHandle(f);
	if (!s) {
		vtp_log(VTP_LOG_ERROR, "virgo: %s: cannot map resource %u: no section for %s (Win32 error %lu)", t->peer,
			handle, path, (unsigned long)err);
		return -VIRGO_ENOMEM;
	}
	if (t->section)
		CloseHandle(t->section); /* views hold their own references */
	t->section = s;
	t->section_size = (uint64_t)size.QuadPart;
	strcpy(t->section_path, path);
	return 0;
}

static void *map_view(HANDLE section, uint64_t offset, uint64_t len, void *at)
{
	return MapViewOfFileEx(section, FILE_MAP_READ | FILE_MAP_WRITE, (DWORD)(offset >> 32), (DWORD)offset,
			       (SIZE_T)len, at);
}

/* Lays n runs (offsets in the section) out one after the other. */
static int map_runs(struct vtp *t, uint32_t handle, const struct virgo_wire_run *runs, uint32_t n, uint64_t total,
		    uint64_t *addr, struct vtp_views **out)
{
	const uint64_t g = t->granularity;
	const uint64_t delta = runs[0].offset % g; /* first view starts this far before the data */
	struct vtp_views *rec = calloc(1, sizeof(*rec) + sizeof(void *) * n);
	void **views = rec ? rec->views : NULL;
	uint64_t at = delta + runs[0].len;
	DWORD err = 0;
	int ret = -VIRGO_ENOMEM;

	if (!rec)
		return -VIRGO_ENOMEM;
	for (uint32_t i = 1; i < n; i++) {
		if (runs[i].offset % g || at % g) {
			vtp_log(VTP_LOG_ERROR, "virgo: %s: cannot map resource %u: its %llu bytes are %u separate runs of guest RAM, "
				"and run %u (offset %#llx) is not on a %llu KiB boundary, where Windows places views",
				t->peer, handle, (unsigned long long)total, n, i, (unsigned long long)runs[i].offset,
				(unsigned long long)(g >> 10));
			free(rec);
			return -VIRGO_ENOTSUP;
		}
		at += runs[i].len;
	}
	if (n == 1) {
		views[0] = map_view(t->section, runs[0].offset - delta, delta + runs[0].len, NULL);
		ret = views[0] ? 0 : -VIRGO_ENOMEM;
		err = GetLastError();
	}
	for (int tries = 0; n > 1 && ret && tries < STITCH_TRIES; tries++) {
		/* Find a free range, give it back, and place the views in it;
		 * another thread may take part of it in between: try again. */
		uint8_t *base = VirtualAlloc(NULL, (SIZE_T)at, MEM_RESERVE, PAGE_NOACCESS);
		uint64_t pos = 0;
		uint32_t i;

		if (!base) {
			err = GetLastError();
			break;
		}
		VirtualFree(base, 0, MEM_RELEASE);
		for (i = 0; i < n; i++) {
			uint64_t off = i ? runs[i].offset : runs[0].offset - delta;
			uint64_t len = i ? runs[i].len : delta + runs[0].len;

			views[i] = map_view(t->section, off, len, base + pos);
			if (views[i] != base + pos) {
				err = GetLastError();
				break;
			}
			pos += len;
		}
		if (i == n) {
			ret = 0;
			break;
		}
		if (views[i]) {
			UnmapViewOfFile(views[i]);
		} else if (err != ERROR_INVALID_ADDRESS) {
			unmap_views(views, i);
			memset(views, 0, sizeof(*views) * n);
			break;
		}
		unmap_views(views, i);
		memset(views, 0, sizeof(*views) * n);
	}
	if (ret) {
		vtp_log(VTP_LOG_ERROR, "virgo: %s: cannot map resource %u: no view of %llu bytes (Win32 error %lu)", t->peer,
			handle, (unsigned long long)total, (unsigned long)err);
		free(rec);
		return ret;
	}
	rec->n = n;
	*addr = (uint64_t)(uintptr_t)((uint8_t *)views[0] + delta);
	*out = rec;
	return 0;
}

/* A MAP reply (client.c parsed it): its runs, merged where they follow
 * each other in the file, as views of the file's section. */
static int map_reply(void *ctx, uint32_t handle, const struct wire_map_reply *wr, const char *path, uint64_t *addr,
		     void **priv)
{
	struct vtp *t = ctx;
	struct virgo_wire_run *runs;
	struct vtp_views *rec = NULL;
	uint32_t n = 0;
	int ret;

	if (!path[0]) {
		/* No path: a UNIX-socket reply, which would carry an fd. */
		vtp_log(VTP_LOG_ERROR, "virgo: %s: the host's MAP reply names no file that this process can open", t->peer);
		return -VIRGO_EPROTO;
	}
	runs = malloc(sizeof(*runs) * wr->map.nruns);
	if (!runs)
		return -VIRGO_ENOMEM;
	/* Runs that follow each other in the file are one run to Windows. */
	for (uint32_t i = 0; i < wr->map.nruns; i++) {
		struct virgo_wire_run r = wire_map_run(wr, i);

		if (n && runs[n - 1].offset + runs[n - 1].len == r.offset)
			runs[n - 1].len += r.len;
		else
			runs[n++] = r;
	}
	ret = get_section(t, handle, path, wr->map.object_size);
	if (!ret)
		ret = map_runs(t, handle, runs, n, wr->total, addr, &rec);
	free(runs);
	*priv = rec;
	return ret;
}

static const struct wire_client_ops client_ops = { .map = map_reply, .unmap = unmap_record, .dropped = dropped };

static int socket_ioctl(struct vtp *t, uint32_t op, void *arg)
{
	int ret;

	AcquireSRWLockExclusive(&t->lock);
	ret = wire_client_ioctl(&t->client, op, arg);
	ReleaseSRWLockExclusive(&t->lock);
	return ret;
}

/* ---- vtp.h ---------------------------------------------------------------------- */

int vtp_open(const char *spec, struct vtp **out)
{
	const char *s = spec;
	struct vtp *t;
	int ret;

	if (!out)
		return -VIRGO_EINVAL;
	*out = NULL;
	if (!s)
		s = getenv("VIRGO_TRANSPORT");
	if (s && !strncmp(s, "unix:", 5)) {
		vtp_log(VTP_LOG_ERROR, "virgo: transport '%s': UNIX sockets cannot carry mappings to Windows programs; "
				"use tcp:HOST:PORT", s);
		return -VIRGO_ENOTSUP;
	}
	if (s && *s && strcmp(s, "device") && strncmp(s, "device:", 7) && strncmp(s, "tcp:", 4)) {
		vtp_log(VTP_LOG_ERROR, "virgo: transport '%s' is none of device, device:PATH, tcp:HOST:PORT", s);
		return -VIRGO_EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -VIRGO_ENOMEM;
	InitializeSRWLock(&t->lock);
	t->sock = INVALID_SOCKET;
	t->dev = INVALID_HANDLE_VALUE;
	if (s && !strncmp(s, "tcp:", 4)) {
		SYSTEM_INFO si;

		t->kind = VTP_SOCKET;
		if (!winsock_up()) {
			vtp_log(VTP_LOG_ERROR, "virgo: %s: Winsock 2.2 is not available", s);
			free(t);
			return -VIRGO_ENODEV;
		}
		wire_client_init(&t->client, &(struct wire_io){ .send = send_full, .recv = recv_full, .now_ms = now_ms },
				 &client_ops, t, wire_slack_ms(getenv("VIRGO_TRANSPORT_TIMEOUT_MS")), MAX_OBJECT_PATH);
		GetSystemInfo(&si);
		t->granularity = si.dwAllocationGranularity ? si.dwAllocationGranularity : 65536u;
		ret = connect_tcp(t, s + 4);
	} else {
		t->kind = VTP_DEVICE;
		ret = open_device(t, s && !strncmp(s, "device:", 7) ? s + 7 : NULL);
	}
	if (ret) {
		vtp_close(t);
		return ret;
	}
	*out = t;
	return 0;
}

int vtp_ioctl(struct vtp *t, uint32_t op, void *arg)
{
	if (!t || !arg)
		return -VIRGO_EINVAL;
	if (!virgo_op_arg_size(op))
		return -VIRGO_ENOTSUP;
	return t->kind == VTP_DEVICE ? device_ioctl(t, op, arg) : socket_ioctl(t, op, arg);
}

void vtp_close(struct vtp *t)
{
	if (!t)
		return;
	/* Closing the device handle makes the driver undo this process's
	 * mappings (IRP_MJ_CLEANUP); over TCP the views are ours to undo. */
	if (t->dev != INVALID_HANDLE_VALUE)
		CloseHandle(t->dev);
	for (uint32_t i = 0; i < t->nevents; i++)
		CloseHandle(t->events[i]);
	if (t->kind == VTP_SOCKET)
		wire_client_close(&t->client);
	if (t->section)
		CloseHandle(t->section);
	if (t->sock != INVALID_SOCKET)
		closesocket(t->sock);
	free(t);
}
