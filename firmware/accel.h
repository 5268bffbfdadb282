/* Accelerator driver: the only firmware file that touches the accelerator's CSRs (generated csr.h). */
#ifndef ACCEL_H
#define ACCEL_H

#include <stdint.h>
#include "loadimg.h"

#define ACCEL_COUNTERS 4   /* busy, stall, pairs, empty */

int accel_present(void);
const snn_hw_t *accel_hw(void);     /* NULL without an accelerator */
uint32_t accel_frame_words(void);
uint32_t accel_result_words(void);

/* Soft reset of the core and its DMAs; the weights must be loaded again. */
void accel_reset(void);

/* Ctrl-C from the console ends a running batch (accel_run: the accelerator is reset, -1). */
#define ACCEL_INTERRUPT 0x03

/* The hardware watchdog: sys cycles a load or batch may go without a DMA beat (0: off); 0 if absent. */
uint32_t accel_watchdog(void);
void accel_set_watchdog(uint32_t cycles);

/* Fault injection (test SoCs with the `inject` CSR): mask bit 0 load, 1 frames, 2 results points that
 * DMA at an address no slave decodes, so its beats end in bus errors. -1 where the SoC has no such CSR. */
int accel_inject(uint32_t mask);

/* DMA a load image; waits for the core's verdict. 0, or -1 with one error line. */
int accel_load(const uint32_t *words, uint32_t n, char *err, unsigned errlen);

/* Run `count` frames at `frames` and write count * result_words words at `results`.
 * *cycles = the hardware's batch cycles (frames DMA start to last result in memory), counted at the
 * accelerator's own clock (accel_clk_freq()), not the CPU's. */
int accel_run(const void *frames, uint32_t count, uint32_t *results, uint32_t *cycles, char *err, unsigned errlen);

void accel_clear_counters(void);
/* Counters of the accelerator's clock domain, latched across; 0, or -1 if the latch timed out. */
int accel_cycles(uint64_t *cycles);
int accel_layer_counters(uint32_t layer, uint32_t out[ACCEL_COUNTERS]);
/* The accelerator clock in Hz (soc.h SNN_ACCEL_CLK_FREQ); 0 without an accelerator. */
uint32_t accel_clk_freq(void);
int accel_loaded(void);

/* The CPU's cycle counter (timer0 uptime). */
uint64_t cpu_cycles(void);

#endif
