/* Load image builder, word for word the layout of soc/accel/loadimage.py (see loadimg.h):
 *   MAGIC, signature, n_layers,
 *   per layer: 5 descriptor words, then per detector d < PCo:
 *     chunk records [group][chunk][mask words..., base], packed values [val_depth], params [group][bias, vth]
 *   END. */
#include <stdio.h>
#include <string.h>

#include "loadimg.h"

#define VAL_PER_WORD 8

static uint32_t cdiv(uint32_t a, uint32_t b) { return (a + b - 1) / b; }

typedef struct {
	uint32_t groups, chunks, mask_words, chunk_words, val_depth;
} geom_t;

static geom_t geometry(const ffs_layer_t *l, uint32_t pco, uint32_t pci)
{
	geom_t g;
	g.groups = cdiv(l->co, pco);
	g.chunks = cdiv(l->fan_in, pci);
	g.mask_words = cdiv(pci, 32);
	g.chunk_words = g.mask_words + 1;
	g.val_depth = cdiv(g.groups * l->fan_in, VAL_PER_WORD);
	return g;
}

void loadimg_descriptor(const ffs_layer_t *l, uint32_t d[LOADIMG_DESC_WORDS])
{
	uint32_t flags = (uint32_t)l->pool | (uint32_t)l->leak << 1 | (uint32_t)l->readout << 2;
	d[0] = (uint32_t)l->kind | flags << 8 | (uint32_t)l->kh << 16 | (uint32_t)l->kw << 24;
	d[1] = (uint32_t)l->stride | (uint32_t)l->pad << 8 | (uint32_t)l->ci << 16;
	d[2] = (uint32_t)l->h | (uint32_t)l->w << 16;
	d[3] = l->co;
	d[4] = (uint32_t)l->acc_bits | (uint32_t)l->mem_bits << 8 | (uint32_t)l->bias_bits << 16 |
	       (uint32_t)l->vth_bits << 24;
}

int loadimg_check(const ffs_model_t *m, const snn_hw_t *hw, char *err, unsigned n)
{
	static const char *const wname[4] = {"acc", "mem", "bias", "vth"};
	if (m->n_layers != hw->n_layers) {
		snprintf(err, n, "model does not fit the hardware: %u layers, hardware has %u", m->n_layers,
			 (unsigned)hw->n_layers);
		return -1;
	}
	if (m->timesteps != hw->timesteps || m->in_bits != hw->in_bits || m->in_kind != hw->in_kind) {
		snprintf(err, n, "model does not fit the hardware: T/in_bits/in_kind %u/%u/%u, hardware %u/%u/%u",
			 m->timesteps, m->in_bits, m->in_kind, (unsigned)hw->timesteps, (unsigned)hw->in_bits,
			 (unsigned)hw->in_kind);
		return -1;
	}
	for (uint32_t i = 0; i < hw->n_layers; i++) {
		uint32_t d[LOADIMG_DESC_WORDS];
		loadimg_descriptor(&m->layer[i], d);
		if (memcmp(d, hw->desc[i], 4 * sizeof(uint32_t)) != 0) {
			snprintf(err, n, "model does not fit the hardware: layer %u topology differs (shape words "
				 "%08x %08x %08x %08x, hardware %08x %08x %08x %08x)", (unsigned)i, (unsigned)d[0],
				 (unsigned)d[1], (unsigned)d[2], (unsigned)d[3], (unsigned)hw->desc[i][0],
				 (unsigned)hw->desc[i][1], (unsigned)hw->desc[i][2], (unsigned)hw->desc[i][3]);
			return -1;
		}
		for (int b = 0; b < 4; b++) {
			uint32_t mw = d[4] >> (8 * b) & 0xff, hwb = hw->desc[i][4] >> (8 * b) & 0xff;
			if (mw > hwb) {
				snprintf(err, n, "model does not fit the hardware: layer %u %s width %u bits, hardware has %u",
					 (unsigned)i, wname[b], (unsigned)mw, (unsigned)hwb);
				return -1;
			}
		}
	}
	return 0;
}

uint32_t loadimg_words(const snn_hw_t *hw)
{
	return hw->load_words;
}

/* n <= 32 bits of a channel bitmap starting at bit `start` (bits beyond fan_in read as 0). */
static uint32_t bitmap_bits(const uint32_t *bm, uint32_t fan_in, uint32_t start, uint32_t n)
{
	uint32_t v = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = start + i;
		if (k < fan_in && (bm[k / 32] >> (k % 32) & 1))
			v |= 1u << i;
	}
	return v;
}

uint32_t loadimg_build(const ffs_model_t *m, const snn_hw_t *hw, uint32_t *out, uint32_t cap, char *err, unsigned n)
{
	if (loadimg_check(m, hw, err, n))
		return 0;
	if (cap < hw->load_words) {
		snprintf(err, n, "load image needs %u words, buffer holds %u", (unsigned)hw->load_words, (unsigned)cap);
		return 0;
	}
	uint32_t w = 0;
	out[w++] = LOADIMG_MAGIC;
	out[w++] = hw->signature;
	out[w++] = hw->n_layers;
	for (uint32_t i = 0; i < hw->n_layers; i++) {
		const ffs_layer_t *l = &m->layer[i];
		uint32_t pco = hw->pco[i], pci = hw->pci[i];
		geom_t g = geometry(l, pco, pci);
		uint32_t per_det = g.groups * g.chunks * g.chunk_words + g.val_depth + 2 * g.groups;
		if (w + LOADIMG_DESC_WORDS + pco * per_det + 1 > hw->load_words) {
			snprintf(err, n, "load image of layer %u overruns the hardware's %u words", (unsigned)i,
				 (unsigned)hw->load_words);
			return 0;
		}
		loadimg_descriptor(l, out + w);
		w += LOADIMG_DESC_WORDS;
		/* value word offset of every channel's packed nibbles */
		for (uint32_t d = 0; d < pco; d++) {
			uint32_t *chunks = out + w, *vals = chunks + g.groups * g.chunks * g.chunk_words;
			uint32_t *params = vals + g.val_depth, base = 0;
			memset(vals, 0, 4 * g.val_depth);
			for (uint32_t gi = 0; gi < g.groups; gi++) {
				uint32_t c = gi * pco + d;
				uint32_t *rec = chunks + gi * g.chunks * g.chunk_words;
				const uint32_t *bm = NULL, *cv = NULL;
				if (c < l->co) {
					bm = l->bitmaps + c * l->kwords;
					cv = l->values;
					for (uint32_t cc = 0; cc < c; cc++)
						cv += cdiv(4 * ffs_channel_nnz(l, cc), 32);
					params[2 * gi] = (uint32_t)l->bias[c];
					params[2 * gi + 1] = (uint32_t)l->vth[c];
				} else {
					params[2 * gi] = params[2 * gi + 1] = 0;
				}
				uint32_t j_nz = 0;   /* index into this channel's packed values */
				for (uint32_t j = 0; j < g.chunks; j++, rec += g.chunk_words) {
					uint32_t cnt = 0;
					for (uint32_t mw = 0; mw < g.mask_words; mw++) {
						uint32_t start = j * pci + 32 * mw, nb = pci - 32 * mw < 32 ? pci - 32 * mw : 32;
						rec[mw] = bm ? bitmap_bits(bm, l->fan_in, start, nb) : 0;
						cnt += ffs_popcount(rec[mw]);
					}
					rec[g.mask_words] = base;
					for (uint32_t q = 0; q < cnt; q++, j_nz++, base++) {
						uint32_t nib = cv[j_nz / 8] >> (4 * (j_nz % 8)) & 0xf;
						vals[base / VAL_PER_WORD] |= nib << (4 * (base % VAL_PER_WORD));
					}
				}
			}
			w += per_det;
		}
	}
	out[w++] = LOADIMG_END;
	if (w != hw->load_words) {
		snprintf(err, n, "load image came to %u words, the hardware expects %u", (unsigned)w,
			 (unsigned)hw->load_words);
		return 0;
	}
	return w;
}
