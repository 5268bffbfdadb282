/* Host harness for the firmware's plain-C parts (ffs.c, ffs_shape.c, ref.c, console.c, loadimg.c), driven by pytest.
 *
 *   ffs_host decode MODEL.ffs              -> "ok" + one "key value..." line per field, or "error: ..."
 *   ffs_host infer MODEL.ffs FRAMES.bin N  -> per frame: "class c readout r0 r1 ..."
 *   ffs_host parse TEXT                    -> console_parse_u32 of TEXT: "value V" or "invalid"
 *   ffs_host dispatch LINE                 -> what the console would do with LINE (test command table)
 *   ffs_host console                       -> the firmware's line editor (console_feed) on stdin, test
 *                                             command table, output through a stdout that keeps the
 *                                             reply CRC as firmware/uart.c does
 *   ffs_host serve                         -> reads blobs from stdin (u32 LE length, then the bytes) until
 *                                             EOF; per blob one line: "ok DIGEST" or "error: ..."
 *   ffs_host flips MODEL.ffs D1 D2 ...     -> every byte position p XOR every delta D: "p D ok DIGEST" or
 *                                             "p D error: ..."
 *     DIGEST: CRC-32 of the decoded meaning (see digest()), which tests recompute from sw.artifact.Model
 *   ffs_host loadimg MODEL.ffs HW.txt OUT  -> the load image as raw little-endian words, or "error: ..."
 *     HW.txt: "signature n_layers T in_bits in_kind load_words", then per layer "d0 d1 d2 d3 d4 pco pci"
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "loadimg.h"
#include "ffs.h"
#include "ref.h"

static uint8_t *slurp(const char *path, uint32_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("error: cannot open %s\n", path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *p = malloc((size_t)n + 8);
	if (n && fread(p, 1, (size_t)n, f) != (size_t)n)
		exit(2);
	fclose(f);
	*len = (uint32_t)n;
	return p;
}

/* CRC-32 of the decoded model as little-endian i32 values: T, in_bits, in_kind, n_layers, the notation
 * length, the notation bytes, then per layer kind pool leak readout kh kw stride pad ci h w co acc mem bias
 * vth widths, nnz, the dense weights [co][fan_in], bias [co], vth [co]. */
static uint32_t crc_i32(uint32_t crc, int32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	return ffs_crc32_update(crc, b, 4);
}

static uint32_t digest(const ffs_model_t *m)
{
	uint32_t crc = 0;
	const int32_t head[] = {m->timesteps, m->in_bits, m->in_kind, m->n_layers, m->notation_len};
	for (unsigned i = 0; i < 5; i++)
		crc = crc_i32(crc, head[i]);
	crc = ffs_crc32_update(crc, (const uint8_t *)m->notation, m->notation_len);
	for (int i = 0; i < m->n_layers; i++) {
		const ffs_layer_t *L = &m->layer[i];
		const int32_t f[] = {L->kind, L->pool, L->leak, L->readout, L->kh, L->kw, L->stride, L->pad, L->ci, L->h,
				     L->w, L->co, L->acc_bits, L->mem_bits, L->bias_bits, L->vth_bits, (int32_t)L->nnz};
		for (unsigned j = 0; j < sizeof(f) / sizeof(f[0]); j++)
			crc = crc_i32(crc, f[j]);
		uint32_t nw = (uint32_t)L->co * L->fan_in;
		int8_t *w = malloc(nw + 1);
		ffs_expand_weights(L, w);
		for (uint32_t j = 0; j < nw; j++)
			crc = crc_i32(crc, w[j]);
		free(w);
		for (uint32_t c = 0; c < L->co; c++)
			crc = crc_i32(crc, L->bias[c]);
		for (uint32_t c = 0; c < L->co; c++)
			crc = crc_i32(crc, L->vth[c]);
	}
	return crc;
}

/* Decode a copy in a buffer of exactly len bytes (4-byte aligned by malloc), so that ASan sees any read
 * past the end; print one verdict line. */
static void verdict(const uint8_t *blob, uint32_t len, const char *prefix)
{
	static ffs_model_t m;
	char err[FFS_ERR_LEN];
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, blob, len);
	if (ffs_decode(copy, len, &m, err, sizeof(err)))
		printf("%serror: %s\n", prefix, err);
	else
		printf("%sok %08x\n", prefix, (unsigned)digest(&m));
	free(copy);
}

static int cmd_echo(int argc, char **argv)
{
	printf("ran %s argc %d\n", argv[0], argc);
	return 0;
}

static int cmd_fail(int argc, char **argv)
{
	printf("error: %s failed (argc %d)\n", argv[0], argc);
	return -1;
}

/* The firmware's UART as seen by the console: every character counted into the reply CRC, '\n' followed
 * by '\r' (LiteX's stdio). */
static ssize_t uart_like_write(void *cookie, const char *buf, size_t n)
{
	(void)cookie;
	for (size_t i = 0; i < n; i++) {
		console_tx_account(buf[i]);
		if (write(1, &buf[i], 1) != 1 || (buf[i] == '\n' && (console_tx_account('\r'), write(1, "\r", 1)) != 1))
			return -1;
	}
	return (ssize_t)n;
}

static const console_cmd_t table[] = {
	{"zero", "", "takes no arguments", 0, 0, cmd_echo},
	{"two", "<a> <b>", "takes two", 2, 2, cmd_echo},
	{"opt", "<a> [b]", "takes one or two", 1, 2, cmd_echo},
	{"fail", "", "always fails", 0, 0, cmd_fail},
};

int main(int argc, char **argv)
{
	static ffs_model_t m;
	char err[FFS_ERR_LEN];
	if (argc == 3 && !strcmp(argv[1], "decode")) {
		uint32_t len;
		uint8_t *blob = slurp(argv[2], &len);
		if (ffs_decode(blob, len, &m, err, sizeof(err))) {
			printf("error: %s\n", err);
			return 1;
		}
		printf("ok\nheader %u %u %u %u %u\n", m.timesteps, m.in_bits, m.in_kind, m.n_layers, (unsigned)m.size);
		printf("notation %.*s\n", m.notation_len, m.notation);
		printf("frame_bytes %u\n", (unsigned)ffs_frame_bytes(&m));
		for (int i = 0; i < m.n_layers; i++) {
			const ffs_layer_t *L = &m.layer[i];
			printf("layer %d %u %u %u %u %u %u %u %u %u %u %u %u %u %u %u %u %u %u %u %u\n", i, L->kind, L->pool,
			       L->leak, L->readout, L->kh, L->kw, L->stride, L->pad, L->ci, L->h, L->w, L->co, L->acc_bits,
			       L->mem_bits, L->bias_bits, L->vth_bits, (unsigned)L->nnz, L->ho, L->wo, (unsigned)L->fan_in);
			int8_t *w = malloc((size_t)L->co * L->fan_in);
			ffs_expand_weights(L, w);
			printf("weights %d", i);
			for (uint32_t j = 0; j < (uint32_t)L->co * L->fan_in; j++)
				printf(" %d", w[j]);
			printf("\nbias %d", i);
			for (uint32_t c = 0; c < L->co; c++)
				printf(" %d", (int)L->bias[c]);
			printf("\nvth %d", i);
			for (uint32_t c = 0; c < L->co; c++)
				printf(" %d", (int)L->vth[c]);
			printf("\n");
			free(w);
		}
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "serve")) {
		uint8_t hdr[4];
		while (fread(hdr, 1, 4, stdin) == 4) {
			uint32_t len = hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
			uint8_t *blob = malloc(len ? len : 1);
			if (len && fread(blob, 1, len, stdin) != len)
				return 2;
			verdict(blob, len, "");
			fflush(stdout);
			free(blob);
		}
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "flips")) {
		uint32_t len;
		uint8_t *blob = slurp(argv[2], &len);
		char prefix[32];
		for (uint32_t p = 0; p < len; p++)
			for (int d = 3; d < argc; d++) {
				uint8_t delta = (uint8_t)strtoul(argv[d], NULL, 0), keep = blob[p];
				blob[p] ^= delta;
				snprintf(prefix, sizeof(prefix), "%u %u ", (unsigned)p, (unsigned)delta);
				verdict(blob, len, prefix);
				blob[p] = keep;
			}
		free(blob);
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "infer")) {
		uint32_t len, flen;
		uint8_t *blob = slurp(argv[2], &len), *frames = slurp(argv[3], &flen);
		if (ffs_decode(blob, len, &m, err, sizeof(err))) {
			printf("error: %s\n", err);
			return 1;
		}
		static ref_ctx_t ctx;
		uint32_t arena_size = 64u << 20;
		void *arena = malloc(arena_size);
		if (ref_prepare(&ctx, &m, arena, arena_size, err, sizeof(err))) {
			printf("error: %s\n", err);
			return 1;
		}
		int n = atoi(argv[4]);
		uint32_t fb = ffs_frame_bytes(&m);
		int32_t readout[FFS_MAX_CHANNELS];
		for (int i = 0; i < n && (uint32_t)(i + 1) * fb <= flen; i++) {
			int c = ref_infer(&ctx, frames + (uint32_t)i * fb, readout);
			printf("class %d readout", c);
			for (int j = 0; j < m.layer[m.n_layers - 1].co; j++)
				printf(" %d", (int)readout[j]);
			printf("\n");
		}
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "loadimg")) {
		uint32_t len;
		uint8_t *blob = slurp(argv[2], &len);
		if (ffs_decode(blob, len, &m, err, sizeof(err))) {
			printf("error: %s\n", err);
			return 1;
		}
		static uint32_t desc[FFS_MAX_LAYERS][LOADIMG_DESC_WORDS], pco[FFS_MAX_LAYERS], pci[FFS_MAX_LAYERS];
		snn_hw_t hw = {0};
		FILE *f = fopen(argv[3], "r");
		if (!f || fscanf(f, "%u %u %u %u %u %u", &hw.signature, &hw.n_layers, &hw.timesteps, &hw.in_bits,
				 &hw.in_kind, &hw.load_words) != 6 || hw.n_layers > FFS_MAX_LAYERS)
			return 2;
		for (uint32_t i = 0; i < hw.n_layers; i++)
			if (fscanf(f, "%u %u %u %u %u %u %u", &desc[i][0], &desc[i][1], &desc[i][2], &desc[i][3],
				   &desc[i][4], &pco[i], &pci[i]) != 7)
				return 2;
		fclose(f);
		hw.desc = (const uint32_t (*)[LOADIMG_DESC_WORDS])desc, hw.pco = pco, hw.pci = pci;
		uint32_t *out = malloc(4 * (size_t)hw.load_words + 4);
		uint32_t nw = loadimg_build(&m, &hw, out, hw.load_words, err, sizeof(err));
		if (!nw) {
			printf("error: %s\n", err);
			return 1;
		}
		FILE *o = fopen(argv[4], "wb");
		fwrite(out, 4, nw, o);
		fclose(o);
		printf("ok %u\n", (unsigned)nw);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "parse")) {
		uint32_t v;
		if (console_parse_u32(argv[2], &v))
			printf("invalid\n");
		else
			printf("value %u\n", (unsigned)v);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "dispatch")) {
		char line[CONSOLE_LINE_MAX];
		snprintf(line, sizeof(line), "%s", argv[2]);
		int r = console_dispatch(table, sizeof(table) / sizeof(table[0]), line);
		printf("rc %d\n", r);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "console")) {
		static console_t con;
		cookie_io_functions_t io = {.write = uart_like_write};
		stdout = fopencookie(NULL, "w", io);
		setvbuf(stdout, NULL, _IONBF, 0);
		int c;
		while ((c = getchar()) != EOF)
			console_feed(&con, table, sizeof(table) / sizeof(table[0]), (char)c);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "help")) {
		console_help(table, sizeof(table) / sizeof(table[0]));
		return 0;
	}
	fprintf(stderr, "usage: ffs_host decode|infer|parse|dispatch|help ...\n");
	return 2;
}
