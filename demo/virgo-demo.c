/* SPDX-License-Identifier: MIT */
/*
 * virgo-demo: the triangle through the whole stack, as a user-mode driver
 * would drive it: uAPI over the transport, the KMD core, the virtio-gpu
 * device, virglrenderer. Writes the frame as a PNG and says whether its
 * pixels are right.
 *
 *   virgo-demo OUT.png      (VIRGO_TRANSPORT / VIRGO_SOCKET pick the host)
 */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scene_triangle.h"
#include "vtp.h"

static int fail(const char *what, int err)
{
	fprintf(stderr, "virgo-demo: %s: %s\n", what, virgo_strerror(err));
	return 1;
}

static int create(struct vtp *t, uint32_t target, uint32_t format, uint32_t bind, uint32_t w, uint32_t h,
		  uint32_t size, uint32_t *bo, uint32_t *id)
{
	struct virgo_resource_create rc = { .target = target, .format = format, .bind = bind, .width = w,
					    .height = h, .depth = 1, .array_size = 1, .size = size };
	int ret = vtp_ioctl(t, VIRGO_OP_RESOURCE_CREATE, &rc);

	*bo = rc.bo_handle;
	*id = rc.res_handle;
	return ret;
}

static int write_png(const char *path, const uint8_t *bgra)
{
	FILE *f = fopen(path, "wb");
	png_structp png;
	png_infop info;
	uint8_t row[SCENE_RT_WIDTH * 4];

	if (!f)
		return -1;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png ? png_create_info_struct(png) : NULL;
	if (!info || setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		fclose(f);
		return -1;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, SCENE_RT_WIDTH, SCENE_RT_HEIGHT, 8, PNG_COLOR_TYPE_RGBA, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	/* Row 0 of the read-back is the bottom of the viewport (GL order). */
	for (int y = SCENE_RT_HEIGHT - 1; y >= 0; y--) {
		const uint8_t *src = bgra + (size_t)y * SCENE_RT_STRIDE;

		for (uint32_t x = 0; x < SCENE_RT_WIDTH; x++) {
			row[4 * x + 0] = src[4 * x + 2];
			row[4 * x + 1] = src[4 * x + 1];
			row[4 * x + 2] = src[4 * x + 0];
			row[4 * x + 3] = src[4 * x + 3];
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return fclose(f);
}

int main(int argc, char **argv)
{
	uint32_t stream[SCENE_STREAM_DWORDS], rt, rt_id, vb, vb_id, bos[2], red, blue;
	float verts[SCENE_VB_FLOATS];
	struct virgo_transfer up = { .box = { 0, 0, 0, SCENE_VB_BYTES, 1, 1 } };
	struct virgo_transfer down = { .stride = SCENE_RT_STRIDE, .box = { 0, 0, 0, SCENE_RT_WIDTH, SCENE_RT_HEIGHT, 1 } };
	struct virgo_execbuffer x = { 0 };
	struct virgo_fence_wait w = { 0 };
	struct virgo_map vm = { 0 }, rm = { 0 };
	struct virgo_get_param p = { .param = VIRGO_PARAM_3D_FEATURES };
	struct venc e;
	struct vtp *t;
	char why[200];
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: virgo-demo OUT.png\n");
		return 2;
	}
	ret = vtp_open(NULL, &t);
	if (ret)
		return fail("cannot reach the driver", ret);
	ret = vtp_ioctl(t, VIRGO_OP_GET_PARAM, &p);
	if (ret || !p.value)
		return fail("no 3D on this device", ret ? ret : -VIRGO_ENODEV);
	ret = create(t, SCENE_RT_TARGET, SCENE_RT_FORMAT, SCENE_RT_BIND, SCENE_RT_WIDTH, SCENE_RT_HEIGHT,
		     SCENE_RT_SIZE, &rt, &rt_id);
	if (!ret)
		ret = create(t, SCENE_VB_TARGET, SCENE_VB_FORMAT, SCENE_VB_BIND, SCENE_VB_WIDTH, 1, SCENE_VB_SIZE, &vb,
			     &vb_id);
	if (ret)
		return fail("resource create", ret);
	scene_triangle_vertices(verts);
	vm.bo_handle = vb;
	ret = vtp_ioctl(t, VIRGO_OP_MAP, &vm);
	if (ret)
		return fail("map", ret);
	memcpy((void *)(uintptr_t)vm.addr, verts, sizeof(verts));
	up.bo_handle = vb;
	ret = vtp_ioctl(t, VIRGO_OP_TRANSFER_TO_HOST, &up);
	if (ret)
		return fail("upload", ret);
	venc_init(&e, stream, SCENE_STREAM_DWORDS);
	if (scene_triangle_encode(&e, rt_id, vb_id, SCENE_RT_WIDTH, SCENE_RT_HEIGHT))
		return fail("encode", -VIRGO_E2BIG);
	bos[0] = rt;
	bos[1] = vb;
	x = (struct virgo_execbuffer){ .size = venc_bytes(&e), .command = (uint64_t)(uintptr_t)stream,
				       .bo_handles = (uint64_t)(uintptr_t)bos, .num_bo_handles = 2 };
	ret = vtp_ioctl(t, VIRGO_OP_EXECBUFFER, &x);
	if (ret)
		return fail("submit", ret);
	down.bo_handle = rt;
	ret = vtp_ioctl(t, VIRGO_OP_TRANSFER_FROM_HOST, &down);
	if (!ret) {
		w.fence = down.fence;
		ret = vtp_ioctl(t, VIRGO_OP_FENCE_WAIT, &w);
	}
	if (ret)
		return fail("read back", ret);
	rm.bo_handle = rt;
	ret = vtp_ioctl(t, VIRGO_OP_MAP, &rm);
	if (ret)
		return fail("map", ret);
	if (write_png(argv[1], (const uint8_t *)(uintptr_t)rm.addr)) {
		fprintf(stderr, "virgo-demo: cannot write %s\n", argv[1]);
		return 1;
	}
	scene_triangle_count((const uint8_t *)(uintptr_t)rm.addr, SCENE_RT_STRIDE, SCENE_RT_WIDTH, SCENE_RT_HEIGHT,
			     &red, &blue);
	ret = scene_triangle_check_full((const uint8_t *)(uintptr_t)rm.addr, SCENE_RT_STRIDE, SCENE_RT_WIDTH,
					SCENE_RT_HEIGHT, why, sizeof(why));
	vtp_close(t);
	printf("virgo-demo: wrote %s (%ux%u): %u red, %u blue pixels: %s\n", argv[1], SCENE_RT_WIDTH,
	       SCENE_RT_HEIGHT, red, blue, ret ? why : "as expected");
	return ret ? 1 : 0;
}
