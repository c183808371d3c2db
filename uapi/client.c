/* SPDX-License-Identifier: MIT */
/* A socket client handle: the round trip and the mappings (client.h). */
#include "client.h"

#include <stdbool.h>
#include <stdlib.h>

#define MAX_PATH 1024u

void wire_client_init(struct wire_client *c, const struct wire_io *io, const struct wire_client_ops *ops,
		      void *ctx, uint32_t slack_ms, uint32_t path_cap)
{
	struct wire_io bound = *io;

	bound.ctx = ctx;
	wire_conn_init(&c->conn, &bound, slack_ms);
	c->ops = ops;
	c->ctx = ctx;
	c->path_cap = path_cap < MAX_PATH ? path_cap : MAX_PATH;
	c->maps = NULL;
	c->nmaps = 0;
}

static struct wire_client_map *find_map(struct wire_client *c, uint32_t handle)
{
	for (uint32_t i = 0; i < c->nmaps; i++)
		if (c->maps[i].handle == handle)
			return &c->maps[i];
	return NULL;
}

static void drop_map(struct wire_client *c, uint32_t handle)
{
	struct wire_client_map *m = find_map(c, handle);

	if (m) {
		c->ops->unmap(c->ctx, m->addr, m->size, m->priv);
		*m = c->maps[--c->nmaps];
	}
}

static int roundtrip(struct wire_client *c, uint32_t op, void *arg)
{
	bool was_dead = c->conn.dead;
	int ret = wire_roundtrip(&c->conn, op, arg);

	if (c->conn.dead && !was_dead)
		c->ops->dropped(c->ctx, op);
	return ret;
}

/* The MAP reply in c->conn.out, into this process. */
static int map_reply(struct wire_client *c, struct virgo_map *a)
{
	struct wire_map_reply r;
	struct wire_client_map rec = { .handle = a->bo_handle }, *grown;
	char path[MAX_PATH];
	int ret = wire_map_parse(c->conn.out, c->conn.out_len, &r, path, c->path_cap);

	if (ret)
		return ret;
	if (r.total > SIZE_MAX)
		return -VIRGO_EPROTO;
	ret = c->ops->map(c->ctx, a->bo_handle, &r, path, &rec.addr, &rec.priv);
	if (ret)
		return ret;
	rec.size = r.total;
	grown = realloc(c->maps, sizeof(*grown) * (c->nmaps + 1));
	if (!grown) {
		c->ops->unmap(c->ctx, rec.addr, rec.size, rec.priv);
		return -VIRGO_ENOMEM;
	}
	c->maps = grown;
	c->maps[c->nmaps++] = rec;
	a->addr = rec.addr;
	a->size = rec.size;
	return 0;
}

int wire_client_ioctl(struct wire_client *c, uint32_t op, void *arg)
{
	int ret;

	if (op == VIRGO_OP_MAP) {
		struct virgo_map *a = arg;
		struct wire_client_map *m = find_map(c, a->bo_handle);

		if (m) {
			a->addr = m->addr;
			a->size = m->size;
			return 0;
		}
	}
	ret = roundtrip(c, op, arg);
	if (!ret && op == VIRGO_OP_MAP) {
		ret = map_reply(c, arg);
		if (ret) {
			struct virgo_unmap u = { .bo_handle = ((struct virgo_map *)arg)->bo_handle };

			roundtrip(c, VIRGO_OP_UNMAP, &u);
		}
	}
	if (!ret && op == VIRGO_OP_UNMAP)
		drop_map(c, ((struct virgo_unmap *)arg)->bo_handle);
	if (!ret && op == VIRGO_OP_RESOURCE_CLOSE)
		drop_map(c, ((struct virgo_resource_close *)arg)->bo_handle);
	return ret;
}

void wire_client_close(struct wire_client *c)
{
	while (c->nmaps)
		drop_map(c, c->maps[0].handle);
	free(c->maps);
	c->maps = NULL;
}
