/* SPDX-License-Identifier: MIT */
/*
 * draw_exec_sampler: textures, images and shader buffers for the draw
 * module's TGSI interpreter, when draw runs without LLVM (virgo's Mesa
 * builds: there is no LLVM for MinGW-w64). Overlaid into Mesa by
 * umd/mesa/fetch.sh; wired into draw_context.c by umd/mesa/virgo.patch.
 *
 * The state tracker runs a vertex shader on the CPU through its own draw
 * context for glRasterPos, GL_FEEDBACK and GL_SELECT. It maps the shader's
 * textures, images and shader buffers and gives draw the mappings
 * (draw_set_mapped_texture, draw_set_mapped_image,
 * draw_set_mapped_shader_buffer), but in Mesa 22.3 only draw's LLVM path
 * reads them. The interpreter reads textures through a tgsi_sampler, images
 * through a tgsi_image and buffers through a tgsi_buffer that only softpipe
 * ever installs, so on any other driver the first texture fetch of such a
 * shader called through a NULL pointer. These read the mappings instead.
 */
#ifndef DRAW_EXEC_SAMPLER_H
#define DRAW_EXEC_SAMPLER_H

#include <stdint.h>

#include "pipe/p_defines.h"
#include "pipe/p_state.h"

struct draw_context;
struct draw_exec_sampler;

/* Installs them for the vertex, tessellation and geometry stages of DRAW
 * (a driver that installs its own afterwards, as softpipe does, wins).
 * NULL when out of memory. */
struct draw_exec_sampler *draw_exec_sampler_create(struct draw_context *draw);
void draw_exec_sampler_destroy(struct draw_exec_sampler *es);

/* What draw_set_mapped_texture was told: BASE plus MIP_OFFSETS[level] is
 * the first mapped layer of each level from FIRST_LEVEL to LAST_LEVEL;
 * DEPTH is the number of mapped layers (the view's, or a 3D texture's
 * depth at that level). BASE NULL: unit not mapped. */
void draw_exec_sampler_set_texture(struct draw_exec_sampler *es, enum pipe_shader_type stage, unsigned unit,
				   uint32_t width, uint32_t height, uint32_t depth, uint32_t first_level,
				   uint32_t last_level, const void *base,
				   const uint32_t row_stride[PIPE_MAX_TEXTURE_LEVELS],
				   const uint32_t img_stride[PIPE_MAX_TEXTURE_LEVELS],
				   const uint32_t mip_offsets[PIPE_MAX_TEXTURE_LEVELS]);

/* What draw_set_mapped_image was told: the image view's level (or buffer
 * range), WIDTH x HEIGHT x DEPTH layers at BASE. */
void draw_exec_sampler_set_image(struct draw_exec_sampler *es, enum pipe_shader_type stage, unsigned unit,
				 uint32_t width, uint32_t height, uint32_t depth, const void *base,
				 uint32_t row_stride, uint32_t img_stride);

#endif
