/* FireFly-S console firmware: one command table (help + dispatch), the artifact loader, the
 * accelerator runs and the CPU reference. Addresses are checked against the generated memory map;
 * every failure is one "error: ..." line and the console keeps answering. */
#include <stdio.h>
#include <string.h>

#include <generated/csr.h>
#include <generated/mem.h>
#include <generated/soc.h>
#include <irq.h>
#include <libbase/console.h>
#include <libbase/crc.h>
#include <libbase/uart.h>

#include "accel.h"
#include "args.h"
#include "console.h"
#include "ffs.h"
#include "loadimg.h"
#include "ref.h"
#include "upload.h"

#define ARENA_SIZE     (1u << 20)     /* model copy, CPU reference buffers, results, load image */
#define CHUNK_FRAMES   256u           /* frames per accelerator batch */

extern char _end_of_image[];
static uint8_t arena[ARENA_SIZE] __attribute__((aligned(8)));
static ffs_model_t model;
static ref_ctx_t ref;
static int have_model;
static uint32_t *results;             /* CHUNK_FRAMES * result words, in the arena */
static char err[FFS_ERR_LEN];

static const console_cmd_t commands[];
static const int n_commands;

/* ---------------------------------------------------------------- helpers */

static int need_model(void)
{
	if (!have_model)
		return args_fail("no model loaded (load <addr> first)");
	return 0;
}

/* Frames at addr for the accelerator, in chunks; classes into cls (may be NULL), readouts of the
 * last frame into last (may be NULL). Returns 0 and the total hardware cycles. */
static int accel_frames(uint32_t addr, uint32_t n, uint8_t *cls, int32_t *last, uint64_t *cycles)
{
	uint32_t fb = 4 * accel_frame_words(), rw = accel_result_words();
	*cycles = 0;
	for (uint32_t done = 0; done < n;) {
		uint32_t k = n - done < CHUNK_FRAMES ? n - done : CHUNK_FRAMES, c;
		if (accel_run((const void *)(uintptr_t)(addr + done * fb), k, results, &c, err, sizeof(err))) {
			have_model = 0;               /* the accelerator was reset: its weights must be loaded again */
			printf("error: %s; model unloaded (load it again)\n", err);
			return -1;
		}
		*cycles += c;
		for (uint32_t i = 0; i < k; i++) {
			if (cls)
				cls[done + i] = (uint8_t)results[i * rw];
			if (last && done + i == n - 1)
				memcpy(last, &results[i * rw + 1], 4 * (rw - 1));
		}
		done += k;
	}
	return 0;
}

/* ---------------------------------------------------------------- commands */

static int cmd_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	console_help(commands, n_commands);
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	(void)argc, (void)argv;
	printf("soc: cpu %s, clock %lu Hz\n", CONFIG_CPU_HUMAN_NAME, (unsigned long)CONFIG_CLOCK_FREQUENCY);
	printf("ram: main 0x%08lx..0x%08lx, free for data from 0x%08lx\n", (unsigned long)MAIN_RAM_BASE,
	       (unsigned long)(MAIN_RAM_BASE + MAIN_RAM_SIZE), (unsigned long)(uintptr_t)_end_of_image);
	const snn_hw_t *hw = accel_hw();
	if (!hw) {
		printf("accelerator: none\n");
	} else {
		printf("accelerator: clock %lu Hz (its own clock domain; cycle counts are in it)\n",
		       (unsigned long)accel_clk_freq());
		printf("accelerator: %lu layers, T=%lu, in_bits=%lu, in_kind=%lu, signature 0x%08lx, frame %lu words, "
		       "result %lu words, load image %lu words\n", (unsigned long)hw->n_layers,
		       (unsigned long)hw->timesteps, (unsigned long)hw->in_bits, (unsigned long)hw->in_kind,
		       (unsigned long)hw->signature, (unsigned long)accel_frame_words(),
		       (unsigned long)accel_result_words(), (unsigned long)hw->load_words);
		for (uint32_t i = 0; i < hw->n_layers; i++)
			printf("  hw layer %lu: PCo %lu PCi %lu\n", (unsigned long)i, (unsigned long)hw->pco[i],
			       (unsigned long)hw->pci[i]);
	}
	if (!have_model) {
		printf("model: none loaded\n");
		return 0;
	}
	printf("model: %.*s, T=%u, in_bits=%u, %u layers, %lu bytes, crc 0x%08lx\n", model.notation_len,
	       model.notation, model.timesteps, model.in_bits, model.n_layers, (unsigned long)model.size,
	       (unsigned long)model.crc);
	for (int i = 0; i < model.n_layers; i++) {
		const ffs_layer_t *L = &model.layer[i];
		printf("  layer %d: %ux%ux%u -> %ux%ux%u, nnz %lu, widths acc/mem/b/vth %u/%u/%u/%u\n", i, L->ci, L->h,
		       L->w, L->co, L->ho, L->wo, (unsigned long)L->nnz, L->acc_bits, L->mem_bits, L->bias_bits,
		       L->vth_bits);
	}
	return 0;
}

static int cmd_load(int argc, char **argv)
{
	(void)argc;
	uint32_t addr, size;
	if (args_region(argv[1], FFS_HEADER_LEN, "model", &addr))
		return -1;
	const uint8_t *blob = (const uint8_t *)(uintptr_t)addr;
	uint32_t avail = MAIN_RAM_BASE + MAIN_RAM_SIZE - addr;
	size = ffs_announced_size(blob, avail);
	if (!size || size > avail)
		size = avail < FFS_HEADER_LEN ? avail : FFS_HEADER_LEN;   /* let the decoder name the problem */
	if (size > ARENA_SIZE / 4)
		return args_fail("model larger than a quarter of the firmware arena");
	have_model = 0;
	memcpy(arena, blob, size);                /* the model stays valid if its RAM is reused */
	if (ffs_decode(arena, size, &model, err, sizeof(err)))
		return args_fail(err);
	uint32_t used = (size + 7) & ~7u;
	if (ref_prepare(&ref, &model, arena + used, ARENA_SIZE - used, err, sizeof(err)))
		return args_fail(err);
	used += (ref.used + 7) & ~7u;
	results = (uint32_t *)(arena + used);
	used += 4 * CHUNK_FRAMES * (accel_result_words() ? accel_result_words() : 1);
	if (accel_present()) {
		const snn_hw_t *hw = accel_hw();
		uint32_t *img = (uint32_t *)(arena + used), cap = (ARENA_SIZE - used) / 4;
		uint32_t nw = loadimg_build(&model, hw, img, cap, err, sizeof(err));
		if (!nw || accel_load(img, nw, err, sizeof(err)))
			return args_fail(err);
		printf("load: ok, %lu bytes, crc 0x%08lx, %lu image words in the accelerator\n", (unsigned long)size,
		       (unsigned long)model.crc, (unsigned long)nw);
	} else {
		printf("load: ok, %lu bytes, crc 0x%08lx (no accelerator: CPU reference only)\n", (unsigned long)size,
		       (unsigned long)model.crc);
	}
	have_model = 1;
	return 0;
}

static int cmd_infer(int argc, char **argv)
{
	(void)argc;
	uint32_t addr;
	uint8_t cls;
	int32_t readout[FFS_MAX_CHANNELS];
	uint64_t cycles;
	if (need_model() || args_region(argv[1], ffs_frame_bytes(&model), "frame", &addr))
		return -1;
	if (accel_frames(addr, 1, &cls, readout, &cycles))
		return -1;
	printf("class %u\ncycles ", cls);
	args_print_u64(cycles);
	printf("\nreadout");
	for (uint32_t c = 0; c < model.layer[model.n_layers - 1].co; c++)
		printf(" %ld", (long)readout[c]);
	printf("\n");
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	(void)argc;
	static uint8_t cls[65536];
	uint32_t addr, n;
	uint64_t cycles;
	if (need_model() || args_count(argv[2], sizeof(cls), &n) ||
	    args_region(argv[1], n * ffs_frame_bytes(&model), "frames", &addr))
		return -1;
	if (accel_frames(addr, n, cls, NULL, &cycles))
		return -1;
	printf("pred");
	for (uint32_t i = 0; i < n; i++)
		printf(" %u", cls[i]);
	/* cycles of the accelerator's clock (SNN_ACCEL_CLK_FREQ), so FPS is at that clock */
	printf("\ncycles ");
	args_print_u64(cycles);
	printf(" per_frame %lu accel_clk_hz %lu fps %lu\n", (unsigned long)(cycles / n), (unsigned long)accel_clk_freq(),
	       (unsigned long)(cycles ? (uint64_t)accel_clk_freq() * n / cycles : 0));
	return 0;
}

static int cmd_stats(int argc, char **argv)
{
	(void)argc, (void)argv;
	const snn_hw_t *hw = accel_hw();
	if (!hw)
		return args_fail("this SoC has no accelerator");
	uint64_t cycles;
	if (accel_cycles(&cycles))
		return args_fail("accelerator counters did not cross into the CPU clock domain (latch timed out)");
	printf("core cycles ");
	args_print_u64(cycles);
	printf(" (accelerator clock, since the last batch start)\n");
	for (uint32_t i = 0; i < hw->n_layers; i++) {
		uint32_t c[ACCEL_COUNTERS];
		if (accel_layer_counters(i, c))
			return args_fail("accelerator counters did not cross into the CPU clock domain (latch timed out)");
		printf("layer %lu busy %lu stall %lu pairs %lu empty %lu\n", (unsigned long)i, (unsigned long)c[0],
		       (unsigned long)c[1], (unsigned long)c[2], (unsigned long)c[3]);
	}
	return 0;
}

/* CPU reference over n frames: cycles per frame, classes and the last readout. */
static uint64_t cpu_frames(uint32_t addr, uint32_t n, uint8_t *cls, int32_t *readout)
{
	uint32_t fb = ffs_frame_bytes(&model);
	uint64_t t0 = cpu_cycles();
	for (uint32_t i = 0; i < n; i++)
		cls[i] = (uint8_t)ref_infer(&ref, (const uint8_t *)(uintptr_t)(addr + i * fb), readout);
	return (cpu_cycles() - t0) / n;
}

static int cmd_selftest(int argc, char **argv)
{
	uint32_t addr, n = 1;
	if (need_model() || (argc > 2 && args_count(argv[2], 16, &n)) ||
	    args_region(argv[1], n * ffs_frame_bytes(&model), "frames", &addr))
		return -1;
	if (!accel_present())
		return args_fail("this SoC has no accelerator to test");
	uint32_t classes = model.layer[model.n_layers - 1].co, rw = accel_result_words(), fb = ffs_frame_bytes(&model);
	int32_t want[FFS_MAX_CHANNELS];
	uint64_t cpu = 0, hw = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t f = addr + i * fb, c;
		uint64_t t0 = cpu_cycles();
		int wc = ref_infer(&ref, (const uint8_t *)(uintptr_t)f, want);
		cpu += cpu_cycles() - t0;
		if (accel_run((const void *)(uintptr_t)f, 1, results, &c, err, sizeof(err)))
			return args_fail(err);
		hw += c;
		if ((int)results[0] != wc || memcmp(&results[1], want, 4 * classes) != 0) {
			printf("selftest: FAIL frame %lu: accelerator class %ld, CPU reference class %d\n", (unsigned long)i,
			       (long)results[0], wc);
			for (uint32_t k = 0; k < classes && k + 1 < rw; k++)
				printf("  readout %lu: accelerator %ld, reference %ld\n", (unsigned long)k,
				       (long)(int32_t)results[1 + k], (long)want[k]);
			return -1;
		}
	}
	printf("selftest: PASS, %lu frames, accelerator == CPU reference (class and %lu readouts); "
	       "cpu_cycles_per_frame ", (unsigned long)n, (unsigned long)classes);
	args_print_u64(cpu / n);
	printf(" accel_cycles_per_frame ");
	args_print_u64(hw / n);
	printf("\n");
	return 0;
}

static int cmd_bench(int argc, char **argv)
{
	uint32_t addr, n = 1;
	uint8_t cls[4];
	int32_t readout[FFS_MAX_CHANNELS];
	if (need_model() || (argc > 2 && args_count(argv[2], 4, &n)) ||
	    args_region(argv[1], n * ffs_frame_bytes(&model), "frames", &addr))
		return -1;
	uint64_t cpu = cpu_frames(addr, n, cls, readout), hw = 0;
	printf("bench: cpu_cycles_per_frame ");
	args_print_u64(cpu);
	if (accel_present()) {
		if (accel_frames(addr, n, NULL, NULL, &hw))
			return -1;
		hw /= n;
		printf(" accel_cycles_per_frame ");
		args_print_u64(hw);
		/* in time: CPU cycles at the CPU clock vs accelerator cycles at the accelerator clock */
		uint64_t den = hw * (uint64_t)CONFIG_CLOCK_FREQUENCY;
		printf(" speedup %lu", (unsigned long)(den ? cpu * accel_clk_freq() / den : 0));
	}
	printf("\n");
	return 0;
}

/* put <addr> <len>: "put: ready", then SFL frames until an abort frame (their acks are not part of the
 * reply's CRC), then the CRC-32 of what is in RAM, for the host to compare with what it sent. */
static int cmd_put(int argc, char **argv)
{
	(void)argc;
	uint32_t addr, len;
	const char *why;
	if (console_parse_u32(argv[2], &len) || len == 0) {
		printf("error: put length '%.24s' must be a number >= 1\n", argv[2]);
		return -1;
	}
	if (args_region(argv[1], len, "data", &addr))
		return -1;
	printf("put: ready for %lu bytes at 0x%08lx (LiteX serial boot frames, end with an abort frame)\n",
	       (unsigned long)len, (unsigned long)addr);
	uint16_t crc = console_tx_crc;
	int r = upload_receive(addr, len, 10, &why);
	console_tx_crc = crc;
	if (r)
		return args_fail(why);
	printf("put: %lu bytes at 0x%08lx crc32 0x%08lx\n", (unsigned long)len, (unsigned long)addr,
	       (unsigned long)crc32((const unsigned char *)(uintptr_t)addr, len));
	return 0;
}

static int cmd_watchdog(int argc, char **argv)
{
	uint32_t c;
	if (!accel_present())
		return args_fail("this SoC has no accelerator");
	if (argc > 1) {
		if (console_parse_u32(argv[1], &c)) {
			printf("error: watchdog cycles '%.24s' is not a number (0 turns it off)\n", argv[1]);
			return -1;
		}
		accel_set_watchdog(c);
	}
	printf("watchdog: %lu sys cycles without a DMA beat end a load or batch%s\n", (unsigned long)accel_watchdog(),
	       accel_watchdog() ? "" : " (0: off)");
	return 0;
}

#ifdef CSR_SNN_INJECT_ADDR
static int cmd_inject(int argc, char **argv)
{
	static const char *const roles[3] = {"load", "frames", "results"};
	uint32_t mask = 0;
	for (int i = 1; i < argc; i++) {
		int k = 0;
		while (k < 3 && strcmp(argv[i], roles[k]))
			k++;
		if (k == 3 && strcmp(argv[i], "off")) {
			printf("error: inject '%.24s': expected load, frames, results or off\n", argv[i]);
			return -1;
		}
		mask |= k < 3 ? 1u << k : 0;
	}
	accel_inject(mask);
	printf("inject: bus errors on the%s%s%s DMA%s\n", mask & 1 ? " load" : "", mask & 2 ? " frames" : "",
	       mask & 4 ? " results" : "", mask ? "" : " (none)");
	return 0;
}
#endif

static int cmd_reset(int argc, char **argv)
{
	(void)argc, (void)argv;
	accel_reset();
	have_model = 0;
	printf("reset: accelerator reset, model unloaded\n");
	return 0;
}

static const console_cmd_t commands[] = {
	{"help", "", "list the commands", 0, 0, cmd_help},
	{"info", "", "hardware configuration and the loaded model", 0, 0, cmd_info},
	{"load", "<addr>", "check the .ffs model at addr (CRC, version, topology, widths) and load it", 1, 1, cmd_load},
	{"infer", "<addr>", "one frame on the accelerator: class, cycles, readout", 1, 1, cmd_infer},
	{"run", "<addr> <n>", "n frames on the accelerator: predictions and cycles per frame", 2, 2, cmd_run},
	{"stats", "", "per-layer performance counters of the last batch", 0, 0, cmd_stats},
	{"selftest", "<addr> [n]", "accelerator against the CPU reference on n stored frames", 1, 2, cmd_selftest},
	{"bench", "<addr> [n]", "CPU reference vs accelerator cycles per frame", 1, 2, cmd_bench},
	{"put", "<addr> <len>", "receive len bytes at addr (LiteX serial boot frames), report their CRC-32", 2, 2, cmd_put},
	{"watchdog", "[cycles]", "show or set the accelerator's stall watchdog (sys cycles, 0: off)", 0, 1, cmd_watchdog},
#ifdef CSR_SNN_INJECT_ADDR
	{"inject", "<dma|off> ...", "test SoCs: bus errors on the load, frames and/or results DMA", 1, 3, cmd_inject},
#endif
	{"reset", "", "reset the accelerator and unload the model", 0, 0, cmd_reset},
};
static const int n_commands = sizeof(commands) / sizeof(commands[0]);

/* ---------------------------------------------------------------- console loop */

int main(void)
{
	static console_t con;
	/* Polled UART (firmware/uart.c, interrupts off): libbase's interrupt-driven RX ring livelocks its ISR
	 * when a host sends more than it holds; polling keeps the UART's own back-pressure. The
	 * accelerator's events are polled through its EventManager pending register. */
#ifdef CONFIG_CPU_HAS_INTERRUPT
	irq_setmask(0);
	irq_setie(0);
#endif
	uart_init();
	printf("\nFireFly-S console (%d commands, type help)\n" CONSOLE_PROMPT, n_commands);
	for (;;)
		console_feed(&con, commands, n_commands, (char)getchar());
	return 0;
}
