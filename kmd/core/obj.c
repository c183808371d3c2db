/* SPDX-License-Identifier: MIT */
#include "obj.h"

#include "capset.h"
#include "cmd.h"
#include "map.h"

static void list_add(struct obj_res **head, struct obj_res *r)
{
	r->prev = NULL;
	r->next = *head;
	if (*head)
		(*head)->prev = r;
	*head = r;
}

static void list_del(struct obj_res **head, struct obj_res *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		*head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

/* dev->lock held. Ids are device-wide and never reused while live; after
 * 2^32 allocations the scan for a free one starts. */
static int alloc_res_id(struct gpu_dev *dev, uint32_t *out)
{
	for (uint32_t tries = 0; tries < 1u << 16; tries++) {
		uint32_t id = dev->next_res_id++;
		bool used = false;

		if (dev->next_res_id == 0) {
			dev->next_res_id = 1;
			dev->res_id_wrapped = true;
		}
		if (id == 0)
			continue;
		if (dev->res_id_wrapped)
			for (struct obj_res *r = dev->resources; r && !used; r = r->next)
				used = r->id == id;
		if (!used) {
			*out = id;
			return 0;
		}
	}
	return -VIRGO_ENOSPC;
}

/* ---- what each process takes ---------------------------------------------- */

/* dev->lock held. Charges bytes to the owner with this key (a new record
 * for a new one), or refuses: any process may open the device, and backing
 * pages are guest memory, which one process must not take all of. */
static int owner_charge(struct gpu_dev *dev, uint64_t key, uint64_t bytes, struct obj_owner *spare,
			struct obj_owner **out)
{
	struct obj_owner *o = dev->owners;

	while (o && o->key != key)
		o = o->next;
	if (o && (bytes > dev->params.max_owner_bytes || o->bytes > dev->params.max_owner_bytes - bytes)) {
		if (!o->warned)
			os_log(dev->os, OS_LOG_WARN,
			       "a process reached its limit of %llu MiB of guest memory for resources (%u resources)",
			       (unsigned long long)(dev->params.max_owner_bytes >> 20), o->resources);
		o->warned = true;
		return -VIRGO_EDQUOT;
	}
	if (!o) {
		if (bytes > dev->params.max_owner_bytes)
			return -VIRGO_EDQUOT;
		o = spare;
		*o = (struct obj_owner){ .key = key, .next = dev->owners };
		dev->owners = o;
	}
	o->bytes += bytes;
	o->resources++;
	*out = o;
	return 0;
}

/* dev->lock held. Returns the record when its owner has nothing left. */
static struct obj_owner *owner_release(struct gpu_dev *dev, struct obj_owner *o, uint64_t bytes)
{
	o->bytes -= bytes;
	o->resources--;
	if (o->resources)
		return NULL;
	for (struct obj_owner **pp = &dev->owners; *pp; pp = &(*pp)->next) {
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	}
	return o;
}

/* ---- resources ------------------------------------------------------------------ */

int obj_res_new(struct gpu_dev *dev, struct os_caller *caller, uint64_t backing, struct obj_res **out)
{
	struct obj_res *res = os_alloc(dev->os, sizeof(*res), OS_MEM_PAGED);
	/* Allocated before the lock, kept only for a new owner. */
	struct obj_owner *spare = os_alloc(dev->os, sizeof(*spare), OS_MEM_PAGED);
	bool pages = false;
	int ret;

	if (!res || !spare) {
		os_free(dev->os, res);
		os_free(dev->os, spare);
		return -VIRGO_ENOMEM;
	}
	res->refs = 1;
	res->size = (backing + OS_PAGE_SIZE - 1) & ~(uint64_t)(OS_PAGE_SIZE - 1);
	res->charge = res->size + OS_PAGE_SIZE;
	os_mutex_lock(dev->lock);
	ret = owner_charge(dev, os_caller_owner(caller), res->charge, spare, &res->owner);
	os_mutex_unlock(dev->lock);
	if (res->owner != spare)
		os_free(dev->os, spare);
	if (ret) {
		os_free(dev->os, res);
		return ret;
	}
	if (res->size) {
		ret = os_pages_alloc(dev->os, res->size, &res->pages);
		pages = !ret;
	}
	os_mutex_lock(dev->lock);
	if (!ret)
		ret = alloc_res_id(dev, &res->id);
	if (!ret) {
		res->generation = dev->generation;
		list_add(&dev->resources, res);
		dev->nresources++;
	} else {
		spare = owner_release(dev, res->owner, res->charge);
	}
	os_mutex_unlock(dev->lock);
	if (ret) {
		if (pages)
			os_pages_free(dev->os, &res->pages);
		os_free(dev->os, spare);
		os_free(dev->os, res);
		return ret;
	}
	*out = res;
	return 0;
}

static void res_free(struct gpu_dev *dev, struct obj_res *res)
{
	struct obj_owner *gone;

	os_mutex_lock(dev->lock);
	gone = owner_release(dev, res->owner, res->charge);
	os_mutex_unlock(dev->lock);
	os_free(dev->os, gone);
	if (res->size)
		os_pages_free(dev->os, &res->pages);
	os_free(dev->os, res);
}

void obj_res_put(struct gpu_dev *dev, struct obj_res *res)
{
	bool last, known;
	int ret = 0;

	os_mutex_lock(dev->lock);
	last = --res->refs == 0;
	known = res->generation == dev->generation;
	if (last) {
		list_del(&dev->resources, res);
		dev->nresources--;
	}
	os_mutex_unlock(dev->lock);
	if (!last)
		return;
	if (known && !dev->lost) {
		/* The queue is in order: work already submitted that names this
		 * resource is processed before the UNREF. */
		if (res->ctx_id)
			cmd_ctx_detach(dev, res->ctx_id, res->id);
		ret = cmd_resource_unref(dev, res->id);
		if (ret && ret != -VIRGO_EDEVLOST) {
			/* The device kept the resource: at least take the pages
			 * back from it before they are reused. */
			os_log(dev->os, OS_LOG_WARN, "resource %u: unref refused (%d)", res->id, ret);
			if (res->size && !res->blob_mem)
				ret = cmd_detach_backing(dev, res->id);
			else if (res->size)
				ret = -VIRGO_EIO; /* a blob's pages cannot be detached */
			else
				ret = 0;
		}
	}
	if (known && (dev->lost || ret)) {
		/* A device that stopped answering, or would not let go, may
		 * still use the pages: they wait for the reset. */
		os_mutex_lock(dev->lock);
		list_add(&dev->zombies, res);
		os_mutex_unlock(dev->lock);
		return;
	}
	res_free(dev, res);
}

void obj_free_zombies(struct gpu_dev *dev)
{
	struct obj_res *list;

	os_mutex_lock(dev->lock);
	list = dev->zombies;
	dev->zombies = NULL;
	os_mutex_unlock(dev->lock);
	while (list) {
		struct obj_res *next = list->next;

		res_free(dev, list);
		list = next;
	}
}

void obj_res_forget_if_refused(struct gpu_dev *dev, struct obj_res *res, int err)
{
	if (err != -VIRGO_EDEVLOST)
		res->generation = ~dev->generation;
}

bool obj_res_busy(struct gpu_dev *dev, struct obj_res *res)
{
	uint64_t f = os_atomic_load64(&res->last_fence);

	return f && !gpu_fence_signalled(dev, f);
}

/* ---- handles ------------------------------------------------------------- */

int obj_ensure_ctx(struct core_file *f)
{
	struct gpu_dev *dev = f->dev;
	uint32_t context_init = 0;
	int ret;

	if (f->ctx_created)
		return 0;
	if (!dev->has_virgl)
		return -VIRGO_ENODEV;
	if (dev->has_context_init) {
		/* Without CONTEXT_INIT the device picks virgl; with it, say so. */
		if (!f->capset_id)
			f->capset_id = gpu_find_capset(dev, VIRTIO_GPU_CAPSET_VIRGL2) ? VIRTIO_GPU_CAPSET_VIRGL2
										   : VIRTIO_GPU_CAPSET_VIRGL;
		context_init = f->capset_id & VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK;
	}
	ret = cmd_ctx_create(dev, f->ctx_id, context_init, f->name[0] ? f->name : "virgo");
	if (ret)
		return ret;
	f->ctx_created = true;
	return 0;
}

int obj_handle_add(struct core_file *f, struct obj_res *res, uint32_t *handle)
{
	uint32_t i;

	if (f->nused == f->nslots) {
		uint32_t n = f->nslots ? f->nslots * 2 : 64;
		struct file_handle *h;

		if (n > OBJ_MAX_HANDLES)
			return -VIRGO_ENOSPC;
		h = os_alloc(f->dev->os, sizeof(*h) * n, OS_MEM_PAGED);
		if (!h)
			return -VIRGO_ENOMEM;
		for (i = 0; i < f->nslots; i++)
			h[i] = f->handles[i];
		if (f->handles)
			os_free(f->dev->os, f->handles);
		f->handles = h;
		f->hint = f->nslots;
		f->nslots = n;
	}
	for (i = 0; i < f->nslots; i++) {
		uint32_t s = (f->hint + i) % f->nslots;

		if (!f->handles[s].res) {
			f->handles[s] = (struct file_handle){ .res = res };
			f->nused++;
			f->hint = s + 1;
			*handle = s + 1;
			return 0;
		}
	}
	return -VIRGO_ENOSPC; /* unreachable: nused < nslots */
}

struct file_handle *obj_handle_get(struct core_file *f, uint32_t handle)
{
	if (handle == 0 || handle > f->nslots || !f->handles[handle - 1].res)
		return NULL;
	return &f->handles[handle - 1];
}

void obj_handle_close(struct core_file *f, struct os_caller *caller, uint32_t handle)
{
	struct file_handle *h = obj_handle_get(f, handle);
	struct obj_res *res;

	if (!h)
		return;
	res = h->res;
	map_undo(f, caller, h);
	*h = (struct file_handle){ 0 };
	f->nused--;
	obj_res_put(f->dev, res);
}

/* ---- open / cleanup / close ------------------------------------------------- */

int core_open(struct gpu_dev *dev, struct core_file **out)
{
	struct core_file *f;

	os_might_sleep(dev->os);
	f = os_alloc(dev->os, sizeof(*f), OS_MEM_PAGED);
	if (!f)
		return -VIRGO_ENOMEM;
	f->dev = dev;
	f->lock = os_mutex_create(dev->os);
	if (!f->lock) {
		os_free(dev->os, f);
		return -VIRGO_ENOMEM;
	}
	os_mutex_lock(dev->lock);
	/* Context ids: like resource ids, never two live at once. */
	for (uint32_t tries = 0; tries < 1u << 16 && !f->ctx_id; tries++) {
		uint32_t id = dev->next_ctx_id++;
		bool used = false;

		if (dev->next_ctx_id == 0) {
			dev->next_ctx_id = 1;
			dev->ctx_id_wrapped = true;
		}
		if (id == 0)
			continue;
		if (dev->ctx_id_wrapped)
			for (struct core_file *o = dev->files; o && !used; o = o->next)
				used = o->ctx_id == id;
		if (!used)
			f->ctx_id = id;
	}
	f->generation = dev->generation;
	if (f->ctx_id) {
		f->next = dev->files;
		if (dev->files)
			dev->files->prev = f;
		dev->files = f;
		dev->nfiles++;
	}
	os_mutex_unlock(dev->lock);
	if (!f->ctx_id) {
		os_mutex_destroy(f->lock);
		os_free(dev->os, f);
		return -VIRGO_ENOSPC;
	}
	*out = f;
	return 0;
}

void core_cleanup(struct core_file *f, struct os_caller *caller)
{
	os_mutex_lock(f->lock);
	/* A MAP racing the last CloseHandle would map after this, with nobody
	 * left to undo it in the owning process (CLOSE may run anywhere). */
	f->cleaned = true;
	for (uint32_t i = 0; i < f->nslots; i++)
		map_undo(f, caller, &f->handles[i]);
	os_mutex_unlock(f->lock);
}

void core_close(struct core_file *f)
{
	struct gpu_dev *dev = f->dev;
	bool known;

	os_might_sleep(dev->os);
	gpu_reap(dev);
	/* Mappings belong to the owning process and went at cleanup; one left
	 * here is an OS-layer bug, and the OS layer undoes it without a
	 * process. */
	for (uint32_t i = 0; i < f->nslots; i++)
		if (f->handles[i].res)
			obj_handle_close(f, NULL, i + 1);
	os_mutex_lock(dev->lock);
	known = f->generation == dev->generation;
	if (f->prev)
		f->prev->next = f->next;
	else
		dev->files = f->next;
	if (f->next)
		f->next->prev = f->prev;
	dev->nfiles--;
	os_mutex_unlock(dev->lock);
	if (f->ctx_created && known && !dev->lost)
		cmd_ctx_destroy(dev, f->ctx_id);
	if (f->handles)
		os_free(dev->os, f->handles);
	os_mutex_destroy(f->lock);
	os_free(dev->os, f);
	gpu_reap(dev);
}
