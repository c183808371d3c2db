/* SPDX-License-Identifier: MIT */
/*
 * virgl_enc.h: a small encoder for virgl command streams, the payload of
 * EXECBUFFER (and of vtest's SUBMIT_CMD). Tests and the demo use it to speak
 * to virglrenderer without Mesa; Mesa's own encoder (virgl_encode.c) is what
 * real applications use, and this one writes the same dwords for the same
 * state.
 *
 * Wire format (Mesa 22.3.6 virgl_protocol.h, virglrenderer 0.10.4
 * vrend_decode.c): a stream is a sequence of commands; each starts with one
 * header dword
 *
 *     cmd | obj_type << 8 | len << 16
 *
 * where len (16 bits) counts the dwords that follow the header. The host
 * walks the stream by len, checks each command's exact length, and stops at
 * the first command it rejects (later commands in the same submit are lost).
 *
 * The buffer is the caller's: the encoder never allocates and never writes
 * past cap. A command that does not fit, or whose arguments are invalid, is
 * not written at all, sets err, and every later call does nothing, so the
 * stream always ends on a whole command and one check of err at the end is
 * enough.
 *
 * Object handles (surfaces, states, shaders, vertex elements) are chosen by
 * the caller: non-zero, unique per sub-context per type family (the host keeps
 * one handle table per sub-context).
 */
#ifndef VIRGO_VIRGL_ENC_H
#define VIRGO_VIRGL_ENC_H

#include <stddef.h>
#include <stdint.h>

struct venc {
	uint32_t *buf;
	uint32_t len;  /* dwords written */
	uint32_t cap;  /* dwords available */
	int err;       /* 0, or the first VENC_E* that stopped the encoder */
};

enum venc_error {
	VENC_ENOSPC = 1, /* the command does not fit in what is left of buf */
	VENC_EINVAL = 2, /* a zero handle, a count out of range, a NULL pointer */
	VENC_E2BIG = 3,  /* the command would need more than VENC_MAX_CMD_LEN dwords */
};

/* The length field of a command header is 16 bits. */
#define VENC_MAX_CMD_LEN 0xffffu

/* ---- protocol numbers (virgl_protocol.h / virgl_hw.h / p_defines.h) ------ */

/* Command ids (enum virgl_context_cmd). */
enum venc_ccmd {
	VENC_CCMD_NOP = 0,
	VENC_CCMD_CREATE_OBJECT = 1,
	VENC_CCMD_BIND_OBJECT = 2,
	VENC_CCMD_DESTROY_OBJECT = 3,
	VENC_CCMD_SET_VIEWPORT_STATE = 4,
	VENC_CCMD_SET_FRAMEBUFFER_STATE = 5,
	VENC_CCMD_SET_VERTEX_BUFFERS = 6,
	VENC_CCMD_CLEAR = 7,
	VENC_CCMD_DRAW_VBO = 8,
	VENC_CCMD_RESOURCE_INLINE_WRITE = 9,
	VENC_CCMD_SET_SAMPLER_VIEWS = 10,
	VENC_CCMD_SET_INDEX_BUFFER = 11,
	VENC_CCMD_SET_CONSTANT_BUFFER = 12,
	VENC_CCMD_SET_STENCIL_REF = 13,
	VENC_CCMD_SET_BLEND_COLOR = 14,
	VENC_CCMD_SET_SCISSOR_STATE = 15,
	VENC_CCMD_BLIT = 16,
	VENC_CCMD_RESOURCE_COPY_REGION = 17,
	VENC_CCMD_BIND_SAMPLER_STATES = 18,
	VENC_CCMD_BEGIN_QUERY = 19,
	VENC_CCMD_END_QUERY = 20,
	VENC_CCMD_GET_QUERY_RESULT = 21,
	VENC_CCMD_SET_POLYGON_STIPPLE = 22,
	VENC_CCMD_SET_CLIP_STATE = 23,
	VENC_CCMD_SET_SAMPLE_MASK = 24,
	VENC_CCMD_SET_STREAMOUT_TARGETS = 25,
	VENC_CCMD_SET_RENDER_CONDITION = 26,
	VENC_CCMD_SET_UNIFORM_BUFFER = 27,
	VENC_CCMD_SET_SUB_CTX = 28,
	VENC_CCMD_CREATE_SUB_CTX = 29,
	VENC_CCMD_DESTROY_SUB_CTX = 30,
	VENC_CCMD_BIND_SHADER = 31,
	VENC_CCMD_PIPE_RESOURCE_CREATE = 48,
};

/* Object types (enum virgl_object_type): the second byte of the header of
 * CREATE_OBJECT, BIND_OBJECT and DESTROY_OBJECT. */
enum venc_obj {
	VENC_OBJ_BLEND = 1,
	VENC_OBJ_RASTERIZER = 2,
	VENC_OBJ_DSA = 3,
	VENC_OBJ_SHADER = 4,
	VENC_OBJ_VERTEX_ELEMENTS = 5,
	VENC_OBJ_SAMPLER_VIEW = 6,
	VENC_OBJ_SAMPLER_STATE = 7,
	VENC_OBJ_SURFACE = 8,
	VENC_OBJ_QUERY = 9,
	VENC_OBJ_STREAMOUT_TARGET = 10,
	VENC_OBJ_MSAA_SURFACE = 11,
};

/* Shader stages (enum virgl_shader_stage, equal to virglrenderer's
 * PIPE_SHADER_*). */
enum venc_shader {
	VENC_SHADER_VERTEX = 0,
	VENC_SHADER_FRAGMENT = 1,
	VENC_SHADER_GEOMETRY = 2,
	VENC_SHADER_TESS_CTRL = 3,
	VENC_SHADER_TESS_EVAL = 4,
	VENC_SHADER_COMPUTE = 5,
};

/* Resource targets (enum pipe_texture_target), for resource creation. */
enum venc_target {
	VENC_TARGET_BUFFER = 0,
	VENC_TARGET_TEXTURE_1D = 1,
	VENC_TARGET_TEXTURE_2D = 2,
	VENC_TARGET_TEXTURE_3D = 3,
	VENC_TARGET_TEXTURE_CUBE = 4,
	VENC_TARGET_TEXTURE_RECT = 5,
	VENC_TARGET_TEXTURE_1D_ARRAY = 6,
	VENC_TARGET_TEXTURE_2D_ARRAY = 7,
	VENC_TARGET_TEXTURE_CUBE_ARRAY = 8,
};

/* A few virgl formats (enum virgl_formats; not pipe_format numbers). */
enum venc_format {
	VENC_FORMAT_B8G8R8A8_UNORM = 1,
	VENC_FORMAT_B8G8R8X8_UNORM = 2,
	VENC_FORMAT_Z16_UNORM = 16,
	VENC_FORMAT_Z32_FLOAT = 18,
	VENC_FORMAT_Z24_UNORM_S8_UINT = 19,
	VENC_FORMAT_R32_FLOAT = 28,
	VENC_FORMAT_R32G32_FLOAT = 29,
	VENC_FORMAT_R32G32B32_FLOAT = 30,
	VENC_FORMAT_R32G32B32A32_FLOAT = 31,
	VENC_FORMAT_R8_UNORM = 64,
	VENC_FORMAT_R8G8B8A8_UNORM = 67,
	VENC_FORMAT_R16_UINT = 185,
	VENC_FORMAT_R32_UINT = 193,
};

/* Resource bind flags (VIRGL_BIND_*). */
#define VENC_BIND_DEPTH_STENCIL   (1u << 0)
#define VENC_BIND_RENDER_TARGET   (1u << 1)
#define VENC_BIND_SAMPLER_VIEW    (1u << 3)
#define VENC_BIND_VERTEX_BUFFER   (1u << 4)
#define VENC_BIND_INDEX_BUFFER    (1u << 5)
#define VENC_BIND_CONSTANT_BUFFER (1u << 6)
#define VENC_BIND_DISPLAY_TARGET  (1u << 7)
#define VENC_BIND_STREAM_OUTPUT   (1u << 11)
#define VENC_BIND_SHADER_BUFFER   (1u << 14)
#define VENC_BIND_CUSTOM          (1u << 17)
#define VENC_BIND_SCANOUT         (1u << 18)
#define VENC_BIND_STAGING         (1u << 19)

/* Primitive modes (enum pipe_prim_type). */
enum venc_prim {
	VENC_PRIM_POINTS = 0,
	VENC_PRIM_LINES = 1,
	VENC_PRIM_LINE_LOOP = 2,
	VENC_PRIM_LINE_STRIP = 3,
	VENC_PRIM_TRIANGLES = 4,
	VENC_PRIM_TRIANGLE_STRIP = 5,
	VENC_PRIM_TRIANGLE_FAN = 6,
};

/* CLEAR buffers (PIPE_CLEAR_*). */
#define VENC_CLEAR_DEPTH     (1u << 0)
#define VENC_CLEAR_STENCIL   (1u << 1)
#define VENC_CLEAR_COLOR0    (1u << 2)
#define VENC_CLEAR_COLOR(i)  (1u << (2 + (i)))

/* Rasterizer options for venc_create_rasterizer; 0 gives GL's defaults
 * (filled polygons, no culling, counter-clockwise front faces, no scissor). */
#define VENC_RS_SCISSOR       (1u << 0) /* scissor test on (SET_SCISSOR_STATE) */
#define VENC_RS_CULL_FRONT    (1u << 1)
#define VENC_RS_CULL_BACK     (1u << 2)
#define VENC_RS_FRONT_CW      (1u << 3) /* clockwise front faces */
#define VENC_RS_FLATSHADE     (1u << 4)
#define VENC_RS_DISCARD       (1u << 5) /* rasterizer discard */

/* ---- argument structs ------------------------------------------------------ */

struct venc_vertex_element {
	uint32_t src_offset;          /* bytes into each vertex */
	uint32_t instance_divisor;    /* 0: per vertex */
	uint32_t vertex_buffer_index; /* slot of SET_VERTEX_BUFFERS */
	uint32_t src_format;          /* virgl format, e.g. VENC_FORMAT_R32G32B32A32_FLOAT */
};

struct venc_vertex_buffer {
	uint32_t stride; /* bytes between vertices */
	uint32_t offset; /* bytes into the resource */
	uint32_t res_id; /* 0 unbinds the slot */
};

struct venc_box {
	uint32_t x, y, z;
	uint32_t w, h, d;
};

/* The whole of a DRAW_VBO command; venc_draw_vbo fills the common case. */
struct venc_draw {
	uint32_t start;
	uint32_t count;
	uint32_t mode;           /* VENC_PRIM_* */
	uint32_t indexed;        /* 1: indices from SET_INDEX_BUFFER */
	uint32_t instance_count; /* 1 for an ordinary draw */
	int32_t index_bias;
	uint32_t start_instance;
	uint32_t primitive_restart;
	uint32_t restart_index;
	uint32_t min_index;
	uint32_t max_index;      /* 0xffffffff when unknown, as Mesa sends */
};

/* ---- the encoder ------------------------------------------------------------ */

/* Encodes into buf[0..cap). */
void venc_init(struct venc *e, uint32_t *buf, uint32_t cap);
/* Empties the stream and clears err, keeping the buffer. */
void venc_reset(struct venc *e);
/* Size of the stream in bytes (what EXECBUFFER's size takes). */
static inline uint32_t venc_bytes(const struct venc *e) { return e->len * 4u; }

/* All of the following return 0, or -e->err when the command was not written
 * (also when an earlier command had already failed). */

int venc_nop(struct venc *e);

/* Sub-contexts: each has its own GL context and object handles on the host.
 * Sub-context 0 always exists; Mesa creates and switches to a fresh one per
 * pipe_context. */
int venc_create_sub_ctx(struct venc *e, uint32_t sub_ctx_id);
int venc_set_sub_ctx(struct venc *e, uint32_t sub_ctx_id);
int venc_destroy_sub_ctx(struct venc *e, uint32_t sub_ctx_id);

/* A render-target view of a texture level and layer range. */
int venc_create_surface(struct venc *e, uint32_t handle, uint32_t res_id, uint32_t format,
			uint32_t level, uint32_t first_layer, uint32_t last_layer);
/* nr_cbufs colour surfaces (0 entries are allowed: unbound slots) and an
 * optional depth/stencil surface (0: none). At most 8 colour buffers. */
int venc_set_framebuffer_state(struct venc *e, uint32_t nr_cbufs, uint32_t zsurf,
			       const uint32_t *cbufs);
/* buffers: VENC_CLEAR_*; rgba is sent as floats (for float/unorm targets). */
int venc_clear(struct venc *e, uint32_t buffers, const float rgba[4], double depth,
	       uint32_t stencil);

/* No blending, all colour channels written, on every render target. */
int venc_create_blend(struct venc *e, uint32_t handle);
/* Depth, stencil and alpha tests all off. */
int venc_create_dsa(struct venc *e, uint32_t handle);
/* GL conventions: half-pixel centres, depth clipping on, z in [-1, 1],
 * point size and line width 1; flags: VENC_RS_*. */
int venc_create_rasterizer(struct venc *e, uint32_t handle, uint32_t flags);
/* Binds a blend, DSA, rasterizer or vertex-elements object (not shaders:
 * the host ignores BIND_OBJECT for them; use venc_bind_shader). */
int venc_bind_object(struct venc *e, uint32_t handle, uint32_t type);
/* type is the VENC_OBJ_* the handle was created as (the host only uses the
 * handle). */
int venc_destroy_object(struct venc *e, uint32_t handle, uint32_t type);

/* A shader from TGSI text, sent the way Mesa's virgl driver sends it: the
 * text with its NUL, zero-padded to whole dwords, after a header of handle,
 * type, offlen (the text's byte length with the NUL) and num_tokens; texts
 * longer than one command are split into continuation commands. No stream
 * output. num_tokens is venc_tgsi_token_bound(text); see there. */
int venc_create_shader(struct venc *e, uint32_t handle, uint32_t type, const char *tgsi_text);
/* The same with an explicit num_tokens (the host parses the text into a
 * buffer of num_tokens + 10 tokens and rejects the shader if it overflows). */
int venc_create_shader_ntok(struct venc *e, uint32_t handle, uint32_t type,
			    const char *tgsi_text, uint32_t num_tokens);
/* An upper bound of the number of TGSI tokens the text parses into: every
 * token costs at least two characters of text, the header aside. */
uint32_t venc_tgsi_token_bound(const char *tgsi_text);
/* handle 0 unbinds the stage. */
int venc_bind_shader(struct venc *e, uint32_t handle, uint32_t type);

/* n vertex elements (n <= 32); element i feeds vertex shader input i. */
int venc_create_vertex_elements(struct venc *e, uint32_t handle, uint32_t n,
				const struct venc_vertex_element *elems);
/* Sets slots 0..n-1 (n <= 32); n = 0 unbinds all. */
int venc_set_vertex_buffers(struct venc *e, uint32_t n, const struct venc_vertex_buffer *vbs);
/* res_id 0 unbinds; index_size is 1, 2 or 4 bytes. */
int venc_set_index_buffer(struct venc *e, uint32_t res_id, uint32_t index_size, uint32_t offset);
/* Loose uniforms of one stage (what Mesa sends for a non-UBO constant buffer
 * 0): n dwords from data. */
int venc_set_constant_buffer(struct venc *e, uint32_t shader_type, uint32_t index,
			     const uint32_t *data, uint32_t n);

/* Viewport 0 from its scale and translate (window = ndc * scale + translate). */
int venc_set_viewport_state(struct venc *e, const float scale[3], const float translate[3]);
/* Viewport 0 covering the rectangle, with GL's depth range [0, 1]. */
int venc_set_viewport(struct venc *e, uint32_t x, uint32_t y, uint32_t w, uint32_t h);
/* Scissor 0: the pixels with minx <= x < maxx, miny <= y < maxy (16 bits each);
 * used only with a rasterizer made with VENC_RS_SCISSOR. */
int venc_set_scissor_state(struct venc *e, uint32_t minx, uint32_t miny, uint32_t maxx,
			   uint32_t maxy);

/* A non-indexed, non-instanced draw. */
int venc_draw_vbo(struct venc *e, uint32_t start, uint32_t count, uint32_t mode);
int venc_draw_vbo_info(struct venc *e, const struct venc_draw *d);

/* Writes size bytes of data into a resource's box through the command
 * stream. For buffers the box is in bytes (x = offset, w = size, h = d = 1);
 * stride and layer_stride 0 let the host infer them from the box and format.
 * usage is passed through (Mesa sends its PIPE_MAP_* flags; the host ignores
 * it). The data must fit in one command (VENC_MAX_CMD_LEN - 11 dwords). */
int venc_resource_inline_write(struct venc *e, uint32_t res_id, uint32_t level, uint32_t usage,
			       uint32_t stride, uint32_t layer_stride, const struct venc_box *box,
			       const void *data, uint32_t size);

/* The host object of a blob: a PIPE_RESOURCE_CREATE that waits in the
 * context until RESOURCE_CREATE_BLOB (HOST3D) names blob_id. flags are
 * VIRGL_RESOURCE_FLAG_*: MAP_PERSISTENT and MAP_COHERENT make the host
 * storage mappable (buffer storage). */
#define VENC_RESOURCE_FLAG_MAP_PERSISTENT (1u << 1)
#define VENC_RESOURCE_FLAG_MAP_COHERENT   (1u << 2)
struct venc_pipe_resource {
	uint32_t target, format, bind, width, height, depth, array_size, last_level, nr_samples, flags;
	uint32_t blob_id;
};
int venc_pipe_resource_create(struct venc *e, const struct venc_pipe_resource *r);
/* Copies a box of src into dst on the host (buffers: x and w in bytes). */
int venc_resource_copy_region(struct venc *e, uint32_t dst_res, uint32_t dst_level, uint32_t dx, uint32_t dy,
			      uint32_t dz, uint32_t src_res, uint32_t src_level, const struct venc_box *src);

#endif
