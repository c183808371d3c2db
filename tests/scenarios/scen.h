/* SPDX-License-Identifier: MIT */
/*
 * scen.h: the scenario suite speaks only the uAPI, as a user-mode driver
 * does. A runner supplies the environment: how to open a handle of the
 * kernel driver (over virgo-host's socket, or directly inside a Linux guest
 * on QEMU's device), and which abilities it has. The same scenarios run on
 * every runner unchanged; one that needs an ability the runner lacks skips.
 */
#ifndef VIRGO_SCEN_H
#define VIRGO_SCEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virgo/uapi.h>

#include "t.h"

struct scen_dev;

struct scen_dev_ops {
	int (*ioctl)(struct scen_dev *d, uint32_t op, void *arg);
	void (*close)(struct scen_dev *d);
};

struct scen_dev {
	const struct scen_dev_ops *ops;
};

#define SCEN_CAN_FORK   1u  /* clients may live in child processes and be killed */
#define SCEN_RAW_SOCKET 2u  /* scen_env.raw_connect gives a raw transport socket */
/* The device answers ERR when virglrenderer refuses a command stream.
 * virgo-host does; QEMU 7.2 ignores virglrenderer's verdict and answers OK
 * (docs/qemu.md). Both are within the virtio spec. */
#define SCEN_HOST_ERRORS 4u

struct scen_env {
	const char *name;
	unsigned caps;
	int (*open)(struct scen_env *env, struct scen_dev **out);
	int (*raw_connect)(struct scen_env *env); /* a connected fd, or -1 */
	int (*reset)(struct scen_env *env);       /* gpu_reset on the live device; NULL: cannot */
};

/* The environment of the running suite (set by the runner). */
extern struct scen_env *scen;

static inline int scen_ioctl(struct scen_dev *d, uint32_t op, void *arg)
{
	return d->ops->ioctl(d, op, arg);
}

struct scen_dev *scen_open(void);   /* REQUIREs success */
void scen_close(struct scen_dev *d);

/* Helpers that REQUIRE success, for readable scenarios. */
uint64_t scen_param(struct scen_dev *d, uint64_t param);
uint32_t scen_create(struct scen_dev *d, uint32_t target, uint32_t format, uint32_t bind, uint32_t w,
		     uint32_t h, uint32_t size, uint32_t *res_id);
void scen_close_bo(struct scen_dev *d, uint32_t bo);
uint64_t scen_exec(struct scen_dev *d, const uint32_t *cmd, uint32_t bytes, const uint32_t *bos, uint32_t nbos);
int scen_fence_wait(struct scen_dev *d, uint64_t fence, uint64_t timeout_ns);
void *scen_map(struct scen_dev *d, uint32_t bo, uint64_t *size);
uint64_t scen_transfer(struct scen_dev *d, uint32_t op, uint32_t bo, uint32_t x, uint32_t y, uint32_t w,
		       uint32_t h, uint32_t stride);
/* Renders the triangle scene in a fresh context of d and reads it back
 * into pixels (SCENE_RT_SIZE bytes). */
void scen_render_triangle(struct scen_dev *d, uint8_t *pixels);
/* Polls a GET_PARAM value until it equals want, for at most ms. */
bool scen_wait_param(struct scen_dev *d, uint64_t param, uint64_t want, unsigned ms);

#define SKIP_UNLESS(cap)                                                        \
	do {                                                                    \
		if (!(scen->caps & (cap))) {                                    \
			t_skip("%s cannot: " #cap, scen->name);                 \
			return;                                                 \
		}                                                               \
	} while (0)

#endif
