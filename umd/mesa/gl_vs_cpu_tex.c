/* SPDX-License-Identifier: MIT */
/*
 * gl-vs-cpu-tex: a vertex shader that Mesa runs on the CPU reads every kind
 * of texture, image and buffer right (umd/mesa/smoke.sh runs it through
 * virgo-host).
 *
 * glRasterPos and GL_FEEDBACK run the vertex shader in Mesa's draw module,
 * on the CPU: every texture the shader reads is mapped through the driver
 * and the winsys (a transfer from the host, for what the GPU wrote), and
 * sampled by draw. Each case fills a resource, most by a GPU write (a clear
 * of a level, layer or face, a buffer copy) just before, sets the raster
 * position with a shader that reads it into gl_TexCoord[0] and [1], and
 * compares GL_CURRENT_RASTER_TEXTURE_COORDS with what the texels hold.
 * Targets: 1D, 1D array, 2D (mipmapped too), 2D array, 3D, cube, rectangle,
 * buffer; formats: 8-bit, half and float, sRGB, unsigned integer, DXT1,
 * RGTC1, depth 16/24/32F/24-8 (a 24-8 array too, and a shadow compare),
 * stencil; image loads and a shader storage buffer; and the sampler's
 * work: linear, trilinear and explicit-derivative filtering, wrap modes,
 * the border colour, gather, sizes. One more reads it through GL_FEEDBACK.
 *
 * Each case runs in a child process with a context of its own, so that a
 * crash is reported as that case's and the others still run.
 *
 *   gl-vs-cpu-tex [CASE...]     exit 0 when every case passes (or is not
 *                               supported); one line per case
 */
#define GL_GLEXT_PROTOTYPES 1
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GL/gl.h>
#include <GL/glext.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SAY(...) (printf("gl-vs-cpu-tex: " __VA_ARGS__), putchar('\n'), fflush(stdout))

/* What a case's set-up says. */
enum setup_result { SETUP_OK, SETUP_UNSUPPORTED, SETUP_FAILED };

struct vs_case {
	const char *name;
	const char *version; /* the #version line's number and profile */
	const char *decl;    /* the uniform the shader reads */
	const char *out0, *out1;
	enum setup_result (*setup)(void);
	float want0[4], want1[4];
	bool feedback; /* read through GL_FEEDBACK instead of glRasterPos */
};

static const char *unsupported_why = "";

static bool has_ext(const char *name)
{
	GLint n = 0;

	glGetIntegerv(GL_NUM_EXTENSIONS, &n);
	for (GLint i = 0; i < n; i++)
		if (!strcmp((const char *)glGetStringi(GL_EXTENSIONS, (GLuint)i), name))
			return true;
	return false;
}

static int gl_version(void)
{
	GLint major = 0, minor = 0;

	glGetIntegerv(GL_MAJOR_VERSION, &major);
	glGetIntegerv(GL_MINOR_VERSION, &minor);
	return major * 10 + minor;
}

static enum setup_result needs(int version, const char *ext)
{
	if (gl_version() < version) {
		unsupported_why = "GL version too low";
		return SETUP_UNSUPPORTED;
	}
	if (ext && !has_ext(ext)) {
		unsupported_why = ext;
		return SETUP_UNSUPPORTED;
	}
	return SETUP_OK;
}

static GLuint new_texture(GLenum target, GLint filter)
{
	GLuint tex;

	glGenTextures(1, &tex);
	glActiveTexture(GL_TEXTURE0);
	glBindTexture(target, tex);
	if (target != GL_TEXTURE_BUFFER) {
		glTexParameteri(target, GL_TEXTURE_MIN_FILTER, filter);
		glTexParameteri(target, GL_TEXTURE_MAG_FILTER, filter == GL_LINEAR ? GL_LINEAR : GL_NEAREST);
	}
	return tex;
}

/* A GPU write: clears LAYER (or FACE) of LEVEL of TEX through an FBO.
 * ATTACH is the attachment; for colour, RGBA is the colour (UINT: as
 * unsigned integers); for depth and stencil, DEPTH and STENCIL. */
static bool gpu_clear(GLuint tex, GLenum face, GLint level, GLint layer, GLenum attach, const float rgba[4], bool uint,
		      float depth, GLint stencil)
{
	GLint old_fb = 0;
	GLuint fb;
	GLenum status;

	glGetIntegerv(GL_FRAMEBUFFER_BINDING, &old_fb);
	glGenFramebuffers(1, &fb);
	glBindFramebuffer(GL_FRAMEBUFFER, fb);
	if (face)
		glFramebufferTexture2D(GL_FRAMEBUFFER, attach, face, tex, level);
	else if (layer >= 0)
		glFramebufferTextureLayer(GL_FRAMEBUFFER, attach, tex, level, layer);
	else
		glFramebufferTexture(GL_FRAMEBUFFER, attach, tex, level);
	if (attach == GL_COLOR_ATTACHMENT0) {
		glDrawBuffer(GL_COLOR_ATTACHMENT0);
		glReadBuffer(GL_COLOR_ATTACHMENT0);
	} else {
		glDrawBuffer(GL_NONE);
		glReadBuffer(GL_NONE);
	}
	status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
	if (status != GL_FRAMEBUFFER_COMPLETE) {
		SAY("the FBO for a GPU clear is not complete (%#x)", status);
		return false;
	}
	if (attach == GL_DEPTH_STENCIL_ATTACHMENT) {
		glClearBufferfi(GL_DEPTH_STENCIL, 0, depth, stencil);
	} else if (attach == GL_DEPTH_ATTACHMENT) {
		glClearBufferfv(GL_DEPTH, 0, &depth);
	} else if (uint) {
		const GLuint u[4] = { (GLuint)rgba[0], (GLuint)rgba[1], (GLuint)rgba[2], (GLuint)rgba[3] };

		glClearBufferuiv(GL_COLOR, 0, u);
	} else {
		glClearBufferfv(GL_COLOR, 0, rgba);
	}
	glBindFramebuffer(GL_FRAMEBUFFER, (GLuint)old_fb);
	glDrawBuffer(GL_COLOR_ATTACHMENT0);
	glReadBuffer(GL_COLOR_ATTACHMENT0);
	glDeleteFramebuffers(1, &fb);
	return true;
}

static const float zeros[64 * 4];

/* ---- the cases' set-ups ----------------------------------------------------------- */

/* piglit rasterpos's glsl_vs_tex1D: texelFetch from level 1 of a 1D
 * float texture whose other levels are zeros. */
static enum setup_result setup_1d_level1(void)
{
	float l1[8 * 4];

	for (int i = 0; i < 8 * 4; i++)
		l1[i] = 0.01f * (float)(i + 1);
	new_texture(GL_TEXTURE_1D, GL_NEAREST);
	glTexImage1D(GL_TEXTURE_1D, 0, GL_RGBA32F, 16, 0, GL_RGBA, GL_FLOAT, zeros);
	glTexImage1D(GL_TEXTURE_1D, 1, GL_RGBA32F, 8, 0, GL_RGBA, GL_FLOAT, l1);
	glTexImage1D(GL_TEXTURE_1D, 2, GL_RGBA32F, 4, 0, GL_RGBA, GL_FLOAT, zeros);
	glTexImage1D(GL_TEXTURE_1D, 3, GL_RGBA32F, 2, 0, GL_RGBA, GL_FLOAT, zeros);
	glTexImage1D(GL_TEXTURE_1D, 4, GL_RGBA32F, 1, 0, GL_RGBA, GL_FLOAT, zeros);
	return SETUP_OK;
}

/* Linear filtering halfway between two texels, and GL_REPEAT. */
static enum setup_result setup_1d_linear(void)
{
	const GLubyte px[2 * 4] = { 0, 0, 0, 0, 255, 255, 255, 255 };

	new_texture(GL_TEXTURE_1D, GL_LINEAR);
	glTexParameteri(GL_TEXTURE_1D, GL_TEXTURE_WRAP_S, GL_REPEAT);
	glTexImage1D(GL_TEXTURE_1D, 0, GL_RGBA8, 2, 0, GL_RGBA, GL_UNSIGNED_BYTE, px);
	return SETUP_OK;
}

/* Texel x of layer l of a 4-wide, 3-layer 1D array is (x, l, 1, 1) / 4. */
static enum setup_result setup_1d_array(void)
{
	float px[4 * 3 * 4];

	for (int l = 0; l < 3; l++)
		for (int x = 0; x < 4; x++) {
			float *p = &px[(l * 4 + x) * 4];

			p[0] = (float)x / 4;
			p[1] = (float)l / 4;
			p[2] = p[3] = 0.25f;
		}
	new_texture(GL_TEXTURE_1D_ARRAY, GL_NEAREST);
	glTexImage2D(GL_TEXTURE_1D_ARRAY, 0, GL_RGBA32F, 4, 3, 0, GL_RGBA, GL_FLOAT, px);
	return SETUP_OK;
}

static enum setup_result setup_1d_array_gpu(void)
{
	const float c[4] = { 0.5f, 0.25f, 0.125f, 1.0f };
	GLuint tex = new_texture(GL_TEXTURE_1D_ARRAY, GL_NEAREST);

	glTexImage2D(GL_TEXTURE_1D_ARRAY, 0, GL_RGBA32F, 4, 3, 0, GL_RGBA, GL_FLOAT, zeros);
	return gpu_clear(tex, 0, 0, 2, GL_COLOR_ATTACHMENT0, c, false, 0, 0) ? SETUP_OK : SETUP_FAILED;
}

static enum setup_result setup_2d_gpu(void)
{
	const float c[4] = { 0.2f, 0.4f, 0.6f, 0.8f };
	GLuint tex = new_texture(GL_TEXTURE_2D, GL_NEAREST);

	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, 8, 8, 0, GL_RGBA, GL_FLOAT, zeros);
	return gpu_clear(tex, 0, 0, -1, GL_COLOR_ATTACHMENT0, c, false, 0, 0) ? SETUP_OK : SETUP_FAILED;
}

/* Levels 1 and 2 of a mipmapped 2D texture by explicit LOD; level 1 written
 * by the GPU. */
static enum setup_result setup_2d_mip_gpu(void)
{
	const float c1[4] = { 0.75f, 0.5f, 0.25f, 1.0f }, c2[4] = { 0.125f, 0.25f, 0.375f, 0.5f };
	GLuint tex = new_texture(GL_TEXTURE_2D, GL_NEAREST_MIPMAP_NEAREST);

	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA32F, 4, 4, 0, GL_RGBA, GL_FLOAT, zeros);
	glTexImage2D(GL_TEXTURE_2D, 1, GL_RGBA32F, 2, 2, 0, GL_RGBA, GL_FLOAT, zeros);
	glTexImage2D(GL_TEXTURE_2D, 2, GL_RGBA32F, 1, 1, 0, GL_RGBA, GL_FLOAT, c2);
	return gpu_clear(tex, 0, 1, -1, GL_COLOR_ATTACHMENT0, c1, false, 0, 0) ? SETUP_OK : SETUP_FAILED;
}

/* Texel (x, y) of a 2x2 texture is (x, y, 0.5, 1): bilinear filtering,
 * and GL_MIRRORED_REPEAT past the right edge. */
static enum setup_result setup_2d_linear_mirror(void)
{
	const float px[2 * 2 * 4] = { 0, 0, 0.5f, 1, 1, 0, 0.5f, 1, 0, 1, 0.5f, 1, 1, 1, 0.5f, 1 };

	new_texture(GL_TEXTURE_2D, GL_LINEAR);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_MIRRORED_REPEAT);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_MIRRORED_REPEAT);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA32F, 2, 2, 0, GL_RGBA, GL_FLOAT, px);
	return SETUP_OK;
}

/* Trilinear filtering and explicit derivatives: a 4x4 texture whose
 * levels 0, 1 and 2 hold 0, 0.5 and 1 in every channel. */
static enum setup_result setup_2d_trilinear(void)
{
	static const float half[2 * 2 * 4] = { 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f,
					       0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f };
	static const float one[4] = { 1, 1, 1, 1 };

	new_texture(GL_TEXTURE_2D, GL_LINEAR_MIPMAP_LINEAR);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA32F, 4, 4, 0, GL_RGBA, GL_FLOAT, zeros);
	glTexImage2D(GL_TEXTURE_2D, 1, GL_RGBA32F, 2, 2, 0, GL_RGBA, GL_FLOAT, half);
	glTexImage2D(GL_TEXTURE_2D, 2, GL_RGBA32F, 1, 1, 0, GL_RGBA, GL_FLOAT, one);
	return SETUP_OK;
}

/* textureGather: texel (x, y) of a 2x2 texture has red (1 + x + 2y) / 10
 * and green twice that. */
static enum setup_result setup_2d_gather(void)
{
	enum setup_result r = needs(40, NULL);
	float px[2 * 2 * 4];

	if (r != SETUP_OK)
		return r;
	for (int i = 0; i < 4; i++) {
		px[i * 4 + 0] = (float)(i + 1) / 10;
		px[i * 4 + 1] = (float)(i + 1) / 5;
		px[i * 4 + 2] = 0.0f;
		px[i * 4 + 3] = 1.0f;
	}
	new_texture(GL_TEXTURE_2D, GL_NEAREST);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA32F, 2, 2, 0, GL_RGBA, GL_FLOAT, px);
	return SETUP_OK;
}

/* textureSize of levels 0 and 1 of a 4x2, 3-layer array. */
static enum setup_result setup_2d_array_size(void)
{
	new_texture(GL_TEXTURE_2D_ARRAY, GL_NEAREST_MIPMAP_NEAREST);
	glTexParameteri(GL_TEXTURE_2D_ARRAY, GL_TEXTURE_MAX_LEVEL, 1);
	glTexImage3D(GL_TEXTURE_2D_ARRAY, 0, GL_RGBA8, 4, 2, 3, 0, GL_RGBA, GL_FLOAT, zeros);
	glTexImage3D(GL_TEXTURE_2D_ARRAY, 1, GL_RGBA8, 2, 1, 3, 0, GL_RGBA, GL_FLOAT, zeros);
	return SETUP_OK;
}

/* A 4 MiB float texture with all its levels, level 3 cleared by the GPU:
 * the levels are read back into more than one of virgl's 1 MiB staging
 * buffers, which the state tracker hands to draw as one base address and
 * an offset per level. */
static enum setup_result setup_2d_big_mip_gpu(void)
{
	const float c[4] = { 0.5f, 0.125f, 0.25f, 1.0f };
	GLuint tex = new_texture(GL_TEXTURE_2D, GL_NEAREST_MIPMAP_NEAREST);

	for (int l = 0; l <= 9; l++)
		glTexImage2D(GL_TEXTURE_2D, l, GL_RGBA32F, 512 >> l, 512 >> l, 0, GL_RGBA, GL_FLOAT, NULL);
	return gpu_clear(tex, 0, 3, -1, GL_COLOR_ATTACHMENT0, c, false, 0, 0) ? SETUP_OK : SETUP_FAILED;
}

/* A texel outside a GL_CLAMP_TO_BORDER texture is the border colour. */
static enum setup_result setup_2d_border(void)
{
	const float border[4] = { 0.25f, 0.5f, 0.75f, 1.0f }, one[4] = { 1, 1, 1, 1 };

	new_texture(GL_TEXTURE_2D, GL_NEAREST);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_BORDER);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_BORDER);
	glTexParameterfv(GL_TEXTURE_2D, GL_TEXTURE_BORDER_COLOR, border);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA32F, 1, 1, 0, GL_RGBA, GL_FLOAT, one);
	return SETUP_OK;
}

/* Texel (x, y) of layer l of a 2x2, 4-layer array is (x, y, l, 4) / 4. */
static enum setup_result setup_2d_array(void)
{
	float px[2 * 2 * 4 * 4];

	for (int l = 0; l < 4; l++)
		for (int y = 0; y < 2; y++)
			for (int x = 0; x < 2; x++) {
				float *p = &px[((l * 2 + y) * 2 + x) * 4];

				p[0] = (float)x / 4;
				p[1] = (float)y / 4;
				p[2] = (float)l / 4;
				p[3] = 1.0f;
			}
	new_texture(GL_TEXTURE_2D_ARRAY, GL_NEAREST);
	glTexImage3D(GL_TEXTURE_2D_ARRAY, 0, GL_RGBA32F, 2, 2, 4, 0, GL_RGBA, GL_FLOAT, px);
	return SETUP_OK;
}

static enum setup_result setup_2d_array_gpu(void)
{
	const float c[4] = { 0.5f, 0.75f, 1.0f, 0.25f };
	GLuint tex = new_texture(GL_TEXTURE_2D_ARRAY, GL_NEAREST);

	glTexImage3D(GL_TEXTURE_2D_ARRAY, 0, GL_RGBA16F, 2, 2, 4, 0, GL_RGBA, GL_FLOAT, zeros);
	return gpu_clear(tex, 0, 0, 3, GL_COLOR_ATTACHMENT0, c, false, 0, 0) ? SETUP_OK : SETUP_FAILED;
}

/* Each texel of a 2x2x2 float texture is (x, y, z, 1) / 2 + 0.125. */
static enum setup_result setup_3d(void)
{
	float px[8 * 4];

	for (int z = 0; z < 2; z++)
		for (int y = 0; y < 2; y++)
			for (int x = 0; x < 2; x++) {
				float *p = &px[((z * 2 + y) * 2 + x) * 4];

				p[0] = 0.5f * (float)x + 0.125f;
				p[1] = 0.5f * (float)y + 0.125f;
				p[2] = 0.5f * (float)z + 0.125f;
				p[3] = 0.625f;
			}
	new_texture(GL_TEXTURE_3D, GL_NEAREST);
	glTexImage3D(GL_TEXTURE_3D, 0, GL_RGBA32F, 2, 2, 2, 0, GL_RGBA, GL_FLOAT, px);
	return SETUP_OK;
}

static enum setup_result setup_3d_gpu(void)
{
	const float c[4] = { 0.4f, 0.6f, 0.2f, 1.0f };
	GLuint tex = new_texture(GL_TEXTURE_3D, GL_NEAREST);

	glTexImage3D(GL_TEXTURE_3D, 0, GL_RGBA8, 4, 4, 2, 0, GL_RGBA, GL_FLOAT, zeros);
	return gpu_clear(tex, 0, 0, 1, GL_COLOR_ATTACHMENT0, c, false, 0, 0) ? SETUP_OK : SETUP_FAILED;
}

/* Face f of a 1x1 cube is (f + 1) / 8 in red, 1 - (f + 1) / 8 in green. */
static enum setup_result setup_cube(void)
{
	new_texture(GL_TEXTURE_CUBE_MAP, GL_NEAREST);
	for (int f = 0; f < 6; f++) {
		const float px[4] = { (float)(f + 1) / 8, 1.0f - (float)(f + 1) / 8, 0.5f, 1.0f };

		glTexImage2D(GL_TEXTURE_CUBE_MAP_POSITIVE_X + f, 0, GL_RGBA32F, 1, 1, 0, GL_RGBA, GL_FLOAT, px);
	}
	return SETUP_OK;
}

static enum setup_result setup_cube_gpu(void)
{
	const float c[4] = { 1.0f, 0.5f, 0.0f, 0.5f };
	GLuint tex = new_texture(GL_TEXTURE_CUBE_MAP, GL_NEAREST);

	for (int f = 0; f < 6; f++)
		glTexImage2D(GL_TEXTURE_CUBE_MAP_POSITIVE_X + f, 0, GL_RGBA8, 4, 4, 0, GL_RGBA, GL_FLOAT, zeros);
	return gpu_clear(tex, GL_TEXTURE_CUBE_MAP_NEGATIVE_Z, 0, -1, GL_COLOR_ATTACHMENT0, c, false, 0, 0) ?
		       SETUP_OK :
		       SETUP_FAILED;
}

/* Texel (x, y) of a 3x2 rectangle is (x / 4, y / 2, 0.5, 1). */
static enum setup_result setup_rect(void)
{
	float px[6 * 4];

	for (int y = 0; y < 2; y++)
		for (int x = 0; x < 3; x++) {
			float *p = &px[(y * 3 + x) * 4];

			p[0] = (float)x / 4;
			p[1] = (float)y / 2;
			p[2] = 0.5f;
			p[3] = 1.0f;
		}
	new_texture(GL_TEXTURE_RECTANGLE, GL_NEAREST);
	glTexImage2D(GL_TEXTURE_RECTANGLE, 0, GL_RGBA32F, 3, 2, 0, GL_RGBA, GL_FLOAT, px);
	return SETUP_OK;
}

/* A texture buffer whose element 2 the GPU copied in from another buffer. */
static enum setup_result setup_buffer_gpu(void)
{
	const float src[4] = { 0.3f, 0.6f, 0.9f, 1.2f };
	GLuint bo[2];

	glGenBuffers(2, bo);
	glBindBuffer(GL_COPY_READ_BUFFER, bo[0]);
	glBufferData(GL_COPY_READ_BUFFER, sizeof(src), src, GL_STATIC_DRAW);
	glBindBuffer(GL_COPY_WRITE_BUFFER, bo[1]);
	glBufferData(GL_COPY_WRITE_BUFFER, 4 * sizeof(src), zeros, GL_STATIC_DRAW);
	glCopyBufferSubData(GL_COPY_READ_BUFFER, GL_COPY_WRITE_BUFFER, 0, 2 * sizeof(src), sizeof(src));
	new_texture(GL_TEXTURE_BUFFER, GL_NEAREST);
	glTexBuffer(GL_TEXTURE_BUFFER, GL_RGBA32F, bo[1]);
	return SETUP_OK;
}

/* One DXT1 block: row 0 colour0 (red), row 1 colour1 (blue), rows 2 and 3
 * two thirds of red and one of blue. */
static enum setup_result setup_dxt1(void)
{
	const GLubyte block[8] = { 0x00, 0xf8, 0x1f, 0x00, 0x00, 0x55, 0xaa, 0xaa };
	enum setup_result r = needs(13, "GL_EXT_texture_compression_s3tc");

	if (r != SETUP_OK)
		return r;
	new_texture(GL_TEXTURE_2D, GL_NEAREST);
	glCompressedTexImage2D(GL_TEXTURE_2D, 0, GL_COMPRESSED_RGBA_S3TC_DXT1_EXT, 4, 4, 0, sizeof(block), block);
	return SETUP_OK;
}

/* One RGTC1 block: red0 = 1.0, red1 = 0.0; texel 0 takes red1, the rest
 * red0. */
static enum setup_result setup_rgtc1(void)
{
	const GLubyte block[8] = { 0xff, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00 };
	enum setup_result r = needs(30, NULL);

	if (r != SETUP_OK)
		return r;
	new_texture(GL_TEXTURE_2D, GL_NEAREST);
	glCompressedTexImage2D(GL_TEXTURE_2D, 0, GL_COMPRESSED_RED_RGTC1, 4, 4, 0, sizeof(block), block);
	return SETUP_OK;
}

/* sRGB 188 decodes to linear 0.5029. */
static enum setup_result setup_srgb(void)
{
	const GLubyte px[4] = { 188, 188, 188, 255 };

	new_texture(GL_TEXTURE_2D, GL_NEAREST);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_SRGB8_ALPHA8, 1, 1, 0, GL_RGBA, GL_UNSIGNED_BYTE, px);
	return SETUP_OK;
}

static enum setup_result setup_uint_gpu(void)
{
	const float c[4] = { 7, 1000, 65536, 3 };
	GLuint tex = new_texture(GL_TEXTURE_2D, GL_NEAREST);

	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA32UI, 2, 2, 0, GL_RGBA_INTEGER, GL_UNSIGNED_INT, zeros);
	return gpu_clear(tex, 0, 0, -1, GL_COLOR_ATTACHMENT0, c, true, 0, 0) ? SETUP_OK : SETUP_FAILED;
}

/* A depth texture the GPU cleared to 0.25; compat's default depth mode
 * (GL_LUMINANCE) reads it as (d, d, d, 1). */
static enum setup_result depth_gpu(GLenum internal, GLenum format, GLenum type, GLenum attach)
{
	GLuint tex = new_texture(GL_TEXTURE_2D, GL_NEAREST);

	glTexImage2D(GL_TEXTURE_2D, 0, internal, 4, 4, 0, format, type, NULL);
	return gpu_clear(tex, 0, 0, -1, attach, NULL, false, 0.25f, 0x5a) ? SETUP_OK : SETUP_FAILED;
}

static enum setup_result setup_depth16_gpu(void)
{
	return depth_gpu(GL_DEPTH_COMPONENT16, GL_DEPTH_COMPONENT, GL_UNSIGNED_SHORT, GL_DEPTH_ATTACHMENT);
}

static enum setup_result setup_depth24_gpu(void)
{
	return depth_gpu(GL_DEPTH_COMPONENT24, GL_DEPTH_COMPONENT, GL_UNSIGNED_INT, GL_DEPTH_ATTACHMENT);
}

static enum setup_result setup_depth32f_gpu(void)
{
	return depth_gpu(GL_DEPTH_COMPONENT32F, GL_DEPTH_COMPONENT, GL_FLOAT, GL_DEPTH_ATTACHMENT);
}

static enum setup_result setup_depth24s8_gpu(void)
{
	return depth_gpu(GL_DEPTH24_STENCIL8, GL_DEPTH_STENCIL, GL_UNSIGNED_INT_24_8, GL_DEPTH_STENCIL_ATTACHMENT);
}

/* Layers 0 and 2 of a depth-stencil array, cleared to 0.75 and 0.25 by
 * the GPU. (virgl reads depth-stencil arrays back through the winsys's
 * transfer, not through a staging copy as the other textures here.) */
static enum setup_result setup_depth24s8_array_gpu(void)
{
	GLuint tex = new_texture(GL_TEXTURE_2D_ARRAY, GL_NEAREST);

	glTexImage3D(GL_TEXTURE_2D_ARRAY, 0, GL_DEPTH24_STENCIL8, 2, 2, 3, 0, GL_DEPTH_STENCIL, GL_UNSIGNED_INT_24_8,
		     NULL);
	if (!gpu_clear(tex, 0, 0, 0, GL_DEPTH_STENCIL_ATTACHMENT, NULL, false, 0.75f, 1) ||
	    !gpu_clear(tex, 0, 0, 2, GL_DEPTH_STENCIL_ATTACHMENT, NULL, false, 0.25f, 2))
		return SETUP_FAILED;
	return SETUP_OK;
}

/* A shadow sampler compares (GL_LEQUAL) with the depth the GPU wrote. */
static enum setup_result setup_shadow_gpu(void)
{
	enum setup_result r = setup_depth24_gpu();

	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_COMPARE_MODE, GL_COMPARE_REF_TO_TEXTURE);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_COMPARE_FUNC, GL_LEQUAL);
	return r;
}

/* The stencil of a depth-stencil texture (ARB_stencil_texturing). */
static enum setup_result setup_stencil_gpu(void)
{
	enum setup_result r = needs(43, NULL);

	if (r != SETUP_OK)
		return r;
	r = setup_depth24s8_gpu();
	glTexParameteri(GL_TEXTURE_2D, GL_DEPTH_STENCIL_TEXTURE_MODE, GL_STENCIL_INDEX);
	return r;
}

static enum setup_result setup_image2d_gpu(void)
{
	const float c[4] = { 0.9f, 0.7f, 0.5f, 0.3f };
	enum setup_result r = needs(42, NULL);
	GLuint tex;

	if (r != SETUP_OK)
		return r;
	tex = new_texture(GL_TEXTURE_2D, GL_NEAREST);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA32F, 2, 2, 0, GL_RGBA, GL_FLOAT, zeros);
	if (!gpu_clear(tex, 0, 0, -1, GL_COLOR_ATTACHMENT0, c, false, 0, 0))
		return SETUP_FAILED;
	glBindImageTexture(0, tex, 0, GL_FALSE, 0, GL_READ_ONLY, GL_RGBA32F);
	return SETUP_OK;
}

/* A shader storage buffer whose second vec4 the GPU copied in. */
static enum setup_result setup_ssbo_gpu(void)
{
	const float src[4] = { 0.25f, 0.5f, 0.75f, 1.0f };
	enum setup_result r = needs(43, NULL);
	GLuint bo[2];

	if (r != SETUP_OK)
		return r;
	glGenBuffers(2, bo);
	glBindBuffer(GL_COPY_READ_BUFFER, bo[0]);
	glBufferData(GL_COPY_READ_BUFFER, sizeof(src), src, GL_STATIC_DRAW);
	glBindBuffer(GL_SHADER_STORAGE_BUFFER, bo[1]);
	glBufferData(GL_SHADER_STORAGE_BUFFER, 2 * sizeof(src), zeros, GL_STATIC_DRAW);
	glCopyBufferSubData(GL_COPY_READ_BUFFER, GL_SHADER_STORAGE_BUFFER, 0, sizeof(src), sizeof(src));
	glBindBufferBase(GL_SHADER_STORAGE_BUFFER, 0, bo[1]);
	return SETUP_OK;
}

#define D025 { 0.25f, 0.25f, 0.25f, 1.0f }

static const struct vs_case cases[] = {
	{ "tex1d_texelfetch_level1", "130", "uniform sampler1D tex;", "texelFetch(tex, 3, 1)", "texelFetch(tex, 7, 1)",
	  setup_1d_level1, { 0.13f, 0.14f, 0.15f, 0.16f }, { 0.29f, 0.30f, 0.31f, 0.32f }, false },
	{ "tex1d_linear_repeat", "130", "uniform sampler1D tex;", "texture(tex, 0.5)", "texture(tex, 1.25)",
	  setup_1d_linear, { 0.5f, 0.5f, 0.5f, 0.5f }, { 0.0f, 0.0f, 0.0f, 0.0f }, false },
	{ "tex1d_array", "130", "uniform sampler1DArray tex;", "texelFetch(tex, ivec2(3, 2), 0)",
	  "texture(tex, vec2(0.3, 1.2))", setup_1d_array, { 0.75f, 0.5f, 0.25f, 0.25f }, { 0.25f, 0.25f, 0.25f, 0.25f },
	  false },
	{ "tex1d_array_after_gpu_clear", "130", "uniform sampler1DArray tex;", "texelFetch(tex, ivec2(1, 2), 0)",
	  "texture(tex, vec2(0.9, 1.0))", setup_1d_array_gpu, { 0.5f, 0.25f, 0.125f, 1.0f }, { 0, 0, 0, 0 }, false },
	{ "tex2d_after_gpu_clear", "130", "uniform sampler2D tex;", "texelFetch(tex, ivec2(5, 6), 0)",
	  "texture(tex, vec2(0.1, 0.9))", setup_2d_gpu, { 0.2f, 0.4f, 0.6f, 0.8f }, { 0.2f, 0.4f, 0.6f, 0.8f }, false },
	{ "tex2d_mipmap_lod_after_gpu_clear", "130", "uniform sampler2D tex;", "textureLod(tex, vec2(0.75, 0.25), 1.0)",
	  "textureLod(tex, vec2(0.75, 0.25), 2.0)", setup_2d_mip_gpu, { 0.75f, 0.5f, 0.25f, 1.0f },
	  { 0.125f, 0.25f, 0.375f, 0.5f }, false },
	{ "tex2d_4mib_all_levels_after_gpu_clear", "130", "uniform sampler2D tex;",
	  "textureLod(tex, vec2(0.3, 0.6), 3.0)", "texelFetch(tex, ivec2(63, 0), 3)", setup_2d_big_mip_gpu,
	  { 0.5f, 0.125f, 0.25f, 1.0f }, { 0.5f, 0.125f, 0.25f, 1.0f }, false },
	{ "tex2d_clamp_to_border", "130", "uniform sampler2D tex;", "texture(tex, vec2(-0.5, 0.5))",
	  "texture(tex, vec2(0.5, 0.5))", setup_2d_border, { 0.25f, 0.5f, 0.75f, 1.0f }, { 1, 1, 1, 1 }, false },
	{ "tex2d_linear_mirrored_repeat", "130", "uniform sampler2D tex;", "texture(tex, vec2(0.375, 0.625))",
	  "texture(tex, vec2(1.75, 0.875))", setup_2d_linear_mirror, { 0.25f, 0.75f, 0.5f, 1.0f },
	  { 0.0f, 1.0f, 0.5f, 1.0f }, false },
	{ "tex2d_trilinear_lod_and_grad", "130", "uniform sampler2D tex;", "textureLod(tex, vec2(0.5, 0.5), 0.25)",
	  "textureGrad(tex, vec2(0.5, 0.5), vec2(0.5, 0.0), vec2(0.0, 0.25))", setup_2d_trilinear,
	  { 0.125f, 0.125f, 0.125f, 0.125f }, { 0.5f, 0.5f, 0.5f, 0.5f }, false },
	{ "tex2d_gather", "400 compatibility", "uniform sampler2D tex;", "textureGather(tex, vec2(0.5, 0.5))",
	  "textureGather(tex, vec2(0.5, 0.5), 1)", setup_2d_gather, { 0.3f, 0.4f, 0.2f, 0.1f },
	  { 0.6f, 0.8f, 0.4f, 0.2f }, false },
	{ "tex2d_array_size", "130", "uniform sampler2DArray tex;", "vec4(vec3(textureSize(tex, 0)), 1.0)",
	  "vec4(vec3(textureSize(tex, 1)), 1.0)", setup_2d_array_size, { 4, 2, 3, 1 }, { 2, 1, 3, 1 }, false },
	{ "tex2d_array", "130", "uniform sampler2DArray tex;", "texelFetch(tex, ivec3(1, 0, 3), 0)",
	  "texture(tex, vec3(0.25, 0.75, 1.0))", setup_2d_array, { 0.25f, 0.0f, 0.75f, 1.0f },
	  { 0.0f, 0.25f, 0.25f, 1.0f }, false },
	{ "tex2d_array_half_float_after_gpu_clear", "130", "uniform sampler2DArray tex;",
	  "texelFetch(tex, ivec3(1, 1, 3), 0)", "texture(tex, vec3(0.25, 0.75, 2.0))", setup_2d_array_gpu,
	  { 0.5f, 0.75f, 1.0f, 0.25f }, { 0, 0, 0, 0 }, false },
	{ "tex3d", "130", "uniform sampler3D tex;", "texelFetch(tex, ivec3(1, 0, 1), 0)",
	  "texture(tex, vec3(0.25, 0.75, 0.25))", setup_3d, { 0.625f, 0.125f, 0.625f, 0.625f },
	  { 0.125f, 0.625f, 0.125f, 0.625f }, false },
	{ "tex3d_after_gpu_clear", "130", "uniform sampler3D tex;", "texelFetch(tex, ivec3(2, 3, 1), 0)",
	  "texelFetch(tex, ivec3(2, 3, 0), 0)", setup_3d_gpu, { 0.4f, 0.6f, 0.2f, 1.0f }, { 0, 0, 0, 0 }, false },
	{ "cube", "130", "uniform samplerCube tex;", "texture(tex, vec3(0.1, -1.0, 0.2))",
	  "texture(tex, vec3(-0.3, 0.2, 1.0))", setup_cube, { 0.5f, 0.5f, 0.5f, 1.0f }, { 0.625f, 0.375f, 0.5f, 1.0f },
	  false },
	{ "cube_after_gpu_clear", "130", "uniform samplerCube tex;", "texture(tex, vec3(0.2, 0.1, -1.0))",
	  "texture(tex, vec3(1.0, 0.1, 0.2))", setup_cube_gpu, { 1.0f, 0.5f, 0.0f, 0.5f }, { 0, 0, 0, 0 }, false },
	{ "rectangle", "140", "uniform sampler2DRect tex;", "texelFetch(tex, ivec2(2, 1))",
	  "texture(tex, vec2(1.5, 0.5))", setup_rect, { 0.5f, 0.5f, 0.5f, 1.0f }, { 0.25f, 0.0f, 0.5f, 1.0f }, false },
	{ "buffer_after_gpu_copy", "140", "uniform samplerBuffer tex;", "texelFetch(tex, 2)", "texelFetch(tex, 1)",
	  setup_buffer_gpu, { 0.3f, 0.6f, 0.9f, 1.2f }, { 0, 0, 0, 0 }, false },
	{ "dxt1", "130", "uniform sampler2D tex;", "texelFetch(tex, ivec2(1, 1), 0)", "texelFetch(tex, ivec2(3, 2), 0)",
	  setup_dxt1, { 0.0f, 0.0f, 1.0f, 1.0f }, { 2.0f / 3, 0.0f, 1.0f / 3, 1.0f }, false },
	{ "rgtc1", "130", "uniform sampler2D tex;", "texelFetch(tex, ivec2(0, 0), 0)", "texelFetch(tex, ivec2(1, 0), 0)",
	  setup_rgtc1, { 0.0f, 0.0f, 0.0f, 1.0f }, { 1.0f, 0.0f, 0.0f, 1.0f }, false },
	{ "srgb8_alpha8", "130", "uniform sampler2D tex;", "texelFetch(tex, ivec2(0, 0), 0)", "vec4(0.0)", setup_srgb,
	  { 0.5029f, 0.5029f, 0.5029f, 1.0f }, { 0, 0, 0, 0 }, false },
	{ "rgba32ui_after_gpu_clear", "130", "uniform usampler2D tex;", "vec4(texelFetch(tex, ivec2(1, 1), 0))",
	  "vec4(texelFetch(tex, ivec2(0, 0), 0))", setup_uint_gpu, { 7, 1000, 65536, 3 }, { 7, 1000, 65536, 3 }, false },
	{ "depth16_after_gpu_clear", "130", "uniform sampler2D tex;", "texelFetch(tex, ivec2(1, 2), 0)", "vec4(0.0)",
	  setup_depth16_gpu, D025, { 0, 0, 0, 0 }, false },
	{ "depth24_after_gpu_clear", "130", "uniform sampler2D tex;", "texelFetch(tex, ivec2(3, 3), 0)", "vec4(0.0)",
	  setup_depth24_gpu, D025, { 0, 0, 0, 0 }, false },
	{ "depth32f_after_gpu_clear", "130", "uniform sampler2D tex;", "texelFetch(tex, ivec2(0, 1), 0)", "vec4(0.0)",
	  setup_depth32f_gpu, D025, { 0, 0, 0, 0 }, false },
	{ "depth24_stencil8_after_gpu_clear", "130", "uniform sampler2D tex;", "texelFetch(tex, ivec2(2, 0), 0)",
	  "vec4(0.0)", setup_depth24s8_gpu, D025, { 0, 0, 0, 0 }, false },
	{ "depth24_stencil8_array_after_gpu_clear", "130", "uniform sampler2DArray tex;",
	  "texelFetch(tex, ivec3(1, 1, 2), 0)", "texelFetch(tex, ivec3(0, 1, 0), 0)", setup_depth24s8_array_gpu, D025,
	  { 0.75f, 0.75f, 0.75f, 1.0f }, false },
	{ "depth24_shadow_compare_after_gpu_clear", "130", "uniform sampler2DShadow tex;",
	  "vec4(texture(tex, vec3(0.5, 0.5, 0.5)))", "vec4(texture(tex, vec3(0.5, 0.5, 0.1)))", setup_shadow_gpu,
	  { 0, 0, 0, 0 }, { 1, 1, 1, 1 }, false },
	{ "stencil8_after_gpu_clear", "130", "uniform usampler2D tex;", "vec4(texelFetch(tex, ivec2(1, 3), 0))",
	  "vec4(0.0)", setup_stencil_gpu, { 90, 90, 90, 1 }, { 0, 0, 0, 0 }, false },
	{ "image2d_load_after_gpu_clear", "420 compatibility", "layout(rgba32f) readonly uniform image2D tex;",
	  "imageLoad(tex, ivec2(1, 1))", "imageLoad(tex, ivec2(2, 0))", setup_image2d_gpu, { 0.9f, 0.7f, 0.5f, 0.3f },
	  { 0, 0, 0, 0 }, false },
	{ "ssbo_after_gpu_copy", "430 compatibility", "layout(std430, binding = 0) buffer b { vec4 v[2]; };", "v[1]",
	  "v[0]", setup_ssbo_gpu, { 0.25f, 0.5f, 0.75f, 1.0f }, { 0, 0, 0, 0 }, false },
	{ "tex2d_after_gpu_clear_feedback", "130", "uniform sampler2D tex;", "texelFetch(tex, ivec2(5, 6), 0)",
	  "texture(tex, vec2(0.1, 0.9))", setup_2d_gpu, { 0.2f, 0.4f, 0.6f, 0.8f }, { 0.2f, 0.4f, 0.6f, 0.8f }, true },
};

/* ---- running a case ---------------------------------------------------------------- */

static int egl_start(void)
{
	PFNEGLGETPLATFORMDISPLAYEXTPROC get_display =
		(PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
	const EGLint cfg_attr[] = { EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_NONE };
	/* Compatibility profile, the newest the driver offers: glRasterPos and
	 * gl_TexCoord are compatibility features. */
	const EGLint ctx_attr[] = { EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL_CONTEXT_OPENGL_COMPATIBILITY_PROFILE_BIT,
				    EGL_NONE };
	EGLDisplay dpy;
	EGLContext ctx;
	EGLConfig cfg;
	EGLint n = 0;

	if (!get_display)
		return SAY("no eglGetPlatformDisplayEXT"), -1;
	dpy = get_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
	if (dpy == EGL_NO_DISPLAY || !eglInitialize(dpy, NULL, NULL))
		return SAY("no surfaceless EGL display (%#x)", eglGetError()), -1;
	if (!eglBindAPI(EGL_OPENGL_API) || !eglChooseConfig(dpy, cfg_attr, &cfg, 1, &n) || n < 1)
		return SAY("no OpenGL config (%#x)", eglGetError()), -1;
	ctx = eglCreateContext(dpy, cfg, EGL_NO_CONTEXT, ctx_attr);
	if (ctx == EGL_NO_CONTEXT || !eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx))
		return SAY("no OpenGL compatibility context (%#x)", eglGetError()), -1;
	return 0;
}

static GLuint build_program(const struct vs_case *c)
{
	char src[1024], log[1024] = "";
	const char *p = src;
	GLuint vs, prog;
	GLint ok = 0;

	snprintf(src, sizeof(src),
		 "#version %s\n"
		 "%s\n"
		 "void main() {\n"
		 "  gl_Position = vec4(0.0, 0.0, 0.0, 1.0);\n"
		 "  gl_TexCoord[0] = %s;\n"
		 "  gl_TexCoord[1] = %s;\n"
		 "}\n",
		 c->version, c->decl, c->out0, c->out1);
	vs = glCreateShader(GL_VERTEX_SHADER);
	glShaderSource(vs, 1, &p, NULL);
	glCompileShader(vs);
	glGetShaderiv(vs, GL_COMPILE_STATUS, &ok);
	if (!ok) {
		glGetShaderInfoLog(vs, sizeof(log), NULL, log);
		SAY("%s: the vertex shader does not compile: %s", c->name, log);
		return 0;
	}
	prog = glCreateProgram();
	glAttachShader(prog, vs);
	glLinkProgram(prog);
	glGetProgramiv(prog, GL_LINK_STATUS, &ok);
	if (!ok) {
		glGetProgramInfoLog(prog, sizeof(log), NULL, log);
		SAY("%s: the program does not link: %s", c->name, log);
		return 0;
	}
	return prog;
}

static bool close_to(const float *got, const float *want)
{
	for (int i = 0; i < 4; i++)
		if (!(fabsf(got[i] - want[i]) <= 0.01f + 0.001f * fabsf(want[i])))
			return false;
	return true;
}

/* Sets the raster position (or a feedback point) with the case's shader
 * and reads back gl_TexCoord[0] and [1]. */
static bool run_shader(const struct vs_case *c, float got[2][4])
{
	if (c->feedback) {
		GLfloat fb[64] = { 0 };
		GLint n;

		/* GL_4D_COLOR_TEXTURE: token, x y z w, r g b a, then s t r q
		 * of texture unit 0 only, so [1] is not checked here. */
		glFeedbackBuffer(64, GL_4D_COLOR_TEXTURE, fb);
		glRenderMode(GL_FEEDBACK);
		glBegin(GL_POINTS);
		glVertex4f(0, 0, 0, 1);
		glEnd();
		n = glRenderMode(GL_RENDER);
		if (n < 13 || fb[0] != GL_POINT_TOKEN) {
			SAY("%s: feedback returned %d values (token %g)", c->name, n, (double)fb[0]);
			return false;
		}
		memcpy(got[0], &fb[9], sizeof(got[0]));
		memcpy(got[1], c->want1, sizeof(got[1]));
		return true;
	}
	GLboolean valid = GL_FALSE;

	glRasterPos4f(0, 0, 0, 1);
	glGetBooleanv(GL_CURRENT_RASTER_POSITION_VALID, &valid);
	if (!valid) {
		SAY("%s: the raster position is not valid", c->name);
		return false;
	}
	for (int u = 0; u < 2; u++) {
		glActiveTexture(GL_TEXTURE0 + u);
		glGetFloatv(GL_CURRENT_RASTER_TEXTURE_COORDS, got[u]);
	}
	glActiveTexture(GL_TEXTURE0);
	return true;
}

/* 0 pass, 1 fail, 2 not supported. */
static int run_case(const struct vs_case *c)
{
	float got[2][4];
	enum setup_result r;
	GLint units = 0;
	GLuint prog, fb, rb;
	GLenum err;
	bool bad = false;

	if (egl_start())
		return 1;
	/* A surfaceless context has no window: draw into a 16x16 FBO. */
	glGenFramebuffers(1, &fb);
	glGenRenderbuffers(1, &rb);
	glBindRenderbuffer(GL_RENDERBUFFER, rb);
	glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, 16, 16);
	glBindFramebuffer(GL_FRAMEBUFFER, fb);
	glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb);
	glViewport(0, 0, 16, 16);
	glGetIntegerv(GL_MAX_VERTEX_TEXTURE_IMAGE_UNITS, &units);
	if (units < 1) {
		SAY("%s: not supported: no vertex texture units", c->name);
		return 2;
	}
	r = c->setup();
	if (r == SETUP_UNSUPPORTED) {
		SAY("%s: not supported: %s", c->name, unsupported_why);
		return 2;
	}
	if (r == SETUP_FAILED)
		return 1;
	prog = build_program(c);
	if (!prog)
		return 1;
	glUseProgram(prog);
	glUniform1i(glGetUniformLocation(prog, "tex"), 0); /* -1 (no such uniform) is ignored */
	while ((err = glGetError()) != GL_NO_ERROR) {
		SAY("%s: GL error %#x while setting up", c->name, err);
		return 1;
	}
	if (!run_shader(c, got))
		return 1;
	if ((err = glGetError()) != GL_NO_ERROR) {
		SAY("%s: GL error %#x", c->name, err);
		return 1;
	}
	for (int u = 0; u < 2; u++) {
		const float *want = u ? c->want1 : c->want0;

		if (!close_to(got[u], want)) {
			SAY("%s: gl_TexCoord[%d] = %s = (%g, %g, %g, %g), expected (%g, %g, %g, %g)", c->name, u,
			    u ? c->out1 : c->out0, (double)got[u][0], (double)got[u][1], (double)got[u][2],
			    (double)got[u][3], (double)want[0], (double)want[1], (double)want[2], (double)want[3]);
			bad = true;
		}
	}
	return bad ? 1 : 0;
}

static bool wanted(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vs_case *c = &cases[i];
		int status = 0;
		pid_t pid;

		if (!wanted(c->name, argc, argv))
			continue;
		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			SAY("fork: %s", strerror(errno));
			return 1;
		}
		if (pid == 0)
			_exit(run_case(c));
		if (waitpid(pid, &status, 0) != pid)
			status = -1;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			SAY("PASS %s", c->name);
			passed++;
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
			SAY("SKIP %s", c->name);
			skipped++;
		} else if (WIFSIGNALED(status)) {
			SAY("FAIL %s: crashed (%s)", c->name, strsignal(WTERMSIG(status)));
			failed++;
		} else {
			SAY("FAIL %s", c->name);
			failed++;
		}
	}
	SAY("%d passed, %d failed, %d not supported", passed, failed, skipped);
	return failed ? 1 : 0;
}
