/* Layer shapes and the topology notation (sw/topology.py in C), shared by the .ffs decoder (ffs.c).
 * Every check writes one printable error line without a prefix and returns -1; 0 when it passes. */
#ifndef FFS_SHAPE_H
#define FFS_SHAPE_H

#include "ffs.h"               /* FFS_MAX_LAYERS and the constants of ffs_defs.h */

typedef struct {            /* a layer shape, as sw/topology.py LayerShape */
	int kind, pool, leak, readout;
	int64_t ci, h, w, co, kh, kw, stride, pad;
} ffs_shape_t;

/* Writes the formatted line into err (n bytes; bytes that are not printable ASCII become '?', so a
 * newline quoted from a file cannot split the console's reply) and returns -1. */
int ffs_fail(char *err, unsigned n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* One output dimension of a convolution (Python's floor division; < 1 when the kernel does not fit). */
int64_t ffs_conv_dim(int64_t in, int64_t pad, int64_t k, int64_t stride);

/* LayerShape.__post_init__. */
int ffs_shape_check(const ffs_shape_t *s, char *err, unsigned n);

/* check_chain over n shapes. */
int ffs_chain_check(const ffs_shape_t *s, int n, char *err, unsigned en);

/* sw.topology.parse: a notation (or a preset name) into at most FFS_MAX_LAYERS shapes, each with the
 * given leak; *n_out gets their number. */
int ffs_parse_notation(const char *text, int len, int leak, ffs_shape_t *out, int *n_out, char *err, unsigned en);

#endif
