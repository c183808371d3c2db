/* SPDX-License-Identifier: MIT */
/*
 * scene_triangle.h: the reference scene of the scenario suite and the demo.
 * A 256x256 B8G8R8A8 render target is cleared to opaque blue and one red
 * triangle is drawn over its middle; the pixels read back prove that a
 * command stream went all the way to virglrenderer and was executed.
 *
 * The caller creates two resources with exactly the parameters below (the
 * fields of virgo_resource_create, vtest's RESOURCE_CREATE2 and
 * virgl_renderer_resource_create_args), uploads scene_triangle_vertices()
 * into the vertex buffer (TRANSFER_TO_HOST of box x = 0, w = SCENE_VB_BYTES),
 * submits the stream scene_triangle_encode() writes (EXECBUFFER naming both
 * resources), reads the render target back (TRANSFER_FROM_HOST of the whole
 * 256x256 box, stride SCENE_RT_STRIDE) once the work is done, and checks the
 * pixels with scene_triangle_check().
 *
 * Row order: virglrenderer returns a texture that was created without
 * VIRGL_RESOURCE_Y_0_TOP in GL order, so row 0 of the read-back image is the
 * bottom of the viewport (NDC y = -1). The triangle points up in NDC, so its
 * apex is near the last rows of the buffer. scene_triangle_check() does not
 * depend on this; scene_triangle_check_full() does.
 */
#ifndef VIRGO_SCENE_TRIANGLE_H
#define VIRGO_SCENE_TRIANGLE_H

#include <stddef.h>
#include <stdint.h>

#include "virgl_enc.h"

/* Render target: a plain 2D colour texture, as Mesa creates a renderbuffer.
 * RENDER_TARGET is what virglrenderer needs to attach it to a framebuffer;
 * SAMPLER_VIEW lets later scenes sample it (Mesa sets both). No
 * Y_0_TOP flag (that is for scanout resources). */
#define SCENE_RT_TARGET     2u    /* PIPE_TEXTURE_2D */
#define SCENE_RT_FORMAT     1u    /* VIRGL_FORMAT_B8G8R8A8_UNORM */
#define SCENE_RT_BIND       (VENC_BIND_RENDER_TARGET | VENC_BIND_SAMPLER_VIEW) /* 0x0a */
#define SCENE_RT_WIDTH      256u
#define SCENE_RT_HEIGHT     256u
#define SCENE_RT_DEPTH      1u
#define SCENE_RT_ARRAY_SIZE 1u
#define SCENE_RT_LAST_LEVEL 0u
#define SCENE_RT_NR_SAMPLES 0u
#define SCENE_RT_FLAGS      0u
#define SCENE_RT_BPP        4u
#define SCENE_RT_STRIDE     (SCENE_RT_WIDTH * SCENE_RT_BPP)  /* 1024 */
#define SCENE_RT_SIZE       (SCENE_RT_STRIDE * SCENE_RT_HEIGHT) /* 262144: guest backing */

/* Vertex buffer: a buffer the way Mesa creates one (format R8_UNORM, width
 * in bytes, height/depth/array 1). SCENE_VB_BYTES is the data; the backing
 * may be larger (e.g. one page where the kernel driver requires it). */
#define SCENE_VERTICES      3u
#define SCENE_VERTEX_FLOATS 4u    /* x, y, z, w: R32G32B32A32_FLOAT */
#define SCENE_VB_FLOATS     (SCENE_VERTICES * SCENE_VERTEX_FLOATS)  /* 12 */
#define SCENE_VB_STRIDE     (SCENE_VERTEX_FLOATS * 4u)              /* 16 */
#define SCENE_VB_BYTES      (SCENE_VERTICES * SCENE_VB_STRIDE)      /* 48 */
#define SCENE_VB_TARGET     0u    /* PIPE_BUFFER */
#define SCENE_VB_FORMAT     64u   /* VIRGL_FORMAT_R8_UNORM */
#define SCENE_VB_BIND       VENC_BIND_VERTEX_BUFFER /* 0x10 */
#define SCENE_VB_WIDTH      SCENE_VB_BYTES
#define SCENE_VB_HEIGHT     1u
#define SCENE_VB_DEPTH      1u
#define SCENE_VB_ARRAY_SIZE 1u
#define SCENE_VB_LAST_LEVEL 0u
#define SCENE_VB_NR_SAMPLES 0u
#define SCENE_VB_FLAGS      0u
#define SCENE_VB_SIZE       SCENE_VB_BYTES

/* The stream's sub-context and object handles (fixed, so a test can look
 * for them in a captured stream). */
#define SCENE_SUB_CTX      1u
#define SCENE_H_SURFACE    1u
#define SCENE_H_BLEND      2u
#define SCENE_H_DSA        3u
#define SCENE_H_RASTERIZER 4u
#define SCENE_H_VS         5u
#define SCENE_H_FS         6u
#define SCENE_H_VE         7u

/* Enough dwords for any stream below (scene_triangle_encode writes 166). */
#define SCENE_STREAM_DWORDS 512u

/* Colours as B8G8R8A8 bytes in memory. */
#define SCENE_BLUE_BGRA { 0xff, 0x00, 0x00, 0xff }
#define SCENE_RED_BGRA  { 0x00, 0x00, 0xff, 0xff }

/* The shaders, in TGSI text as Mesa's virgl driver sends it. */
extern const char scene_triangle_vs[];
extern const char scene_triangle_fs[];

/* The whole frame: setup then draw. width/height are the render target's
 * (the scene is defined in NDC, so any size works; the checks take it too).
 * Returns 0 or -e->err. Encode it once per virgl context: the sub-context
 * and handles are fixed (teardown releases them). */
int scene_triangle_encode(struct venc *e, uint32_t rt_res_id, uint32_t vb_res_id,
			  uint32_t width, uint32_t height);
/* Creates and switches to sub-context SCENE_SUB_CTX and sets all state:
 * surface, framebuffer, viewport, blend/DSA/rasterizer, shaders, vertex
 * elements and vertex buffer. */
int scene_triangle_encode_setup(struct venc *e, uint32_t rt_res_id, uint32_t vb_res_id,
				uint32_t width, uint32_t height);
/* One frame on the state of setup: clear to blue, draw the triangle. May be
 * repeated. */
int scene_triangle_encode_draw(struct venc *e);
/* Back to sub-context 0 and destroys SCENE_SUB_CTX with all its objects. */
int scene_triangle_encode_teardown(struct venc *e);

/* The vertex data to upload into the vertex buffer (SCENE_VB_BYTES). */
void scene_triangle_vertices(float out[SCENE_VB_FLOATS]);

/* The exact checks: the four corner pixels are blue and the centre pixel
 * (w/2, h/2) is red, byte for byte. pixels holds h rows of stride bytes.
 * Returns 0, or -1 with the first mismatch described in why. */
int scene_triangle_check(const uint8_t *pixels, uint32_t stride, uint32_t w, uint32_t h,
			 char *why, size_t whylen);

/* Where a pixel must be, from the triangle's NDC vertices: inside by more than
 * a pixel (red), outside by more than a pixel (blue), or near an edge (either;
 * the rasterizer's rules decide). x is the column, y the row in memory (row 0
 * is NDC y = -1, see above). */
enum scene_pixel { SCENE_PIX_BLUE = 0, SCENE_PIX_RED = 1, SCENE_PIX_EDGE = 2 };
enum scene_pixel scene_triangle_classify(uint32_t x, uint32_t y, uint32_t w, uint32_t h);

/* The triangle's area in pixels (exact, from the vertices), and the range the
 * number of red pixels must fall in: the pixels classified red, up to those
 * classified red or edge. For 256x256: area 8192. */
double scene_triangle_area_px(uint32_t w, uint32_t h);
void scene_triangle_red_range(uint32_t w, uint32_t h, uint32_t *min, uint32_t *max);

/* Counts exactly red and exactly blue pixels (the rest are neither). */
void scene_triangle_count(const uint8_t *pixels, uint32_t stride, uint32_t w, uint32_t h,
			  uint32_t *red, uint32_t *blue);

/* scene_triangle_check plus every pixel: each is exactly red or blue, each
 * classified red is red, each classified blue is blue, and the red count is
 * in scene_triangle_red_range. Depends on the row order above. */
int scene_triangle_check_full(const uint8_t *pixels, uint32_t stride, uint32_t w, uint32_t h,
			      char *why, size_t whylen);

#endif
