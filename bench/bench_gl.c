/* SPDX-License-Identifier: MIT */
/*
 * The GL workloads: one EGL-surfaceless program that runs unchanged on
 * Debian's Mesa (llvmpipe natively, or virpipe to virgl_test_server) and on
 * our Mesa with the virgo winsys; the environment picks the path.
 *
 *   virgo-bench gl WORKLOAD [--frames N] [--warmup N] [--wait-go]
 *
 * Each frame renders into an FBO and ends as a double-buffered swap chain
 * would: a fence after the frame, and a wait for the previous frame's fence,
 * so that the guest encodes frame N+1 while the host renders frame N but
 * never runs further ahead. --wait-go prints READY after the warm-up and
 * waits for a line on stdin before the counted frames: the scale test starts
 * many clients at once that way, and measures their idle memory meanwhile.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <EGL/egl.h>
#include <EGL/eglext.h>
#define GL_GLEXT_PROTOTYPES 1
#include <GL/glcorearb.h>

#include "bench.h"

#define FENCE_TIMEOUT_NS (30ull * 1000000000ull)

struct gl {
	EGLDisplay dpy;
	EGLContext ctx;
	GLuint fbo, rt;
	int w, h;
	/* Per-workload objects. */
	GLuint prog[4], loc[4], loc2[4], vao, vbo, vbo2, tex[8];
	uint8_t *pixels;   /* client memory: upload source or readback target */
	float *verts;
	size_t pixels_size;
	uint64_t touch;    /* readback bytes the program looked at */
};

struct workload {
	const char *name;
	const char *what;
	int w, h;
	unsigned frames;   /* counted frames by default */
	int (*init)(struct gl *g);
	void (*frame)(struct gl *g, unsigned i);
};

/* ---- GL helpers ------------------------------------------------------------ */

static GLuint shader(GLenum type, const char *src)
{
	GLuint s = glCreateShader(type);
	GLint ok = 0;

	glShaderSource(s, 1, &src, NULL);
	glCompileShader(s);
	glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
	if (!ok) {
		char log[2048];

		glGetShaderInfoLog(s, sizeof(log), NULL, log);
		fprintf(stderr, "virgo-bench: shader does not compile: %s\n", log);
		return 0;
	}
	return s;
}

static GLuint program(const char *vs, const char *fs)
{
	GLuint v = shader(GL_VERTEX_SHADER, vs), f = shader(GL_FRAGMENT_SHADER, fs), p;
	GLint ok = 0;

	if (!v || !f)
		return 0;
	p = glCreateProgram();
	glAttachShader(p, v);
	glAttachShader(p, f);
	glBindAttribLocation(p, 0, "pos");
	glLinkProgram(p);
	glDeleteShader(v);
	glDeleteShader(f);
	glGetProgramiv(p, GL_LINK_STATUS, &ok);
	if (!ok) {
		char log[2048];

		glGetProgramInfoLog(p, sizeof(log), NULL, log);
		fprintf(stderr, "virgo-bench: program does not link: %s\n", log);
		return 0;
	}
	return p;
}

/* A VAO with one vec2 attribute at location 0 from a new VBO. */
static void vertex_buffer(struct gl *g, const float *data, size_t bytes, GLenum usage)
{
	glGenVertexArrays(1, &g->vao);
	glBindVertexArray(g->vao);
	glGenBuffers(1, &g->vbo);
	glBindBuffer(GL_ARRAY_BUFFER, g->vbo);
	glBufferData(GL_ARRAY_BUFFER, (GLsizeiptr)bytes, data, usage);
	glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, NULL);
	glEnableVertexAttribArray(0);
}

static const float quad_strip[8] = { -1, -1, 1, -1, -1, 1, 1, 1 };

/* A quad placed by one vec4 uniform: xy its centre, z its half size, w a
 * hue. Changing that uniform between draws is the point of draw-heavy. */
static const char *vs_rect =
	"#version 330 core\n"
	"in vec2 pos;\n"
	"uniform vec4 u_rect;\n"
	"out vec2 v_uv;\n"
	"out vec3 v_col;\n"
	"void main() {\n"
	"  gl_Position = vec4(pos * u_rect.z + u_rect.xy, 0.0, 1.0);\n"
	"  v_uv = pos * 0.5 + 0.5;\n"
	"  v_col = fract(vec3(u_rect.w, u_rect.w * 3.0, u_rect.w * 7.0));\n"
	"}\n";

static const char *fs_col =
	"#version 330 core\n"
	"in vec2 v_uv;\n"
	"in vec3 v_col;\n"
	"out vec4 o;\n"
	"void main() { o = vec4(v_col, 0.75); }\n";

/* ---- draw-heavy: 10,000 small draws a frame, a uniform change before each -- */

static int draw_init(struct gl *g)
{
	g->prog[0] = program(vs_rect, fs_col);
	if (!g->prog[0])
		return -1;
	g->loc[0] = (GLuint)glGetUniformLocation(g->prog[0], "u_rect");
	vertex_buffer(g, quad_strip, sizeof(quad_strip), GL_STATIC_DRAW);
	glUseProgram(g->prog[0]);
	return 0;
}

static void draw_frame(struct gl *g, unsigned i)
{
	glClearColor(0.1f, 0.1f, 0.2f, 1.0f);
	glClear(GL_COLOR_BUFFER_BIT);
	/* A 100 x 100 grid of 4-pixel quads. */
	for (int k = 0; k < 10000; k++) {
		float x = (float)(k % 100) * 0.02f - 0.99f, y = (float)(k / 100) * 0.02f - 0.99f;

		glUniform4f((GLint)g->loc[0], x, y, 0.008f, (float)(k + (int)i) * 0.001f);
		glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
	}
}

/* ---- state-heavy: program, texture and blend state change at every draw ---- */

static const char *fs_tex[4] = {
	"#version 330 core\n in vec2 v_uv; in vec3 v_col; uniform sampler2D t; out vec4 o;\n"
	"void main() { o = texture(t, v_uv) * vec4(v_col, 1.0); }\n",
	"#version 330 core\n in vec2 v_uv; in vec3 v_col; uniform sampler2D t; out vec4 o;\n"
	"void main() { o = vec4(texture(t, v_uv).rgb + v_col * 0.5, 0.5); }\n",
	"#version 330 core\n in vec2 v_uv; in vec3 v_col; uniform sampler2D t; out vec4 o;\n"
	"void main() { float l = dot(texture(t, v_uv).rgb, vec3(0.3, 0.59, 0.11)); o = vec4(l, l, l, 0.6); }\n",
	"#version 330 core\n in vec2 v_uv; in vec3 v_col; uniform sampler2D t; out vec4 o;\n"
	"void main() { o = vec4(1.0 - texture(t, v_uv.yx).rgb, 0.4); }\n",
};

static void blend_mode(int b)
{
	switch (b) {
	case 0:
		glDisable(GL_BLEND);
		break;
	case 1:
		glEnable(GL_BLEND);
		glBlendFunc(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA);
		break;
	case 2:
		glEnable(GL_BLEND);
		glBlendFunc(GL_ONE, GL_ONE);
		break;
	default:
		glEnable(GL_BLEND);
		glBlendFunc(GL_DST_COLOR, GL_ZERO);
		break;
	}
}

static int state_init(struct gl *g)
{
	static uint32_t texels[64 * 64];

	for (int p = 0; p < 4; p++) {
		g->prog[p] = program(vs_rect, fs_tex[p]);
		if (!g->prog[p])
			return -1;
		g->loc[p] = (GLuint)glGetUniformLocation(g->prog[p], "u_rect");
	}
	glGenTextures(8, g->tex);
	for (int t = 0; t < 8; t++) {
		/* A checker in one of eight colours, so that each texture differs. */
		for (int k = 0; k < 64 * 64; k++)
			texels[k] = ((k / 8 + k / 512) & 1) ? 0xff000000u | (0x1f3d5bu * (uint32_t)(t + 1)) : 0xffffffffu;
		glBindTexture(GL_TEXTURE_2D, g->tex[t]);
		glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, 64, 64, 0, GL_RGBA, GL_UNSIGNED_BYTE, texels);
		glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
		glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
	}
	vertex_buffer(g, quad_strip, sizeof(quad_strip), GL_STATIC_DRAW);
	return 0;
}

static void state_frame(struct gl *g, unsigned i)
{
	glDisable(GL_BLEND);
	glClearColor(0.3f, 0.2f, 0.1f, 1.0f);
	glClear(GL_COLOR_BUFFER_BIT);
	/* 2,000 draws on a 50 x 40 grid. The program follows k % 4, the texture
	 * (3k + i) % 8 and the blend mode (k + k/4) % 4: all three differ from
	 * one draw to the next. */
	for (int k = 0; k < 2000; k++) {
		int p = k % 4, t = (3 * k + (int)i) % 8, b = (k + k / 4) % 4;
		float x = (float)(k % 50) * 0.04f - 0.98f, y = (float)(k / 50) * 0.05f - 0.975f;

		glUseProgram(g->prog[p]);
		glBindTexture(GL_TEXTURE_2D, g->tex[t]);
		blend_mode(b);
		glUniform4f((GLint)g->loc[p], x, y, 0.02f, (float)k * 0.01f);
		glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
	}
}

/* ---- upload-heavy: a 1024 x 1024 RGBA texture and 1 MiB of vertices a frame */

#define UP_TEX      1024
#define UP_VBO      (1u << 20)
#define UP_CHUNK    (64u << 10)
#define UP_CHUNKS   (UP_VBO / UP_CHUNK)
#define UP_CHUNK_VX (UP_CHUNK / 8u)   /* vec2 vertices in a chunk */

static const char *vs_stream =
	"#version 330 core\n"
	"in vec2 pos;\n"
	"out vec2 v_uv;\n"
	"void main() { gl_Position = vec4(pos, 0.0, 1.0); v_uv = pos * 0.5 + 0.5; }\n";

static const char *fs_stream_tex =
	"#version 330 core\n in vec2 v_uv; uniform sampler2D t; out vec4 o;\n"
	"void main() { o = texture(t, v_uv); }\n";

static const char *fs_stream_col =
	"#version 330 core\n in vec2 v_uv; out vec4 o;\n"
	"void main() { o = vec4(v_uv, 1.0, 1.0); }\n";

static int upload_init(struct gl *g)
{
	g->prog[0] = program(vs_stream, fs_stream_tex);
	g->prog[1] = program(vs_stream, fs_stream_col);
	if (!g->prog[0] || !g->prog[1])
		return -1;
	g->pixels_size = (size_t)UP_TEX * UP_TEX * 4;
	g->pixels = malloc(g->pixels_size);
	g->verts = malloc(UP_VBO);
	if (!g->pixels || !g->verts)
		return -1;
	for (size_t k = 0; k < g->pixels_size; k++)
		g->pixels[k] = (uint8_t)(k * 7 + k / 4096);
	/* Two triangles at the start of each chunk (the rest is streamed and
	 * not drawn): the draws make each upload reach the host before them. */
	for (size_t k = 0; k < UP_VBO / sizeof(float); k++)
		g->verts[k] = 0.0f;
	glGenTextures(1, g->tex);
	glBindTexture(GL_TEXTURE_2D, g->tex[0]);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, UP_TEX, UP_TEX, 0, GL_RGBA, GL_UNSIGNED_BYTE, NULL);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
	/* The full-screen quad lives in its own VAO; the streamed VBO in another. */
	vertex_buffer(g, quad_strip, sizeof(quad_strip), GL_STATIC_DRAW);
	g->prog[2] = g->vao;
	g->vao = 0;
	vertex_buffer(g, NULL, UP_VBO, GL_STREAM_DRAW);
	return 0;
}

static void upload_frame(struct gl *g, unsigned i)
{
	/* Change a row so that every upload carries new texels. */
	memset(g->pixels + (size_t)(i % UP_TEX) * UP_TEX * 4, (int)(i & 0xff), (size_t)UP_TEX * 4);
	glBindTexture(GL_TEXTURE_2D, g->tex[0]);
	glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, UP_TEX, UP_TEX, GL_RGBA, GL_UNSIGNED_BYTE, g->pixels);
	glBindBuffer(GL_ARRAY_BUFFER, g->vbo);
	for (unsigned c = 0; c < UP_CHUNKS; c++) {
		float *v = g->verts + (size_t)c * UP_CHUNK_VX * 2;
		float cx = (float)(c % 4) * 0.5f - 0.75f, cy = (float)(c / 4) * 0.5f - 0.75f;
		float d = 0.1f + 0.1f * (float)((i + c) % 8) / 8.0f;
		const float tri[6] = { cx - d, cy - d, cx + d, cy - d, cx, cy + d };

		memcpy(v, tri, sizeof(tri));
		glBufferSubData(GL_ARRAY_BUFFER, (GLintptr)c * UP_CHUNK, UP_CHUNK, v);
	}
	glUseProgram(g->prog[0]);
	glBindVertexArray(g->prog[2]);
	glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
	glUseProgram(g->prog[1]);
	glBindVertexArray(g->vao);
	for (unsigned c = 0; c < UP_CHUNKS; c++)
		glDrawArrays(GL_TRIANGLES, (GLint)(c * UP_CHUNK_VX), 3);
}

/* ---- fill-heavy: full-screen passes of a costly fragment shader at 1080p --- */

static const float big_triangle[6] = { -1, -1, 3, -1, -1, 3 };

static const char *vs_full =
	"#version 330 core\n"
	"in vec2 pos;\n"
	"void main() { gl_Position = vec4(pos, 0.0, 1.0); }\n";

/* A small fractal fold: ten iterations of arithmetic and a dot product per
 * pixel, plus sin and cos, enough that shading dominates the frame. */
static const char *fs_fill =
	"#version 330 core\n"
	"uniform float u_t;\n"
	"out vec4 o;\n"
	"void main() {\n"
	"  vec2 p = gl_FragCoord.xy / vec2(960.0, 540.0) - 1.0;\n"
	"  vec3 c = vec3(0.0);\n"
	"  for (int k = 0; k < 10; k++) {\n"
	"    p = abs(p) / max(dot(p, p), 0.05) - vec2(0.9 + 0.05 * sin(u_t), 0.6);\n"
	"    c += vec3(abs(p.x), abs(p.y), length(p)) * 0.04;\n"
	"  }\n"
	"  o = vec4(fract(c + 0.5 * cos(u_t + c.zxy)), 1.0);\n"
	"}\n";

#define FILL_PASSES 2

static int fill_init(struct gl *g)
{
	g->prog[0] = program(vs_full, fs_fill);
	if (!g->prog[0])
		return -1;
	g->loc[0] = (GLuint)glGetUniformLocation(g->prog[0], "u_t");
	vertex_buffer(g, big_triangle, sizeof(big_triangle), GL_STATIC_DRAW);
	glUseProgram(g->prog[0]);
	return 0;
}

static void fill_frame(struct gl *g, unsigned i)
{
	for (int pass = 0; pass < FILL_PASSES; pass++) {
		glUniform1f((GLint)g->loc[0], (float)i * 0.1f + (float)pass * 0.37f);
		glDrawArrays(GL_TRIANGLES, 0, 3);
	}
}

/* ---- present: read the 1920 x 1080 frame back, as SwapBuffers does --------- */

static int present_init(struct gl *g)
{
	if (draw_init(g))
		return -1;
	g->pixels_size = (size_t)g->w * (size_t)g->h * 4;
	g->pixels = malloc(g->pixels_size);
	return g->pixels ? 0 : -1;
}

static void present_frame(struct gl *g, unsigned i)
{
	glClearColor((float)(i % 7) / 7.0f, 0.3f, 0.5f, 1.0f);
	glClear(GL_COLOR_BUFFER_BIT);
	glUniform4f((GLint)g->loc[0], (float)(i % 50) * 0.02f - 0.5f, 0.0f, 0.2f, (float)i * 0.01f);
	glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
	/* The whole frame into client memory, synchronously: the copy a
	 * presenter hands to the window system (GDI on Windows). */
	glReadPixels(0, 0, g->w, g->h, GL_RGBA, GL_UNSIGNED_BYTE, g->pixels);
	g->touch += g->pixels[((size_t)i * 4099u) % g->pixels_size];
}

static const struct workload workloads[] = {
	{ "draw", "10,000 draws a frame, a uniform change before each", 512, 512, 20, draw_init, draw_frame },
	{ "state", "2,000 draws a frame, program + texture + blend change before each", 512, 512, 60,
	  state_init, state_frame },
	{ "upload", "1024x1024 RGBA glTexSubImage2D + 16 x 64 KiB glBufferSubData a frame", 512, 512, 60,
	  upload_init, upload_frame },
	{ "fill", "2 full-screen passes of a 10-step fragment shader at 1920x1080", 1920, 1080, 20, fill_init,
	  fill_frame },
	{ "present", "1920x1080 frame read back into client memory every frame", 1920, 1080, 120,
	  present_init, present_frame },
};

/* ---- EGL ------------------------------------------------------------------- */

static int egl_start(struct gl *g)
{
	PFNEGLGETPLATFORMDISPLAYEXTPROC get_display =
		(PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
	const EGLint cfg_attr[] = { EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT,
				    EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_NONE };
	const EGLint ctx_attr[] = { EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 3,
				    EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
				    EGL_NONE };
	EGLConfig cfg;
	EGLint n = 0;

	if (!get_display) {
		fprintf(stderr, "virgo-bench: no eglGetPlatformDisplayEXT\n");
		return -1;
	}
	g->dpy = get_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
	if (g->dpy == EGL_NO_DISPLAY || !eglInitialize(g->dpy, NULL, NULL)) {
		fprintf(stderr, "virgo-bench: no surfaceless EGL display (error %#x)\n", eglGetError());
		return -1;
	}
	if (!eglBindAPI(EGL_OPENGL_API) || !eglChooseConfig(g->dpy, cfg_attr, &cfg, 1, &n) || n < 1) {
		fprintf(stderr, "virgo-bench: no OpenGL config (error %#x)\n", eglGetError());
		return -1;
	}
	g->ctx = eglCreateContext(g->dpy, cfg, EGL_NO_CONTEXT, ctx_attr);
	if (g->ctx == EGL_NO_CONTEXT || !eglMakeCurrent(g->dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, g->ctx)) {
		fprintf(stderr, "virgo-bench: no OpenGL 3.3 core context (error %#x)\n", eglGetError());
		return -1;
	}
	return 0;
}

static void egl_stop(struct gl *g)
{
	eglMakeCurrent(g->dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
	eglDestroyContext(g->dpy, g->ctx);
	eglTerminate(g->dpy);
}

static int target(struct gl *g)
{
	glGenTextures(1, &g->rt);
	glBindTexture(GL_TEXTURE_2D, g->rt);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, g->w, g->h, 0, GL_RGBA, GL_UNSIGNED_BYTE, NULL);
	glGenFramebuffers(1, &g->fbo);
	glBindFramebuffer(GL_FRAMEBUFFER, g->fbo);
	glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, g->rt, 0);
	if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE) {
		fprintf(stderr, "virgo-bench: the %dx%d render target is incomplete\n", g->w, g->h);
		return -1;
	}
	glViewport(0, 0, g->w, g->h);
	return 0;
}

/* One frame in flight at most: fence this frame, wait for the last one. */
static int pace(GLsync *prev)
{
	GLsync s = glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
	int ret = 0;

	glFlush();
	if (*prev) {
		if (glClientWaitSync(*prev, GL_SYNC_FLUSH_COMMANDS_BIT, FENCE_TIMEOUT_NS) == GL_TIMEOUT_EXPIRED) {
			fprintf(stderr, "virgo-bench: a frame took more than %llu s\n",
				FENCE_TIMEOUT_NS / 1000000000ull);
			ret = -1;
		}
		glDeleteSync(*prev);
	}
	*prev = s;
	return ret;
}

/* FNV-1a of the centre 64 x 64 pixels: the paths should agree. */
static uint64_t checksum(struct gl *g)
{
	static uint8_t px[64 * 64 * 4];
	uint64_t h = 0xcbf29ce484222325ull;

	glBindFramebuffer(GL_READ_FRAMEBUFFER, g->fbo);
	glReadPixels(g->w / 2 - 32, g->h / 2 - 32, 64, 64, GL_RGBA, GL_UNSIGNED_BYTE, px);
	for (size_t k = 0; k < sizeof(px); k++)
		h = (h ^ px[k]) * 0x100000001b3ull;
	return h;
}

/* The counted frames, in a function of their own so that valgrind's
 * callgrind can count just them (--toggle-collect=bench_counted_frames). */
static __attribute__((noinline)) int bench_counted_frames(struct gl *g, const struct workload *wl,
							  unsigned first, unsigned frames, GLsync *prev)
{
	for (unsigned i = 0; i < frames; i++) {
		wl->frame(g, first + i);
		if (pace(prev))
			return -1;
	}
	glFinish();
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: virgo-bench gl WORKLOAD [--frames N] [--warmup N] [--wait-go]\n"
			"workloads:\n");
	for (size_t k = 0; k < sizeof(workloads) / sizeof(workloads[0]); k++)
		fprintf(stderr, "  %-8s %s (%d frames)\n", workloads[k].name, workloads[k].what,
			workloads[k].frames);
}

int bench_gl_main(int argc, char **argv)
{
	const struct workload *wl = NULL;
	unsigned frames = 0, warmup = 2;
	bool wait_go = false;
	struct gl g = { 0 };
	struct bench_host_snap *h0 = calloc(2, sizeof(*h0)), *h1 = h0 + 1;
	char renderer[256], line[64];
	uint64_t t0, t1, sum;
	double c0, c1, hcpu;
	GLsync prev = 0;
	GLenum err;
	int rc = 1;

	if (argc < 2 || !h0) {
		usage();
		return 2;
	}
	for (size_t k = 0; k < sizeof(workloads) / sizeof(workloads[0]); k++)
		if (!strcmp(argv[1], workloads[k].name))
			wl = &workloads[k];
	for (int a = 2; a < argc; a++) {
		if (!strcmp(argv[a], "--frames") && a + 1 < argc)
			frames = (unsigned)strtoul(argv[++a], NULL, 10);
		else if (!strcmp(argv[a], "--warmup") && a + 1 < argc)
			warmup = (unsigned)strtoul(argv[++a], NULL, 10);
		else if (!strcmp(argv[a], "--wait-go"))
			wait_go = true;
		else
			wl = NULL;
	}
	if (!wl) {
		usage();
		return 2;
	}
	if (!frames)
		frames = wl->frames;
	g.w = wl->w;
	g.h = wl->h;
	if (egl_start(&g))
		return 1;
	snprintf(renderer, sizeof(renderer), "%s", (const char *)glGetString(GL_RENDERER));
	if (target(&g) || wl->init(&g)) {
		fprintf(stderr, "virgo-bench: %s: setup failed\n", wl->name);
		goto out;
	}
	/* Warm-up: shaders compiled and host objects created before timing. */
	for (unsigned i = 0; i < warmup; i++) {
		wl->frame(&g, i);
		if (pace(&prev))
			goto out;
	}
	glFinish();
	if (wait_go) {
		printf("READY\n");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			goto out;
	}

	bench_host_snap(h0);
	c0 = bench_self_cpu_s();
	t0 = bench_now_ns();
	if (bench_counted_frames(&g, wl, warmup, frames, &prev))
		goto out;
	t1 = bench_now_ns();
	c1 = bench_self_cpu_s();
	bench_host_snap(h1);
	if (prev)
		glDeleteSync(prev);

	sum = checksum(&g);
	err = glGetError();
	if (err != GL_NO_ERROR) {
		fprintf(stderr, "virgo-bench: %s: GL error %#x\n", wl->name, err);
		goto out;
	}
	hcpu = bench_host_cpu_delta(h0, h1);
	{
		struct bench_json j;
		double secs = (double)(t1 - t0) / 1e9;
		char hex[32];

		snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)sum);
		bench_json_begin(&j, stdout);
		bench_json_str(&j, "kind", "gl");
		bench_json_str(&j, "workload", wl->name);
		bench_json_str(&j, "renderer", renderer);
		bench_json_u64(&j, "frames", frames);
		bench_json_num(&j, "seconds", secs);
		bench_json_num(&j, "fps", frames / secs);
		bench_json_num(&j, "guest_cpu_ms_per_frame", (c1 - c0) * 1e3 / frames);
		bench_json_num(&j, "host_cpu_ms_per_frame", hcpu < 0 ? NAN : hcpu * 1e3 / frames);
		bench_json_u64(&j, "t_start_ns", t0);
		bench_json_u64(&j, "t_end_ns", t1);
		bench_json_str(&j, "pixels", hex);
		bench_json_end(&j);
	}
	rc = 0;
out:
	free(g.pixels);
	free(g.verts);
	free(h0);
	egl_stop(&g);
	return rc;
}
