/* The .ffs model artifact decoder: the C mirror of sw/artifact.py (docs/artifact-format.md).
 *
 * Plain C, no CSR access: compiled into the firmware and, for the cross-tests, with the host gcc.
 * The constants come from ffs_defs.h, generated from the Python definition (soc/firmware_build.py).
 * A blob is decoded in place (it must be 4-byte aligned); the model keeps pointers into it.
 */
#ifndef FFS_H
#define FFS_H

#include <stdint.h>
#include "ffs_defs.h"

#define FFS_CRC_AT     12      /* offset of the header's crc32 (sw/artifact.py CRC_AT; tests keep them equal) */
#define FFS_MAX_LAYERS 32      /* this decoder's limit (the format allows 255) */
#define FFS_ERR_LEN    160     /* room for any error line */

typedef struct {
	uint8_t kind;              /* FFS_KIND_CONV / FFS_KIND_FC */
	uint8_t pool, leak, readout;
	uint8_t kh, kw, stride, pad;
	uint8_t acc_bits, mem_bits, bias_bits, vth_bits;
	uint16_t ci, h, w, co;
	uint32_t data_off, data_len, nnz;
	/* derived */
	uint32_t fan_in;           /* kh * kw * ci */
	uint32_t kwords;           /* ceil(fan_in / 32): bitmap words per output channel */
	uint16_t conv_h, conv_w;   /* convolution output, before the pool */
	uint16_t ho, wo;           /* layer output, after the pool */
	const int32_t *bias;       /* [co] */
	const int32_t *vth;        /* [co] */
	const uint32_t *bitmaps;   /* [co][kwords] */
	const uint32_t *values;    /* packed nibbles, channel after channel */
} ffs_layer_t;

typedef struct {
	uint8_t timesteps, in_bits, in_kind, n_layers;
	uint32_t size;             /* header + body bytes */
	uint32_t crc;
	uint16_t notation_len;
	const char *notation;      /* not NUL-terminated */
	ffs_layer_t layer[FFS_MAX_LAYERS];
} ffs_model_t;

/* Set bits of a word (no libgcc helper needed). */
static inline uint32_t ffs_popcount(uint32_t x)
{
	x = x - ((x >> 1) & 0x55555555u);
	x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
	return (((x + (x >> 4)) & 0x0f0f0f0fu) * 0x01010101u) >> 24;
}

/* zlib-compatible CRC-32 (IEEE 802.3, init 0), and its continuation (zlib crc32(crc, p, n)). */
uint32_t ffs_crc32(const uint8_t *p, uint32_t n);
uint32_t ffs_crc32_update(uint32_t crc, const uint8_t *p, uint32_t n);

/* The file's CRC as stored at FFS_CRC_AT: every byte of the file but the crc32 field itself. */
uint32_t ffs_file_crc(const uint8_t *blob, uint32_t len);

/* Total size (header + body) announced by a header, or 0 if `avail` bytes hold no plausible header.
 * Lets a caller bound what it reads before decoding. */
uint32_t ffs_announced_size(const uint8_t *blob, uint32_t avail);

/* Decode and validate every rule of docs/artifact-format.md. Returns 0, or -1 with one error line in
 * err ("truncated: ...", "bad magic ...", "CRC mismatch: ...", ...), the same prefixes as Python. */
int ffs_decode(const uint8_t *blob, uint32_t len, ffs_model_t *m, char *err, unsigned errlen);

/* The bytes of one input frame in the accelerator's word format (docs/accel-interface.md). */
uint32_t ffs_frame_bytes(const ffs_model_t *m);

/* Non-zero weights of output channel c of a layer, and the word offset of its packed values. */
uint32_t ffs_channel_nnz(const ffs_layer_t *l, uint32_t c);

/* Dense weights of a layer, int8 [co][fan_in] in canonical kernel order, into out. */
void ffs_expand_weights(const ffs_layer_t *l, int8_t *out);

#endif
