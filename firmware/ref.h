/* CPU reference of the integer network (docs/spec.md), the firmware's own golden model.
 *
 * Plain C, no CSR access (host-tested against sw.golden). Per layer and timestep, for every output
 * neuron: I = b + sum_k W[k] in_t[k];  H = (V + I) >> 1 (LIF) or V + I (IF);  s = H > Vth;
 * V = s ? 0 : H. The static layer 0 sees q = p >> (8 - k) and its current is computed once per
 * frame. Max-pool 2x2 = OR. The readout accumulates sum_t I_t; class = argmax, ties to the lowest.
 */
#ifndef REF_H
#define REF_H

#include <stdint.h>
#include "ffs.h"

typedef struct {
	const ffs_model_t *m;
	int8_t *w[FFS_MAX_LAYERS];       /* dense weights [co][fan_in] */
	int32_t *v[FFS_MAX_LAYERS];      /* membranes [conv_h][conv_w][co] (readout: accumulators [co]) */
	uint8_t *s[FFS_MAX_LAYERS];      /* output spikes of the current timestep [ho][wo][co] */
	uint8_t *conv;                   /* pre-pool spikes, largest layer */
	int32_t *cur0;                   /* static layer 0 current, computed once per frame */
	uint8_t *in0;                    /* layer 0 input map [h][w][c] (q or this timestep's spikes) */
	uint32_t *idx;                   /* active inputs of one window: k | value << 24 */
	int32_t *cur;                    /* currents of one position [co] */
	uint32_t used;                   /* arena bytes in use */
} ref_ctx_t;

/* Lay out the buffers in the arena; -1 with one error line if it is too small. */
int ref_prepare(ref_ctx_t *ctx, const ffs_model_t *m, void *arena, uint32_t size, char *err, unsigned errlen);

/* One frame in the accelerator's word format. Writes the readout (num_classes int32) and returns
 * the class. */
int ref_infer(ref_ctx_t *ctx, const uint8_t *frame, int32_t *readout);

#endif
