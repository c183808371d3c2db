/* SPDX-License-Identifier: MIT */
/*
 * virgo-info: what a Windows program gets from virgo, asked through the same
 * paths an application uses, so that a user can tell in one run whether the
 * driver package works:
 *
 *   device   umd/transport (vtp_open(NULL): $VIRGO_TRANSPORT, else the
 *            kernel driver found with SetupAPI): the uAPI version, every
 *            GET_PARAM of include/virgo/uapi.h, and each capset's id,
 *            highest version and size (GET_CAPS);
 *   OpenGL   opengl32.dll as a program finds it (the app-local Mesa
 *            beside the .exe, else Windows' own with the registered ICD),
 *            or with --system Windows' own from System32 whatever lies
 *            beside the .exe: a hidden window, a legacy context, then a
 *            core context through wglCreateContextAttribsARB when the ICD
 *            offers it; the four GL strings and the extension count of each.
 *   system   with --system, also what decides whether Windows' opengl32
 *            loads virgo: the OpenGLDrivers\MSOGL registration (and whether
 *            its DLL is in System32) and GALLIUM_DRIVER in this process and
 *            in the machine's and the user's environment.
 *
 * opengl32.dll is loaded at run time, not imported: an import would always
 * bind the copy beside the .exe, and --system could not look past it.
 *
 * The device is asked first and directly: if it cannot be reached, the GL
 * part would only fail later inside the ICD with a vaguer message.
 *
 * Exit status (also in --help): 0 all fine; 1 no device; 2 bad arguments;
 * 3 no OpenGL context; 4 a context, but not virgo's (another ICD, or
 * Windows' "GDI Generic" software renderer). Failures end with one line on
 * stderr starting "virgo-info: ".
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <GL/gl.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virgo/uapi.h>

#include "vtp.h"

#ifndef VIRGO_INFO_VERSION
#define VIRGO_INFO_VERSION "0"
#endif

/* Newer than GL 1.1's gl.h, which is all Windows promises. */
#define VI_GL_SHADING_LANGUAGE_VERSION 0x8B8C
#define VI_GL_NUM_EXTENSIONS 0x821D
#define VI_WGL_CONTEXT_MAJOR_VERSION_ARB 0x2091
#define VI_WGL_CONTEXT_MINOR_VERSION_ARB 0x2092
#define VI_WGL_CONTEXT_PROFILE_MASK_ARB 0x9126
#define VI_WGL_CONTEXT_CORE_PROFILE_BIT_ARB 0x0001

typedef HGLRC(WINAPI *create_attribs_fn)(HDC, HGLRC, const int *);

/* The opengl32.dll functions virgo-info calls, from the module it chose. */
static struct {
	HMODULE module;
	HGLRC(WINAPI *CreateContext)(HDC);
	BOOL(WINAPI *MakeCurrent)(HDC, HGLRC);
	BOOL(WINAPI *DeleteContext)(HGLRC);
	PROC(WINAPI *GetProcAddress)(LPCSTR);
	const GLubyte *(WINAPI *GetString)(GLenum);
	void(WINAPI *GetIntegerv)(GLenum, GLint *);
	GLenum(WINAPI *GetError)(void);
} gl;

enum exit_code {
	EXIT_OK = 0,
	EXIT_NO_DEVICE = 1,
	EXIT_USAGE = 2,
	EXIT_NO_CONTEXT = 3,
	EXIT_NOT_VIRGO = 4,
};

/* ---- what is gathered ------------------------------------------------------------ */

static const struct {
	uint32_t id;
	const char *key;  /* JSON */
	const char *text; /* text output */
	bool boolean;
} params[] = {
	{ VIRGO_PARAM_UAPI_VERSION, "uapi_version", "uAPI version", false },
	{ VIRGO_PARAM_3D_FEATURES, "3d_features", "3D (virgl)", true },
	{ VIRGO_PARAM_CAPSET_QUERY_FIX, "capset_query_fix", "capset query fix", true },
	{ VIRGO_PARAM_RESOURCE_BLOB, "resource_blob", "resource blob", true },
	{ VIRGO_PARAM_HOST_VISIBLE, "host_visible", "host-visible memory", true },
	{ VIRGO_PARAM_CROSS_DEVICE, "cross_device", "cross-device", true },
	{ VIRGO_PARAM_CONTEXT_INIT, "context_init", "context init", true },
	{ VIRGO_PARAM_SUPPORTED_CAPSET_IDS, "supported_capset_ids", "capset ids", false },
	{ VIRGO_PARAM_MAX_EXEC_SIZE, "max_exec_size", "max exec size", false },
	{ VIRGO_PARAM_NUM_SCANOUTS, "num_scanouts", "scanouts", false },
	{ VIRGO_PARAM_LIVE_RESOURCES, "live_resources", "live resources", false },
	{ VIRGO_PARAM_LIVE_HANDLES, "live_handles", "live handles", false },
};
#define NPARAMS (sizeof(params) / sizeof(params[0]))

/* The capset mask is 64 bits wide, so at most 64 capsets. */
#define MAX_CAPSETS 64
/* GET_CAPS refuses versions above the device's; the search stops here. */
#define MAX_CAPSET_VERSION 64u

struct capset {
	uint32_t id;
	uint32_t version;  /* highest the device accepts */
	uint32_t size;     /* bytes GET_CAPS copied at that version */
	int err;           /* 0, or the failing GET_CAPS's status */
};

struct device_info {
	const char *transport;
	uint64_t value[NPARAMS];
	int err[NPARAMS];
	struct capset capsets[MAX_CAPSETS];
	unsigned ncapsets;
};

#define GL_STR_MAX 512

struct gl_info {
	bool ok;
	char how[96];      /* how the context was made */
	char vendor[GL_STR_MAX];
	char renderer[GL_STR_MAX];
	char version[GL_STR_MAX];
	char glsl[GL_STR_MAX];
	long extensions;   /* -1: unknown */
};

#define MSOGL_KEY "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\OpenGLDrivers\\MSOGL"

struct system_info {
	bool asked;
	bool msogl;                 /* the key exists */
	char dll[MAX_PATH];         /* its DLL value */
	bool dll_in_system32;
	long driver_version, flags, version; /* -1: absent */
	char others[512];           /* the other OpenGLDrivers entries */
	char gd_process[128], gd_machine[128], gd_user[128]; /* GALLIUM_DRIVER */
};

struct info {
	bool system;                /* --system */
	struct system_info sys;
	bool have_device;
	struct device_info dev;
	bool gl_asked;
	char opengl32[MAX_PATH];  /* which opengl32.dll the loader picked */
	char icd[MAX_PATH];       /* virgo_icd64.dll, if loaded */
	int pixel_format;
	bool pf_generic;          /* Windows' software format, not an ICD's */
	struct gl_info legacy, core;
	char error[512];          /* the one-line reason for a failure */
};

/* ---- device ---------------------------------------------------------------------- */

static const char *capset_name(uint32_t id)
{
	/* include/virgo/virtio_gpu.h: VIRTIO_GPU_CAPSET_* */
	switch (id) {
	case 1: return "VIRGL";
	case 2: return "VIRGL2";
	case 3: return "GFXSTREAM";
	case 4: return "VENUS";
	case 5: return "CROSS_DOMAIN";
	case 6: return "DRM";
	default: return "unknown";
	}
}

static int get_caps(struct vtp *t, uint32_t id, uint32_t version, void *buf, uint32_t size, uint32_t *copied)
{
	struct virgo_get_caps c = {
		.cap_set_id = id,
		.cap_set_ver = version,
		.addr = (uint64_t)(uintptr_t)buf,
		.size = size,
	};
	int ret = vtp_ioctl(t, VIRGO_OP_GET_CAPS, &c);

	*copied = c.copied;
	return ret;
}

/* The uAPI names a capset by id and version but does not say the highest
 * version (the driver keeps the device's max_version to itself): GET_CAPS
 * with size 0 answers EINVAL above it, so the versions are counted up. */
static void query_capset(struct vtp *t, uint32_t id, struct capset *c, uint8_t *buf)
{
	uint32_t copied;

	c->id = id;
	for (uint32_t v = 1; v <= MAX_CAPSET_VERSION; v++) {
		if (get_caps(t, id, v, buf, 0, &copied))
			break;
		c->version = v;
	}
	if (!c->version) {
		c->err = -VIRGO_EINVAL;
		return;
	}
	c->err = get_caps(t, id, c->version, buf, VIRGO_MAX_CAPSET_SIZE, &copied);
	c->size = c->err ? 0 : copied;
}

static int query_device(struct info *in)
{
	struct device_info *d = &in->dev;
	struct vtp *t = NULL;
	uint64_t mask = 0;
	uint8_t *buf;
	int ret;

	d->transport = getenv("VIRGO_TRANSPORT");
	if (!d->transport || !*d->transport)
		d->transport = "the virgo kernel driver";
	ret = vtp_open(NULL, &t);
	if (ret) {
		snprintf(in->error, sizeof(in->error), "no virgo device reachable through %s: %s", d->transport,
			 virgo_strerror(ret));
		return ret;
	}
	for (size_t i = 0; i < NPARAMS; i++) {
		struct virgo_get_param p = { .param = params[i].id };

		d->err[i] = vtp_ioctl(t, VIRGO_OP_GET_PARAM, &p);
		d->value[i] = p.value;
		if (params[i].id == VIRGO_PARAM_SUPPORTED_CAPSET_IDS && !d->err[i])
			mask = p.value;
	}
	/* The device must answer the version: everything else is read with
	 * this uAPI's struct layouts. */
	if (d->err[0]) {
		snprintf(in->error, sizeof(in->error), "the virgo device does not answer GET_PARAM: %s",
			 virgo_strerror(d->err[0]));
		vtp_close(t);
		return d->err[0];
	}
	buf = malloc(VIRGO_MAX_CAPSET_SIZE);
	if (!buf) {
		snprintf(in->error, sizeof(in->error), "out of memory");
		vtp_close(t);
		return -VIRGO_ENOMEM;
	}
	for (uint32_t id = 0; id < 64 && d->ncapsets < MAX_CAPSETS; id++)
		if (mask & (1ull << id))
			query_capset(t, id, &d->capsets[d->ncapsets++], buf);
	free(buf);
	/* Closed before the GL part: the ICD opens its own handle, and the
	 * live-handle count above should not include a second one of ours. */
	vtp_close(t);
	in->have_device = true;
	return 0;
}

/* ---- OpenGL ---------------------------------------------------------------------- */

static LRESULT CALLBACK wndproc(HWND w, UINT msg, WPARAM wp, LPARAM lp)
{
	return DefWindowProcA(w, msg, wp, lp);
}

static void copy_gl_string(char *dst, GLenum name)
{
	const GLubyte *s = gl.GetString(name);

	snprintf(dst, GL_STR_MAX, "%s", s ? (const char *)s : "");
}

static long count_words(const char *s)
{
	long n = 0;

	for (bool in_word = false; *s; s++) {
		bool space = *s == ' ';

		if (!space && !in_word)
			n++;
		in_word = !space;
	}
	return n;
}

/* The strings of the current context. A legacy context lists its extensions
 * in one string; a core context has no such string, only a count. */
static void read_gl(struct gl_info *g, bool core)
{
	GLint n = -1;

	copy_gl_string(g->vendor, GL_VENDOR);
	copy_gl_string(g->renderer, GL_RENDERER);
	copy_gl_string(g->version, GL_VERSION);
	copy_gl_string(g->glsl, VI_GL_SHADING_LANGUAGE_VERSION);
	if (core) {
		gl.GetIntegerv(VI_GL_NUM_EXTENSIONS, &n);
		g->extensions = gl.GetError() == GL_NO_ERROR ? n : -1;
	} else {
		const GLubyte *e = gl.GetString(GL_EXTENSIONS);

		g->extensions = e ? count_words((const char *)e) : -1;
	}
	g->ok = true;
}

static void module_path(const char *name, char *out)
{
	HMODULE m = GetModuleHandleA(name);

	out[0] = 0;
	if (m && !GetModuleFileNameA(m, out, MAX_PATH))
		out[0] = 0;
}

/* A core context: the newest 4.x the ICD makes, else 3.3 / 3.2 (the
 * ARB_create_context rules let an ICD return a newer version than asked,
 * so GL_VERSION says what was really made). */
static HGLRC create_core(HDC dc, create_attribs_fn create, char *how, size_t n)
{
	static const int versions[][2] = {
		{ 4, 6 }, { 4, 5 }, { 4, 4 }, { 4, 3 }, { 4, 2 }, { 4, 1 }, { 4, 0 }, { 3, 3 }, { 3, 2 },
	};

	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		const int attribs[] = {
			VI_WGL_CONTEXT_MAJOR_VERSION_ARB, versions[i][0],
			VI_WGL_CONTEXT_MINOR_VERSION_ARB, versions[i][1],
			VI_WGL_CONTEXT_PROFILE_MASK_ARB, VI_WGL_CONTEXT_CORE_PROFILE_BIT_ARB,
			0,
		};
		HGLRC rc = create(dc, NULL, attribs);

		if (rc) {
			snprintf(how, n, "wglCreateContextAttribsARB, %d.%d core requested", versions[i][0],
				 versions[i][1]);
			return rc;
		}
	}
	return NULL;
}

/* opengl32.dll: as a program would find it (the .exe's folder first), or
 * with --system the one in System32 by its full path. */
static bool load_gl(struct info *in)
{
	char path[MAX_PATH];

	if (in->system) {
		UINT n = GetSystemDirectoryA(path, MAX_PATH);

		if (!n || n + 14 > MAX_PATH)
			strcpy(path, "C:\\Windows\\System32");
		strcat(path, "\\opengl32.dll");
	} else {
		strcpy(path, "opengl32.dll");
	}
	gl.module = LoadLibraryA(path);
	if (!gl.module) {
		snprintf(in->error, sizeof(in->error), "no OpenGL: cannot load %s (Win32 error %lu)", path,
			 GetLastError());
		return false;
	}
#define GL_FN(field, name) (gl.field = (void *)GetProcAddress(gl.module, name)) != NULL
	if (GL_FN(CreateContext, "wglCreateContext") && GL_FN(MakeCurrent, "wglMakeCurrent") &&
	    GL_FN(DeleteContext, "wglDeleteContext") && GL_FN(GetProcAddress, "wglGetProcAddress") &&
	    GL_FN(GetString, "glGetString") && GL_FN(GetIntegerv, "glGetIntegerv") && GL_FN(GetError, "glGetError"))
		return true;
#undef GL_FN
	snprintf(in->error, sizeof(in->error), "no OpenGL: %s lacks the wgl/gl 1.1 functions", path);
	return false;
}

/* ---- the system-wide path --------------------------------------------------------- */

static long reg_dword(HKEY k, const char *name)
{
	DWORD v = 0, size = sizeof(v);

	return RegGetValueA(k, NULL, name, RRF_RT_REG_DWORD, NULL, &v, &size) == ERROR_SUCCESS ? (long)v : -1;
}

static void reg_string(HKEY root, const char *key, const char *name, char *out, DWORD size)
{
	out[0] = 0;
	if (RegGetValueA(root, key, name, RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ | RRF_NOEXPAND, NULL, out, &size) !=
	    ERROR_SUCCESS)
		out[0] = 0;
}

static void query_system(struct info *in)
{
	struct system_info *s = &in->sys;
	char path[MAX_PATH], name[256];
	HKEY k;
	UINT n;

	s->asked = true;
	s->driver_version = s->flags = s->version = -1;
	if (RegOpenKeyExA(HKEY_LOCAL_MACHINE, MSOGL_KEY, 0, KEY_READ | KEY_WOW64_64KEY, &k) == ERROR_SUCCESS) {
		s->msogl = true;
		reg_string(k, NULL, "DLL", s->dll, sizeof(s->dll));
		s->driver_version = reg_dword(k, "DriverVersion");
		s->flags = reg_dword(k, "Flags");
		s->version = reg_dword(k, "Version");
		RegCloseKey(k);
	}
	n = GetSystemDirectoryA(path, MAX_PATH);
	if (s->dll[0] && !strchr(s->dll, '\\') && n && n + strlen(s->dll) + 2 < MAX_PATH) {
		strcat(path, "\\");
		strcat(path, s->dll);
		s->dll_in_system32 = GetFileAttributesA(path) != INVALID_FILE_ATTRIBUTES;
	} else if (s->dll[0]) {
		s->dll_in_system32 = GetFileAttributesA(s->dll) != INVALID_FILE_ATTRIBUTES;
	}
	if (RegOpenKeyExA(HKEY_LOCAL_MACHINE, "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\OpenGLDrivers", 0,
			  KEY_READ | KEY_WOW64_64KEY, &k) == ERROR_SUCCESS) {
		for (DWORD i = 0;; i++) {
			DWORD len = sizeof(name);

			if (RegEnumKeyExA(k, i, name, &len, NULL, NULL, NULL, NULL) != ERROR_SUCCESS)
				break;
			if (!_stricmp(name, "MSOGL") || strlen(s->others) + len + 3 >= sizeof(s->others))
				continue;
			if (s->others[0])
				strcat(s->others, ", ");
			strcat(s->others, name);
		}
		RegCloseKey(k);
	}
	if (!GetEnvironmentVariableA("GALLIUM_DRIVER", s->gd_process, sizeof(s->gd_process)))
		s->gd_process[0] = 0;
	reg_string(HKEY_LOCAL_MACHINE, "SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment",
		   "GALLIUM_DRIVER", s->gd_machine, sizeof(s->gd_machine));
	reg_string(HKEY_CURRENT_USER, "Environment", "GALLIUM_DRIVER", s->gd_user, sizeof(s->gd_user));
}

static int query_gl(struct info *in)
{
	static const char cls_name[] = "virgo-info";
	WNDCLASSEXA wc = {
		.cbSize = sizeof(wc),
		.style = CS_OWNDC,  /* one DC for the window's life, as WGL wants */
		.lpfnWndProc = wndproc,
		.hInstance = GetModuleHandleA(NULL),
		.lpszClassName = cls_name,
	};
	PIXELFORMATDESCRIPTOR pfd = {
		.nSize = sizeof(pfd),
		.nVersion = 1,
		.dwFlags = PFD_DRAW_TO_WINDOW | PFD_SUPPORT_OPENGL | PFD_DOUBLEBUFFER,
		.iPixelType = PFD_TYPE_RGBA,
		.cColorBits = 32,
		.cDepthBits = 24,
		.cStencilBits = 8,
		.iLayerType = PFD_MAIN_PLANE,
	};
	HWND wnd = NULL;
	HDC dc = NULL;
	HGLRC legacy = NULL, core = NULL;
	create_attribs_fn create = NULL;
	int ret = EXIT_NO_CONTEXT;

	in->gl_asked = true;
	if (!load_gl(in))
		return EXIT_NO_CONTEXT;
	if (!RegisterClassExA(&wc)) {
		snprintf(in->error, sizeof(in->error), "no OpenGL context: RegisterClassEx failed (Win32 error %lu)",
			 GetLastError());
		return EXIT_NO_CONTEXT;
	}
	/* Never shown: WGL needs a window's DC, not a visible window. */
	wnd = CreateWindowExA(0, cls_name, "virgo-info", WS_OVERLAPPEDWINDOW | WS_CLIPCHILDREN | WS_CLIPSIBLINGS, 0, 0,
			      64, 64, NULL, NULL, wc.hInstance, NULL);
	if (!wnd) {
		snprintf(in->error, sizeof(in->error), "no OpenGL context: CreateWindowEx failed (Win32 error %lu)",
			 GetLastError());
		goto out;
	}
	dc = GetDC(wnd);
	in->pixel_format = dc ? ChoosePixelFormat(dc, &pfd) : 0;
	if (!in->pixel_format) {
		snprintf(in->error, sizeof(in->error),
			 "no OpenGL context: no pixel format with RGBA, double buffer and depth (Win32 error %lu)",
			 GetLastError());
		goto out;
	}
	DescribePixelFormat(dc, in->pixel_format, sizeof(pfd), &pfd);
	in->pf_generic = (pfd.dwFlags & PFD_GENERIC_FORMAT) != 0;
	if (!SetPixelFormat(dc, in->pixel_format, &pfd)) {
		snprintf(in->error, sizeof(in->error), "no OpenGL context: SetPixelFormat(%d) failed (Win32 error %lu)",
			 in->pixel_format, GetLastError());
		goto out;
	}
	legacy = gl.CreateContext(dc);
	if (!legacy || !gl.MakeCurrent(dc, legacy)) {
		snprintf(in->error, sizeof(in->error), "no OpenGL context: %s failed (Win32 error %lu)",
			 legacy ? "wglMakeCurrent" : "wglCreateContext", GetLastError());
		goto out;
	}
	/* Both are loaded now: the loader has resolved the ICD. */
	if (!GetModuleFileNameA(gl.module, in->opengl32, MAX_PATH))
		in->opengl32[0] = 0;
	module_path("virgo_icd64.dll", in->icd);
	snprintf(in->legacy.how, sizeof(in->legacy.how), "wglCreateContext");
	read_gl(&in->legacy, false);

	create = (create_attribs_fn)(void (*)(void))gl.GetProcAddress("wglCreateContextAttribsARB");
	if (create) {
		core = create_core(dc, create, in->core.how, sizeof(in->core.how));
		if (!core)
			snprintf(in->core.how, sizeof(in->core.how), "wglCreateContextAttribsARB made no 3.2+ core context");
		else if (!gl.MakeCurrent(dc, core))
			snprintf(in->core.how, sizeof(in->core.how), "wglMakeCurrent failed on the core context (Win32 error %lu)",
				 GetLastError());
		else
			read_gl(&in->core, true);
	} else {
		snprintf(in->core.how, sizeof(in->core.how), "no wglCreateContextAttribsARB");
	}
	gl.MakeCurrent(NULL, NULL);

	if (strncmp(in->legacy.renderer, "virgo", 5) != 0 && in->system) {
		snprintf(in->error, sizeof(in->error),
			 "the OpenGL context is not virgo's (GL_RENDERER \"%s\"): Windows' opengl32.dll did not load "
			 "virgo_icd64.dll. %s",
			 in->legacy.renderer,
			 !in->sys.msogl ? "OpenGLDrivers\\MSOGL is missing: run install.cmd"
			 : strcmp(in->sys.dll, "virgo_icd64.dll") ? "OpenGLDrivers\\MSOGL names another DLL: install.cmd -Force"
			 : !in->sys.dll_in_system32 ? "virgo_icd64.dll is not in System32: run install.cmd again"
			 : "The registration is in place: the display adapter's own driver may name another ICD, "
			   "which Windows asks first; the app-local way works regardless");
		ret = EXIT_NOT_VIRGO;
	} else if (strncmp(in->legacy.renderer, "virgo", 5) != 0) {
		snprintf(in->error, sizeof(in->error),
			 "the OpenGL context is not virgo's (GL_RENDERER \"%s\"): copy opengl32.dll and "
			 "virgo_icd64.dll beside the program, or register the ICD (install.cmd)",
			 in->legacy.renderer);
		ret = EXIT_NOT_VIRGO;
	} else {
		ret = EXIT_OK;
	}
out:
	if (core)
		gl.DeleteContext(core);
	if (legacy)
		gl.DeleteContext(legacy);
	if (dc)
		ReleaseDC(wnd, dc);
	if (wnd)
		DestroyWindow(wnd);
	UnregisterClassA(cls_name, wc.hInstance);
	return ret;
}

/* ---- output ---------------------------------------------------------------------- */

static void print_capset_mask(uint64_t mask)
{
	const char *sep = " (";

	printf("%#" PRIx64, mask);
	for (uint32_t id = 0; id < 64; id++) {
		if (mask & (1ull << id)) {
			printf("%s%s", sep, capset_name(id));
			sep = ", ";
		}
	}
	if (mask)
		printf(")");
}

static void print_dword(const char *name, long v)
{
	if (v < 0)
		printf("  %-22s (absent)\n", name);
	else
		printf("  %-22s %ld\n", name, v);
}

static void print_gd(const char *where, const char *v)
{
	printf("  GALLIUM_DRIVER %-7s %s\n", where, v[0] ? v : "(not set)");
}

static void print_system(const struct system_info *s)
{
	printf("system-wide OpenGL (Windows' opengl32.dll and the registered ICD)\n");
	if (!s->msogl) {
		printf("  OpenGLDrivers\\MSOGL   (missing: install.cmd registers virgo there)\n");
	} else {
		printf("  OpenGLDrivers\\MSOGL   DLL=%s%s\n", s->dll[0] ? s->dll : "(absent)",
		       !s->dll[0] ? "" : s->dll_in_system32 ? " (in System32)" : " (NOT in System32)");
		print_dword("  DriverVersion", s->driver_version);
		print_dword("  Flags", s->flags);
		print_dword("  Version", s->version);
	}
	printf("  other OpenGLDrivers    %s\n", s->others[0] ? s->others : "(none)");
	print_gd("here", s->gd_process);
	print_gd("machine", s->gd_machine);
	print_gd("user", s->gd_user);
	if ((s->gd_process[0] && strcmp(s->gd_process, "virgo")) || (s->gd_machine[0] && strcmp(s->gd_machine, "virgo")) ||
	    (s->gd_user[0] && strcmp(s->gd_user, "virgo")))
		printf("  (virgo's ICD ignores a GALLIUM_DRIVER it does not have; another Mesa would take it)\n");
}

static void print_text(const struct info *in)
{
	const struct device_info *d = &in->dev;

	printf("virgo-info %s\n", VIRGO_INFO_VERSION);
	if (in->sys.asked)
		print_system(&in->sys);
	if (in->have_device) {
		printf("device (through %s)\n", d->transport);
		for (size_t i = 0; i < NPARAMS; i++) {
			printf("  %-22s ", params[i].text);
			if (d->err[i])
				printf("? (%s)", virgo_strerror(d->err[i]));
			else if (params[i].boolean)
				printf("%s", d->value[i] ? "yes" : "no");
			else if (params[i].id == VIRGO_PARAM_SUPPORTED_CAPSET_IDS)
				print_capset_mask(d->value[i]);
			else
				printf("%" PRIu64, d->value[i]);
			if (params[i].id == VIRGO_PARAM_UAPI_VERSION)
				printf(" (virgo-info speaks %u)", VIRGO_UAPI_VERSION);
			printf("\n");
		}
		printf("capsets\n");
		if (!d->ncapsets)
			printf("  none (the device offers no 3D)\n");
		for (unsigned i = 0; i < d->ncapsets; i++) {
			const struct capset *c = &d->capsets[i];

			printf("  id %u %-12s", c->id, capset_name(c->id));
			if (c->err)
				printf(" unreadable (%s)\n", virgo_strerror(c->err));
			else
				printf(" version %u, %u bytes\n", c->version, c->size);
		}
	}
	if (!in->gl_asked)
		return;
	printf("OpenGL\n");
	printf("  opengl32.dll           %s\n", in->opengl32[0] ? in->opengl32 : "(not loaded)");
	printf("  virgo_icd64.dll        %s\n", in->icd[0] ? in->icd : "(not loaded)");
	if (in->pixel_format)
		printf("  pixel format           %d (%s)\n", in->pixel_format,
		       in->pf_generic ? "Windows' generic software format" : "from the ICD");
	const struct gl_info *ctx[] = { &in->legacy, &in->core };
	const char *title[] = { "legacy context", "core context" };
	for (int i = 0; i < 2; i++) {
		const struct gl_info *g = ctx[i];

		if (!g->ok) {
			if (g->how[0])
				printf("%s: none (%s)\n", title[i], g->how);
			continue;
		}
		printf("%s (%s)\n", title[i], g->how);
		printf("  GL_VENDOR                   %s\n", g->vendor);
		printf("  GL_RENDERER                 %s\n", g->renderer);
		printf("  GL_VERSION                  %s\n", g->version);
		printf("  GL_SHADING_LANGUAGE_VERSION %s\n", g->glsl);
		if (g->extensions >= 0)
			printf("  extensions                  %ld\n", g->extensions);
		else
			printf("  extensions                  unknown\n");
	}
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);  /* bytes >= 0x80 pass: GL strings are ASCII, paths the ANSI code page */
	}
	putchar('"');
}

static void json_gl(const char *key, const struct gl_info *g)
{
	printf(",\n    \"%s\": ", key);
	if (!g->ok) {
		printf("null");
		return;
	}
	printf("{\"how\": ");
	json_string(g->how);
	printf(", \"vendor\": ");
	json_string(g->vendor);
	printf(", \"renderer\": ");
	json_string(g->renderer);
	printf(", \"version\": ");
	json_string(g->version);
	printf(", \"shading_language_version\": ");
	json_string(g->glsl);
	printf(", \"extensions\": %ld}", g->extensions);
}

static void print_json(const struct info *in)
{
	const struct device_info *d = &in->dev;

	printf("{\n  \"virgo_info\": ");
	json_string(VIRGO_INFO_VERSION);
	printf(",\n  \"device\": ");
	if (!in->have_device) {
		printf("null");
	} else {
		printf("{\n    \"transport\": ");
		json_string(d->transport);
		for (size_t i = 0; i < NPARAMS; i++) {
			printf(",\n    \"%s\": ", params[i].key);
			if (d->err[i])
				printf("null");
			else if (params[i].boolean)
				printf("%s", d->value[i] ? "true" : "false");
			else
				printf("%" PRIu64, d->value[i]);
		}
		printf(",\n    \"capsets\": [");
		for (unsigned i = 0; i < d->ncapsets; i++) {
			const struct capset *c = &d->capsets[i];

			printf("%s\n      {\"id\": %u, \"name\": \"%s\", ", i ? "," : "", c->id, capset_name(c->id));
			if (c->err)
				printf("\"error\": \"%s\"}", virgo_strerror(c->err));
			else
				printf("\"version\": %u, \"size\": %u}", c->version, c->size);
		}
		printf("%s]\n  }", d->ncapsets ? "\n    " : "");
	}
	printf(",\n  \"system\": ");
	if (!in->sys.asked) {
		printf("null");
	} else {
		const struct system_info *sy = &in->sys;

		printf("{\n    \"msogl\": ");
		if (!sy->msogl) {
			printf("null");
		} else {
			printf("{\"dll\": ");
			json_string(sy->dll);
			printf(", \"dll_in_system32\": %s, \"driver_version\": %ld, \"flags\": %ld, \"version\": %ld}",
			       sy->dll_in_system32 ? "true" : "false", sy->driver_version, sy->flags, sy->version);
		}
		printf(",\n    \"other_opengl_drivers\": ");
		json_string(sy->others);
		printf(",\n    \"gallium_driver\": {\"process\": ");
		json_string(sy->gd_process);
		printf(", \"machine\": ");
		json_string(sy->gd_machine);
		printf(", \"user\": ");
		json_string(sy->gd_user);
		printf("}\n  }");
	}
	printf(",\n  \"opengl\": ");
	if (!in->gl_asked) {
		printf("null");
	} else {
		printf("{\n    \"opengl32\": ");
		json_string(in->opengl32);
		printf(",\n    \"icd\": ");
		json_string(in->icd);
		printf(",\n    \"pixel_format\": %d, \"pixel_format_generic\": %s", in->pixel_format,
		       in->pf_generic ? "true" : "false");
		json_gl("legacy", &in->legacy);
		json_gl("core", &in->core);
		printf("\n  }");
	}
	printf(",\n  \"error\": ");
	if (in->error[0])
		json_string(in->error);
	else
		printf("null");
	printf("\n}\n");
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: virgo-info [--system] [--json] [--no-gl]\n"
		"\n"
		"Prints what virgo offers this machine: the device (uAPI version, features,\n"
		"capsets), then the OpenGL strings of a legacy and a core context.\n"
		"\n"
		"  --system  Windows' own opengl32.dll from System32 (the way every program\n"
		"            without a copy beside it goes), and the MSOGL registration and\n"
		"            GALLIUM_DRIVER that decide whether it loads virgo\n"
		"  --json    one JSON object on stdout instead of text\n"
		"  --no-gl   the device only; no window, no OpenGL context\n"
		"  --help    this text\n"
		"\n"
		"The device is the virgo kernel driver, or VIRGO_TRANSPORT (tcp:HOST:PORT:\n"
		"virgo-host, for testing under Wine). OpenGL is whatever opengl32.dll this\n"
		"program loads: virgo's app-local one beside it, else Windows' with the\n"
		"registered ICD.\n"
		"\n"
		"Exit status: 0 fine; 1 no device; 2 bad arguments; 3 no OpenGL context;\n"
		"4 an OpenGL context that is not virgo's.\n");
}

int main(int argc, char **argv)
{
	static struct info in;  /* large: not on the stack */
	bool json = false, want_gl = true;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--no-gl")) {
			want_gl = false;
		} else if (!strcmp(argv[i], "--system")) {
			in.system = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") || !strcmp(argv[i], "/?")) {
			usage(stdout);
			return EXIT_OK;
		} else {
			fprintf(stderr, "virgo-info: unknown argument '%s' (try --help)\n", argv[i]);
			return EXIT_USAGE;
		}
	}

	if (in.system)
		query_system(&in);
	ret = query_device(&in) ? EXIT_NO_DEVICE : EXIT_OK;
	if (ret == EXIT_OK && want_gl)
		ret = query_gl(&in);

	if (json)
		print_json(&in);
	else
		print_text(&in);
	fflush(stdout);
	if (in.error[0])
		fprintf(stderr, "virgo-info: %s\n", in.error);
	return ret;
}
