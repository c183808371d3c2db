/* SPDX-License-Identifier: MIT */
/*
 * gl_checks.exe: a Windows GL application's life on a 4.3 core context,
 * checked step by step: the strings, a GLSL triangle, the depth buffer, a
 * texture, render-to-texture through an FBO, SwapBuffers, a window resize,
 * glGetError, teardown. Every check prints "PASS name" or "FAIL name: why";
 * the exit code is 0 only if all passed.
 *
 * Pixels are compared exactly: every colour is n/255, which any GL turns
 * back into n in an RGBA8 buffer, and every point checked lies well away
 * from an edge, so rasterisation rules cannot move it.
 *
 * The last frame (red, green, blue and yellow quadrants at the resized
 * size) stays on screen with --hold-ms for run-gl.sh's screenshot, which checks it is
 * there and right side up.
 *
 * VIRGO_EXPECT_RENDERER=PREFIX (e.g. "virgo (") makes the strings a check:
 * GL_RENDERER must start with it and GL_VERSION must be 4.3 or newer.
 */
#include "wglapp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIN_X 48
#define WIN_Y 48
#define WIN_W 320
#define WIN_H 240
#define RESIZED_W 400
#define RESIZED_H 300

static const uint8_t RED[4] = { 255, 0, 0, 255 };
static const uint8_t GREEN[4] = { 0, 255, 0, 255 };
static const uint8_t BLUE[4] = { 0, 0, 255, 255 };
static const uint8_t YELLOW[4] = { 255, 255, 0, 255 };
static const uint8_t BLACK[4] = { 0, 0, 0, 255 };
static const uint8_t CYAN[4] = { 0, 255, 255, 255 };
static const uint8_t MAGENTA[4] = { 255, 0, 255, 255 };
static const uint8_t WHITE[4] = { 255, 255, 255, 255 };
static const uint8_t GREY[4] = { 128, 128, 128, 255 };

/* Top-left, top-right, bottom-left, bottom-right. The frame before the
 * resize has none of the colours of the frame after it, so a screenshot
 * showing the older frame (stretched or not) cannot pass for the newer. */
static const uint8_t *const FIRST_FRAME[4] = { CYAN, MAGENTA, WHITE, GREY };
static const uint8_t *const LAST_FRAME[4] = { RED, GREEN, BLUE, YELLOW };

/* A solid colour from a uniform; positions in NDC with a depth. */
static const char *VS_COLOR = "#version 330 core\n"
			      "in vec3 pos;\n"
			      "void main() { gl_Position = vec4(pos, 1.0); }\n";
static const char *FS_COLOR = "#version 330 core\n"
			      "uniform vec4 color;\n"
			      "out vec4 frag;\n"
			      "void main() { frag = color; }\n";
/* A textured quad. */
static const char *VS_TEX = "#version 330 core\n"
			    "in vec2 pos;\n"
			    "in vec2 attr;\n"
			    "out vec2 uv;\n"
			    "void main() { uv = attr; gl_Position = vec4(pos, 0.0, 1.0); }\n";
static const char *FS_TEX = "#version 330 core\n"
			    "uniform sampler2D tex;\n"
			    "in vec2 uv;\n"
			    "out vec4 frag;\n"
			    "void main() { frag = texture(tex, uv); }\n";

struct gl_state {
	GLuint color_prog, tex_prog;
	GLint color_loc, tex_loc;
	struct wa_mesh rect; /* 4 vec3 vertices, refilled per draw */
	struct wa_mesh tex_quad;
};

static void clear_color(const uint8_t c[4])
{
	glClearColor(c[0] / 255.0f, c[1] / 255.0f, c[2] / 255.0f, c[3] / 255.0f);
}

/* Pixel column or row of an NDC coordinate in a viewport of size n. */
static int px(float ndc, int n)
{
	return (int)((ndc + 1.0f) * 0.5f * (float)n);
}

/* A solid rectangle from (x0,y0) to (x1,y1) in NDC at depth z. The
 * vertices are streamed into the same buffer each time, as applications
 * that draw dynamic geometry do. */
static void draw_rect(struct gl_state *s, float x0, float y0, float x1, float y1, float z, const uint8_t c[4])
{
	const float v[] = { x0, y0, z, x1, y0, z, x0, y1, z, x1, y1, z };

	glUseProgram(s->color_prog);
	glUniform4f(s->color_loc, c[0] / 255.0f, c[1] / 255.0f, c[2] / 255.0f, c[3] / 255.0f);
	glBindVertexArray(s->rect.vao);
	glBindBuffer(GL_ARRAY_BUFFER, s->rect.vbo);
	glBufferData(GL_ARRAY_BUFFER, sizeof(v), v, GL_STREAM_DRAW);
	glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
}

static void draw_textured(struct gl_state *s, GLuint tex)
{
	glUseProgram(s->tex_prog);
	glUniform1i(s->tex_loc, 0);
	glActiveTexture(GL_TEXTURE0);
	glBindTexture(GL_TEXTURE_2D, tex);
	glBindVertexArray(s->tex_quad.vao);
	glDrawArrays(GL_TRIANGLE_STRIP, 0, s->tex_quad.count);
}

static void end_check(const char *name, char *why, size_t n)
{
	GLenum e = wa_gl_error();

	if (e != GL_NO_ERROR)
		wa_why(why, n, "glGetError 0x%x", e);
	wa_result(name, why);
}

static bool setup(struct gl_state *s)
{
	/* Texture coordinates (0,0) at the bottom left, as GL has them. */
	static const float quad[] = {
		-1, -1, 0, 0, 1, -1, 1, 0, -1, 1, 0, 1, 1, 1, 1, 1,
	};
	static const float zero[12] = { 0 };
	char why[2048] = "";

	memset(s, 0, sizeof(*s));
	s->color_prog = wa_program(VS_COLOR, FS_COLOR, why, sizeof(why));
	s->tex_prog = wa_program(VS_TEX, FS_TEX, why, sizeof(why));
	if (s->color_prog) {
		s->color_loc = glGetUniformLocation(s->color_prog, "color");
		if (s->color_loc < 0)
			wa_why(why, sizeof(why), "no uniform 'color'");
	}
	if (s->tex_prog) {
		s->tex_loc = glGetUniformLocation(s->tex_prog, "tex");
		if (s->tex_loc < 0)
			wa_why(why, sizeof(why), "no uniform 'tex'");
	}
	wa_mesh(&s->rect, zero, 4, 3, 0);
	wa_mesh(&s->tex_quad, quad, 4, 2, 2);
	end_check("glsl_programs", why, sizeof(why));
	return !why[0];
}

static void teardown_gl(struct gl_state *s)
{
	wa_mesh_free(&s->rect);
	wa_mesh_free(&s->tex_quad);
	glUseProgram(0);
	glDeleteProgram(s->color_prog);
	glDeleteProgram(s->tex_prog);
}

static void check_strings(void)
{
	const char *vendor = (const char *)glGetString(GL_VENDOR);
	const char *renderer = (const char *)glGetString(GL_RENDERER);
	const char *version = (const char *)glGetString(GL_VERSION);
	const char *glsl = (const char *)glGetString(GL_SHADING_LANGUAGE_VERSION);
	const char *expect = getenv("VIRGO_EXPECT_RENDERER");
	GLint n_ext = 0, mask = 0;
	int major = 0, minor = 0;
	char why[512] = "";

	wa_info("GL_VENDOR   %s", vendor ? vendor : "(null)");
	wa_info("GL_RENDERER %s", renderer ? renderer : "(null)");
	wa_info("GL_VERSION  %s", version ? version : "(null)");
	wa_info("GLSL        %s", glsl ? glsl : "(null)");
	if (!vendor || !renderer || !version || !glsl)
		wa_why(why, sizeof(why), "a glGetString answered NULL");
	/* Core contexts have no GL_EXTENSIONS string: glGetStringi it is. */
	glGetIntegerv(GL_NUM_EXTENSIONS, &n_ext);
	if (n_ext <= 0 || !glGetStringi(GL_EXTENSIONS, 0) || !glGetStringi(GL_EXTENSIONS, n_ext - 1))
		wa_why(why, sizeof(why), "%d extensions, or glGetStringi answered NULL", n_ext);
	wa_info("%d extensions", n_ext);
	if (expect && *expect) {
		glGetIntegerv(GL_CONTEXT_PROFILE_MASK, &mask);
		if (!renderer || strncmp(renderer, expect, strlen(expect)))
			wa_why(why, sizeof(why), "GL_RENDERER '%s' does not start with '%s'",
			       renderer ? renderer : "", expect);
		if (!version || sscanf(version, "%d.%d", &major, &minor) != 2 || major * 10 + minor < 43)
			wa_why(why, sizeof(why), "GL_VERSION '%s' is not 4.3 or newer", version ? version : "");
		if (!(mask & GL_CONTEXT_CORE_PROFILE_BIT))
			wa_why(why, sizeof(why), "not a core profile (mask 0x%x)", mask);
	} else {
		wa_info("VIRGO_EXPECT_RENDERER is not set: strings printed, not checked");
	}
	end_check("gl_strings", why, sizeof(why));
}

/* A red GLSL triangle (VAO + VBO) on blue, its apex up. */
static void check_triangle(struct wa_app *a, struct gl_state *s)
{
	static const float tri[] = { -0.6f, -0.6f, 0.0f, 0.6f, -0.6f, 0.0f, 0.0f, 0.6f, 0.0f };
	struct wa_mesh m;
	char why[1024] = "";
	uint8_t *img;
	int w = a->w, h = a->h;

	glViewport(0, 0, w, h);
	clear_color(BLUE);
	glClear(GL_COLOR_BUFFER_BIT);
	wa_mesh(&m, tri, 3, 3, 0);
	glUseProgram(s->color_prog);
	glUniform4f(s->color_loc, 1, 0, 0, 1);
	glBindVertexArray(m.vao);
	glDrawArrays(GL_TRIANGLES, 0, 3);
	img = wa_read(w, h);
	wa_expect(img, w, px(0, w), px(0, h), RED, "centre", why, sizeof(why));
	wa_expect(img, w, px(0, w), px(0.5f, h), RED, "below the apex", why, sizeof(why));
	wa_expect(img, w, px(-0.5f, w), px(-0.5f, h), RED, "bottom-left inside", why, sizeof(why));
	wa_expect(img, w, px(0.5f, w), px(-0.5f, h), RED, "bottom-right inside", why, sizeof(why));
	/* Where an upside-down triangle would be, there must be none. */
	wa_expect(img, w, px(-0.5f, w), px(0.5f, h), BLUE, "top-left outside", why, sizeof(why));
	wa_expect(img, w, px(0.5f, w), px(0.5f, h), BLUE, "top-right outside", why, sizeof(why));
	wa_expect(img, w, 1, 1, BLUE, "corner", why, sizeof(why));
	wa_expect(img, w, w - 2, h - 2, BLUE, "corner", why, sizeof(why));
	free(img);
	wa_mesh_free(&m);
	end_check("triangle", why, sizeof(why));
}

/* The window's depth buffer: a far red quad drawn after a near green one
 * stays behind it. */
static void check_depth(struct wa_app *a, struct gl_state *s)
{
	char why[1024] = "";
	uint8_t *img;
	int w = a->w, h = a->h;

	glViewport(0, 0, w, h);
	clear_color(BLACK);
	glClearDepth(1.0);
	glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
	glEnable(GL_DEPTH_TEST);
	glDepthFunc(GL_LESS);
	draw_rect(s, -1, -1, 0, 1, -0.5f, GREEN);
	draw_rect(s, -1, -1, 1, 1, 0.5f, RED);
	glDisable(GL_DEPTH_TEST);
	img = wa_read(w, h);
	wa_expect(img, w, px(-0.5f, w), px(0, h), GREEN, "near quad", why, sizeof(why));
	wa_expect(img, w, px(0.5f, w), px(0, h), RED, "far quad", why, sizeof(why));
	free(img);
	end_check("depth", why, sizeof(why));
}

/* A 4x3 texture with a different colour per texel (and one replaced with
 * glTexSubImage2D), sampled NEAREST on a quad filling a 128x96 viewport:
 * each texel is a 32x32 block whose centre must be the texel exactly. */
static void check_texture(struct wa_app *a, struct gl_state *s)
{
	enum { TW = 4, TH = 3, CELL = 32 };
	static const uint8_t patch[4] = { 250, 5, 123, 255 };
	uint8_t texels[TH][TW][4];
	char why[2048] = "";
	GLuint tex;
	uint8_t *img;

	for (int j = 0; j < TH; j++)
		for (int i = 0; i < TW; i++) {
			texels[j][i][0] = (uint8_t)(40 + 60 * i);
			texels[j][i][1] = (uint8_t)(30 + 70 * j);
			texels[j][i][2] = (uint8_t)(200 - 45 * i + 10 * j);
			texels[j][i][3] = 255;
		}
	glGenTextures(1, &tex);
	glBindTexture(GL_TEXTURE_2D, tex);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
	glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, TW, TH, 0, GL_RGBA, GL_UNSIGNED_BYTE, texels);
	glTexSubImage2D(GL_TEXTURE_2D, 0, 2, 1, 1, 1, GL_RGBA, GL_UNSIGNED_BYTE, patch);
	memcpy(texels[1][2], patch, 4);

	glViewport(0, 0, a->w, a->h);
	clear_color(BLACK);
	glClear(GL_COLOR_BUFFER_BIT);
	glViewport(0, 0, TW * CELL, TH * CELL);
	draw_textured(s, tex);
	img = wa_read(a->w, a->h);
	/* Texel row 0, the first in memory, is at t = 0: the bottom. */
	for (int j = 0; j < TH; j++)
		for (int i = 0; i < TW; i++) {
			char what[32];

			snprintf(what, sizeof(what), "texel %d,%d", i, j);
			wa_expect(img, a->w, i * CELL + CELL / 2, j * CELL + CELL / 2, texels[j][i], what, why,
				  sizeof(why));
		}
	/* Outside the viewport nothing was drawn. */
	wa_expect(img, a->w, TW * CELL + 20, TH * CELL + 20, BLACK, "outside the viewport", why, sizeof(why));
	free(img);
	glDeleteTextures(1, &tex);
	glViewport(0, 0, a->w, a->h);
	end_check("texture", why, sizeof(why));
}

/* Render to a 64x64 texture with a depth-stencil renderbuffer, read it
 * back, then draw it on the window: the picture must keep its corners. */
static void check_fbo(struct wa_app *a, struct gl_state *s)
{
	enum { FW = 64, FH = 64 };
	char why[2048] = "";
	GLuint fbo, tex, depth;
	GLenum status;
	uint8_t *img;
	int w = a->w, h = a->h;

	glGenTextures(1, &tex);
	glBindTexture(GL_TEXTURE_2D, tex);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, FW, FH, 0, GL_RGBA, GL_UNSIGNED_BYTE, NULL);
	glGenRenderbuffers(1, &depth);
	glBindRenderbuffer(GL_RENDERBUFFER, depth);
	glRenderbufferStorage(GL_RENDERBUFFER, GL_DEPTH24_STENCIL8, FW, FH);
	glGenFramebuffers(1, &fbo);
	glBindFramebuffer(GL_FRAMEBUFFER, fbo);
	glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, tex, 0);
	glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_DEPTH_STENCIL_ATTACHMENT, GL_RENDERBUFFER, depth);
	status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
	if (status != GL_FRAMEBUFFER_COMPLETE) {
		wa_why(why, sizeof(why), "framebuffer status 0x%x, not complete", status);
	} else {
		/* Green, a yellow bottom-left quadrant, and a far red bottom
		 * half that the depth test keeps off the yellow. */
		glViewport(0, 0, FW, FH);
		clear_color(GREEN);
		glClearDepth(1.0);
		glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
		glEnable(GL_DEPTH_TEST);
		draw_rect(s, -1, -1, 0, 0, -0.5f, YELLOW);
		draw_rect(s, -1, -1, 1, 0, 0.5f, RED);
		glDisable(GL_DEPTH_TEST);
		img = wa_read(FW, FH);
		wa_expect(img, FW, 16, 16, YELLOW, "fbo bottom-left", why, sizeof(why));
		wa_expect(img, FW, 48, 16, RED, "fbo bottom-right", why, sizeof(why));
		wa_expect(img, FW, 16, 48, GREEN, "fbo top-left", why, sizeof(why));
		wa_expect(img, FW, 48, 48, GREEN, "fbo top-right", why, sizeof(why));
		free(img);
	}
	glBindFramebuffer(GL_FRAMEBUFFER, 0);
	if (status == GL_FRAMEBUFFER_COMPLETE) {
		/* The texture on the whole window, corners where they were. */
		glViewport(0, 0, w, h);
		clear_color(BLACK);
		glClear(GL_COLOR_BUFFER_BIT);
		draw_textured(s, tex);
		img = wa_read(w, h);
		wa_expect(img, w, w / 4, h / 4, YELLOW, "window bottom-left", why, sizeof(why));
		wa_expect(img, w, 3 * w / 4, h / 4, RED, "window bottom-right", why, sizeof(why));
		wa_expect(img, w, w / 4, 3 * h / 4, GREEN, "window top-left", why, sizeof(why));
		wa_expect(img, w, 3 * w / 4, 3 * h / 4, GREEN, "window top-right", why, sizeof(why));
		free(img);
	}
	glDeleteFramebuffers(1, &fbo);
	glDeleteRenderbuffers(1, &depth);
	glDeleteTextures(1, &tex);
	end_check("fbo", why, sizeof(why));
}

/* Four quadrants of four colours (top-left, top-right, bottom-left,
 * bottom-right): any flip or rotation moves a colour to another corner.
 * The last frame's is the picture the screenshot looks for. */
static void draw_quadrants(struct gl_state *s, const uint8_t *const c[4])
{
	clear_color(BLACK);
	glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
	draw_rect(s, -1, 0, 0, 1, 0, c[0]);
	draw_rect(s, 0, 0, 1, 1, 0, c[1]);
	draw_rect(s, -1, -1, 0, 0, 0, c[2]);
	draw_rect(s, 0, -1, 1, 0, 0, c[3]);
}

static void expect_quadrants(int w, int h, const uint8_t *const c[4], char *why, size_t n)
{
	uint8_t *img = wa_read(w, h);

	wa_expect(img, w, w / 4, 3 * h / 4, c[0], "top-left", why, n);
	wa_expect(img, w, 3 * w / 4, 3 * h / 4, c[1], "top-right", why, n);
	wa_expect(img, w, w / 4, h / 4, c[2], "bottom-left", why, n);
	wa_expect(img, w, 3 * w / 4, h / 4, c[3], "bottom-right", why, n);
	/* The very corners too: the buffer is as large as the window. */
	wa_expect(img, w, 0, h - 1, c[0], "top-left corner", why, n);
	wa_expect(img, w, w - 1, h - 1, c[1], "top-right corner", why, n);
	wa_expect(img, w, 0, 0, c[2], "bottom-left corner", why, n);
	wa_expect(img, w, w - 1, 0, c[3], "bottom-right corner", why, n);
	free(img);
}

static void check_swap(struct wa_app *a, struct gl_state *s)
{
	char why[1024] = "";

	glViewport(0, 0, a->w, a->h);
	draw_quadrants(s, FIRST_FRAME);
	expect_quadrants(a->w, a->h, FIRST_FRAME, why, sizeof(why));
	if (!SwapBuffers(a->dc))
		wa_why(why, sizeof(why), "SwapBuffers failed (error %lu)", GetLastError());
	end_check("swap", why, sizeof(why));
}

/* A new window size, as when the user drags the frame: the next frame
 * is drawn, read back and presented at the new size. */
static void check_resize(struct wa_app *a, struct gl_state *s)
{
	char why[1024] = "";

	if (!wa_resize(a, RESIZED_W, RESIZED_H))
		wa_why(why, sizeof(why), "client area %dx%d after SetWindowPos, asked %dx%d", a->w, a->h, RESIZED_W,
		       RESIZED_H);
	glViewport(0, 0, a->w, a->h);
	draw_quadrants(s, LAST_FRAME);
	expect_quadrants(a->w, a->h, LAST_FRAME, why, sizeof(why));
	if (!SwapBuffers(a->dc))
		wa_why(why, sizeof(why), "SwapBuffers failed (error %lu)", GetLastError());
	/* Done with the frame before the hold: what the screen shows
	 * must not depend on the program running on. */
	glFinish();
	end_check("resize", why, sizeof(why));
}

int main(int argc, char **argv)
{
	struct wa_opts opts;
	struct wa_app app;
	struct gl_state s;
	GLenum e;

	wa_start();
	if (!wa_parse_opts(argc, argv, &opts))
		return 2;
	if (!wa_window(&app, "virgo gl_checks", WIN_X, WIN_Y, WIN_W, WIN_H) || !wa_pixel_format(&app) ||
	    !wa_core_context(&app, 4, 3)) {
		wa_teardown(&app);
		return 1;
	}
	check_strings();
	if (setup(&s)) {
		check_triangle(&app, &s);
		check_depth(&app, &s);
		check_texture(&app, &s);
		check_fbo(&app, &s);
		check_swap(&app, &s);
		check_resize(&app, &s);
	}
	teardown_gl(&s);
	e = wa_gl_error();
	if (e != GL_NO_ERROR)
		wa_fail("gl_errors", "glGetError 0x%x at the end", e);
	else
		wa_pass("gl_errors");
	wa_hold(&app, &opts);
	wa_teardown(&app);
	return wa_failed() ? 1 : 0;
}
