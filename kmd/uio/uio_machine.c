/* SPDX-License-Identifier: MIT */
/* Bring-up of the user-space PCI driver: find the virtio-gpu, make sure
 * uio_pci_generic owns it, enable memory decoding and bus mastering, build
 * the DMA arena, connect the INTx line, start the core. */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <virgo/uapi.h>
#include <virgo/virtio_pci.h>

#include "uio_machine.h"

#define SYS_PCI "/sys/bus/pci/devices"
#define UIO_DRIVER "/sys/bus/pci/drivers/uio_pci_generic"

static int read_hex(const char *dir, const char *name, unsigned long *out)
{
	char path[160], buf[32];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!ok)
		return -EIO;
	*out = strtoul(buf, NULL, 16);
	return 0;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* The first 1af4:1050 function, or the one named. */
static int find_device(const char *want, char *bdf, size_t cap)
{
	DIR *d = opendir(SYS_PCI);
	struct dirent *e;
	int ret = -ENODEV;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char dir[PATH_MAX];
		unsigned long vendor = 0, device = 0;

		if (e->d_name[0] == '.' || (want && strcmp(want, e->d_name)))
			continue;
		snprintf(dir, sizeof(dir), SYS_PCI "/%s", e->d_name);
		if (read_hex(dir, "vendor", &vendor) || read_hex(dir, "device", &device))
			continue;
		if (vendor == VIRTIO_PCI_VENDOR_ID && device == VIRTIO_PCI_DEVICE_ID_GPU && strlen(e->d_name) < cap) {
			memcpy(bdf, e->d_name, strlen(e->d_name) + 1);
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

/* uio_pci_generic must own the function; bind it if nobody does. */
static int ensure_uio_driver(const char *path, const char *bdf)
{
	char link[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "%s/driver", path);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0) {
		if (access(UIO_DRIVER, F_OK)) {
			fprintf(stderr, "uio: %s has no driver and uio_pci_generic is not loaded\n", bdf);
			return -ENODEV;
		}
		fprintf(stderr, "uio: binding %s to uio_pci_generic\n", bdf);
		/* new_id binds every matching function; EEXIST means the id was
		 * added before, and then bind names the function. */
		if (write_str(UIO_DRIVER "/new_id", "1af4 1050") == -EEXIST)
			write_str(UIO_DRIVER "/bind", bdf);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0) {
			fprintf(stderr, "uio: could not bind %s\n", bdf);
			return -ENODEV;
		}
	}
	target[n] = 0;
	if (!strstr(target, "/uio_pci_generic")) {
		fprintf(stderr, "uio: %s is owned by %s, not uio_pci_generic\n", bdf, target);
		return -EBUSY;
	}
	return 0;
}

static int open_uio(const char *path)
{
	char dir[PATH_MAX], dev[300] = "";
	struct dirent *e;
	DIR *d;
	int fd;

	snprintf(dir, sizeof(dir), "%s/uio", path);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "uio", 3))
			snprintf(dev, sizeof(dev), "/dev/%s", e->d_name);
	closedir(d);
	if (!dev[0])
		return -ENODEV;
	fprintf(stderr, "uio: interrupts through %s (INTx)\n", dev);
	fd = open(dev, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Memory decoding and bus mastering on, through config-space writes. */
static int enable_device(struct os_dev *os)
{
	uint16_t cmd = 0, want;

	if (pread(os->cfg_fd, &cmd, 2, PCI_CFG_COMMAND) != 2)
		return -EIO;
	want = (uint16_t)(cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_BUS_MASTER);
	if (want != cmd && pwrite(os->cfg_fd, &want, 2, PCI_CFG_COMMAND) != 2)
		return -errno;
	if (pread(os->cfg_fd, &cmd, 2, PCI_CFG_COMMAND) != 2 || !(cmd & PCI_COMMAND_BUS_MASTER))
		return -EIO;
	fprintf(stderr, "uio: PCI command %#06x (memory %s, bus master %s, INTx %s)\n", cmd,
		cmd & PCI_COMMAND_MEMORY ? "on" : "off", cmd & PCI_COMMAND_BUS_MASTER ? "on" : "off",
		cmd & PCI_COMMAND_INTX_DISABLE ? "masked" : "enabled");
	return 0;
}

/* uio_pci_generic masks the line in its handler (the INTx Disable bit of
 * the PCI command register) and has no irqcontrol: writing to /dev/uioN
 * fails with ENOSYS. The line is unmasked by clearing the bit again with a
 * config write, and that write must be the whole 16-bit command register:
 * QEMU 7.2 re-evaluates the line only for writes that cover the command
 * register's first byte (pci_default_write_config tests
 * range_covers_byte(addr, len, PCI_COMMAND)), so the one-byte write to
 * offset 5 that the kernel's UIO how-to shows leaves QEMU's interrupt
 * accounting behind: interrupts get lost, and later the line sticks high
 * with nobody to clear it. The kernel writes this register only in the
 * handler, which cannot run while the line is masked, so the
 * read-modify-write does not race it. */
static void unmask_intx(struct uio_machine *m)
{
	uint16_t cmd = 0;

	if (pread(m->os.cfg_fd, &cmd, 2, PCI_CFG_COMMAND) != 2) {
		fprintf(stderr, "uio: cannot read the PCI command register: %s\n", strerror(errno));
		return;
	}
	if (!(cmd & PCI_COMMAND_INTX_DISABLE))
		return;
	cmd = (uint16_t)(cmd & ~PCI_COMMAND_INTX_DISABLE);
	if (pwrite(m->os.cfg_fd, &cmd, 2, PCI_CFG_COMMAND) != 2)
		fprintf(stderr, "uio: cannot unmask INTx: %s\n", strerror(errno));
}

/* The interrupt thread plays the CPU: the ISR at "DIRQL", the line unmasked
 * again once the ISR read the status (which lowers it), then the DPC. */
static void *irq_thread(void *arg)
{
	struct uio_machine *m = arg;

	for (;;) {
		struct pollfd p[2] = { { m->uio_fd, POLLIN, 0 }, { m->stop_fd, POLLIN, 0 } };
		struct gpu_dev *gpu;
		uint32_t events;
		bool mine;

		int n = poll(p, 2, 200);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "uio: interrupt poll: %s\n", strerror(errno));
			break;
		}
		if (p[1].revents)
			break;
		if (n == 0) {
			uint32_t cs = 0;

			if (pread(m->os.cfg_fd, &cs, 4, PCI_CFG_COMMAND) == 4 && (cs & PCI_COMMAND_INTX_DISABLE)) {
				m->unmask_rescues++;
				fprintf(stderr, "uio: INTx masked for 200 ms with no event (command %#06x status %#06x); unmasking\n",
					cs & 0xffff, cs >> 16);
				unmask_intx(m);
			}
			continue;
		}
		if (!(p[0].revents & POLLIN))
			continue;
		if (read(m->uio_fd, &events, sizeof(events)) != (ssize_t)sizeof(events))
			continue;
		/* Busy before reading the pointer: os_irq_sync withdraws it first
		 * and then waits for busy to clear (both sequentially consistent). */
		__atomic_store_n(&m->irq_busy, 1, __ATOMIC_SEQ_CST);
		gpu = __atomic_load_n(&m->gpu, __ATOMIC_SEQ_CST);
		uio_set_irq_context(1, 0);
		mine = gpu && gpu_isr(gpu, -1);
		uio_set_irq_context(0, 0);
		__atomic_add_fetch(&m->irqs, 1, __ATOMIC_RELAXED);
		if (!mine)
			__atomic_add_fetch(&m->irqs_not_ours, 1, __ATOMIC_RELAXED);
		if (!gpu) {
			/* Nobody to lower the line yet: do not spin on it. */
			usleep(1000);
		}
		unmask_intx(m);
		if (mine) {
			uio_set_irq_context(0, 1);
			gpu_dpc(gpu);
			uio_set_irq_context(0, 0);
		}
		__atomic_store_n(&m->irq_busy, 0, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

void os_irq_sync(struct os_dev *os)
{
	struct uio_machine *m = (struct uio_machine *)(void *)((char *)os - offsetof(struct uio_machine, os));

	while (__atomic_load_n(&m->irq_busy, __ATOMIC_SEQ_CST))
		sched_yield();
}

static void stop_irq(struct uio_machine *m)
{
	uint64_t one = 1;

	if (!m->irq_started)
		return;
	if (write(m->stop_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		fprintf(stderr, "uio: cannot stop the interrupt thread: %s\n", strerror(errno));
	pthread_join(m->irq_thread, NULL);
	m->irq_started = false;
}

static void release(struct uio_machine *m)
{
	uio_set_os(NULL);
	uio_bars_unmap(&m->os);
	uio_arena_destroy(&m->os);
	if (m->uio_fd >= 0)
		close(m->uio_fd);
	if (m->stop_fd >= 0)
		close(m->stop_fd);
	if (m->os.cfg_fd >= 0)
		close(m->os.cfg_fd);
	m->uio_fd = m->stop_fd = m->os.cfg_fd = -1;
	pthread_mutex_destroy(&m->os.lock);
}

int uio_machine_start(struct uio_machine *m, const struct uio_config *cfg)
{
	char cfg_path[PATH_MAX];
	int ret;

	memset(m, 0, sizeof(*m));
	m->uio_fd = m->stop_fd = m->os.cfg_fd = -1;
	m->os.arena.fd = -1;
	m->os.log_level = cfg->log_level;
	pthread_mutex_init(&m->os.lock, NULL);
	ret = find_device(cfg->bdf, m->bdf, sizeof(m->bdf));
	if (ret) {
		fprintf(stderr, "uio: no virtio-gpu (1af4:1050) found%s%s\n", cfg->bdf ? " at " : "",
			cfg->bdf ? cfg->bdf : "");
		goto fail;
	}
	snprintf(m->os.path, sizeof(m->os.path), SYS_PCI "/%s", m->bdf);
	fprintf(stderr, "uio: virtio-gpu at %s\n", m->bdf);
	ret = ensure_uio_driver(m->os.path, m->bdf);
	if (ret)
		goto fail;
	snprintf(cfg_path, sizeof(cfg_path), "%s/config", m->os.path);
	m->os.cfg_fd = open(cfg_path, O_RDWR | O_CLOEXEC);
	if (m->os.cfg_fd < 0) {
		ret = -errno;
		fprintf(stderr, "uio: %s: %s\n", cfg_path, strerror(errno));
		goto fail;
	}
	ret = enable_device(&m->os);
	if (ret) {
		fprintf(stderr, "uio: cannot enable bus mastering: %s\n", strerror(-ret));
		goto fail;
	}
	ret = uio_arena_create(&m->os, cfg->huge_pages, cfg->layout);
	if (ret)
		goto fail;
	uio_set_os(&m->os);
	ret = m->uio_fd = open_uio(m->os.path);
	if (ret < 0) {
		fprintf(stderr, "uio: no /dev/uio node for %s: %s\n", m->bdf, strerror(-ret));
		goto fail;
	}
	m->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (m->stop_fd < 0) {
		ret = -errno;
		goto fail;
	}
	unmask_intx(m);
	ret = pthread_create(&m->irq_thread, NULL, irq_thread, m);
	if (ret) {
		ret = -ret;
		goto fail;
	}
	m->irq_started = true;
	ret = gpu_init(&m->os, &cfg->params, &m->gpu);
	if (ret) {
		fprintf(stderr, "uio: the kernel driver core did not start (%d)\n", ret);
		stop_irq(m);
		goto fail;
	}
	return 0;
fail:
	release(m);
	return ret < 0 ? ret : -ENODEV;
}

void uio_machine_stop(struct uio_machine *m)
{
	/* As on Windows: interrupts are disconnected before the device state
	 * goes; gpu_fini's reset needs none. */
	stop_irq(m);
	gpu_fini(m->gpu);
	m->gpu = NULL;
	release(m);
}

int uio_machine_reset(struct uio_machine *m)
{
	return gpu_reset(m->gpu);
}

void uio_machine_counts(struct uio_machine *m, struct posix_counts *n, struct uio_sg_stats *sg)
{
	if (n)
		*n = m->os.n;
	if (sg) {
		pthread_mutex_lock(&m->os.lock);
		*sg = m->os.sg;
		pthread_mutex_unlock(&m->os.lock);
	}
}
