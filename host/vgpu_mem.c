/* SPDX-License-Identifier: MIT */
/* The device's host-memory budget. A guest names a resource's size in
 * its create command, and virglrenderer allocates that storage on the host
 * at once (llvmpipe: one malloc of the whole buffer), so without a bound
 * one command can make the host allocate 4 GiB (found by fuzz_device).
 * Every resource the guest makes is charged with an estimate of its
 * storage before virglrenderer sees it, and refused with
 * ERR_OUT_OF_MEMORY once the budget would be passed; QEMU bounds its 2D
 * resources the same way (max_hostmem), not its virgl ones.
 *
 * Resources come from two places: RESOURCE_CREATE_2D/3D, and the
 * PIPE_RESOURCE_CREATE commands of a SUBMIT_3D, whose host object waits in
 * its context until a HOST3D blob names its blob id. The latter are
 * charged to the context while they wait, and move to the blob resource
 * that takes them. */
#include <stdlib.h>

#include "vgpu_priv.h"

/* The virgl protocol's command header and PIPE_RESOURCE_CREATE layout
 * (virgl_protocol.h): dword 0 is cmd | object << 8 | length << 16, and the
 * 11 dwords after it are target, format, bind, width, height, depth,
 * array size, last level, samples, flags and the blob id. */
#define CCMD_PIPE_RESOURCE_CREATE 48u
#define PRC_LEN 11u

/* Bytes per texel: exact for the formats GL programs use (3-channel ones
 * rounded up), 16 for any other (the widest non-64-bit texel), 32 for the
 * R64 ones, and 1 for the block-compressed ranges (no block stores more
 * than a byte per texel). Numbers are VIRGL_FORMAT_* (virgl_hw.h). The
 * budget is an estimate of what the host allocates, not an exact count:
 * drivers pad (llvmpipe to whole tiles). */
static uint32_t texel_bytes(uint32_t f)
{
	switch (f) {
	case 9: case 10: case 11: case 23: case 64: case 69: case 74: case 82: case 95: case 127:
	case 130: case 139: case 147: case 148: case 150: case 168: case 169: case 177: case 181:
	case 201: case 202: case 203: case 205: case 206: case 207: case 312: case 318:
		return 1;
	case 5: case 6: case 7: case 12: case 13: case 16: case 48: case 52: case 56: case 60: case 65:
	case 70: case 75: case 83: case 91: case 96: case 122: case 135: case 141: case 142: case 149:
	case 151: case 152: case 154: case 155: case 156: case 158: case 170: case 171: case 178:
	case 182: case 185: case 189: case 204: case 208: case 209: case 210: case 211: case 213:
	case 214: case 215: case 242: case 247: case 248: case 254: case 311: case 313: case 319:
	case 320: case 321:
		return 2;
	case 50: case 54: case 58: case 62: case 66: case 71: case 76: case 84: case 93: case 97:
	case 179: case 183: case 187: case 191:
		return 6; /* 3-channel 16-bit (and 8-bit ones, rounded up) */
	case 1: case 2: case 3: case 4: case 8: case 17: case 18: case 19: case 20: case 21: case 22:
	case 28: case 32: case 36: case 40: case 44: case 49: case 53: case 57: case 61: case 67:
	case 68: case 72: case 77: case 85: case 87: case 92: case 98: case 99: case 100: case 101:
	case 102: case 103: case 104: case 121: case 123: case 124: case 125: case 128: case 129:
	case 131: case 134: case 136: case 137: case 140: case 153: case 157: case 159: case 160:
	case 162: case 172: case 173: case 174: case 175: case 176: case 180: case 184: case 186:
	case 190: case 193: case 197: case 212: case 216: case 217: case 218: case 219: case 221:
	case 222: case 223: case 225: case 229: case 230: case 231: case 232: case 233: case 243:
	case 244: case 245: case 249: case 250: case 253: case 308:
		return 4;
	case 24: case 51: case 55: case 59: case 63: case 126: case 138: case 94: case 161: case 188:
	case 192: case 194: case 198: case 220: case 224: case 29: case 33: case 37: case 41: case 45:
	case 88: case 234: case 235: case 236: case 237: case 238: case 246: case 251: case 252:
		return 8;
	case 25: case 26: case 27:
		return 32;
	default:
		break;
	}
	if ((f >= 105 && f <= 116) || (f >= 143 && f <= 146) || f == 226 || (f >= 255 && f <= 258) ||
	    (f >= 269 && f <= 306))
		return 1;
	return 16;
}

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t at_least_1(uint32_t v)
{
	return v ? v : 1;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static uint64_t storage(uint32_t target, uint32_t format, uint32_t width, uint32_t height, uint32_t depth,
			uint32_t array_size, uint32_t last_level, uint32_t nr_samples)
{
	uint64_t n;

	/* PIPE_BUFFER: width is the size in bytes. */
	if (target == 0)
		return mul_sat(at_least_1(width), mul_sat(at_least_1(height), at_least_1(depth)));
	n = mul_sat(at_least_1(width), at_least_1(height));
	n = mul_sat(n, at_least_1(depth));
	n = mul_sat(n, at_least_1(array_size));
	n = mul_sat(n, at_least_1(nr_samples));
	n = mul_sat(n, texel_bytes(format));
	/* A full mip chain adds at most as much again (1D: 1/2 + 1/4 + ...). */
	return last_level ? mul_sat(n, 2) : n;
}

/* Plus what every resource costs besides its storage (the device's and
 * virglrenderer's records, the GL object), so that a budget of bytes also
 * bounds how many one-byte resources a guest can pile up. */
uint64_t vgpu_mem_estimate(uint32_t target, uint32_t format, uint32_t width, uint32_t height, uint32_t depth,
			   uint32_t array_size, uint32_t last_level, uint32_t nr_samples)
{
	return add_sat(storage(target, format, width, height, depth, array_size, last_level, nr_samples),
		       VGPU_RES_OVERHEAD);
}

uint32_t vgpu_mem_charge(struct vgpu *g, uint64_t bytes)
{
	if (bytes > g->cfg.max_hostmem || g->st.hostmem > g->cfg.max_hostmem - bytes) {
		g->st.hostmem_refused++;
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	g->st.hostmem += bytes;
	return 0;
}

void vgpu_mem_release(struct vgpu *g, uint64_t bytes)
{
	g->st.hostmem -= bytes;
}

static void free_list(struct vpend *w)
{
	while (w) {
		struct vpend *next = w->next;

		free(w);
		w = next;
	}
}

/* The PIPE_RESOURCE_CREATE commands of a stream, walked once as
 * virglrenderer's decoder walks it (a header, then its length in dwords);
 * what it would reject as truncated is left to it. The stream is charged
 * as a whole, so a refused one creates none of them. */
uint32_t vgpu_mem_charge_stream(struct vgpu *g, struct vctx *x, const uint32_t *s, uint32_t ndw)
{
	struct vpend *list = NULL, *last = NULL;
	uint64_t total = 0;
	uint32_t ret;

	for (uint32_t i = 0; i < ndw;) {
		uint32_t len = s[i] >> 16;

		if ((s[i] & 0xff) == CCMD_PIPE_RESOURCE_CREATE && len == PRC_LEN && ndw - i > PRC_LEN) {
			const uint32_t *p = s + i;
			struct vpend *w = malloc(sizeof(*w));

			if (!w) {
				free_list(list);
				return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
			}
			w->bytes = vgpu_mem_estimate(p[1], p[2], p[4], p[5], p[6], p[7], p[8], p[9]);
			w->blob_id = p[11];
			w->next = list;
			list = w;
			if (!last)
				last = w;
			total = add_sat(total, w->bytes);
		}
		if (ndw - i <= len)
			break;
		i += len + 1;
	}
	if (!list)
		return 0;
	ret = vgpu_mem_charge(g, total);
	if (ret) {
		free_list(list);
		return ret;
	}
	last->next = x->pending;
	x->pending = list;
	return 0;
}

uint64_t vgpu_mem_take_pending(struct vctx *x, uint64_t blob_id)
{
	for (struct vpend **pp = &x->pending; *pp; pp = &(*pp)->next) {
		struct vpend *w = *pp;
		uint64_t bytes;

		if (w->blob_id != blob_id)
			continue;
		*pp = w->next;
		bytes = w->bytes;
		free(w);
		return bytes;
	}
	return 0;
}

void vgpu_mem_drop_pending(struct vgpu *g, struct vctx *x)
{
	while (x->pending) {
		struct vpend *w = x->pending;

		x->pending = w->next;
		vgpu_mem_release(g, w->bytes);
		free(w);
	}
}
