/* SPDX-License-Identifier: MIT */
/* A hostile or broken client: malformed and oversized requests, a close
 * with work in flight, a client killed mid-request, garbage on the socket.
 * The driver answers with errors, keeps serving the others, and frees
 * everything the bad client had. */
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scen.h"
#include "scene_triangle.h"

static int exec_(struct scen_dev *d, const uint32_t *cmd, uint32_t size, uint32_t flags, uint32_t ring,
		 const uint32_t *bos, uint32_t nbos)
{
	struct virgo_execbuffer x = { .flags = flags, .size = size, .command = (uint64_t)(uintptr_t)cmd,
				      .bo_handles = (uint64_t)(uintptr_t)bos, .num_bo_handles = nbos, .ring_idx = ring };

	return scen_ioctl(d, VIRGO_OP_EXECBUFFER, &x);
}

/* A 64x64 2D texture, with one field changed by the caller. */
static int create_(struct scen_dev *d, uint32_t target, uint32_t format, uint32_t w, uint32_t h, uint32_t depth,
		   uint32_t array, uint32_t last_level, uint32_t flags, uint32_t bind, uint32_t size)
{
	struct virgo_resource_create rc = { .target = target, .format = format, .bind = bind, .width = w,
					    .height = h, .depth = depth, .array_size = array,
					    .last_level = last_level, .flags = flags, .size = size };

	return scen_ioctl(d, VIRGO_OP_RESOURCE_CREATE, &rc);
}

static int xfer_(struct scen_dev *d, uint32_t bo, uint32_t x, uint32_t w, uint32_t dd, uint32_t level,
		 uint64_t offset)
{
	struct virgo_transfer t = { .bo_handle = bo, .level = level, .offset = offset, .box = { x, 0, 0, w, 64, dd } };

	return scen_ioctl(d, VIRGO_OP_TRANSFER_FROM_HOST, &t);
}

TEST(malformed_requests_get_errors)
{
	struct scen_dev *d = scen_open();
	uint32_t cmd[4] = { 0 }, bo = scen_create(d, 2, 1, 2, 64, 64, 64 * 64 * 4, NULL), nobo = 999;

	CHECK_EQ(exec_(d, cmd, 0, 0, 0, NULL, 0), -VIRGO_EINVAL);
	CHECK_EQ(exec_(d, cmd, 6, 0, 0, NULL, 0), -VIRGO_EINVAL);
	CHECK_EQ(exec_(d, cmd, VIRGO_MAX_EXEC_SIZE + 4, 0, 0, NULL, 0), -VIRGO_E2BIG);
	CHECK_EQ(exec_(d, cmd, 4, 0, 0, NULL, VIRGO_MAX_BO_HANDLES + 1), -VIRGO_E2BIG);
	CHECK_EQ(exec_(d, cmd, 4, 0x80, 0, NULL, 0), -VIRGO_EINVAL);
	CHECK_EQ(exec_(d, cmd, 4, VIRGO_EXEC_RING_IDX, 3, NULL, 0), -VIRGO_EINVAL);
	CHECK_EQ(exec_(d, cmd, 4, 0, 1, NULL, 0), -VIRGO_EINVAL);
	CHECK_EQ(exec_(d, cmd, 4, 0, 0, &nobo, 1), -VIRGO_ENOENT);

	CHECK_EQ(create_(d, 9, 1, 64, 64, 1, 1, 0, 0, 2, 0), -VIRGO_EINVAL);       /* target */
	CHECK_EQ(create_(d, 2, 0, 64, 64, 1, 1, 0, 0, 2, 0), -VIRGO_EINVAL);       /* format */
	CHECK_EQ(create_(d, 2, 1, 0, 64, 1, 1, 0, 0, 2, 0), -VIRGO_EINVAL);        /* width */
	CHECK_EQ(create_(d, 2, 1, 64, 64, 1, 1, 0, 2, 2, 0), -VIRGO_EINVAL);       /* flags */
	CHECK_EQ(create_(d, 2, 1, 64, 64, 1, 1, 7, 0, 2, 0), -VIRGO_EINVAL);       /* 64 has levels 0..6 */
	CHECK_EQ(create_(d, 2, 1, 64, 64, 1, 1, 0, 0, 2, 0xffffffffu), -VIRGO_E2BIG);
	CHECK_EQ(create_(d, 0, 64, 64, 2, 1, 1, 0, 0, 16, 0), -VIRGO_EINVAL);      /* buffer with rows */
	CHECK_EQ(create_(d, 2, 1, 64, 64, 2, 1, 0, 0, 2, 0), -VIRGO_EINVAL);       /* 2D with depth */
	CHECK_EQ(create_(d, 4, 1, 64, 32, 1, 6, 0, 0, 2, 0), -VIRGO_EINVAL);       /* cube not square */
	CHECK_EQ(create_(d, 2, 1, 64, 64, 1, 1, 0, 0, 1u << 30, 0), -VIRGO_EINVAL); /* unknown bind */

	CHECK_EQ(xfer_(d, bo, 1, 64, 1, 0, 0), -VIRGO_EINVAL);           /* past the right edge */
	CHECK_EQ(xfer_(d, bo, 0, 64, 2, 0, 0), -VIRGO_EINVAL);           /* depth 2 of a 2D texture */
	CHECK_EQ(xfer_(d, bo, 0xffffffffu, 2, 1, 0, 0), -VIRGO_EINVAL);  /* x + w overflows */
	CHECK_EQ(xfer_(d, bo, 0, 0, 1, 0, 0), -VIRGO_EINVAL);            /* empty box */
	CHECK_EQ(xfer_(d, bo, 0, 64, 1, 1, 0), -VIRGO_EINVAL);           /* no level 1 */
	CHECK_EQ(xfer_(d, bo, 0, 64, 1, 0, 1u << 20), -VIRGO_EINVAL);    /* offset past the backing */
	CHECK_EQ(xfer_(d, 999, 0, 64, 1, 0, 0), -VIRGO_ENOENT);
	CHECK_EQ(xfer_(d, bo, 0, 64, 1, 0, 0), 0);
	{
		struct virgo_wait w = { .bo_handle = bo, .flags = 0x10 };
		struct virgo_unmap u = { .bo_handle = bo };
		struct virgo_resource_close rcl = { .bo_handle = 999 };
		struct virgo_get_param gp = { .param = 0x7777 };
		struct virgo_fence_wait fw = { .fence = 0 };

		CHECK_EQ(scen_ioctl(d, VIRGO_OP_WAIT, &w), -VIRGO_EINVAL);
		CHECK_EQ(scen_ioctl(d, VIRGO_OP_UNMAP, &u), -VIRGO_EINVAL);
		CHECK_EQ(scen_ioctl(d, VIRGO_OP_RESOURCE_CLOSE, &rcl), -VIRGO_ENOENT);
		CHECK_EQ(scen_ioctl(d, VIRGO_OP_GET_PARAM, &gp), -VIRGO_EINVAL);
		CHECK_EQ(scen_ioctl(d, VIRGO_OP_FENCE_WAIT, &fw), -VIRGO_EINVAL);
		CHECK_EQ(scen_ioctl(d, 99, &gp), -VIRGO_ENOTSUP);
	}
	/* After all that, the handle is still good. */
	CHECK_EQ(scen_fence_wait(d, scen_exec(d, cmd, 16, &bo, 1), 0), 0);
	scen_close_bo(d, bo);
	scen_close(d);
}

TEST(close_with_work_in_flight)
{
	struct scen_dev *watch = scen_open(), *d = scen_open();
	uint64_t before = scen_param(watch, VIRGO_PARAM_LIVE_RESOURCES);
	static uint32_t s[8192];
	static const float c[4] = { 1, 0, 0, 1 };
	uint32_t rt_id, rt = scen_create(d, 2, 1, 2, 2048, 2048, 2048u * 2048u * 4u, &rt_id), cb = 1;
	struct venc e;

	venc_init(&e, s, 8192);
	venc_create_sub_ctx(&e, 3);
	venc_set_sub_ctx(&e, 3);
	venc_create_surface(&e, 1, rt_id, 1, 0, 0, 0);
	venc_set_framebuffer_state(&e, 1, 0, &cb);
	for (int i = 0; i < 200; i++)
		venc_clear(&e, VENC_CLEAR_COLOR0, c, 1.0, 0);
	REQUIRE_EQ(e.err, 0);
	scen_exec(d, s, venc_bytes(&e), &rt, 1);
	scen_transfer(d, VIRGO_OP_TRANSFER_FROM_HOST, rt, 0, 0, 2048, 2048, 0);
	scen_close(d); /* no wait, no resource close */
	CHECK(scen_wait_param(watch, VIRGO_PARAM_LIVE_RESOURCES, before, 10000));
	scen_close(watch);
}

TEST(client_killed_mid_request)
{
	static uint8_t px[SCENE_RT_SIZE];
	struct scen_dev *watch;
	uint64_t before_res, before_handles;
	char why[200];
	pid_t pid;
	int fd;

	SKIP_UNLESS(SCEN_CAN_FORK | SCEN_RAW_SOCKET);
	watch = scen_open();
	/* The handle the previous check opened may still be closing (over a
	 * socket a close completes after it returns): settle on this one. */
	REQUIRE(scen_wait_param(watch, VIRGO_PARAM_LIVE_HANDLES, 1, 10000));
	before_res = scen_param(watch, VIRGO_PARAM_LIVE_RESOURCES);
	before_handles = 1;
	/* A client that dies halfway through sending a large EXECBUFFER. */
	fd = scen->raw_connect(scen);
	REQUIRE(fd >= 0);
	pid = fork();
	if (pid == 0) {
		struct virgo_wire_req h = { .magic = VIRGO_WIRE_MAGIC, .version = VIRGO_UAPI_VERSION,
					    .op = VIRGO_OP_EXECBUFFER, .arg_size = sizeof(struct virgo_execbuffer),
					    .in_size = 512 * 1024 };
		static uint8_t junk[4096];

		if (write(fd, &h, sizeof(h)) != sizeof(h) || write(fd, junk, sizeof(junk)) != sizeof(junk))
			_exit(1);
		raise(SIGKILL);
	}
	close(fd);
	REQUIRE(pid > 0);
	waitpid(pid, NULL, 0);
	/* A client killed while its resources and work are live. */
	pid = fork();
	if (pid == 0) {
		struct scen_dev *k;

		if (scen->open(scen, &k))
			_exit(1);
		for (int i = 0; i < 16; i++) {
			struct virgo_resource_create rc = { .target = 2, .format = 1, .bind = 2, .width = 512, .height = 512,
							    .depth = 1, .array_size = 1, .size = 512 * 512 * 4 };
			struct virgo_transfer t = { .box = { 0, 0, 0, 512, 512, 1 } };

			if (scen_ioctl(k, VIRGO_OP_RESOURCE_CREATE, &rc))
				_exit(1);
			t.bo_handle = rc.bo_handle;
			scen_ioctl(k, VIRGO_OP_TRANSFER_TO_HOST, &t);
		}
		raise(SIGKILL);
	}
	REQUIRE(pid > 0);
	waitpid(pid, NULL, 0);
	/* The host keeps serving, and what the dead clients had is gone. */
	scen_render_triangle(watch, px);
	if (scene_triangle_check(px, SCENE_RT_STRIDE, SCENE_RT_WIDTH, SCENE_RT_HEIGHT, why, sizeof(why)))
		t_fail(__FILE__, __LINE__, "after the killed clients: %s", why);
	CHECK(scen_wait_param(watch, VIRGO_PARAM_LIVE_RESOURCES, before_res, 10000));
	CHECK(scen_wait_param(watch, VIRGO_PARAM_LIVE_HANDLES, before_handles, 10000));
	scen_close(watch);
}

TEST(garbage_on_the_socket)
{
	struct scen_dev *d;
	uint8_t junk[64], b;
	int fd;

	SKIP_UNLESS(SCEN_RAW_SOCKET);
	memset(junk, 0x5a, sizeof(junk));
	fd = scen->raw_connect(scen);
	REQUIRE(fd >= 0);
	CHECK_EQ(write(fd, junk, sizeof(junk)), (long)sizeof(junk));
	/* The host drops a client whose stream it cannot trust. */
	CHECK_EQ(read(fd, &b, 1), 0);
	close(fd);
	d = scen_open();
	CHECK_EQ(scen_param(d, VIRGO_PARAM_3D_FEATURES), 1);
	scen_close(d);
}
