/* SPDX-License-Identifier: MIT */
/*
 * gl-oom: what a GL program sees when virgo-host's host-memory budget
 * refuses a resource (umd/mesa/smoke.sh runs it against a virgo-host
 * started with --max-hostmem BUDGET_MIB). A buffer larger than the budget
 * must fail with GL_OUT_OF_MEMORY, and the context must go on working: a
 * small buffer is made, and a clear of an FBO reads back right.
 *
 *   gl-oom BUDGET_MIB      exit 0 when all holds; says what did not
 */
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GL/gl.h>
#include <GL/glext.h>
#include <stdio.h>
#include <stdlib.h>

#define FAIL(...) (fprintf(stderr, "gl-oom: " __VA_ARGS__), fputc('\n', stderr), 1)

static PFNGLGENBUFFERSPROC gen_buffers;
static PFNGLBINDBUFFERPROC bind_buffer;
static PFNGLBUFFERDATAPROC buffer_data;
static PFNGLDELETEBUFFERSPROC delete_buffers;
static PFNGLGENFRAMEBUFFERSPROC gen_framebuffers;
static PFNGLBINDFRAMEBUFFERPROC bind_framebuffer;
static PFNGLGENRENDERBUFFERSPROC gen_renderbuffers;
static PFNGLBINDRENDERBUFFERPROC bind_renderbuffer;
static PFNGLRENDERBUFFERSTORAGEPROC renderbuffer_storage;
static PFNGLFRAMEBUFFERRENDERBUFFERPROC framebuffer_renderbuffer;
static PFNGLCHECKFRAMEBUFFERSTATUSPROC check_framebuffer_status;

static int egl_start(void)
{
	PFNEGLGETPLATFORMDISPLAYEXTPROC get_display =
		(PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
	const EGLint cfg_attr[] = { EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT,
				    EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_NONE };
	const EGLint ctx_attr[] = { EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 3,
				    EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT, EGL_NONE };
	EGLDisplay dpy;
	EGLContext ctx;
	EGLConfig cfg;
	EGLint n = 0;

	if (!get_display)
		return FAIL("no eglGetPlatformDisplayEXT");
	dpy = get_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
	if (dpy == EGL_NO_DISPLAY || !eglInitialize(dpy, NULL, NULL))
		return FAIL("no surfaceless EGL display (%#x)", eglGetError());
	if (!eglBindAPI(EGL_OPENGL_API) || !eglChooseConfig(dpy, cfg_attr, &cfg, 1, &n) || n < 1)
		return FAIL("no OpenGL config (%#x)", eglGetError());
	ctx = eglCreateContext(dpy, cfg, EGL_NO_CONTEXT, ctx_attr);
	if (ctx == EGL_NO_CONTEXT || !eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx))
		return FAIL("no OpenGL 3.3 core context (%#x)", eglGetError());
#define GET(var, name) var = (void *)eglGetProcAddress(name)
	GET(gen_buffers, "glGenBuffers");
	GET(bind_buffer, "glBindBuffer");
	GET(buffer_data, "glBufferData");
	GET(delete_buffers, "glDeleteBuffers");
	GET(gen_framebuffers, "glGenFramebuffers");
	GET(bind_framebuffer, "glBindFramebuffer");
	GET(gen_renderbuffers, "glGenRenderbuffers");
	GET(bind_renderbuffer, "glBindRenderbuffer");
	GET(renderbuffer_storage, "glRenderbufferStorage");
	GET(framebuffer_renderbuffer, "glFramebufferRenderbuffer");
	GET(check_framebuffer_status, "glCheckFramebufferStatus");
#undef GET
	return 0;
}

int main(int argc, char **argv)
{
	long budget_mib = argc == 2 ? atol(argv[1]) : 0;
	GLuint buf[2], fb, rb;
	GLenum err;
	unsigned char px[4] = { 0 };

	if (budget_mib <= 0)
		return FAIL("usage: gl-oom BUDGET_MIB (virgo-host's --max-hostmem)");
	if (egl_start())
		return 1;
	printf("gl-oom: renderer %s\n", (const char *)glGetString(GL_RENDERER));
	gen_buffers(2, buf);
	while (glGetError() != GL_NO_ERROR)
		;
	bind_buffer(GL_ARRAY_BUFFER, buf[0]);
	buffer_data(GL_ARRAY_BUFFER, (GLsizeiptr)(budget_mib + 1) << 20, NULL, GL_STATIC_DRAW);
	err = glGetError();
	if (err != GL_OUT_OF_MEMORY)
		return FAIL("a buffer of %ld MiB past a %ld MiB budget: GL error %#x, not GL_OUT_OF_MEMORY",
			    budget_mib + 1, budget_mib, err);
	printf("gl-oom: %ld MiB buffer: GL_OUT_OF_MEMORY\n", budget_mib + 1);

	/* The context goes on: a small buffer, and a clear read back. */
	bind_buffer(GL_ARRAY_BUFFER, buf[1]);
	buffer_data(GL_ARRAY_BUFFER, 1 << 20, NULL, GL_STATIC_DRAW);
	err = glGetError();
	if (err != GL_NO_ERROR)
		return FAIL("a 1 MiB buffer after the refusal: GL error %#x", err);
	gen_framebuffers(1, &fb);
	gen_renderbuffers(1, &rb);
	bind_renderbuffer(GL_RENDERBUFFER, rb);
	renderbuffer_storage(GL_RENDERBUFFER, GL_RGBA8, 16, 16);
	bind_framebuffer(GL_FRAMEBUFFER, fb);
	framebuffer_renderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb);
	if (check_framebuffer_status(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE)
		return FAIL("the FBO is not complete");
	glClearColor(0.0f, 1.0f, 0.0f, 1.0f);
	glClear(GL_COLOR_BUFFER_BIT);
	glReadPixels(8, 8, 1, 1, GL_RGBA, GL_UNSIGNED_BYTE, px);
	if (px[0] != 0 || px[1] != 255 || px[2] != 0 || px[3] != 255)
		return FAIL("cleared green, read back %u,%u,%u,%u", px[0], px[1], px[2], px[3]);
	err = glGetError();
	if (err != GL_NO_ERROR)
		return FAIL("GL error %#x after the clear", err);
	delete_buffers(2, buf);
	printf("gl-oom: 1 MiB buffer made, FBO cleared and read back green\n");
	return 0;
}
