/* SPDX-License-Identifier: MIT */
#include "machine.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <virgo/virtio_gpu.h>
#include <virgo/virtio_ring.h>

#include "log.h"
#include "os_posix.h"

#define INTX_BIT 63


static void machine_irq(void *arg, int vector)
{
	struct machine *m = arg;

	pthread_mutex_lock(&m->irq_lock);
	m->irq_pending |= 1ull << (vector < 0 ? INTX_BIT : vector & 62);
	pthread_cond_signal(&m->irq_cond);
	pthread_mutex_unlock(&m->irq_lock);
}

/* The interrupt thread plays the CPU: ISR, then the DPC it asks for. */
static void *irq_thread(void *arg)
{
	struct machine *m = arg;

	pthread_mutex_lock(&m->irq_lock);
	for (;;) {
		uint64_t pending;
		struct gpu_dev *gpu;

		while (!m->irq_pending && !m->irq_stop)
			pthread_cond_wait(&m->irq_cond, &m->irq_lock);
		if (m->irq_stop)
			break;
		pending = m->irq_pending;
		m->irq_pending = 0;
		gpu = __atomic_load_n(&m->gpu, __ATOMIC_ACQUIRE);
		m->irq_busy = gpu != NULL;
		pthread_mutex_unlock(&m->irq_lock);
		for (int v = 0; v < 64 && gpu; v++) {
			if (!(pending & (1ull << v)))
				continue;
			bool ours;

			posix_set_context(1, 0);
			ours = gpu_isr(gpu, v == INTX_BIT ? -1 : v);
			posix_set_context(0, 1);
			if (ours)
				gpu_dpc(gpu);
			posix_set_context(0, 0);
		}
		pthread_mutex_lock(&m->irq_lock);
		m->irq_busy = false;
		pthread_cond_broadcast(&m->irq_cond);
	}
	pthread_mutex_unlock(&m->irq_lock);
	return NULL;
}

void os_irq_sync(struct os_dev *os)
{
	struct machine *m = (struct machine *)(void *)((char *)os - offsetof(struct machine, os));

	/* m->gpu was withdrawn before this: a dispatch starting now reads NULL,
	 * so only one already under way is waited for. */
	pthread_mutex_lock(&m->irq_lock);
	while (m->irq_busy)
		pthread_cond_wait(&m->irq_cond, &m->irq_lock);
	pthread_mutex_unlock(&m->irq_lock);
}

int machine_start(struct machine *m, const struct machine_config *cfg)
{
	struct vgpu_config vc = { 0 };
	struct gpu_params gp = { .cmd_timeout_ns = cfg->cmd_timeout_ns };
	int ret;

	memset(m, 0, sizeof(*m));
	ret = ram_create(&m->ram, cfg->ram_size ? cfg->ram_size : 256ull << 20);
	if (ret) {
		hlog(HLOG_ERR, "guest RAM: %s", strerror(-ret));
		return ret;
	}
	pthread_mutex_init(&m->irq_lock, NULL);
	pthread_cond_init(&m->irq_cond, NULL);
	vc.features = cfg->features ? cfg->features
				    : VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_VIRGL) | VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_EDID) |
					      VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_RESOURCE_BLOB) |
					      VIRTIO_FEATURE_BIT(VIRTIO_GPU_F_CONTEXT_INIT);
	vc.queue_size = cfg->queue_size;
	vc.max_hostmem = cfg->max_hostmem;
	vc.faults = cfg->faults;
	vc.msix = cfg->intx ? 0 : (cfg->msix ? cfg->msix : 3);
	vc.irq = machine_irq;
	vc.irq_arg = m;
	ret = vgpu_create(&m->ram, &vc, &m->vgpu);
	if (ret)
		goto fail_ram;
	m->os.ram = &m->ram;
	m->os.pci = vgpu_pci(m->vgpu);
	m->os.msix = vc.msix;
	if (pthread_create(&m->irq_thread, NULL, irq_thread, m)) {
		ret = -EAGAIN;
		goto fail_vgpu;
	}
	m->irq_started = true;
	ret = gpu_init(&m->os, &gp, &m->gpu);
	if (ret) {
		hlog(HLOG_ERR, "the kernel driver core did not start (%d)", ret);
		goto fail_irq;
	}
	return 0;
fail_irq:
	pthread_mutex_lock(&m->irq_lock);
	m->irq_stop = true;
	pthread_cond_signal(&m->irq_cond);
	pthread_mutex_unlock(&m->irq_lock);
	pthread_join(m->irq_thread, NULL);
fail_vgpu:
	vgpu_destroy(m->vgpu);
fail_ram:
	ram_destroy(&m->ram);
	return ret;
}

void machine_stop(struct machine *m)
{
	/* Interrupts are disconnected first, as on Windows: no DPC may run on a
	 * device that gpu_fini is freeing. The reset in gpu_fini needs none. */
	pthread_mutex_lock(&m->irq_lock);
	m->irq_stop = true;
	pthread_cond_signal(&m->irq_cond);
	pthread_mutex_unlock(&m->irq_lock);
	pthread_join(m->irq_thread, NULL);
	gpu_fini(m->gpu);
	m->gpu = NULL;
	vgpu_destroy(m->vgpu);
	ram_destroy(&m->ram);
	pthread_cond_destroy(&m->irq_cond);
	pthread_mutex_destroy(&m->irq_lock);
}

void machine_counts(struct machine *m, struct posix_counts *out)
{
	*out = m->os.n;
}
