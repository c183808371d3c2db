/* SPDX-License-Identifier: MIT */
/* virgl_enc.c: see virgl_enc.h. Dword layouts follow Mesa 22.3.6's
 * virgl_protocol.h; the length each command must have is the one
 * virglrenderer 0.10.4's vrend_decode.c checks. */
#include "virgl_enc.h"

#include <string.h>

/* Limits the host enforces (PIPE_MAX_ATTRIBS, PIPE_MAX_COLOR_BUFS). */
#define VENC_MAX_ATTRIBS    32u
#define VENC_MAX_COLOR_BUFS 8u

/* Fixed command lengths (dwords after the header). */
#define VENC_LEN_SURFACE      5u
#define VENC_LEN_BLEND        11u /* S0, S1, one word per colour buffer (8), handle */
#define VENC_LEN_DSA          5u
#define VENC_LEN_RASTERIZER   9u
#define VENC_LEN_CLEAR        8u
#define VENC_LEN_DRAW_VBO     12u
#define VENC_LEN_INLINE_HDR   11u
#define VENC_LEN_SHADER_HDR   5u  /* handle, type, offlen, num_tokens, so outputs */

/* offlen: bit 31 marks a continuation; the low 31 bits hold the total text
 * length in the first command and the byte offset in continuations. */
#define VENC_SHADER_OFFLEN_CONT (1u << 31)

/* Fields of the packed state words. */
#define BLEND_RT_RGB_SRC(f)   ((uint32_t)(f) << 4)
#define BLEND_RT_RGB_DST(f)   ((uint32_t)(f) << 9)
#define BLEND_RT_ALPHA_SRC(f) ((uint32_t)(f) << 17)
#define BLEND_RT_ALPHA_DST(f) ((uint32_t)(f) << 22)
#define BLEND_RT_COLORMASK(m) ((uint32_t)(m) << 27)
#define BLENDFACTOR_ONE  0x01u
#define BLENDFACTOR_ZERO 0x11u
#define LOGICOP_COPY     12u

#define RS_FLATSHADE          (1u << 0)
#define RS_DEPTH_CLIP         (1u << 1)
#define RS_RASTERIZER_DISCARD (1u << 3)
#define RS_CULL_FACE(f)       ((uint32_t)(f) << 8)  /* PIPE_FACE_FRONT 1, BACK 2 */
#define RS_FILL_FRONT(m)      ((uint32_t)(m) << 10) /* PIPE_POLYGON_MODE_FILL 0 */
#define RS_FILL_BACK(m)       ((uint32_t)(m) << 12)
#define RS_SCISSOR            (1u << 14)
#define RS_FRONT_CCW          (1u << 15)
#define RS_HALF_PIXEL_CENTER  (1u << 29)

static uint32_t fui(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static int venc_fail(struct venc *e, int err)
{
	if (!e->err)
		e->err = err;
	return -e->err;
}

/* Room for a command with len payload dwords, header written; returns the
 * payload, or NULL (err set) if the encoder has stopped, the length does not
 * fit the header, or the buffer is short. Nothing is written on failure. */
static uint32_t *venc_begin(struct venc *e, uint32_t cmd, uint32_t obj, uint32_t len)
{
	uint32_t *p;

	if (e->err)
		return NULL;
	if (len > VENC_MAX_CMD_LEN) {
		venc_fail(e, VENC_E2BIG);
		return NULL;
	}
	if (e->len > e->cap || len + 1u > e->cap - e->len) {
		venc_fail(e, VENC_ENOSPC);
		return NULL;
	}
	p = e->buf + e->len;
	p[0] = cmd | obj << 8 | len << 16;
	e->len += len + 1u;
	return p + 1;
}

void venc_init(struct venc *e, uint32_t *buf, uint32_t cap)
{
	e->buf = buf;
	e->len = 0;
	e->cap = buf ? cap : 0;
	e->err = 0;
}

void venc_reset(struct venc *e)
{
	e->len = 0;
	e->err = 0;
}

int venc_nop(struct venc *e)
{
	return venc_begin(e, VENC_CCMD_NOP, 0, 0) ? 0 : -e->err;
}

static int venc_one(struct venc *e, uint32_t cmd, uint32_t obj, uint32_t v)
{
	uint32_t *p = venc_begin(e, cmd, obj, 1);

	if (!p)
		return -e->err;
	p[0] = v;
	return 0;
}

int venc_create_sub_ctx(struct venc *e, uint32_t sub_ctx_id)
{
	return venc_one(e, VENC_CCMD_CREATE_SUB_CTX, 0, sub_ctx_id);
}

int venc_set_sub_ctx(struct venc *e, uint32_t sub_ctx_id)
{
	return venc_one(e, VENC_CCMD_SET_SUB_CTX, 0, sub_ctx_id);
}

int venc_destroy_sub_ctx(struct venc *e, uint32_t sub_ctx_id)
{
	return venc_one(e, VENC_CCMD_DESTROY_SUB_CTX, 0, sub_ctx_id);
}

int venc_create_surface(struct venc *e, uint32_t handle, uint32_t res_id, uint32_t format,
			uint32_t level, uint32_t first_layer, uint32_t last_layer)
{
	uint32_t *p;

	/* The layer range is packed in 16-bit halves of one word. */
	if (!handle || first_layer > 0xffffu || last_layer > 0xffffu || first_layer > last_layer)
		return venc_fail(e, VENC_EINVAL);
	p = venc_begin(e, VENC_CCMD_CREATE_OBJECT, VENC_OBJ_SURFACE, VENC_LEN_SURFACE);
	if (!p)
		return -e->err;
	p[0] = handle;
	p[1] = res_id;
	p[2] = format;
	p[3] = level;
	p[4] = first_layer | last_layer << 16;
	return 0;
}

int venc_set_framebuffer_state(struct venc *e, uint32_t nr_cbufs, uint32_t zsurf,
			       const uint32_t *cbufs)
{
	uint32_t *p;

	if (nr_cbufs > VENC_MAX_COLOR_BUFS || (nr_cbufs && !cbufs))
		return venc_fail(e, VENC_EINVAL);
	p = venc_begin(e, VENC_CCMD_SET_FRAMEBUFFER_STATE, 0, 2 + nr_cbufs);
	if (!p)
		return -e->err;
	p[0] = nr_cbufs;
	p[1] = zsurf;
	for (uint32_t i = 0; i < nr_cbufs; i++)
		p[2 + i] = cbufs[i];
	return 0;
}

int venc_clear(struct venc *e, uint32_t buffers, const float rgba[4], double depth,
	       uint32_t stencil)
{
	uint64_t d;
	uint32_t *p;

	if (!rgba)
		return venc_fail(e, VENC_EINVAL);
	p = venc_begin(e, VENC_CCMD_CLEAR, 0, VENC_LEN_CLEAR);
	if (!p)
		return -e->err;
	p[0] = buffers;
	for (int i = 0; i < 4; i++)
		p[1 + i] = fui(rgba[i]);
	/* The depth travels as the two halves of a double, low word first (the
	 * host memcpy()s the 8 bytes back; both ends are little-endian). */
	memcpy(&d, &depth, sizeof(d));
	p[5] = (uint32_t)d;
	p[6] = (uint32_t)(d >> 32);
	p[7] = stencil;
	return 0;
}

int venc_create_blend(struct venc *e, uint32_t handle)
{
	uint32_t *p;

	if (!handle)
		return venc_fail(e, VENC_EINVAL);
	p = venc_begin(e, VENC_CCMD_CREATE_OBJECT, VENC_OBJ_BLEND, VENC_LEN_BLEND);
	if (!p)
		return -e->err;
	p[0] = handle;
	p[1] = 0;            /* no independent blend, logic op, dither, alpha-to-x */
	p[2] = LOGICOP_COPY; /* unused while the logic op is off */
	/* Blending off; the factors are GL's defaults (ONE, ZERO) so that the
	 * state reads sanely if someone turns blending on. Colour mask RGBA. */
	for (uint32_t i = 0; i < VENC_MAX_COLOR_BUFS; i++)
		p[3 + i] = BLEND_RT_RGB_SRC(BLENDFACTOR_ONE) | BLEND_RT_RGB_DST(BLENDFACTOR_ZERO) |
			   BLEND_RT_ALPHA_SRC(BLENDFACTOR_ONE) |
			   BLEND_RT_ALPHA_DST(BLENDFACTOR_ZERO) | BLEND_RT_COLORMASK(0xfu);
	return 0;
}

int venc_create_dsa(struct venc *e, uint32_t handle)
{
	uint32_t *p;

	if (!handle)
		return venc_fail(e, VENC_EINVAL);
	p = venc_begin(e, VENC_CCMD_CREATE_OBJECT, VENC_OBJ_DSA, VENC_LEN_DSA);
	if (!p)
		return -e->err;
	p[0] = handle;
	p[1] = 0;         /* depth test and write off, alpha test off */
	p[2] = 0;         /* front stencil off */
	p[3] = 0;         /* back stencil off */
	p[4] = fui(0.0f); /* alpha reference */
	return 0;
}

int venc_create_rasterizer(struct venc *e, uint32_t handle, uint32_t flags)
{
	uint32_t cull = 0, s0;
	uint32_t *p;

	if (!handle)
		return venc_fail(e, VENC_EINVAL);
	if (flags & VENC_RS_CULL_FRONT)
		cull |= 1u;
	if (flags & VENC_RS_CULL_BACK)
		cull |= 2u;
	/* What Mesa's GL state tracker sends for default GL state: filled
	 * polygons on both sides, depth clipping, pixel centres at .5. */
	s0 = RS_DEPTH_CLIP | RS_CULL_FACE(cull) | RS_FILL_FRONT(0) | RS_FILL_BACK(0) |
	     RS_HALF_PIXEL_CENTER;
	if (!(flags & VENC_RS_FRONT_CW))
		s0 |= RS_FRONT_CCW;
	if (flags & VENC_RS_SCISSOR)
		s0 |= RS_SCISSOR;
	if (flags & VENC_RS_FLATSHADE)
		s0 |= RS_FLATSHADE;
	if (flags & VENC_RS_DISCARD)
		s0 |= RS_RASTERIZER_DISCARD;
	p = venc_begin(e, VENC_CCMD_CREATE_OBJECT, VENC_OBJ_RASTERIZER, VENC_LEN_RASTERIZER);
	if (!p)
		return -e->err;
	p[0] = handle;
	p[1] = s0;
	p[2] = fui(1.0f); /* point size */
	p[3] = 0;         /* sprite coord enable */
	p[4] = 0;         /* line stipple off, no user clip planes */
	p[5] = fui(1.0f); /* line width */
	p[6] = fui(0.0f); /* polygon offset units */
	p[7] = fui(0.0f); /* polygon offset scale */
	p[8] = fui(0.0f); /* polygon offset clamp */
	return 0;
}

int venc_bind_object(struct venc *e, uint32_t handle, uint32_t type)
{
	if (type > 0xffu)
		return venc_fail(e, VENC_EINVAL);
	return venc_one(e, VENC_CCMD_BIND_OBJECT, type, handle);
}

int venc_destroy_object(struct venc *e, uint32_t handle, uint32_t type)
{
	if (!handle || type > 0xffu)
		return venc_fail(e, VENC_EINVAL);
	return venc_one(e, VENC_CCMD_DESTROY_OBJECT, type, handle);
}

uint32_t venc_tgsi_token_bound(const char *tgsi_text)
{
	size_t n = tgsi_text ? strlen(tgsi_text) : 0;

	/* The densest text is the header ("VERT": two tokens in four
	 * characters, hence the constant); after it every token needs at least
	 * two characters (an END line is four for one token, an operand such
	 * as "IN[0], " seven). A bound costs the host only memory. */
	if (n > 0xfffffff0u)
		return 0xffffffffu;
	return (uint32_t)(n / 2 + 16);
}

int venc_create_shader_ntok(struct venc *e, uint32_t handle, uint32_t type,
			    const char *tgsi_text, uint32_t num_tokens)
{
	const uint32_t max_text = VENC_MAX_CMD_LEN - VENC_LEN_SHADER_HDR; /* dwords per command */
	uint32_t text_bytes, text_dw, ncmds, total, off;
	size_t n;

	if (!handle || type > VENC_SHADER_COMPUTE || !tgsi_text)
		return venc_fail(e, VENC_EINVAL);
	if (e->err)
		return -e->err;
	n = strlen(tgsi_text) + 1; /* the host requires the NUL */
	if (n > 0x7fffffffu - 3u)
		return venc_fail(e, VENC_E2BIG);
	text_bytes = (uint32_t)n;
	text_dw = (text_bytes + 3u) / 4u;
	ncmds = (text_dw + max_text - 1u) / max_text;
	/* Check the room for every command first: a shader is all or nothing. */
	total = text_dw + ncmds * (1u + VENC_LEN_SHADER_HDR);
	if (e->len > e->cap || total > e->cap - e->len)
		return venc_fail(e, VENC_ENOSPC);

	off = 0;
	for (uint32_t c = 0; c < ncmds; c++) {
		uint32_t chunk_dw = text_dw - off / 4u < max_text ? text_dw - off / 4u : max_text;
		uint32_t chunk_bytes = chunk_dw * 4u;
		uint32_t copy = text_bytes - off < chunk_bytes ? text_bytes - off : chunk_bytes;
		uint32_t *p = venc_begin(e, VENC_CCMD_CREATE_OBJECT, VENC_OBJ_SHADER,
					 VENC_LEN_SHADER_HDR + chunk_dw);

		if (!p) /* unreachable: the room for all commands was checked above */
			return -e->err;
		p[0] = handle;
		p[1] = type;
		/* The first command carries the whole length: the host uses it
		 * to tell a complete shader from the start of a long one and to
		 * size its buffer. Continuations carry their byte offset, which
		 * must equal what the host has received so far. */
		p[2] = c == 0 ? text_bytes : (off | VENC_SHADER_OFFLEN_CONT);
		p[3] = num_tokens;
		p[4] = 0; /* no stream-output entries (compute: no shared memory) */
		/* Zero the last dword before the copy: the padding after the NUL
		 * must be defined bytes. */
		p[VENC_LEN_SHADER_HDR + chunk_dw - 1u] = 0;
		memcpy(&p[VENC_LEN_SHADER_HDR], tgsi_text + off, copy);
		off += chunk_bytes;
	}
	return 0;
}

int venc_create_shader(struct venc *e, uint32_t handle, uint32_t type, const char *tgsi_text)
{
	return venc_create_shader_ntok(e, handle, type, tgsi_text,
				       venc_tgsi_token_bound(tgsi_text));
}

int venc_bind_shader(struct venc *e, uint32_t handle, uint32_t type)
{
	uint32_t *p;

	if (type > VENC_SHADER_COMPUTE)
		return venc_fail(e, VENC_EINVAL);
	p = venc_begin(e, VENC_CCMD_BIND_SHADER, 0, 2);
	if (!p)
		return -e->err;
	p[0] = handle;
	p[1] = type;
	return 0;
}

int venc_create_vertex_elements(struct venc *e, uint32_t handle, uint32_t n,
				const struct venc_vertex_element *elems)
{
	uint32_t *p;

	if (!handle || n > VENC_MAX_ATTRIBS || (n && !elems))
		return venc_fail(e, VENC_EINVAL);
	p = venc_begin(e, VENC_CCMD_CREATE_OBJECT, VENC_OBJ_VERTEX_ELEMENTS, 1 + 4 * n);
	if (!p)
		return -e->err;
	p[0] = handle;
	for (uint32_t i = 0; i < n; i++) {
		p[1 + 4 * i] = elems[i].src_offset;
		p[2 + 4 * i] = elems[i].instance_divisor;
		p[3 + 4 * i] = elems[i].vertex_buffer_index;
		p[4 + 4 * i] = elems[i].src_format;
	}
	return 0;
}

int venc_set_vertex_buffers(struct venc *e, uint32_t n, const struct venc_vertex_buffer *vbs)
{
	uint32_t *p;

	if (n > VENC_MAX_ATTRIBS || (n && !vbs))
		return venc_fail(e, VENC_EINVAL);
	p = venc_begin(e, VENC_CCMD_SET_VERTEX_BUFFERS, 0, 3 * n);
	if (!p)
		return -e->err;
	for (uint32_t i = 0; i < n; i++) {
		p[3 * i] = vbs[i].stride;
		p[3 * i + 1] = vbs[i].offset;
		p[3 * i + 2] = vbs[i].res_id;
	}
	return 0;
}

int venc_set_index_buffer(struct venc *e, uint32_t res_id, uint32_t index_size, uint32_t offset)
{
	uint32_t *p;

	/* Unbinding is the one-word form; binding needs the size and offset. */
	if (!res_id)
		return venc_one(e, VENC_CCMD_SET_INDEX_BUFFER, 0, 0);
	if (index_size != 1 && index_size != 2 && index_size != 4)
		return venc_fail(e, VENC_EINVAL);
	p = venc_begin(e, VENC_CCMD_SET_INDEX_BUFFER, 0, 3);
	if (!p)
		return -e->err;
	p[0] = res_id;
	p[1] = index_size;
	p[2] = offset;
	return 0;
}

int venc_set_constant_buffer(struct venc *e, uint32_t shader_type, uint32_t index,
			     const uint32_t *data, uint32_t n)
{
	uint32_t *p;

	if (shader_type > VENC_SHADER_COMPUTE || (n && !data))
		return venc_fail(e, VENC_EINVAL);
	if (n > VENC_MAX_CMD_LEN - 2u)
		return venc_fail(e, VENC_E2BIG);
	p = venc_begin(e, VENC_CCMD_SET_CONSTANT_BUFFER, 0, 2 + n);
	if (!p)
		return -e->err;
	p[0] = shader_type;
	p[1] = index;
	if (n)
		memcpy(&p[2], data, (size_t)n * 4u);
	return 0;
}

int venc_set_viewport_state(struct venc *e, const float scale[3], const float translate[3])
{
	uint32_t *p;

	if (!scale || !translate)
		return venc_fail(e, VENC_EINVAL);
	p = venc_begin(e, VENC_CCMD_SET_VIEWPORT_STATE, 0, 7);
	if (!p)
		return -e->err;
	p[0] = 0; /* start slot */
	for (int i = 0; i < 3; i++) {
		p[1 + i] = fui(scale[i]);
		p[4 + i] = fui(translate[i]);
	}
	return 0;
}

int venc_set_viewport(struct venc *e, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	/* glViewport + glDepthRange(0, 1), as the GL state tracker computes it
	 * for a framebuffer object (no y flip). */
	const float scale[3] = { (float)w * 0.5f, (float)h * 0.5f, 0.5f };
	const float translate[3] = { (float)x + (float)w * 0.5f, (float)y + (float)h * 0.5f, 0.5f };

	return venc_set_viewport_state(e, scale, translate);
}

int venc_set_scissor_state(struct venc *e, uint32_t minx, uint32_t miny, uint32_t maxx,
			   uint32_t maxy)
{
	uint32_t *p;

	if (minx > 0xffffu || miny > 0xffffu || maxx > 0xffffu || maxy > 0xffffu)
		return venc_fail(e, VENC_EINVAL);
	p = venc_begin(e, VENC_CCMD_SET_SCISSOR_STATE, 0, 3);
	if (!p)
		return -e->err;
	p[0] = 0; /* start slot */
	p[1] = minx | miny << 16;
	p[2] = maxx | maxy << 16;
	return 0;
}

int venc_draw_vbo_info(struct venc *e, const struct venc_draw *d)
{
	uint32_t *p;

	if (!d)
		return venc_fail(e, VENC_EINVAL);
	p = venc_begin(e, VENC_CCMD_DRAW_VBO, 0, VENC_LEN_DRAW_VBO);
	if (!p)
		return -e->err;
	p[0] = d->start;
	p[1] = d->count;
	p[2] = d->mode;
	p[3] = d->indexed ? 1u : 0u;
	p[4] = d->instance_count;
	p[5] = (uint32_t)d->index_bias;
	p[6] = d->start_instance;
	p[7] = d->primitive_restart ? 1u : 0u;
	p[8] = d->restart_index;
	p[9] = d->min_index;
	p[10] = d->max_index;
	p[11] = 0; /* no vertex count from a stream-output target */
	return 0;
}

int venc_draw_vbo(struct venc *e, uint32_t start, uint32_t count, uint32_t mode)
{
	const struct venc_draw d = {
		.start = start,
		.count = count,
		.mode = mode,
		.instance_count = 1,
		.max_index = 0xffffffffu,
	};

	return venc_draw_vbo_info(e, &d);
}

int venc_resource_inline_write(struct venc *e, uint32_t res_id, uint32_t level, uint32_t usage,
			       uint32_t stride, uint32_t layer_stride, const struct venc_box *box,
			       const void *data, uint32_t size)
{
	uint32_t dw, *p;

	if (!res_id || !box || (size && !data))
		return venc_fail(e, VENC_EINVAL);
	dw = size / 4u + (size % 4u ? 1u : 0u);
	/* The host rejects an inline write without at least one data dword. */
	if (!dw)
		return venc_fail(e, VENC_EINVAL);
	if (dw > VENC_MAX_CMD_LEN - VENC_LEN_INLINE_HDR)
		return venc_fail(e, VENC_E2BIG);
	p = venc_begin(e, VENC_CCMD_RESOURCE_INLINE_WRITE, 0, VENC_LEN_INLINE_HDR + dw);
	if (!p)
		return -e->err;
	p[0] = res_id;
	p[1] = level;
	p[2] = usage;
	p[3] = stride;
	p[4] = layer_stride;
	p[5] = box->x;
	p[6] = box->y;
	p[7] = box->z;
	p[8] = box->w;
	p[9] = box->h;
	p[10] = box->d;
	p[VENC_LEN_INLINE_HDR + dw - 1u] = 0; /* defined padding after the data */
	memcpy(&p[VENC_LEN_INLINE_HDR], data, size);
	return 0;
}

int venc_pipe_resource_create(struct venc *e, const struct venc_pipe_resource *r)
{
	uint32_t *p;

	if (!r || !r->blob_id)
		return venc_fail(e, VENC_EINVAL);
	p = venc_begin(e, VENC_CCMD_PIPE_RESOURCE_CREATE, 0, 11);
	if (!p)
		return -e->err;
	p[0] = r->target;
	p[1] = r->format;
	p[2] = r->bind;
	p[3] = r->width;
	p[4] = r->height;
	p[5] = r->depth;
	p[6] = r->array_size;
	p[7] = r->last_level;
	p[8] = r->nr_samples;
	p[9] = r->flags;
	p[10] = r->blob_id;
	return 0;
}

int venc_resource_copy_region(struct venc *e, uint32_t dst_res, uint32_t dst_level, uint32_t dx, uint32_t dy,
			      uint32_t dz, uint32_t src_res, uint32_t src_level, const struct venc_box *src)
{
	uint32_t *p;

	if (!dst_res || !src_res || !src)
		return venc_fail(e, VENC_EINVAL);
	p = venc_begin(e, VENC_CCMD_RESOURCE_COPY_REGION, 0, 13);
	if (!p)
		return -e->err;
	p[0] = dst_res;
	p[1] = dst_level;
	p[2] = dx;
	p[3] = dy;
	p[4] = dz;
	p[5] = src_res;
	p[6] = src_level;
	p[7] = src->x;
	p[8] = src->y;
	p[9] = src->z;
	p[10] = src->w;
	p[11] = src->h;
	p[12] = src->d;
	return 0;
}
