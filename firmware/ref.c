/* CPU reference inference (see ref.h). Event-driven over the active inputs of each window: the cost
 * is positions x active inputs x output channels, which is what a plain CPU can do well. */
#include <stdio.h>
#include <string.h>

#include "ref.h"

static void *take(uint8_t *base, uint32_t size, uint32_t *used, uint32_t bytes)
{
	uint32_t at = (*used + 7u) & ~7u;
	if (at > size || bytes > size - at)
		return NULL;
	*used = at + bytes;
	return base + at;
}

int ref_prepare(ref_ctx_t *ctx, const ffs_model_t *m, void *arena, uint32_t size, char *err, unsigned errlen)
{
	uint8_t *base = (uint8_t *)arena;
	uint32_t used = 0, conv_max = 0, k_max = 0, co_max = 0;
	memset(ctx, 0, sizeof(*ctx));
	ctx->m = m;
	for (int i = 0; i < m->n_layers; i++) {
		const ffs_layer_t *L = &m->layer[i];
		uint32_t conv = (uint32_t)L->conv_h * L->conv_w * L->co;
		conv_max = conv > conv_max ? conv : conv_max;
		k_max = L->fan_in > k_max ? L->fan_in : k_max;
		co_max = L->co > co_max ? L->co : co_max;
		ctx->w[i] = take(base, size, &used, (uint32_t)L->co * L->fan_in);
		ctx->v[i] = take(base, size, &used, 4 * (L->readout ? L->co : conv));
		ctx->s[i] = take(base, size, &used, (uint32_t)L->ho * L->wo * L->co);
		if (!ctx->w[i] || !ctx->v[i] || !ctx->s[i])
			goto full;
		ffs_expand_weights(L, ctx->w[i]);
	}
	const ffs_layer_t *L0 = &m->layer[0];
	ctx->conv = take(base, size, &used, conv_max);
	ctx->cur0 = take(base, size, &used, m->in_kind == FFS_IN_STATIC ? 4 * (uint32_t)L0->conv_h * L0->conv_w * L0->co : 4);
	ctx->in0 = take(base, size, &used, (uint32_t)L0->h * L0->w * L0->ci);
	ctx->idx = take(base, size, &used, 4 * k_max);
	ctx->cur = take(base, size, &used, 4 * co_max);
	if (!ctx->conv || !ctx->cur0 || !ctx->in0 || !ctx->idx || !ctx->cur)
		goto full;
	ctx->used = used;
	return 0;
full:
	snprintf(err, errlen, "CPU reference: the model needs more than the %u-byte arena", (unsigned)size);
	return -1;
}

/* Currents of one output position: list the window's active inputs once, then one sum per channel.
 * in: [h][w][ci] values (0 = inactive); with weighted != 0 the values multiply (static layer 0). */
static void window_currents(const ffs_layer_t *L, const int8_t *w, const uint8_t *in, uint32_t *idx, int y, int x,
			    int weighted, int32_t *out)
{
	uint32_t na = 0;
	for (int kh = 0; kh < L->kh; kh++) {
		int iy = y * L->stride + kh - L->pad;
		if (iy < 0 || iy >= L->h)
			continue;
		for (int kw = 0; kw < L->kw; kw++) {
			int ix = x * L->stride + kw - L->pad;
			if (ix < 0 || ix >= L->w)
				continue;
			const uint8_t *p = in + ((uint32_t)iy * L->w + ix) * L->ci;
			uint32_t k0 = ((uint32_t)kh * L->kw + kw) * L->ci;
			for (uint32_t c = 0; c < L->ci; c++)
				if (p[c])
					idx[na++] = (k0 + c) | ((uint32_t)p[c] << 24);
		}
	}
	for (uint32_t co = 0; co < L->co; co++) {
		const int8_t *wr = w + co * L->fan_in;
		int32_t acc = L->bias[co];
		if (weighted)
			for (uint32_t j = 0; j < na; j++)
				acc += wr[idx[j] & 0xffffff] * (int32_t)(idx[j] >> 24);
		else
			for (uint32_t j = 0; j < na; j++)
				acc += wr[idx[j] & 0xffffff];
		out[co] = acc;
	}
}

/* Neuron step of the co neurons at one position: H = (V + I) >> 1 (LIF) or V + I (IF). */
static void neurons(const ffs_layer_t *L, int32_t *v, const int32_t *cur, uint8_t *spikes)
{
	for (uint32_t c = 0; c < L->co; c++) {
		int32_t h = v[c] + cur[c];
		if (L->leak)
			h >>= 1;            /* arithmetic shift: floor */
		int s = h > L->vth[c];
		spikes[c] = (uint8_t)s;
		v[c] = s ? 0 : h;
	}
}

/* OR max-pool 2x2 (or a copy) of one timestep's conv spikes into the layer output. */
static void pool(const ffs_layer_t *L, const uint8_t *conv, uint8_t *out)
{
	uint32_t co = L->co;
	if (!L->pool) {
		memcpy(out, conv, (uint32_t)L->conv_h * L->conv_w * co);
		return;
	}
	for (uint32_t y = 0; y < L->ho; y++)
		for (uint32_t x = 0; x < L->wo; x++)
			for (uint32_t c = 0; c < co; c++) {
				const uint8_t *a = conv + ((2 * y) * L->conv_w + 2 * x) * co + c;
				const uint8_t *b = a + (uint32_t)L->conv_w * co;
				out[(y * L->wo + x) * co + c] = a[0] | a[co] | b[0] | b[co];
			}
}

int ref_infer(ref_ctx_t *ctx, const uint8_t *frame, int32_t *readout)
{
	const ffs_model_t *m = ctx->m;
	const ffs_layer_t *L0 = &m->layer[0];
	uint32_t npix = (uint32_t)L0->h * L0->w * L0->ci;
	int static0 = m->in_kind == FFS_IN_STATIC;
	for (int i = 0; i < m->n_layers; i++) {
		const ffs_layer_t *L = &m->layer[i];
		memset(ctx->v[i], 0, 4 * (L->readout ? L->co : (uint32_t)L->conv_h * L->conv_w * L->co));
	}
	if (static0) {          /* q = p >> (8 - k); the layer-0 current is the same at every timestep */
		for (uint32_t j = 0; j < npix; j++)
			ctx->in0[j] = frame[j] >> (8 - m->in_bits);
		for (int y = 0; y < L0->conv_h; y++)
			for (int x = 0; x < L0->conv_w; x++)
				window_currents(L0, ctx->w[0], ctx->in0, ctx->idx, y, x, 1,
						ctx->cur0 + ((uint32_t)y * L0->conv_w + x) * L0->co);
	}
	for (int t = 0; t < m->timesteps; t++) {
		if (!static0)
			for (uint32_t j = 0; j < npix; j++) {
				/* (h, w, t, c) bit order, docs/accel-interface.md */
				uint32_t bit = ((j / L0->ci) * m->timesteps + (uint32_t)t) * L0->ci + j % L0->ci;
				ctx->in0[j] = frame[bit / 8] >> (bit % 8) & 1;
			}
		const uint8_t *in = ctx->in0;
		for (int i = 0; i < m->n_layers; i++) {
			const ffs_layer_t *L = &m->layer[i];
			uint32_t co = L->co;
			if (L->readout) {
				window_currents(L, ctx->w[i], in, ctx->idx, 0, 0, 0, ctx->cur);
				for (uint32_t c = 0; c < co; c++)
					ctx->v[i][c] += ctx->cur[c];
				break;
			}
			for (int y = 0; y < L->conv_h; y++)
				for (int x = 0; x < L->conv_w; x++) {
					uint32_t p = ((uint32_t)y * L->conv_w + x) * co;
					const int32_t *cur = ctx->cur;
					if (i == 0 && static0)
						cur = ctx->cur0 + p;
					else
						window_currents(L, ctx->w[i], in, ctx->idx, y, x, 0, ctx->cur);
					neurons(L, ctx->v[i] + p, cur, ctx->conv + p);
				}
			pool(L, ctx->conv, ctx->s[i]);
			in = ctx->s[i];
		}
	}
	const ffs_layer_t *R = &m->layer[m->n_layers - 1];
	int best = 0;
	for (uint32_t c = 0; c < R->co; c++) {
		readout[c] = ctx->v[m->n_layers - 1][c];
		if (readout[c] > readout[best])
			best = (int)c;
	}
	return best;
}
