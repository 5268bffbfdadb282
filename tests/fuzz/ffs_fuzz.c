/* libFuzzer harness for the firmware's artifact decoder (firmware/ffs.c), built on the host with
 * clang -fsanitize=fuzzer,address,undefined by tests/fuzz/fuzz_build.py.
 *
 * Each input is decoded twice: as it is, and "resealed" (body_len set to the input's size - 24 and the
 * CRC recomputed), so that the mutations also reach the checks behind the CRC (records, shapes, data),
 * which an unsealed random change can never pass. For an accepted model every decoded layer is walked
 * (per-channel non-zeros, dense weights); a refusal must be one line of a documented error class
 * (docs/artifact-format.md). Anything else, and any sanitizer report, is a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ffs.h"

static const char *const CLASSES[] = {"truncated", "bad magic", "unknown format version", "inconsistent sizes",
                                      "CRC mismatch", "out-of-range value", "unsupported topology"};

static void check_error(const char *err)
{
	size_t n = strnlen(err, FFS_ERR_LEN);
	if (n == 0 || n >= FFS_ERR_LEN || memchr(err, '\n', n))
		abort();                                    /* empty, unterminated or multi-line */
	for (unsigned i = 0; i < sizeof CLASSES / sizeof CLASSES[0]; i++)
		if (strncmp(err, CLASSES[i], strlen(CLASSES[i])) == 0)
			return;
	abort();                                        /* not a documented error class */
}

static void walk(const ffs_model_t *m)
{
	volatile uint32_t sink = ffs_frame_bytes(m);
	for (unsigned i = 0; i < m->n_layers; i++) {
		const ffs_layer_t *l = &m->layer[i];
		uint64_t total = 0;
		for (uint32_t c = 0; c < l->co; c++)
			total += ffs_channel_nnz(l, c);
		if (total != l->nnz)
			abort();                                /* accepted, but nnz disagrees with the bitmaps */
		uint64_t dense = (uint64_t)l->co * l->fan_in;
		if (dense <= (64u << 20)) {
			int8_t *w = malloc(dense ? dense : 1);
			ffs_expand_weights(l, w);
			for (uint64_t k = 0; k < dense; k++)
				sink += (uint8_t)w[k];
			free(w);
		}
	}
	(void)sink;
}

static void decode(const uint8_t *buf, uint32_t len)
{
	static ffs_model_t m;
	char err[FFS_ERR_LEN];
	memset(err, 0, sizeof err);
	if (ffs_decode(buf, len, &m, err, sizeof err) == 0)
		walk(&m);
	else
		check_error(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (16u << 20))
		return 0;
	uint32_t len = (uint32_t)size;
	uint8_t *buf = malloc(size ? size : 1);         /* malloc: 4-byte aligned, as the decoder needs */
	memcpy(buf, data, size);
	decode(buf, len);
	if (len >= 24) {                                /* resealed: body_len and CRC made consistent */
		uint32_t body = len - 24;
		buf[8] = body, buf[9] = body >> 8, buf[10] = body >> 16, buf[11] = body >> 24;
		uint32_t crc = ffs_file_crc(buf, len);
		buf[FFS_CRC_AT] = crc, buf[FFS_CRC_AT + 1] = crc >> 8;
		buf[FFS_CRC_AT + 2] = crc >> 16, buf[FFS_CRC_AT + 3] = crc >> 24;
		decode(buf, len);
	}
	(void)ffs_announced_size(data, len);
	free(buf);
	return 0;
}
