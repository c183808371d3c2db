/* SPDX-License-Identifier: MIT */
/*
 * draw_exec_sampler: textures, images and shader buffers for the draw
 * module's TGSI interpreter when draw has no LLVM (see the header for why).
 *
 * Everything reads the CPU mappings the state tracker made for this draw
 * (draw_exec_sampler_set_texture/_image, draw->pt.user.*_ssbos) with the
 * views and sampler states draw was given (draw->sampler_views, ->samplers,
 * ->images). The interpreter runs four vertices at a time with no
 * derivatives between them, so each lane is sampled on its own; implicit
 * LOD is 0, as on any vertex stage.
 *
 * Nothing read can fault: every texel address is checked against the
 * mapped size, and what lies outside reads as zeros. Shader writes to
 * images are dropped: the state tracker maps them for reading only, and
 * the results of a vertex shader run for glRasterPos or feedback are its
 * outputs, not its side effects.
 */
#include <math.h>
#include <string.h>

#include "draw/draw_context.h"
#include "draw/draw_exec_sampler.h"
#include "draw/draw_private.h"
#include "tgsi/tgsi_exec.h"
#include "util/compiler.h"
#include "util/format/u_format.h"
#include "util/macros.h"
#include "util/u_math.h"
#include "util/u_memory.h"

/* The stages draw runs: PIPE_SHADER_VERTEX up to PIPE_SHADER_GEOMETRY. */
#define EXEC_STAGES (PIPE_SHADER_GEOMETRY + 1)

struct exec_texture {
	const uint8_t *base; /* NULL: not mapped */
	uint32_t width, height, depth, first_level, last_level;
	uint32_t row_stride[PIPE_MAX_TEXTURE_LEVELS];
	uint32_t img_stride[PIPE_MAX_TEXTURE_LEVELS];
	uint32_t mip_offsets[PIPE_MAX_TEXTURE_LEVELS];
};

struct exec_image {
	const uint8_t *base; /* NULL: not mapped */
	uint32_t width, height, depth, row_stride, img_stride;
};

struct exec_stage {
	struct tgsi_sampler sampler;
	struct tgsi_image image;
	struct tgsi_buffer buffer;
	struct draw_context *draw;
	enum pipe_shader_type stage;
	struct exec_texture tex[PIPE_MAX_SHADER_SAMPLER_VIEWS];
	struct exec_image img[PIPE_MAX_SHADER_IMAGES];
};

struct draw_exec_sampler {
	struct exec_stage stage[EXEC_STAGES];
};

/* One texel as the interpreter holds it: floats, or the bits of 32-bit
 * integers for pure integer formats. */
union texel {
	float f[4];
	uint32_t u[4];
};

/* One level (or a buffer range) as mapped: texel (x, y, layer) of a plain
 * format lies at base + layer * img_stride + y * row_stride + x * bytes. */
struct level_map {
	const uint8_t *base;
	uint32_t width, height, layers, row_stride, img_stride;
};

/* A view's format, looked up once per fetch. */
struct fmt {
	const struct util_format_description *desc;
	const struct util_format_unpack_description *unpack;
	util_format_fetch_rgba_func_ptr fetch_block; /* block-compressed formats */
	bool is_int;
};

static bool fmt_init(struct fmt *f, enum pipe_format format)
{
	f->desc = util_format_description(format);
	if (!f->desc || format == PIPE_FORMAT_NONE)
		return false;
	f->unpack = util_format_unpack_description(format);
	f->fetch_block = NULL;
	if (f->desc->block.width > 1 || f->desc->block.height > 1)
		f->fetch_block = util_format_fetch_rgba_func(format);
	f->is_int = util_format_is_pure_integer(format);
	return f->unpack != NULL;
}

/* Decodes the texel at (i, j) of the block at SRC. Depth reads into red,
 * stencil into red as an integer, as gallium samples them. */
static void decode(const struct fmt *f, const uint8_t *src, unsigned i, unsigned j, union texel *out)
{
	memset(out, 0, sizeof(*out));
	if (util_format_has_depth(f->desc)) {
		if (f->unpack->unpack_z_float)
			f->unpack->unpack_z_float(&out->f[0], 0, src, 0, 1, 1);
		out->f[3] = 1.0f;
	} else if (util_format_has_stencil(f->desc)) {
		uint8_t s = 0;

		if (f->unpack->unpack_s_8uint)
			f->unpack->unpack_s_8uint(&s, 0, src, 0, 1, 1);
		out->u[0] = s;
		out->u[3] = 1;
	} else if (f->fetch_block) {
		f->fetch_block(out->f, src, i, j);
	} else if (f->desc->block.width == 1 && f->desc->block.height == 1 && f->unpack->unpack_rgba) {
		f->unpack->unpack_rgba(out, src, 1);
	}
}

/* Texel (x, y, layer) of a mapped level, or false outside it. */
static bool read_texel(const struct fmt *f, const struct level_map *m, int x, int y, int layer, union texel *out)
{
	const unsigned bw = f->desc->block.width, bh = f->desc->block.height;
	const unsigned bytes = MAX2(f->desc->block.bits / 8, 1);

	if (!m->base || x < 0 || y < 0 || layer < 0 || (uint32_t)x >= m->width || (uint32_t)y >= m->height ||
	    (uint32_t)layer >= m->layers)
		return false;
	decode(f,
	       m->base + (size_t)layer * m->img_stride + (size_t)(y / bh) * m->row_stride + (size_t)(x / bw) * bytes,
	       x % bw, y % bh, out);
	return true;
}

static void apply_swizzle(const unsigned swz[4], bool is_int, const union texel *in, union texel *out)
{
	for (unsigned c = 0; c < 4; c++) {
		if (swz[c] <= PIPE_SWIZZLE_W)
			out->u[c] = in->u[swz[c]];
		else if (swz[c] == PIPE_SWIZZLE_1)
			out->u[c] = is_int ? 1 : fui(1.0f);
		else
			out->u[c] = 0;
	}
}

static void put_lane(float rgba[TGSI_NUM_CHANNELS][TGSI_QUAD_SIZE], unsigned q, const union texel *t)
{
	for (unsigned c = 0; c < 4; c++)
		memcpy(&rgba[c][q], &t->u[c], sizeof(float));
}

/* ---- sampler views ---------------------------------------------------------------- */

static struct exec_stage *stage_of_sampler(const struct tgsi_sampler *s)
{
	return container_of(s, struct exec_stage, sampler);
}

static const struct pipe_sampler_view *view_at(const struct exec_stage *st, unsigned unit)
{
	if (unit >= PIPE_MAX_SHADER_SAMPLER_VIEWS || unit >= st->draw->num_sampler_views[st->stage])
		return NULL;
	return st->draw->sampler_views[st->stage][unit];
}

/* The mapping of LEVEL of the view at UNIT (a buffer view: its range). */
static bool view_level(const struct exec_stage *st, unsigned unit, const struct pipe_sampler_view *view,
		       unsigned level, struct level_map *m)
{
	const struct exec_texture *t = &st->tex[unit];
	const struct pipe_resource *res = view->texture;

	memset(m, 0, sizeof(*m));
	if (!t->base || !res)
		return false;
	if (view->target == PIPE_BUFFER) {
		m->base = t->base;
		m->width = t->width;
		m->height = m->layers = 1;
		return true;
	}
	if (level < t->first_level || level > t->last_level || level >= PIPE_MAX_TEXTURE_LEVELS)
		return false;
	m->base = t->base + t->mip_offsets[level];
	m->width = u_minify(res->width0, level);
	m->height = u_minify(res->height0, level);
	m->layers = res->target == PIPE_TEXTURE_3D ? u_minify(res->depth0, level) : t->depth;
	m->row_stride = t->row_stride[level];
	m->img_stride = t->img_stride[level];
	return true;
}

static void view_swizzle(const struct pipe_sampler_view *view, unsigned swz[4])
{
	swz[0] = view->swizzle_r;
	swz[1] = view->swizzle_g;
	swz[2] = view->swizzle_b;
	swz[3] = view->swizzle_a;
}

/* TXF: unfiltered texels by integer coordinates, relative to the view's
 * first level and layer; outside the view they read as zeros. */
static void exec_get_texel(struct tgsi_sampler *sampler, const unsigned unit, const int i[TGSI_QUAD_SIZE],
			   const int j[TGSI_QUAD_SIZE], const int k[TGSI_QUAD_SIZE], const int lod[TGSI_QUAD_SIZE],
			   const int8_t offset[3], float rgba[TGSI_NUM_CHANNELS][TGSI_QUAD_SIZE])
{
	const struct exec_stage *st = stage_of_sampler(sampler);
	const struct pipe_sampler_view *view = view_at(st, unit);
	unsigned swz[4];
	struct fmt f;

	memset(rgba, 0, sizeof(float) * TGSI_NUM_CHANNELS * TGSI_QUAD_SIZE);
	if (!view || !fmt_init(&f, view->format))
		return;
	view_swizzle(view, swz);
	for (unsigned q = 0; q < TGSI_QUAD_SIZE; q++) {
		const bool buffer = view->target == PIPE_BUFFER;
		const unsigned level = buffer ? 0 : view->u.tex.first_level + (unsigned)lod[q];
		int x = i[q], y = 0, layer = 0;
		struct level_map m;
		union texel t, out;

		if (!buffer && (lod[q] < 0 || level > view->u.tex.last_level))
			continue;
		if (!view_level(st, unit, view, level, &m))
			continue;
		/* The interpreter leaves the coordinates a target has no use
		 * for unset: read only the ones this one has. */
		switch (view->target) {
		case PIPE_BUFFER:
			break;
		case PIPE_TEXTURE_1D:
			x += offset[0];
			break;
		case PIPE_TEXTURE_1D_ARRAY:
			x += offset[0];
			layer = j[q];
			break;
		case PIPE_TEXTURE_2D_ARRAY:
		case PIPE_TEXTURE_CUBE:
		case PIPE_TEXTURE_CUBE_ARRAY:
		case PIPE_TEXTURE_3D:
			layer = k[q] + (view->target == PIPE_TEXTURE_3D ? offset[2] : 0);
			FALLTHROUGH;
		default: /* 2D, rectangle */
			x += offset[0];
			y = j[q] + offset[1];
			break;
		}
		if (!read_texel(&f, &m, x, y, layer, &t))
			continue;
		apply_swizzle(swz, f.is_int, &t, &out);
		put_lane(rgba, q, &out);
	}
}

/* TXQ: size of LEVEL (relative to the view's first level) and level count. */
static void exec_get_dims(struct tgsi_sampler *sampler, const unsigned unit, int level, int dims[4])
{
	const struct exec_stage *st = stage_of_sampler(sampler);
	const struct pipe_sampler_view *view = view_at(st, unit);
	const struct pipe_resource *res;
	unsigned layers, l;

	dims[0] = dims[1] = dims[2] = dims[3] = 0;
	if (!view || !view->texture)
		return;
	res = view->texture;
	if (view->target == PIPE_BUFFER) {
		const unsigned bytes = util_format_get_blocksize(view->format);

		dims[0] = bytes ? view->u.buf.size / bytes : 0;
		return;
	}
	if (level < 0 || view->u.tex.first_level + (unsigned)level > view->u.tex.last_level)
		return;
	l = view->u.tex.first_level + level;
	layers = view->u.tex.last_layer - view->u.tex.first_layer + 1;
	dims[0] = u_minify(res->width0, l);
	dims[3] = view->u.tex.last_level - view->u.tex.first_level + 1;
	switch (view->target) {
	case PIPE_TEXTURE_1D:
		break;
	case PIPE_TEXTURE_1D_ARRAY:
		dims[1] = layers;
		break;
	case PIPE_TEXTURE_2D_ARRAY:
		dims[1] = u_minify(res->height0, l);
		dims[2] = layers;
		break;
	case PIPE_TEXTURE_CUBE_ARRAY:
		dims[1] = u_minify(res->height0, l);
		dims[2] = layers / 6;
		break;
	case PIPE_TEXTURE_3D:
		dims[1] = u_minify(res->height0, l);
		dims[2] = u_minify(res->depth0, l);
		break;
	default: /* 2D, rectangle, cube */
		dims[1] = u_minify(res->height0, l);
		break;
	}
}

/* ---- filtered sampling -------------------------------------------------------------- */

/* How many coordinates address texels within a layer of TARGET. */
static unsigned target_dims(enum pipe_texture_target target)
{
	if (target == PIPE_TEXTURE_1D || target == PIPE_TEXTURE_1D_ARRAY)
		return 1;
	return target == PIPE_TEXTURE_3D ? 3 : 2;
}

/* One lane's sampling state. */
struct sample_job {
	const struct exec_stage *st;
	unsigned unit;
	const struct pipe_sampler_view *view;
	const struct pipe_sampler_state *samp;
	struct fmt f;
	unsigned swz[4];
	bool shadow;
	float ref;
};

/* floor() as an int, bounded so that no float turns into an undefined
 * conversion (NaN and the infinities included). */
static int ifloor(float u)
{
	if (!(u >= -16777216.0f))
		return -16777216;
	if (u > 16777216.0f)
		return 16777216;
	return (int)floorf(u);
}

static int imod(int a, int n)
{
	const int r = a % n;

	return r < 0 ? r + n : r;
}

/* Texel index I of a SIZE texels wide axis after MODE; -1: the border.
 * GL_CLAMP and GL_MIRROR_CLAMP reach the border only when filtering
 * linearly (the coordinate was clamped to [0, size] before). */
static int wrap(unsigned mode, int i, int size, bool linear)
{
	switch (mode) {
	case PIPE_TEX_WRAP_REPEAT:
		return imod(i, size);
	case PIPE_TEX_WRAP_MIRROR_REPEAT: {
		const int m = imod(i, 2 * size);

		return m < size ? m : 2 * size - 1 - m;
	}
	case PIPE_TEX_WRAP_MIRROR_CLAMP_TO_EDGE:
		if (i < 0)
			i = -1 - i;
		return MIN2(i, size - 1);
	case PIPE_TEX_WRAP_MIRROR_CLAMP:
		if (i < 0)
			i = -1 - i;
		FALLTHROUGH;
	case PIPE_TEX_WRAP_CLAMP:
		if (!linear)
			return CLAMP(i, 0, size - 1);
		return i < 0 || i >= size ? -1 : i;
	case PIPE_TEX_WRAP_MIRROR_CLAMP_TO_BORDER:
		if (i < 0)
			i = -1 - i;
		FALLTHROUGH;
	case PIPE_TEX_WRAP_CLAMP_TO_BORDER:
		return i < 0 || i >= size ? -1 : i;
	default: /* PIPE_TEX_WRAP_CLAMP_TO_EDGE */
		return CLAMP(i, 0, size - 1);
	}
}

/* The coordinate U (in texels) as the wrap mode sees it. */
static float pre_wrap(unsigned mode, float u, float size)
{
	if (mode == PIPE_TEX_WRAP_CLAMP)
		return CLAMP(u, 0.0f, size);
	if (mode == PIPE_TEX_WRAP_MIRROR_CLAMP)
		return MIN2(fabsf(u), size);
	return u;
}

/* The two texels and the weight of the second one that filtering U on an
 * axis of SIZE texels reads (nearest: the same texel twice). */
static void axis_taps(unsigned mode, float u, int size, int offset, bool linear, int tap[2], float *w)
{
	u = pre_wrap(mode, u, (float)size);
	if (linear) {
		const float v = u - 0.5f;
		const int i = ifloor(v);

		tap[0] = wrap(mode, i + offset, size, true);
		tap[1] = wrap(mode, i + 1 + offset, size, true);
		*w = v - floorf(v);
		if (!(*w >= 0.0f && *w <= 1.0f))
			*w = 0.0f;
	} else {
		tap[0] = tap[1] = wrap(mode, ifloor(u) + offset, size, false);
		*w = 0.0f;
	}
}

static bool compare(unsigned func, float ref, float depth)
{
	switch (func) {
	case PIPE_FUNC_LESS:
		return ref < depth;
	case PIPE_FUNC_LEQUAL:
		return ref <= depth;
	case PIPE_FUNC_GREATER:
		return ref > depth;
	case PIPE_FUNC_GEQUAL:
		return ref >= depth;
	case PIPE_FUNC_EQUAL:
		return ref == depth;
	case PIPE_FUNC_NOTEQUAL:
		return ref != depth;
	case PIPE_FUNC_ALWAYS:
		return true;
	default: /* PIPE_FUNC_NEVER */
		return false;
	}
}

/* One unswizzled texel of a tap: the border where the wrap said so, the
 * comparison's result for a shadow sampler. */
static void tap_texel(const struct sample_job *job, const struct level_map *m, int x, int y, int layer,
		      union texel *t)
{
	if (x < 0 || y < 0 || !read_texel(&job->f, m, x, y, layer, t))
		memcpy(t->u, job->samp->border_color.ui, sizeof(t->u));
	if (job->shadow) {
		const float r = compare(job->samp->compare_func, job->ref, t->f[0]) ? 1.0f : 0.0f;

		t->f[0] = t->f[1] = t->f[2] = r;
		t->f[3] = 1.0f;
	}
}

/* Where a lane samples: coordinates in [0, 1] (or texels, unnormalized),
 * and the layer (a cube's face included). */
struct coord {
	float s, t, r;
	int layer;
};

/* Samples LEVEL at C with LINEAR or nearest filtering into OUT
 * (unswizzled). GATHER >= 0: textureGather of that component instead. */
static void sample_level(const struct sample_job *job, unsigned level, const struct coord *c, bool linear,
			 const int8_t offset[3], int gather, union texel *out)
{
	const struct pipe_sampler_state *samp = job->samp;
	const enum pipe_texture_target target = job->view->target;
	const bool norm = !samp->unnormalized_coords && target != PIPE_TEXTURE_RECT;
	const bool cube = target == PIPE_TEXTURE_CUBE || target == PIPE_TEXTURE_CUBE_ARRAY;
	const unsigned dims = target_dims(target);
	/* A face is sampled on its own: its edges clamp. */
	const unsigned wrap_s = cube ? PIPE_TEX_WRAP_CLAMP_TO_EDGE : samp->wrap_s;
	const unsigned wrap_t = cube ? PIPE_TEX_WRAP_CLAMP_TO_EDGE : samp->wrap_t;
	int xs[2], ys[2] = { 0, 0 }, zs[2] = { 0, 0 };
	float wx, wy = 0.0f, wz = 0.0f;
	struct level_map m;

	memset(out, 0, sizeof(*out));
	if (!view_level(job->st, job->unit, job->view, level, &m) || !m.width || !m.height || !m.layers)
		return;
	if (gather >= 0)
		linear = true;
	axis_taps(wrap_s, norm ? c->s * m.width : c->s, (int)m.width, offset[0], linear, xs, &wx);
	if (dims >= 2)
		axis_taps(wrap_t, norm ? c->t * m.height : c->t, (int)m.height, offset[1], linear, ys, &wy);
	if (dims == 3)
		axis_taps(samp->wrap_r, norm ? c->r * m.layers : c->r, (int)m.layers, offset[2], linear, zs, &wz);

	if (gather >= 0) {
		/* GL's order: (i0, j1), (i1, j1), (i1, j0), (i0, j0). */
		const int gx[4] = { xs[0], xs[1], xs[1], xs[0] }, gy[4] = { ys[1], ys[1], ys[0], ys[0] };
		const unsigned swz = job->shadow ? PIPE_SWIZZLE_X : job->swz[gather];

		for (unsigned v = 0; v < 4; v++) {
			union texel t;

			tap_texel(job, &m, gx[v], gy[v], c->layer, &t);
			if (swz <= PIPE_SWIZZLE_W)
				out->u[v] = t.u[swz];
			else
				out->u[v] = swz == PIPE_SWIZZLE_1 ? (job->f.is_int ? 1 : fui(1.0f)) : 0;
		}
		return;
	}
	if (!linear) {
		tap_texel(job, &m, xs[0], ys[0], dims == 3 ? zs[0] : c->layer, out);
		return;
	}
	for (unsigned n = 0; n < (dims == 3 ? 8u : dims == 2 ? 4u : 2u); n++) {
		const unsigned bx = n & 1, by = (n >> 1) & 1, bz = (n >> 2) & 1;
		const float w = (bx ? wx : 1.0f - wx) * (by ? wy : 1.0f - wy) * (bz ? wz : 1.0f - wz);
		union texel t;

		tap_texel(job, &m, xs[bx], ys[by], dims == 3 ? zs[bz] : c->layer, &t);
		for (unsigned ch = 0; ch < 4; ch++)
			out->f[ch] += w * t.f[ch];
	}
}

/* A cube direction to a face (+X -X +Y -Y +Z -Z) and coordinates on it. */
static void cube_face(float x, float y, float z, struct coord *c)
{
	const float ax = fabsf(x), ay = fabsf(y), az = fabsf(z);
	float sc, tc, ma;
	int face;

	if (ax >= ay && ax >= az) {
		face = x >= 0.0f ? 0 : 1;
		sc = x >= 0.0f ? -z : z;
		tc = -y;
		ma = ax;
	} else if (ay >= az) {
		face = y >= 0.0f ? 2 : 3;
		sc = x;
		tc = y >= 0.0f ? z : -z;
		ma = ay;
	} else {
		face = z >= 0.0f ? 4 : 5;
		sc = z >= 0.0f ? x : -x;
		tc = -y;
		ma = az;
	}
	if (!(ma > 0.0f))
		ma = 1.0f;
	c->s = 0.5f * (sc / ma + 1.0f);
	c->t = 0.5f * (tc / ma + 1.0f);
	c->layer += face;
}

/* An array layer coordinate to a layer index (GL: round, then clamp). */
static int array_layer(float l, unsigned layers)
{
	return CLAMP(ifloor(l + 0.5f), 0, (int)layers - 1);
}

/* Level of detail from explicit derivatives (textureGrad): log2 of the
 * longer footprint axis, in texels of the base level. The interpreter
 * fills in the derivatives of the coordinates the target has only. A
 * cube's three are of its direction: on the face, the coordinates move by
 * them over twice the major axis MA. */
static float lod_from_derivs(const struct sample_job *job, float derivs[3][2][TGSI_QUAD_SIZE], unsigned q,
			     float ma)
{
	const struct pipe_resource *res = job->view->texture;
	const enum pipe_texture_target target = job->view->target;
	const bool cube = target == PIPE_TEXTURE_CUBE || target == PIPE_TEXTURE_CUBE_ARRAY;
	const unsigned base = job->view->u.tex.first_level, axes = cube ? 3 : target_dims(target);
	const float w = (float)u_minify(res->width0, base);
	const float size[3] = { w, cube ? w : (float)u_minify(res->height0, base),
				cube ? w : (float)u_minify(res->depth0, base) };
	float rho = 0.0f;

	for (unsigned d = 0; d < 2; d++) {
		float len = 0.0f;

		for (unsigned a = 0; a < axes; a++) {
			const float v = derivs[a][d][q] * size[a] * (cube ? 0.5f / ma : 1.0f);

			len += v * v;
		}
		rho = MAX2(rho, len);
	}
	return rho > 0.0f ? 0.5f * log2f(rho) : -1000.0f;
}

static void exec_get_samples(struct tgsi_sampler *sampler, const unsigned sview_index, const unsigned sampler_index,
			     const float s[TGSI_QUAD_SIZE], const float t[TGSI_QUAD_SIZE],
			     const float p[TGSI_QUAD_SIZE], const float c0[TGSI_QUAD_SIZE],
			     const float c1[TGSI_QUAD_SIZE], float derivs[3][2][TGSI_QUAD_SIZE],
			     const int8_t offset[3], enum tgsi_sampler_control control,
			     float rgba[TGSI_NUM_CHANNELS][TGSI_QUAD_SIZE])
{
	const struct exec_stage *st = stage_of_sampler(sampler);
	struct sample_job job = { .st = st, .unit = sview_index, .view = view_at(st, sview_index) };
	unsigned layers;
	int gather = -1;

	memset(rgba, 0, sizeof(float) * TGSI_NUM_CHANNELS * TGSI_QUAD_SIZE);
	if (sampler_index >= PIPE_MAX_SAMPLERS || sampler_index >= st->draw->num_samplers[st->stage])
		return;
	job.samp = st->draw->samplers[st->stage][sampler_index];
	if (!job.view || !job.samp || !job.view->texture || job.view->target == PIPE_BUFFER ||
	    !fmt_init(&job.f, job.view->format))
		return;
	view_swizzle(job.view, job.swz);
	job.shadow = job.samp->compare_mode == PIPE_TEX_COMPARE_R_TO_TEXTURE;
	layers = job.view->u.tex.last_layer - job.view->u.tex.first_layer + 1;
	if (control == TGSI_SAMPLER_GATHER)
		gather = (int)(fui(c1[0]) & 3); /* the component, as integer bits */

	for (unsigned q = 0; q < TGSI_QUAD_SIZE; q++) {
		const unsigned base = job.view->u.tex.first_level, last = job.view->u.tex.last_level;
		struct coord c = { s[q], t[q], p[q], 0 };
		float lod = c1[q], lambda;
		union texel out, swizzled;
		bool linear;

		job.ref = p[q];
		switch (job.view->target) {
		case PIPE_TEXTURE_1D_ARRAY:
			c.layer = array_layer(t[q], layers);
			break;
		case PIPE_TEXTURE_2D_ARRAY:
			c.layer = array_layer(p[q], layers);
			job.ref = c0[q];
			break;
		case PIPE_TEXTURE_CUBE:
			job.ref = c0[q];
			cube_face(s[q], t[q], p[q], &c);
			break;
		case PIPE_TEXTURE_CUBE_ARRAY:
			c.layer = 6 * array_layer(c0[q], layers / 6);
			if (job.shadow) {
				job.ref = c1[q]; /* no LOD argument here */
				lod = 0.0f;
			}
			cube_face(s[q], t[q], p[q], &c);
			break;
		default:
			break;
		}
		/* A fixed-point depth texture compares with the reference
		 * clamped to its range. */
		if (job.shadow && job.f.desc->channel[0].type != UTIL_FORMAT_TYPE_FLOAT)
			job.ref = CLAMP(job.ref, 0.0f, 1.0f);

		switch (control) {
		case TGSI_SAMPLER_LOD_BIAS:
		case TGSI_SAMPLER_LOD_EXPLICIT:
			lambda = lod;
			break;
		case TGSI_SAMPLER_DERIVS_EXPLICIT:
			if (derivs) {
				const float ma = MAX3(fabsf(s[q]), fabsf(t[q]), fabsf(p[q]));

				lambda = lod_from_derivs(&job, derivs, q, ma > 0.0f ? ma : 1.0f);
			} else {
				lambda = 0.0f;
			}
			break;
		default: /* no derivatives between vertices: level zero */
			lambda = 0.0f;
			break;
		}
		lambda = MIN2(MAX2(lambda + job.samp->lod_bias, job.samp->min_lod), job.samp->max_lod);
		if (!(lambda == lambda))
			lambda = 0.0f;

		if (gather >= 0) {
			sample_level(&job, base, &c, true, offset, gather, &out);
			put_lane(rgba, q, &out);
			continue;
		}
		if (lambda <= 0.0f) {
			linear = job.samp->mag_img_filter == PIPE_TEX_FILTER_LINEAR && !job.f.is_int;
			sample_level(&job, base, &c, linear, offset, -1, &out);
		} else {
			linear = job.samp->min_img_filter == PIPE_TEX_FILTER_LINEAR && !job.f.is_int;
			switch (job.samp->min_mip_filter) {
			case PIPE_TEX_MIPFILTER_NEAREST: {
				/* GL: level base + ceil(lambda + 1/2) - 1 */
				const float d = ceilf(lambda + 0.5f) - 1.0f;
				const unsigned level = base + (unsigned)MIN2(MAX2(d, 0.0f), (float)(last - base));

				sample_level(&job, level, &c, linear, offset, -1, &out);
				break;
			}
			case PIPE_TEX_MIPFILTER_LINEAR: {
				const float d = MIN2(lambda, (float)(last - base));
				const unsigned l0 = base + (unsigned)floorf(d);
				const float w = d - floorf(d);

				sample_level(&job, l0, &c, linear, offset, -1, &out);
				if (w > 0.0f && l0 < last && !job.f.is_int) {
					union texel hi;

					sample_level(&job, l0 + 1, &c, linear, offset, -1, &hi);
					for (unsigned ch = 0; ch < 4; ch++)
						out.f[ch] += w * (hi.f[ch] - out.f[ch]);
				}
				break;
			}
			default: /* PIPE_TEX_MIPFILTER_NONE */
				sample_level(&job, base, &c, linear, offset, -1, &out);
				break;
			}
		}
		apply_swizzle(job.swz, job.f.is_int && !job.shadow, &out, &swizzled);
		put_lane(rgba, q, &swizzled);
	}
}

/* LODQ: the vertex stages have no derivatives, so the computed LOD is 0
 * and the level used is the clamped bias. */
static void exec_query_lod(const struct tgsi_sampler *sampler, const unsigned sview_index,
			   const unsigned sampler_index, const float s[TGSI_QUAD_SIZE], const float t[TGSI_QUAD_SIZE],
			   const float p[TGSI_QUAD_SIZE], const float c0[TGSI_QUAD_SIZE],
			   const enum tgsi_sampler_control control, float mipmap[TGSI_QUAD_SIZE],
			   float lod[TGSI_QUAD_SIZE])
{
	const struct exec_stage *st = stage_of_sampler(sampler);
	const struct pipe_sampler_state *samp = NULL;

	(void)sview_index, (void)s, (void)t, (void)p, (void)c0, (void)control;
	if (sampler_index < PIPE_MAX_SAMPLERS && sampler_index < st->draw->num_samplers[st->stage])
		samp = st->draw->samplers[st->stage][sampler_index];
	for (unsigned q = 0; q < TGSI_QUAD_SIZE; q++) {
		lod[q] = 0.0f;
		mipmap[q] = samp ? MIN2(MAX2(samp->lod_bias, samp->min_lod), samp->max_lod) : 0.0f;
	}
}

/* ---- images ---------------------------------------------------------------------------- */

static struct exec_stage *stage_of_image(const struct tgsi_image *image)
{
	return container_of(image, struct exec_stage, image);
}

/* The mapped image at PARAMS' unit as a level_map, and its format. */
static bool image_at(const struct exec_stage *st, const struct tgsi_image_params *params, struct level_map *m,
		     struct fmt *f)
{
	const struct pipe_image_view *view;
	const struct exec_image *img;

	if (params->unit >= PIPE_MAX_SHADER_IMAGES || params->unit >= st->draw->num_images[st->stage])
		return false;
	view = st->draw->images[st->stage][params->unit];
	img = &st->img[params->unit];
	if (!view || !view->resource || !img->base || !fmt_init(f, view->format))
		return false;
	/* Image formats are plain: one texel per block. */
	if (f->desc->block.width != 1 || f->desc->block.height != 1)
		return false;
	m->base = img->base;
	m->width = img->width;
	m->height = MAX2(img->height, 1);
	m->layers = MAX2(img->depth, 1);
	m->row_stride = img->row_stride;
	m->img_stride = img->img_stride;
	return true;
}

/* Lane Q's texel (x, y, layer) for the image target. */
static void image_coord(unsigned target, const int s[TGSI_QUAD_SIZE], const int t[TGSI_QUAD_SIZE],
			const int r[TGSI_QUAD_SIZE], unsigned q, int xyz[3])
{
	xyz[0] = s[q];
	xyz[1] = xyz[2] = 0;
	switch (target) {
	case TGSI_TEXTURE_BUFFER:
	case TGSI_TEXTURE_1D:
		break;
	case TGSI_TEXTURE_1D_ARRAY:
		xyz[2] = t[q];
		break;
	case TGSI_TEXTURE_2D_ARRAY:
	case TGSI_TEXTURE_2D_ARRAY_MSAA:
	case TGSI_TEXTURE_3D:
	case TGSI_TEXTURE_CUBE:
	case TGSI_TEXTURE_CUBE_ARRAY:
		xyz[2] = r[q];
		FALLTHROUGH;
	default: /* 2D, rectangle, 2D multisample */
		xyz[1] = t[q];
		break;
	}
}

static void exec_image_load(const struct tgsi_image *image, const struct tgsi_image_params *params,
			    const int s[TGSI_QUAD_SIZE], const int t[TGSI_QUAD_SIZE], const int r[TGSI_QUAD_SIZE],
			    const int sample[TGSI_QUAD_SIZE], float rgba[TGSI_NUM_CHANNELS][TGSI_QUAD_SIZE])
{
	const struct exec_stage *st = stage_of_image(image);
	struct level_map m;
	struct fmt f;

	(void)sample; /* the state tracker maps sample 0 only */
	memset(rgba, 0, sizeof(float) * TGSI_NUM_CHANNELS * TGSI_QUAD_SIZE);
	if (!image_at(st, params, &m, &f))
		return;
	for (unsigned q = 0; q < TGSI_QUAD_SIZE; q++) {
		union texel texel;
		int xyz[3];

		if (!(params->execmask & (1u << q)))
			continue;
		image_coord(params->tgsi_tex_instr, s, t, r, q, xyz);
		if (read_texel(&f, &m, xyz[0], xyz[1], xyz[2], &texel))
			put_lane(rgba, q, &texel);
	}
}

/* Image stores from these stages are dropped (see the top of the file). */
static void exec_image_store(const struct tgsi_image *image, const struct tgsi_image_params *params,
			     const int s[TGSI_QUAD_SIZE], const int t[TGSI_QUAD_SIZE], const int r[TGSI_QUAD_SIZE],
			     const int sample[TGSI_QUAD_SIZE], float rgba[TGSI_NUM_CHANNELS][TGSI_QUAD_SIZE])
{
	(void)image, (void)params, (void)s, (void)t, (void)r, (void)sample, (void)rgba;
}

/* An atomic returns what it would have replaced; the write is dropped. */
static void exec_image_op(const struct tgsi_image *image, const struct tgsi_image_params *params,
			  enum tgsi_opcode opcode, const int s[TGSI_QUAD_SIZE], const int t[TGSI_QUAD_SIZE],
			  const int r[TGSI_QUAD_SIZE], const int sample[TGSI_QUAD_SIZE],
			  float rgba[TGSI_NUM_CHANNELS][TGSI_QUAD_SIZE], float rgba2[TGSI_NUM_CHANNELS][TGSI_QUAD_SIZE])
{
	(void)opcode, (void)rgba2;
	exec_image_load(image, params, s, t, r, sample, rgba);
}

static void exec_image_dims(const struct tgsi_image *image, const struct tgsi_image_params *params, int dims[4])
{
	const struct exec_stage *st = stage_of_image(image);
	struct level_map m;
	struct fmt f;

	dims[0] = dims[1] = dims[2] = dims[3] = 0;
	if (!image_at(st, params, &m, &f))
		return;
	dims[0] = m.width;
	switch (params->tgsi_tex_instr) {
	case TGSI_TEXTURE_BUFFER:
	case TGSI_TEXTURE_1D:
		break;
	case TGSI_TEXTURE_1D_ARRAY:
		dims[1] = m.layers;
		break;
	case TGSI_TEXTURE_2D_ARRAY:
	case TGSI_TEXTURE_2D_ARRAY_MSAA:
	case TGSI_TEXTURE_3D:
		dims[1] = m.height;
		dims[2] = m.layers;
		break;
	case TGSI_TEXTURE_CUBE_ARRAY:
		dims[1] = m.height;
		dims[2] = m.layers / 6;
		break;
	default: /* 2D, rectangle, cube, 2D multisample */
		dims[1] = m.height;
		break;
	}
}

/* ---- shader buffers ------------------------------------------------------------------ */

static void *exec_buffer_lookup(const struct tgsi_buffer *buffer, uint32_t unit, uint32_t *size)
{
	const struct exec_stage *st = container_of(buffer, struct exec_stage, buffer);
	const struct draw_context *draw = st->draw;
	const void *const *ptrs;
	const unsigned *sizes;

	*size = 0;
	if (unit >= PIPE_MAX_SHADER_BUFFERS)
		return NULL;
	switch (st->stage) {
	case PIPE_SHADER_VERTEX:
		ptrs = draw->pt.user.vs_ssbos;
		sizes = draw->pt.user.vs_ssbos_size;
		break;
	case PIPE_SHADER_TESS_CTRL:
		ptrs = draw->pt.user.tcs_ssbos;
		sizes = draw->pt.user.tcs_ssbos_size;
		break;
	case PIPE_SHADER_TESS_EVAL:
		ptrs = draw->pt.user.tes_ssbos;
		sizes = draw->pt.user.tes_ssbos_size;
		break;
	default:
		ptrs = draw->pt.user.gs_ssbos;
		sizes = draw->pt.user.gs_ssbos_size;
		break;
	}
	if (!ptrs[unit])
		return NULL;
	*size = sizes[unit];
	/* The interpreter's interface is not const; it bounds its loads and
	 * stores by *size. */
	return (void *)(uintptr_t)ptrs[unit];
}

/* ---- set-up ---------------------------------------------------------------------------- */

struct draw_exec_sampler *draw_exec_sampler_create(struct draw_context *draw)
{
	struct draw_exec_sampler *es = CALLOC_STRUCT(draw_exec_sampler);

	if (!es)
		return NULL;
	for (unsigned i = 0; i < EXEC_STAGES; i++) {
		struct exec_stage *st = &es->stage[i];

		st->draw = draw;
		st->stage = (enum pipe_shader_type)i;
		st->sampler.get_samples = exec_get_samples;
		st->sampler.get_dims = exec_get_dims;
		st->sampler.get_texel = exec_get_texel;
		st->sampler.query_lod = exec_query_lod;
		st->image.load = exec_image_load;
		st->image.store = exec_image_store;
		st->image.op = exec_image_op;
		st->image.get_dims = exec_image_dims;
		st->buffer.lookup = exec_buffer_lookup;
		draw_texture_sampler(draw, st->stage, &st->sampler);
		draw_image(draw, st->stage, &st->image);
		draw_buffer(draw, st->stage, &st->buffer);
	}
	return es;
}

void draw_exec_sampler_destroy(struct draw_exec_sampler *es)
{
	FREE(es);
}

void draw_exec_sampler_set_texture(struct draw_exec_sampler *es, enum pipe_shader_type stage, unsigned unit,
				   uint32_t width, uint32_t height, uint32_t depth, uint32_t first_level,
				   uint32_t last_level, const void *base,
				   const uint32_t row_stride[PIPE_MAX_TEXTURE_LEVELS],
				   const uint32_t img_stride[PIPE_MAX_TEXTURE_LEVELS],
				   const uint32_t mip_offsets[PIPE_MAX_TEXTURE_LEVELS])
{
	struct exec_texture *t;

	if (!es || (unsigned)stage >= EXEC_STAGES || unit >= PIPE_MAX_SHADER_SAMPLER_VIEWS)
		return;
	t = &es->stage[stage].tex[unit];
	memset(t, 0, sizeof(*t));
	if (!base || first_level > last_level || last_level >= PIPE_MAX_TEXTURE_LEVELS)
		return;
	t->base = base;
	t->width = width;
	t->height = height;
	t->depth = depth;
	t->first_level = first_level;
	t->last_level = last_level;
	/* Only the mapped levels' entries were written by the caller. */
	for (unsigned l = first_level; l <= last_level; l++) {
		t->row_stride[l] = row_stride[l];
		t->img_stride[l] = img_stride[l];
		t->mip_offsets[l] = mip_offsets[l];
	}
}

void draw_exec_sampler_set_image(struct draw_exec_sampler *es, enum pipe_shader_type stage, unsigned unit,
				 uint32_t width, uint32_t height, uint32_t depth, const void *base,
				 uint32_t row_stride, uint32_t img_stride)
{
	struct exec_image *img;

	if (!es || (unsigned)stage >= EXEC_STAGES || unit >= PIPE_MAX_SHADER_IMAGES)
		return;
	img = &es->stage[stage].img[unit];
	img->base = base;
	img->width = width;
	img->height = height;
	img->depth = depth;
	img->row_stride = row_stride;
	img->img_stride = img_stride;
}
