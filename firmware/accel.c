/* Accelerator driver over the generated CSR accessors (csr.h) and constants (soc.h via snn_hw.h).
 * Every wait is bounded by the CPU cycle counter and ends in one error line. */
#include <stdio.h>

#include <generated/csr.h>
#include <generated/soc.h>
#include <system.h>
#include <libbase/uart.h>

#include "accel.h"
#include "snn_hw.h"

uint64_t cpu_cycles(void)
{
	timer0_uptime_latch_write(1);
	return timer0_uptime_cycles_read();
}

#ifdef CSR_SNN_BASE

static const uint32_t hw_desc[SNN_ACCEL_LAYERS][LOADIMG_DESC_WORDS] = SNN_HW_DESC;
static const uint32_t hw_pco[SNN_ACCEL_LAYERS] = SNN_HW_PCO;
static const uint32_t hw_pci[SNN_ACCEL_LAYERS] = SNN_HW_PCI;
static const snn_hw_t hw = {
	SNN_ACCEL_SIGNATURE, SNN_ACCEL_LAYERS, SNN_ACCEL_TIMESTEPS, SNN_ACCEL_IN_BITS, SNN_ACCEL_IN_KIND,
	SNN_ACCEL_LOAD_WORDS, hw_desc, hw_pco, hw_pci,
};
static const char *const load_errors[] = SNN_HW_LOAD_ERRORS;

int accel_present(void) { return 1; }
const snn_hw_t *accel_hw(void) { return &hw; }
uint32_t accel_frame_words(void) { return SNN_ACCEL_FRAME_WORDS; }
uint32_t accel_result_words(void) { return SNN_ACCEL_RESULT_WORDS; }

/* One field of the status register (offset/size from csr.h). */
#define STATUS(f) ((snn_status_read() >> CSR_SNN_STATUS_##f##_OFFSET) & ((1u << CSR_SNN_STATUS_##f##_SIZE) - 1))

static int waited_too_long(uint64_t t0, uint64_t limit) { return cpu_cycles() - t0 > limit; }

/* The DMAs whose beats ended in a bus error (status.bus_error: bit 0 load, 1 frames, 2 results), as words. */
static const char *bus_error_dmas(void)
{
	static const char *const names[8] = {"", "load", "frames", "load and frames", "results", "load and results",
					     "frames and results", "load, frames and results"};
	return names[STATUS(BUS_ERROR) & 7];
}

/* CPU (sys clock) cycles that last at least `c` accelerator clock cycles. */
static uint64_t accel_to_cpu(uint64_t c)
{
	return (c * CONFIG_CLOCK_FREQUENCY + SNN_ACCEL_CLK_FREQ - 1) / SNN_ACCEL_CLK_FREQ;
}

/* The accelerator's counters live in its own clock domain: latch copies them across (status bit
 * COUNTERS_VALID says they arrived, a few cycles of each clock later). */
static int latch_counters(void)
{
	snn_control_write(1 << CSR_SNN_CONTROL_LATCH_OFFSET);
	uint64_t t0 = cpu_cycles(), limit = 1000 + accel_to_cpu(1000);
	while (!STATUS(COUNTERS_VALID))
		if (waited_too_long(t0, limit))
			return -1;
	return 0;
}

uint32_t accel_clk_freq(void) { return SNN_ACCEL_CLK_FREQ; }
uint32_t accel_watchdog(void) { return snn_watchdog_read(); }
void accel_set_watchdog(uint32_t cycles) { snn_watchdog_write(cycles); }

void accel_reset(void)
{
	snn_load_enable_write(0);
	snn_run_enable_write(0);
	snn_control_write(1 << CSR_SNN_CONTROL_RESET_OFFSET);
	/* the reset crosses into the accelerator clock domain and back (a few cycles of each clock) */
	uint64_t t0 = cpu_cycles(), limit = 1000 + accel_to_cpu(1000);
	while (STATUS(RESETTING) && !waited_too_long(t0, limit))
		;
	snn_ev_pending_write(snn_ev_pending_read());
}

int accel_loaded(void)
{
	return STATUS(LOAD_DONE);
}

int accel_inject(uint32_t mask)
{
#ifdef CSR_SNN_INJECT_ADDR
	snn_inject_write(mask & 7);
	return 0;
#else
	(void)mask;
	return -1;
#endif
}

int accel_load(const uint32_t *words, uint32_t n, char *err, unsigned errlen)
{
	accel_reset();
	snn_load_base_write((uint32_t)(uintptr_t)words);
	snn_load_words_write(n);
	snn_load_enable_write(1);
	uint64_t t0 = cpu_cycles(), limit = 64ull * n + accel_to_cpu(64ull * n) + 4ull * CONFIG_CLOCK_FREQUENCY;
	while (!STATUS(LOAD_DMA_DONE) || (!STATUS(LOAD_DONE) && !STATUS(LOAD_ERROR)))
		if (STATUS(BUS_ERROR)) {
			break;
		} else if (STATUS(WATCHDOG)) {
			snprintf(err, errlen, "accelerator stalled during the load: no word moved for %lu sys cycles "
				 "(watchdog); accelerator reset", (unsigned long)snn_watchdog_read());
			accel_reset();
			return -1;
		} else if (waited_too_long(t0, limit)) {
			snprintf(err, errlen, "accelerator load timed out after %u words (DMA %s)", (unsigned)n,
				 STATUS(LOAD_DMA_DONE) ? "done, core gave no verdict" : "not done");
			accel_reset();
			return -1;
		}
	snn_load_enable_write(0);
	if (STATUS(BUS_ERROR)) {       /* first: the core may have refused the all-ones words it was given */
		snprintf(err, errlen, "bus error on the %s DMA during the load (no slave answered, or it signalled "
			 "an error); accelerator reset", bus_error_dmas());
		accel_reset();
		return -1;
	}
	uint32_t code = STATUS(LOAD_ERROR);
	if (code) {
		const char *why = code < sizeof(load_errors) / sizeof(load_errors[0]) ? load_errors[code] : "unknown";
		snprintf(err, errlen, "accelerator refused the load image: error %u (%s)", (unsigned)code, why);
		return -1;
	}
	return 0;
}

int accel_run(const void *frames, uint32_t count, uint32_t *results, uint32_t *cycles, char *err, unsigned errlen)
{
	snn_run_enable_write(0);
	snn_control_write(1 << CSR_SNN_CONTROL_CLEAR_OFFSET);
	snn_ev_pending_write(snn_ev_pending_read());
	snn_frames_base_write((uint32_t)(uintptr_t)frames);
	snn_results_base_write((uint32_t)(uintptr_t)results);
	snn_count_write(count);
	snn_run_enable_write(1);
	uint64_t t0 = cpu_cycles(), limit = accel_to_cpu((uint64_t)count * 4000000u) + 2ull * CONFIG_CLOCK_FREQUENCY;
	while (!STATUS(RUN_DONE))
		if (uart_read_nonblock() && uart_read() == ACCEL_INTERRUPT) {
			snprintf(err, errlen, "batch of %u frames interrupted (Ctrl-C); accelerator reset", (unsigned)count);
			accel_reset();
			return -1;
		} else if (STATUS(BUS_ERROR)) {
			break;
		} else if (STATUS(WATCHDOG)) {
			snprintf(err, errlen, "accelerator stalled on a batch of %u frames: no word moved for %lu sys "
				 "cycles (watchdog; frames DMA %s, core %s); accelerator reset", (unsigned)count,
				 (unsigned long)snn_watchdog_read(), STATUS(FRAMES_DMA_DONE) ? "done" : "not done",
				 STATUS(IDLE) ? "idle" : "busy");
			accel_reset();
			return -1;
		} else if (waited_too_long(t0, limit)) {
			snprintf(err, errlen, "accelerator timed out on a batch of %u frames (frames DMA %s, core %s)",
				 (unsigned)count, STATUS(FRAMES_DMA_DONE) ? "done" : "not done",
				 STATUS(IDLE) ? "idle" : "busy");
			accel_reset();
			return -1;
		}
	snn_run_enable_write(0);
	if (STATUS(BUS_ERROR)) {
		snprintf(err, errlen, "bus error on the %s DMA during a batch of %u frames (no slave answered, or it "
			 "signalled an error); accelerator reset", bus_error_dmas(), (unsigned)count);
		accel_reset();
		return -1;
	}
	if (latch_counters()) {
		snprintf(err, errlen, "accelerator counters did not cross into the CPU clock domain (latch timed out)");
		accel_reset();
		return -1;
	}
	*cycles = snn_run_cycles_read();
	snn_ev_pending_write(snn_ev_pending_read());
	flush_cpu_dcache();
	return 0;
}

void accel_clear_counters(void)
{
	snn_control_write(1 << CSR_SNN_CONTROL_CLEAR_OFFSET);
}

int accel_cycles(uint64_t *cycles)
{
	if (latch_counters())
		return -1;
	*cycles = snn_cycles_read();
	return 0;
}

int accel_layer_counters(uint32_t layer, uint32_t out[ACCEL_COUNTERS])
{
	snn_layer_sel_write(layer);    /* the next latch copies this layer's counters */
	if (latch_counters())
		return -1;
	out[0] = snn_layer_busy_read();
	out[1] = snn_layer_stall_read();
	out[2] = snn_layer_pairs_read();
	out[3] = snn_layer_empty_read();
	return 0;
}

#else   /* a SoC without the accelerator: every call reports it */

int accel_present(void) { return 0; }
const snn_hw_t *accel_hw(void) { return 0; }
uint32_t accel_frame_words(void) { return 0; }
uint32_t accel_result_words(void) { return 0; }
void accel_reset(void) {}
int accel_loaded(void) { return 0; }
int accel_load(const uint32_t *words, uint32_t n, char *err, unsigned errlen)
{
	(void)words, (void)n;
	snprintf(err, errlen, "this SoC has no accelerator");
	return -1;
}
int accel_run(const void *frames, uint32_t count, uint32_t *results, uint32_t *cycles, char *err, unsigned errlen)
{
	(void)frames, (void)count, (void)results, (void)cycles;
	snprintf(err, errlen, "this SoC has no accelerator");
	return -1;
}
void accel_clear_counters(void) {}
uint32_t accel_clk_freq(void) { return 0; }
uint32_t accel_watchdog(void) { return 0; }
void accel_set_watchdog(uint32_t cycles) { (void)cycles; }
int accel_inject(uint32_t mask) { (void)mask; return -1; }
int accel_cycles(uint64_t *cycles)
{
	*cycles = 0;
	return -1;
}
int accel_layer_counters(uint32_t layer, uint32_t out[ACCEL_COUNTERS])
{
	(void)layer;
	for (int i = 0; i < ACCEL_COUNTERS; i++)
		out[i] = 0;
	return -1;
}

#endif
