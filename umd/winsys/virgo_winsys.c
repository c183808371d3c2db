/* SPDX-License-Identifier: MIT */
/*
 * virgo_winsys.c: Mesa 22.3's struct virgl_winsys over the virgo uAPI.
 *
 * This file: opening the device, what it offers, the context, caps,
 * presentation (flush_frontbuffer) and the entry points that share
 * resources with other processes, which virgo does not do yet (they fail
 * cleanly). Resources are in virgo_resource.c, command buffers and submit
 * in virgo_cmdbuf.c, fences in virgo_fence.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipe/p_defines.h" /* before sw_winsys.h, which needs its types */
#include "frontend/sw_winsys.h"
#include "util/format/u_format.h"
#include "util/log.h"
#include "util/u_atomic.h"
#include "util/u_box.h"
#include "util/u_inlines.h"
#include "util/u_memory.h"
#include "util/u_process.h"
#include "util/u_surface.h"
#include "virgl/virgl_public.h"
#include "virtio-gpu/virgl_hw.h"

#include "virgo_winsys_priv.h"
#include "vtp.h"
#include "vtp_log.h"

#define CAPSET_VIRGL  1u
#define CAPSET_VIRGL2 2u

/* Errors are logged, but a broken device must not flood the log. */
#define MAX_ERRORS_LOGGED 20u

int virgo_ioctl(struct virgo_winsys *vws, uint32_t op, void *arg)
{
	return vws->dev.ioctl(vws->dev.priv, op, arg);
}

static const char *err_str(struct virgo_winsys *vws, int err)
{
	return vws->dev.strerror ? vws->dev.strerror(err) : "error";
}

void virgo_log_error(struct virgo_winsys *vws, const char *what, int err)
{
	uint32_t n = p_atomic_inc_return(&vws->errors_logged);

	if (n <= MAX_ERRORS_LOGGED)
		vtp_log(VTP_LOG_ERROR, "virgo: %s: %s (%d)%s", what, err_str(vws, err), err,
			  n == MAX_ERRORS_LOGGED ? "; further errors are not logged" : "");
}

static uint64_t get_param(struct virgo_winsys *vws, uint64_t param)
{
	struct virgo_get_param p = { .param = param };

	return virgo_ioctl(vws, VIRGO_OP_GET_PARAM, &p) ? 0 : p.value;
}

/* ---- caps ---------------------------------------------------------------- */

/* GL_RENDERER reads "virgo (virgl on HOST)"; Mesa's virgl screen leaves a
 * renderer string that starts with "virgo (" as it is (virgo.patch). */
static void name_renderer(union virgl_caps *caps)
{
	char name[sizeof(caps->v2.renderer)];
	int len;

	if (caps->v2.host_feature_check_version < 5)
		return;
	caps->v2.renderer[sizeof(caps->v2.renderer) - 1] = 0;
	len = snprintf(name, sizeof(name), "virgo (virgl on %s)", caps->v2.renderer);
	if (len >= (int)sizeof(name))
		memcpy(name + sizeof(name) - 5, "...)", 5);
	memcpy(caps->v2.renderer, name, sizeof(name));
}

/*
 * No readback through staging buffers (COPY_TRANSFER3D from the host):
 * virglrenderer 0.10.4 answers one from a compressed texture with the
 * level's first blocks instead of the box asked for (piglit's
 * arb_get_texture_sub_image-get and -getcompressed), and Mesa's fallback
 * for formats hidden from supported_readback_formats crashes on compressed
 * boxes. Without the capability Mesa keeps textures in guest storage and
 * reads them with TRANSFER_FROM_HOST, as over Mesa's vtest winsys, which
 * hides the capability for the same reason.
 */
static void no_staging_readback(union virgl_caps *caps)
{
	caps->v2.capability_bits_v2 &= ~VIRGL_CAP_V2_COPY_TRANSFER_BOTH_DIRECTIONS;
}

static int virgo_get_caps(struct virgl_winsys *ws, struct virgl_drm_caps *caps)
{
	struct virgo_winsys *vws = virgo_winsys(ws);
	struct virgo_get_caps gc = { .addr = (uint64_t)(uintptr_t)&caps->caps };
	int ret = -VIRGO_ENODEV;

	virgl_ws_fill_new_caps_defaults(caps);
	if (vws->capset_mask & (1u << CAPSET_VIRGL2)) {
		gc.cap_set_id = CAPSET_VIRGL2;
		gc.cap_set_ver = 2;
		gc.size = sizeof(union virgl_caps);
		ret = virgo_ioctl(vws, VIRGO_OP_GET_CAPS, &gc);
	}
	if (ret) {
		gc.cap_set_id = CAPSET_VIRGL;
		gc.cap_set_ver = 1;
		gc.size = sizeof(struct virgl_caps_v1);
		ret = virgo_ioctl(vws, VIRGO_OP_GET_CAPS, &gc);
	}
	if (ret) {
		virgo_log_error(vws, "no virgl capset", ret);
		return ret;
	}
	name_renderer(&caps->caps);
	no_staging_readback(&caps->caps);
	return 0;
}

/* ---- presentation ---------------------------------------------------------- */

/* Reads the box of the rendered frame back from the host into the
 * resource's guest storage, then copies it into the software winsys's
 * display target and lets the target show it. */
/* Without a software winsys: the whole frame goes to the presenter, in
 * the one format GDI takes as it is (B8G8R8A8; X8 reads the same). Other
 * formats are converted first. */
static void present_frame(struct virgo_winsys *vws, struct virgl_hw_res *res, unsigned level, unsigned layer,
			  void *drawable)
{
	uint32_t stride = util_format_get_stride(res->format, res->width);
	struct pipe_box box;
	uint8_t *src, *conv;
	uint32_t conv_stride;

	u_box_2d_zslice(0, 0, layer, res->width, res->height, &box);
	if (!res->width || !res->height || virgo_transfer_get(&vws->base, res, &box, stride, 0, 0, level))
		return;
	virgo_resource_wait(&vws->base, res);
	src = virgo_resource_map(&vws->base, res);
	if (!src)
		return;
	if (res->format == PIPE_FORMAT_B8G8R8A8_UNORM || res->format == PIPE_FORMAT_B8G8R8X8_UNORM) {
		vws->present(drawable, src, res->width, res->height, stride);
		return;
	}
	conv_stride = res->width * 4;
	conv = malloc((size_t)conv_stride * res->height);
	if (!conv) {
		virgo_log_error(vws, "present: no memory for the format conversion", -VIRGO_ENOMEM);
		return;
	}
	if (util_format_translate(PIPE_FORMAT_B8G8R8A8_UNORM, conv, conv_stride, 0, 0, res->format, src, stride, 0,
				  0, res->width, res->height))
		vws->present(drawable, conv, res->width, res->height, conv_stride);
	else
		virgo_log_error(vws, "present: cannot convert the back buffer's format", -VIRGO_EINVAL);
	free(conv);
}

static void virgo_flush_frontbuffer(struct virgl_winsys *ws, struct virgl_hw_res *res, unsigned level,
				    unsigned layer, void *drawable, struct pipe_box *sub_box)
{
	struct virgo_winsys *vws = virgo_winsys(ws);
	uint32_t stride, offset = 0;
	struct pipe_box box;
	uint8_t *src;
	void *dst;

	if (res && vws->present && !res->dt) {
		present_frame(vws, res, level, layer, drawable);
		return;
	}
	if (!res || !res->dt || !vws->sws)
		return;
	stride = util_format_get_stride(res->format, res->width);
	if (sub_box) {
		box = *sub_box;
		offset = box.y / util_format_get_blockheight(res->format) * stride +
			 box.x / util_format_get_blockwidth(res->format) * util_format_get_blocksize(res->format);
	} else {
		u_box_2d_zslice(0, 0, layer, res->width, res->height, &box);
	}
	if (box.width <= 0 || box.height <= 0)
		return;
	if (virgo_transfer_get(ws, res, &box, stride, 0, offset, level))
		return;
	virgo_resource_wait(ws, res);
	src = virgo_resource_map(ws, res);
	dst = vws->sws->displaytarget_map(vws->sws, res->dt, PIPE_MAP_WRITE);
	if (src && dst)
		util_copy_rect(dst, res->format, res->dt_stride, box.x, box.y, box.width, box.height,
			       src + offset, stride, 0, 0);
	if (dst)
		vws->sws->displaytarget_unmap(vws->sws, res->dt);
	vws->sws->displaytarget_display(vws->sws, res->dt, drawable, sub_box);
}

/* ---- sharing with other processes: not in virgo yet ---------------------------- */

static struct virgl_hw_res *virgo_resource_create_from_handle(struct virgl_winsys *ws, struct winsys_handle *whandle,
							      uint32_t *plane, uint32_t *stride,
							      uint32_t *plane_offset, uint64_t *modifier,
							      uint32_t *blob_mem)
{
	(void)ws;
	(void)whandle;
	(void)plane;
	(void)stride;
	(void)plane_offset;
	(void)modifier;
	(void)blob_mem;
	return NULL;
}

static void virgo_resource_set_type(struct virgl_winsys *ws, struct virgl_hw_res *res, uint32_t format,
				    uint32_t bind, uint32_t width, uint32_t height, uint32_t usage,
				    uint64_t modifier, uint32_t plane_count, const uint32_t *plane_strides,
				    const uint32_t *plane_offsets)
{
	/* Only imported blobs are untyped, and nothing is imported. */
	(void)ws;
	(void)res;
	(void)format;
	(void)bind;
	(void)width;
	(void)height;
	(void)usage;
	(void)modifier;
	(void)plane_count;
	(void)plane_strides;
	(void)plane_offsets;
}

static boolean virgo_resource_get_handle(struct virgl_winsys *ws, struct virgl_hw_res *res, uint32_t stride,
					 struct winsys_handle *whandle)
{
	(void)ws;
	(void)res;
	(void)stride;
	(void)whandle;
	return false;
}

static uint32_t virgo_resource_get_storage_size(struct virgl_winsys *ws, struct virgl_hw_res *res)
{
	(void)ws;
	return res ? res->size : 0;
}

/* ---- creation ------------------------------------------------------------------ */

static void virgo_destroy(struct virgl_winsys *ws)
{
	struct virgo_winsys *vws = virgo_winsys(ws);

	virgo_resource_cache_fini(vws);
	if (vws->dev.close)
		vws->dev.close(vws->dev.priv);
	FREE(vws);
}

/* One virgl context per handle; VIRGL2 when the device has it. A context
 * that exists already (EEXIST) is fine. */
static int init_context(struct virgo_winsys *vws)
{
	struct virgo_ctx_set_param p[2];
	struct virgo_context_init ci = { .num_params = 1, .ctx_set_params = (uint64_t)(uintptr_t)p };
	const char *name = util_get_process_name();
	int ret;

	p[0].param = VIRGO_CTX_PARAM_CAPSET_ID;
	p[0].value = (vws->capset_mask & (1u << CAPSET_VIRGL2)) ? CAPSET_VIRGL2 : CAPSET_VIRGL;
	if (name && *name) {
		p[1].param = VIRGO_CTX_PARAM_DEBUG_NAME;
		p[1].value = (uint64_t)(uintptr_t)name;
		ci.num_params = 2;
	}
	ret = virgo_ioctl(vws, VIRGO_OP_CONTEXT_INIT, &ci);
	if (ret == -VIRGO_EEXIST)
		ret = 0;
	if (ret && ci.num_params == 2) {
		/* A driver that knows no debug names still makes the context. */
		ci.num_params = 1;
		ret = virgo_ioctl(vws, VIRGO_OP_CONTEXT_INIT, &ci);
		if (ret == -VIRGO_EEXIST)
			ret = 0;
	}
	return ret;
}

struct virgl_winsys *virgo_winsys_create_device(const struct virgo_ws_device *dev, struct sw_winsys *sws)
{
	struct virgo_winsys *vws;
	int ret;

	if (!dev || !dev->ioctl)
		return NULL;
	vws = CALLOC_STRUCT(virgo_winsys);
	if (!vws) {
		if (dev->close)
			dev->close(dev->priv);
		return NULL;
	}
	vws->dev = *dev;
	vws->sws = sws;

	if (!get_param(vws, VIRGO_PARAM_3D_FEATURES)) {
		vtp_log(VTP_LOG_ERROR, "virgo: the device offers no 3D (virgl)");
		goto fail;
	}
	vws->has_blob = get_param(vws, VIRGO_PARAM_RESOURCE_BLOB) != 0;
	vws->has_host_visible = get_param(vws, VIRGO_PARAM_HOST_VISIBLE) != 0;
	vws->has_context_init = get_param(vws, VIRGO_PARAM_CONTEXT_INIT) != 0;
	vws->capset_mask = get_param(vws, VIRGO_PARAM_SUPPORTED_CAPSET_IDS);
	if (!(vws->capset_mask & ((1u << CAPSET_VIRGL) | (1u << CAPSET_VIRGL2)))) {
		vtp_log(VTP_LOG_ERROR, "virgo: the device offers no virgl capset");
		goto fail;
	}
	if (vws->has_context_init) {
		ret = init_context(vws);
		if (ret) {
			vtp_log(VTP_LOG_ERROR, "virgo: cannot create the GPU context: %s", err_str(vws, ret));
			goto fail;
		}
	}
	if (!virgo_resource_cache_init(vws))
		goto fail;

	vws->base.destroy = virgo_destroy;
	vws->base.get_caps = virgo_get_caps;
	vws->base.flush_frontbuffer = virgo_flush_frontbuffer;
	vws->base.resource_create_from_handle = virgo_resource_create_from_handle;
	vws->base.resource_set_type = virgo_resource_set_type;
	vws->base.resource_get_handle = virgo_resource_get_handle;
	vws->base.resource_get_storage_size = virgo_resource_get_storage_size;
	virgo_resource_init_funcs(vws);
	virgo_cmdbuf_init_funcs(vws);
	virgo_fence_init_funcs(vws);

	/* Fences are driver sequence numbers, not sync-file descriptors. */
	vws->base.supports_fences = 0;
	vws->base.supports_encoded_transfers = 1;
	/* Coherent persistent mappings need host-visible blobs (GL 4.4's
	 * ARB_buffer_storage); without them Mesa stays at GL 4.3. */
	vws->base.supports_coherent = vws->has_blob && vws->has_host_visible;
	return &vws->base;

fail:
	if (vws->dev.close)
		vws->dev.close(vws->dev.priv);
	FREE(vws);
	return NULL;
}

/* ---- the transport as the device ------------------------------------------------- */

static int vtp_dev_ioctl(void *priv, uint32_t op, void *arg)
{
	return vtp_ioctl(priv, op, arg);
}

static void vtp_dev_close(void *priv)
{
	vtp_close(priv);
}

struct virgl_winsys *virgo_winsys_create(struct sw_winsys *sws)
{
	struct virgo_ws_device dev = { .ioctl = vtp_dev_ioctl, .close = vtp_dev_close, .strerror = virgo_strerror };
	struct vtp *t;
	int ret = vtp_open(NULL, &t);

	if (ret) {
		vtp_log(VTP_LOG_ERROR, "virgo: cannot reach the virgo driver: %s", virgo_strerror(ret));
		return NULL;
	}
	dev.priv = t;
	return virgo_winsys_create_device(&dev, sws);
}

static struct pipe_screen *screen_on(struct virgl_winsys *vws)
{
	struct pipe_screen *screen;

	if (!vws)
		return NULL;
	screen = virgl_create_screen(vws, NULL);
	if (!screen)
		vws->destroy(vws);
	return screen;
}

struct pipe_screen *virgo_screen_create(struct sw_winsys *sws)
{
	return screen_on(virgo_winsys_create(sws));
}

struct pipe_screen *virgo_screen_create_presenting(virgo_present_fn present)
{
	struct virgl_winsys *vws = virgo_winsys_create(NULL);

	if (vws)
		virgo_winsys(vws)->present = present;
	return screen_on(vws);
}
