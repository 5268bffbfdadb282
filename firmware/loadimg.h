/* The hardware load image (docs/load-image.md): the C mirror of soc/accel/loadimage.py build().
 *
 * Plain C, no CSR access (host-tested against the Python builder). The hardware description (per
 * layer descriptor words and PCo/PCi, signature, T/k/input kind) comes from the generated soc.h
 * constants, gathered into an snn_hw_t by the caller.
 */
#ifndef LOADIMG_H
#define LOADIMG_H

#include <stdint.h>
#include "ffs.h"

#define LOADIMG_MAGIC 0x4C534646u   /* "FFSL" */
#define LOADIMG_END   0x45534646u   /* "FFSE" */
#define LOADIMG_DESC_WORDS 5

typedef struct {
	uint32_t signature, n_layers, timesteps, in_bits, in_kind, load_words;
	const uint32_t (*desc)[LOADIMG_DESC_WORDS];   /* [n_layers]: the hardware's descriptor words */
	const uint32_t *pco, *pci;                     /* [n_layers] */
} snn_hw_t;

/* The model's descriptor words of layer i (word 4 holds the model's widths). */
void loadimg_descriptor(const ffs_layer_t *l, uint32_t desc[LOADIMG_DESC_WORDS]);

/* Refuse a model that the hardware cannot run: one error line, as "model does not fit ...". */
int loadimg_check(const ffs_model_t *m, const snn_hw_t *hw, char *err, unsigned errlen);

/* Words of the load image for this hardware. */
uint32_t loadimg_words(const snn_hw_t *hw);

/* Build the image into out (capacity in words); returns the word count, or 0 with an error line. */
uint32_t loadimg_build(const ffs_model_t *m, const snn_hw_t *hw, uint32_t *out, uint32_t capacity, char *err,
		       unsigned errlen);

#endif
