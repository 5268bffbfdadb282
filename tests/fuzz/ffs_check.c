/* The firmware's artifact decoder (firmware/ffs.c) as a plain host program, for the differential test
 * (tests/fuzz/test_ffs_differential.py): `ffs_check LIST` reads the file named on each line of LIST and
 * prints one line per file: "OK T k kind n_layers nnz" or "ERR <the decoder's error line>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffs.h"

int main(int argc, char **argv)
{
	static ffs_model_t m;
	char path[4096], err[FFS_ERR_LEN];
	FILE *list = argc == 2 ? fopen(argv[1], "r") : NULL;
	if (!list) {
		fprintf(stderr, "usage: ffs_check LIST (one file path per line)\n");
		return 2;
	}
	while (fgets(path, sizeof path, list)) {
		path[strcspn(path, "\n")] = 0;
		FILE *f = fopen(path, "rb");
		if (!f) {
			printf("ERR cannot open %s\n", path);
			continue;
		}
		fseek(f, 0, SEEK_END);
		long n = ftell(f);
		fseek(f, 0, SEEK_SET);
		uint8_t *buf = malloc(n ? n : 1);
		if (fread(buf, 1, n, f) != (size_t)n)
			n = 0;
		fclose(f);
		if (ffs_decode(buf, (uint32_t)n, &m, err, sizeof err) == 0) {
			unsigned long nnz = 0;
			for (unsigned i = 0; i < m.n_layers; i++)
				nnz += m.layer[i].nnz;
			printf("OK %u %u %u %u %lu\n", m.timesteps, m.in_bits, m.in_kind, m.n_layers, nnz);
		} else {
			printf("ERR %s\n", err);
		}
		free(buf);
	}
	fclose(list);
	return 0;
}
