/* SPDX-License-Identifier: MIT */
/* scene_triangle.c: see scene_triangle.h. */
#include "scene_triangle.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Pass-through vertex shader: clip position = attribute 0. Written the way
 * tgsi_dump prints it (instruction numbers, hex floats), which is what the
 * host's TGSI parser sees from Mesa. */
const char scene_triangle_vs[] =
	"VERT\n"
	"DCL IN[0]\n"
	"DCL OUT[0], POSITION\n"
	"  0: MOV OUT[0], IN[0]\n"
	"  1: END\n";

/* Constant red from an immediate. The property makes colour 0 go to every
 * bound colour buffer, as Mesa marks a gl_FragColor shader. Hex floats must
 * have exactly eight digits: the parser skips ten characters after "0x". */
const char scene_triangle_fs[] =
	"FRAG\n"
	"PROPERTY FS_COLOR0_WRITES_ALL_CBUFS 1\n"
	"DCL OUT[0], COLOR\n"
	"IMM[0] FLT32 {0x3f800000, 0x00000000, 0x00000000, 0x3f800000}\n"
	"  0: MOV OUT[0], IMM[0]\n"
	"  1: END\n";

/* NDC (x, y): counter-clockwise, centred horizontally, pointing up. It covers
 * the centre of the image and stays half the image away from every corner. */
static const float scene_ndc[SCENE_VERTICES][2] = {
	{ -0.5f, -0.5f },
	{ 0.5f, -0.5f },
	{ 0.0f, 0.5f },
};

static const float scene_clear_rgba[4] = { 0.0f, 0.0f, 1.0f, 1.0f };

static const uint8_t scene_blue[4] = SCENE_BLUE_BGRA;
static const uint8_t scene_red[4] = SCENE_RED_BGRA;

/* Stops the encoder the way its own functions do, for our argument checks. */
static int scene_invalid(struct venc *e)
{
	if (!e->err)
		e->err = VENC_EINVAL;
	return -e->err;
}

void scene_triangle_vertices(float out[SCENE_VB_FLOATS])
{
	for (uint32_t i = 0; i < SCENE_VERTICES; i++) {
		out[i * SCENE_VERTEX_FLOATS + 0] = scene_ndc[i][0];
		out[i * SCENE_VERTEX_FLOATS + 1] = scene_ndc[i][1];
		out[i * SCENE_VERTEX_FLOATS + 2] = 0.0f;
		out[i * SCENE_VERTEX_FLOATS + 3] = 1.0f;
	}
}

int scene_triangle_encode_setup(struct venc *e, uint32_t rt_res_id, uint32_t vb_res_id,
				uint32_t width, uint32_t height)
{
	const uint32_t cbufs[1] = { SCENE_H_SURFACE };
	const struct venc_vertex_element ve = {
		.src_offset = 0,
		.instance_divisor = 0,
		.vertex_buffer_index = 0,
		.src_format = VENC_FORMAT_R32G32B32A32_FLOAT,
	};
	const struct venc_vertex_buffer vb = {
		.stride = SCENE_VB_STRIDE,
		.offset = 0,
		.res_id = vb_res_id,
	};

	/* Viewport and scissor coordinates are 16-bit on the host side. */
	if (!rt_res_id || !vb_res_id || !width || !height || width > 16384 || height > 16384)
		return scene_invalid(e);

	/* A sub-context of our own, as Mesa makes one per pipe_context: the
	 * scene's handles cannot collide with sub-context 0's. */
	venc_create_sub_ctx(e, SCENE_SUB_CTX);
	venc_set_sub_ctx(e, SCENE_SUB_CTX);

	venc_create_surface(e, SCENE_H_SURFACE, rt_res_id, SCENE_RT_FORMAT, 0, 0, 0);
	venc_set_framebuffer_state(e, 1, 0, cbufs);
	venc_set_viewport(e, 0, 0, width, height);

	venc_create_blend(e, SCENE_H_BLEND);
	venc_bind_object(e, SCENE_H_BLEND, VENC_OBJ_BLEND);
	venc_create_dsa(e, SCENE_H_DSA);
	venc_bind_object(e, SCENE_H_DSA, VENC_OBJ_DSA);
	venc_create_rasterizer(e, SCENE_H_RASTERIZER, 0);
	venc_bind_object(e, SCENE_H_RASTERIZER, VENC_OBJ_RASTERIZER);

	venc_create_shader(e, SCENE_H_VS, VENC_SHADER_VERTEX, scene_triangle_vs);
	venc_bind_shader(e, SCENE_H_VS, VENC_SHADER_VERTEX);
	venc_create_shader(e, SCENE_H_FS, VENC_SHADER_FRAGMENT, scene_triangle_fs);
	venc_bind_shader(e, SCENE_H_FS, VENC_SHADER_FRAGMENT);

	venc_create_vertex_elements(e, SCENE_H_VE, 1, &ve);
	venc_bind_object(e, SCENE_H_VE, VENC_OBJ_VERTEX_ELEMENTS);
	venc_set_vertex_buffers(e, 1, &vb);
	return e->err ? -e->err : 0;
}

int scene_triangle_encode_draw(struct venc *e)
{
	venc_clear(e, VENC_CLEAR_COLOR0, scene_clear_rgba, 1.0, 0);
	venc_draw_vbo(e, 0, SCENE_VERTICES, VENC_PRIM_TRIANGLES);
	return e->err ? -e->err : 0;
}

int scene_triangle_encode_teardown(struct venc *e)
{
	/* Destroying the current sub-context would make the host switch
	 * implicitly; switch explicitly so the stream says what happens. */
	venc_set_sub_ctx(e, 0);
	venc_destroy_sub_ctx(e, SCENE_SUB_CTX);
	return e->err ? -e->err : 0;
}

int scene_triangle_encode(struct venc *e, uint32_t rt_res_id, uint32_t vb_res_id,
			  uint32_t width, uint32_t height)
{
	if (scene_triangle_encode_setup(e, rt_res_id, vb_res_id, width, height))
		return -e->err;
	return scene_triangle_encode_draw(e);
}

/* ---- checks ------------------------------------------------------------------ */

static bool scene_args_ok(const uint8_t *pixels, uint32_t stride, uint32_t w, uint32_t h)
{
	return pixels && w && h && w <= 16384 && h <= 16384 && stride / 4u >= w;
}

static const uint8_t *scene_px(const uint8_t *pixels, uint32_t stride, uint32_t x, uint32_t y)
{
	return pixels + (size_t)y * stride + (size_t)x * 4u;
}

static int scene_expect(const uint8_t *pixels, uint32_t stride, uint32_t x, uint32_t y,
			const uint8_t want[4], const char *what, char *why, size_t whylen)
{
	const uint8_t *p = scene_px(pixels, stride, x, y);

	if (!memcmp(p, want, 4))
		return 0;
	if (why && whylen)
		snprintf(why, whylen,
			 "%s pixel (%u,%u) is %02x %02x %02x %02x (B G R A), want %02x %02x %02x %02x",
			 what, x, y, p[0], p[1], p[2], p[3], want[0], want[1], want[2], want[3]);
	return -1;
}

int scene_triangle_check(const uint8_t *pixels, uint32_t stride, uint32_t w, uint32_t h,
			 char *why, size_t whylen)
{
	if (!scene_args_ok(pixels, stride, w, h)) {
		if (why && whylen)
			snprintf(why, whylen, "bad image arguments (%ux%u, stride %u)", w, h,
				 stride);
		return -1;
	}
	if (scene_expect(pixels, stride, 0, 0, scene_blue, "corner", why, whylen) ||
	    scene_expect(pixels, stride, w - 1, 0, scene_blue, "corner", why, whylen) ||
	    scene_expect(pixels, stride, 0, h - 1, scene_blue, "corner", why, whylen) ||
	    scene_expect(pixels, stride, w - 1, h - 1, scene_blue, "corner", why, whylen) ||
	    scene_expect(pixels, stride, w / 2, h / 2, scene_red, "centre", why, whylen))
		return -1;
	if (why && whylen)
		why[0] = '\0';
	return 0;
}

/* The vertices in window coordinates of a w x h viewport at the origin
 * (the same mapping as venc_set_viewport: x_w = (x_ndc + 1) * w / 2). */
static void scene_window_vertices(uint32_t w, uint32_t h, double v[SCENE_VERTICES][2])
{
	for (uint32_t i = 0; i < SCENE_VERTICES; i++) {
		v[i][0] = ((double)scene_ndc[i][0] + 1.0) * 0.5 * w;
		v[i][1] = ((double)scene_ndc[i][1] + 1.0) * 0.5 * h;
	}
}

enum scene_pixel scene_triangle_classify(uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	/* Pixel centres may lie this close to an edge before the answer depends
	 * on fill rules and sub-pixel snapping; a whole pixel is generous. */
	const double margin = 1.0;
	double v[SCENE_VERTICES][2], px = x + 0.5, py = y + 0.5, area2, sign;
	bool inside = true;

	scene_window_vertices(w, h, v);
	area2 = (v[1][0] - v[0][0]) * (v[2][1] - v[0][1]) -
		(v[2][0] - v[0][0]) * (v[1][1] - v[0][1]);
	sign = area2 < 0 ? -1.0 : 1.0;
	for (uint32_t i = 0; i < SCENE_VERTICES; i++) {
		const double *a = v[i], *b = v[(i + 1) % SCENE_VERTICES];
		double ex = b[0] - a[0], ey = b[1] - a[1];
		/* The signed distance of the centre from the edge (positive
		 * inside) times the edge's length; compared in squares so that
		 * no libm is needed. */
		double d = sign * (ex * (py - a[1]) - ey * (px - a[0]));
		double lim2 = margin * margin * (ex * ex + ey * ey);

		if (d < 0 && d * d > lim2)
			return SCENE_PIX_BLUE;
		if (d <= 0 || d * d <= lim2)
			inside = false;
	}
	return inside ? SCENE_PIX_RED : SCENE_PIX_EDGE;
}

double scene_triangle_area_px(uint32_t w, uint32_t h)
{
	double v[SCENE_VERTICES][2], area2;

	scene_window_vertices(w, h, v);
	area2 = (v[1][0] - v[0][0]) * (v[2][1] - v[0][1]) -
		(v[2][0] - v[0][0]) * (v[1][1] - v[0][1]);
	return (area2 < 0 ? -area2 : area2) / 2.0;
}

void scene_triangle_red_range(uint32_t w, uint32_t h, uint32_t *min, uint32_t *max)
{
	uint32_t red = 0, edge = 0;

	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			enum scene_pixel c = scene_triangle_classify(x, y, w, h);

			red += c == SCENE_PIX_RED;
			edge += c == SCENE_PIX_EDGE;
		}
	}
	*min = red;
	*max = red + edge;
}

void scene_triangle_count(const uint8_t *pixels, uint32_t stride, uint32_t w, uint32_t h,
			  uint32_t *red, uint32_t *blue)
{
	*red = *blue = 0;
	if (!scene_args_ok(pixels, stride, w, h))
		return;
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			const uint8_t *p = scene_px(pixels, stride, x, y);

			*red += !memcmp(p, scene_red, 4);
			*blue += !memcmp(p, scene_blue, 4);
		}
	}
}

int scene_triangle_check_full(const uint8_t *pixels, uint32_t stride, uint32_t w, uint32_t h,
			      char *why, size_t whylen)
{
	uint32_t red = 0, min, max;

	if (scene_triangle_check(pixels, stride, w, h, why, whylen))
		return -1;
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			const uint8_t *p = scene_px(pixels, stride, x, y);
			bool is_red = !memcmp(p, scene_red, 4);
			bool is_blue = !memcmp(p, scene_blue, 4);
			enum scene_pixel c = scene_triangle_classify(x, y, w, h);

			if ((!is_red && !is_blue) || (c == SCENE_PIX_RED && !is_red) ||
			    (c == SCENE_PIX_BLUE && !is_blue)) {
				if (why && whylen)
					snprintf(why, whylen,
						 "pixel (%u,%u) is %02x %02x %02x %02x (B G R A), "
						 "want %s",
						 x, y, p[0], p[1], p[2], p[3],
						 c == SCENE_PIX_RED    ? "red" :
						 c == SCENE_PIX_BLUE ? "blue" :
									"red or blue");
				return -1;
			}
			red += is_red;
		}
	}
	scene_triangle_red_range(w, h, &min, &max);
	if (red < min || red > max) {
		if (why && whylen)
			snprintf(why, whylen, "%u red pixels, want %u..%u", red, min, max);
		return -1;
	}
	return 0;
}
