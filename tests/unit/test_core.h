/* SPDX-License-Identifier: MIT */
/*
 * test_core.h: what the kmd/core unit tests (test_core_*.c) share: a "rig"
 * (one fake machine, the core on it, one caller and one open handle) and
 * short forms of the uAPI requests.
 *
 * Every helper returns the core's result; none of them checks it, so a
 * test says what it expects. rig_down() closes what is open, finishes the
 * core, checks the device holds nothing any more and that the machine has
 * no leak; a test that wants to look at the teardown itself does the steps
 * by hand.
 */
#ifndef VIRGO_TESTS_TEST_CORE_H
#define VIRGO_TESTS_TEST_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include <virgo/uapi.h>
#include <virgo/virtio_gpu.h>
#include <virgo/virtio_pci.h>
#include <virgo/virtio_ring.h>

#include "core.h"
#include "fake.h"
#include "t.h"

#define FEAT(bit) VIRTIO_FEATURE_BIT(bit)
#define FEAT_DEFAULT (FEAT(VIRTIO_F_VERSION_1) | FEAT(VIRTIO_GPU_F_VIRGL) | FEAT(VIRTIO_GPU_F_EDID))
#define FEAT_ALL (FEAT_DEFAULT | FEAT(VIRTIO_GPU_F_RESOURCE_BLOB) | FEAT(VIRTIO_GPU_F_CONTEXT_INIT))

#define MS 1000000ull
#define SEC 1000000000ull

/* Gallium targets, as virgl uses them. */
enum { TGT_BUFFER, TGT_1D, TGT_2D, TGT_3D, TGT_CUBE, TGT_RECT, TGT_1D_ARRAY, TGT_2D_ARRAY, TGT_CUBE_ARRAY };
#define FMT_B8G8R8A8 1u  /* VIRGL_FORMAT_B8G8R8A8_UNORM */
#define BIND_RT      2u

struct rig {
	struct os_dev *os;
	struct fake_dev *d;
	struct gpu_dev *gpu;
	struct os_caller *c;
	struct core_file *f;
};

/* A machine with cfg (NULL: defaults), the core on it with p (NULL:
 * defaults), a caller and an open handle. Ends the test if any step fails.
 * The device log starts empty after it (what gpu_init sent is cleared). */
void rig_up(struct rig *r, const struct fake_config *cfg, const struct gpu_params *p);
/* The same; keep_log keeps gpu_init's commands in the log. */
void rig_up_ex(struct rig *r, const struct fake_config *cfg, const struct gpu_params *p, bool keep_log);
/* As rig_up with the default config but these offered features. */
void rig_up_features(struct rig *r, uint64_t features);
/* Cleanup and close of r->f (if open), caller freed, device-side objects
 * checked (none live), gpu_fini, machine freed with 0 problems. */
void rig_down(struct rig *r);
/* The close of one handle as the OS does it: cleanup, then close. */
void rig_close(struct rig *r, struct core_file *f);

int io(struct rig *r, uint32_t op, void *arg);
int io_f(struct rig *r, struct core_file *f, uint32_t op, void *arg);

uint64_t param(struct rig *r, uint64_t p);
/* GET_PARAM(UAPI_VERSION) on r->f: the result only. */
int param_or_err(struct rig *r);
/* Classic resources: a buffer of width bytes with size bytes of backing, a
 * 2D texture (BGRA8) of w x h with a tight backing. */
int mk_buffer(struct rig *r, struct core_file *f, uint32_t width, uint32_t size, uint32_t *handle,
	      uint32_t *res_id);
int mk_tex2d(struct rig *r, struct core_file *f, uint32_t w, uint32_t h, uint32_t *handle, uint32_t *res_id);
struct virgo_resource_create rc_default(uint32_t target, uint32_t w, uint32_t h, uint32_t depth,
					uint32_t layers);
int exec(struct rig *r, struct core_file *f, const void *stream, uint32_t size, const uint32_t *handles,
	 uint32_t n, uint64_t *fence);
/* A stream of n dwords 0x1000 + i. */
int exec_words(struct rig *r, struct core_file *f, uint32_t n, const uint32_t *handles, uint32_t nh,
	       uint64_t *fence);
int fence_wait(struct rig *r, struct core_file *f, uint64_t fence, uint32_t flags, uint64_t timeout_ns);
int wait_bo(struct rig *r, struct core_file *f, uint32_t handle, uint32_t flags, uint64_t timeout_ns);
int transfer(struct rig *r, struct core_file *f, bool to_host, uint32_t handle, uint32_t level,
	     struct virgo_box box, uint64_t offset, uint64_t *fence);
int map_bo(struct rig *r, struct core_file *f, uint32_t handle, uint8_t **ptr, uint64_t *size);
int close_bo(struct rig *r, struct core_file *f, uint32_t handle);

/* The device log from index i on: how many commands of type (FAKE_CMD_ANY:
 * of any type). */
unsigned log_count_from(struct rig *r, size_t i, uint32_t type);
/* The newest logged command of type: its fence id (0 if none). */
uint64_t last_fence_id(struct rig *r, uint32_t type);

#endif
