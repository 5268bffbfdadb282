"""The SNN accelerator as a LiteX peripheral: CSRs, three Wishbone DMA masters and an IRQ.

    add_snn_accel(soc, AccelConfig.from_model(model, parallelism), name="snn", accel_clk_freq=100e6)

Data paths (every word is the CPU's 32-bit little-endian view of memory):
    load_base  .. +load_words   --WishboneDMAReader-->  core.load     (`first` on word 0)
    frames_base.. +count frames --WishboneDMAReader-->  core.frames   (`last` on each frame's last word)
    core.results                --WishboneDMAWriter-->  results_base .. +count * RESULT_WORDS words

The DMAs and CSRs run in `sys`, the core in its own clock domain `accel`; soc.accel_cdc.AccelCDC
carries the streams (AsyncFIFOs) and the control/status bits (synchronizers) between the two.

A DMA starts when its enable goes 0 -> 1 and stays done until enable is cleared (LiteX DMA style).
The IRQ (EventManager) fires when a load image has been consumed and when a batch's results are all
in memory. Hardware parameters reach C as soc.h constants ({NAME}_ACCEL_*, {NAME}_L<i>_DESC<j>).
"""
from __future__ import annotations

from migen import Cat, If, Mux, ResetInserter, Signal

from litex.gen import LiteXModule
from litex.soc.cores.dma import WishboneDMAReader, WishboneDMAWriter
from litex.soc.integration.doc import ModuleDoc
from litex.soc.interconnect import wishbone
from litex.soc.interconnect.csr import CSRField, CSRStatus, CSRStorage
from litex.soc.interconnect.csr_eventmanager import EventManager, EventSourcePulse

from soc.accel_cdc import LAYER_COUNTERS, AccelCDC

# Watchdog default: sys cycles without a DMA beat during a load or batch (0.17 s at 100 MHz; the slowest
# default build, SCNN5 on the A7-35T, goes about 130,000 sys cycles between beats).
WATCHDOG_CYCLES = 1 << 24


class SNNAccel(LiteXModule):
    """CSR/DMA/IRQ shell around an AccelCore (soc/accel/core.py), which runs in clock domain `accel`.

    Ports: load_bus, frames_bus, results_bus (wishbone.Interface, masters, word addressing), in `sys`.
    """
    def __init__(self, core, load_bus, frames_bus, results_bus, bus_timeout=None, inject_addr=None):
        cfg = core.config
        n_layers = len(cfg.layers)
        self.intro = ModuleDoc(title="SNN accelerator", body=(
            "FireFly-S dual-side sparse SNN accelerator. Software writes a load image (weights laid out "
            "for this hardware, docs/load-image.md) with the load DMA, then runs batches of input frames "
            "with the frames/results DMAs. Each frame yields 1 + classes result words: the class, then "
            "the signed readout accumulators. Performance counters are per layer, selected by "
            "``layer_sel``."))

        # Control ----------------------------------------------------------------------------------
        self._control = CSRStorage(description="Accelerator control.", fields=[
            CSRField("reset", size=1, pulse=True, description="Write ``1``: reset the core and the DMAs "
                     "(the weights must be loaded again)."),
            CSRField("clear", size=1, pulse=True, description="Write ``1``: zero every performance counter "
                     "and ``run_cycles``."),
            CSRField("latch", size=1, pulse=True, description="Write ``1``: copy the core's counters (``cycles``, "
                     "``run_cycles`` and the ``layer_sel`` layer's ``layer_*``, all counted in the accelerator "
                     "clock domain) into their registers; ``status.counters_valid`` rises when they are there."),
        ])
        self._status = CSRStatus(description="Accelerator status.", fields=[
            CSRField("idle", size=1, description="No frame is in flight in any layer."),
            CSRField("load_done", size=1, description="A complete, accepted load image is in the weight "
                     "memories."),
            CSRField("load_dma_done", size=1, description="The load DMA has read ``load_words`` words."),
            CSRField("run_done", size=1, description="The results DMA has written every result word of the "
                     "batch."),
            CSRField("frames_dma_done", size=1, description="The frames DMA has read every frame."),
            CSRField("counters_valid", size=1, description="The counter registers hold the snapshot of the "
                     "last ``control.latch`` (cleared by ``latch`` and ``reset``)."),
            CSRField("resetting", size=1, description="A ``control.reset`` is still crossing into the "
                     "accelerator clock domain; DMAs and clock-crossing FIFOs are held."),
            CSRField("watchdog", size=1, description="The watchdog fired: a load or batch moved no word (no "
                     "DMA beat in or out) for ``watchdog`` sys cycles. Held until ``control.reset``."),
            CSRField("bus_error", size=3, description="A DMA beat ended in a bus error (bit 0 load, 1 frames, "
                     "2 results): acked with ``err``, or only after the interconnect's timeout (no slave "
                     "answered; LiteX's timeout acks with all-ones data). Held until ``control.reset``."),
            CSRField("load_error", size=8, description="0 = ok, else the core's refusal code for the load "
                     "image (docs/load-image.md: 1 magic, 2 signature, 3 layers, 4 topology, 5 widths, "
                     "6 end marker, 7 truncated)."),
        ])
        # Load DMA ---------------------------------------------------------------------------------
        self._load_base = CSRStorage(32, description="Byte address of the load image (word aligned).")
        self._load_words = CSRStorage(32, description="Length of the load image in 32-bit words.")
        self._load_enable = CSRStorage(1, description="Write ``0`` then ``1`` to start the load DMA; it "
                                       "stays done until cleared.")
        # Batch DMAs -------------------------------------------------------------------------------
        self._frames_base = CSRStorage(32, description="Byte address of the first input frame (word aligned); "
                                       "frames are ``FRAME_WORDS`` words each, back to back.")
        self._results_base = CSRStorage(32, description="Byte address where the results are written: "
                                        "``RESULT_WORDS`` words per frame.")
        self._count = CSRStorage(16, description="Number of frames in the batch.")
        self._run_enable = CSRStorage(1, description="Write ``0`` then ``1`` to start a batch (frames and "
                                      "results DMAs together).")
        self._run_cycles = CSRStatus(32, description="Accelerator clock cycles from the batch start to its last "
                                     "result word in memory, as of the last ``control.latch``.")
        # Counters ---------------------------------------------------------------------------------
        self._cycles = CSRStatus(64, description="Accelerator clock cycles since ``control.clear``, as of the "
                                 "last ``control.latch``.")
        self._layer_sel = CSRStorage(8, description=f"Layer (0..{n_layers - 1}) whose counters the next "
                                     "``control.latch`` copies into the ``layer_*`` registers.")
        self._layer_busy = CSRStatus(32, description="Selected layer: cycles busy.")
        self._layer_stall = CSRStatus(32, description="Selected layer: cycles stalled by back-pressure.")
        self._layer_pairs = CSRStatus(32, description="Selected layer: matched (weight, spike) pairs.")
        self._layer_empty = CSRStatus(32, description="Selected layer: chunks with no match.")
        self._watchdog = CSRStorage(32, reset=WATCHDOG_CYCLES, description="sys cycles a load or batch may go "
                                    "without moving a word before ``status.watchdog`` rises (0: off). A stalled "
                                    "pipeline or DMA then ends in an error, not a hang.")
        if inject_addr is not None:
            self._inject = CSRStorage(description="Fault injection (test SoCs only).", fields=[
                CSRField(role, size=1, description=f"``1``: the {role} DMA reads/writes at 0x{inject_addr:08x}, "
                         "where no slave answers, so the interconnect's timeout ends every beat with a bus "
                         "error.") for role in ("load", "frames", "results")])
        # IRQ --------------------------------------------------------------------------------------
        self.ev = EventManager()
        self.ev.load = EventSourcePulse(description="The load DMA finished (check ``status.load_error``).")
        self.ev.run = EventSourcePulse(description="A batch finished: every result word is in memory.")
        self.ev.finalize()

        # # #

        self.shell = shell = AccelCDC(core)
        self.comb += shell.reset.eq(self._control.fields.reset)
        reset = shell.resetting                  # level: held until the accel side is out of reset
        self.load_dma = load_dma = ResetInserter()(WishboneDMAReader(load_bus, endianness="big"))
        self.frames_dma = frames_dma = ResetInserter()(WishboneDMAReader(frames_bus, endianness="big"))
        self.results_dma = results_dma = ResetInserter()(WishboneDMAWriter(results_bus, endianness="big"))
        # endianness="big" leaves bus words untouched: the stream word is the CPU's uint32 view.
        load_dma.add_ctrl()
        frames_dma.add_ctrl()
        results_dma.add_ctrl(ready_on_idle=0)    # back-pressure results until a batch is armed
        bus_error = Signal(3)                    # sticky per DMA, see "Bus errors" below
        # a DMA that met a bus error stays in reset until control.reset: it lets go of the bus (a beat to
        # nowhere holds the shared interconnect for the whole timeout, the CPU included) and moves no
        # more words
        self.comb += [m.reset.eq(reset | bus_error[k]) for k, m in enumerate((load_dma, frames_dma, results_dma))]
        bases = {"load": self._load_base.storage, "frames": self._frames_base.storage,
                 "results": self._results_base.storage}
        if inject_addr is not None:
            bases = {role: Mux(getattr(self._inject.fields, role), inject_addr, b) for role, b in bases.items()}
        self.comb += [
            load_dma.base.eq(bases["load"]),
            load_dma.length.eq(self._load_words.storage << 2),
            load_dma.enable.eq(self._load_enable.storage),
            frames_dma.base.eq(bases["frames"]),
            frames_dma.length.eq((self._count.storage * cfg.frame_words) << 2),
            frames_dma.enable.eq(self._run_enable.storage),
            results_dma.base.eq(bases["results"]),
            results_dma.length.eq((self._count.storage * cfg.result_words) << 2),
            results_dma.enable.eq(self._run_enable.storage),
        ]
        # Streams: word counters mark load `first` and frame `last`; both cross with the data.
        load_word = Signal(32)
        frame_word = Signal(max=max(2, cfg.frame_words))
        self.comb += [
            shell.load.valid.eq(load_dma.source.valid), shell.load.data.eq(load_dma.source.data),
            shell.load.first.eq(load_word == 0), load_dma.source.ready.eq(shell.load.ready),
            shell.frames.valid.eq(frames_dma.source.valid), shell.frames.data.eq(frames_dma.source.data),
            shell.frames.last.eq(frame_word == cfg.frame_words - 1),
            frames_dma.source.ready.eq(shell.frames.ready),
            # results: data only; the writer ends on its own length, not on each frame's `last`.
            results_dma.sink.valid.eq(shell.results.valid), results_dma.sink.data.eq(shell.results.data),
            shell.results.ready.eq(results_dma.sink.ready),
        ]
        self.sync += [
            If(~self._load_enable.storage | reset, load_word.eq(0)
               ).Elif(shell.load.valid & shell.load.ready, load_word.eq(load_word + 1)),
            If(~self._run_enable.storage | reset, frame_word.eq(0)
               ).Elif(shell.frames.valid & shell.frames.ready,
                      If(frame_word == cfg.frame_words - 1, frame_word.eq(0)).Else(frame_word.eq(frame_word + 1))),
        ]
        # `active`: a DMA is moving data or a frame is in flight (the sim's --trace window).
        self.active = Signal()
        self.comb += self.active.eq((self._load_enable.storage & ~load_dma.done) |
                                    (self._run_enable.storage & ~results_dma.done) | ~shell.idle)
        # run_cycles counts accel cycles while `running` (a register: it crosses with a MultiReg).
        self.sync += shell.running.eq(self._run_enable.storage & ~results_dma.done & ~reset)
        self.comb += [
            shell.clear.eq(self._control.fields.clear),
            shell.latch.eq(self._control.fields.latch),
            shell.layer_sel.eq(self._layer_sel.storage),
            self._status.fields.idle.eq(shell.idle),
            self._status.fields.load_done.eq(shell.load_done),
            self._status.fields.load_dma_done.eq(load_dma.done),
            self._status.fields.run_done.eq(results_dma.done),
            self._status.fields.frames_dma_done.eq(frames_dma.done),
            self._status.fields.counters_valid.eq(shell.counters_valid),
            self._status.fields.resetting.eq(shell.resetting),
            self._status.fields.load_error.eq(shell.load_error),
            self._run_cycles.status.eq(shell.run_cycles),
            self._cycles.status.eq(shell.cycles),
        ]
        self.comb += [getattr(self, f"_layer_{n}").status.eq(getattr(shell, f"layer_{n}")) for n in LAYER_COUNTERS]
        # Watchdog: sys cycles without a beat on any of the three DMA streams while a load or batch is on.
        busy = Signal()
        quiet = Signal(32)
        fired = Signal()
        beat = Signal()
        self.comb += [
            busy.eq((self._load_enable.storage & ~load_dma.done) | (self._run_enable.storage & ~results_dma.done)),
            beat.eq((shell.load.valid & shell.load.ready) | (shell.frames.valid & shell.frames.ready) |
                    (shell.results.valid & shell.results.ready)),
            self._status.fields.watchdog.eq(fired),
        ]
        self.sync += [
            If(reset | ~busy | beat, quiet.eq(0)).Elif(quiet != 0xFFFFFFFF, quiet.eq(quiet + 1)),
            If(reset, fired.eq(0)).Elif(busy & (self._watchdog.storage != 0) & (quiet >= self._watchdog.storage),
                                        fired.eq(1)),
        ]
        # Bus errors, sticky: a beat acked with `err`, or acked after waiting >= bus_timeout cycles (the
        # interconnect's Timeout answers a beat no slave decodes after bus_timeout cycles of cyc & stb &
        # ~ack, with all-ones data and no `err`; a beat of ours waits at least as long as its timer ran).
        errs = []
        for b in (load_bus, frames_bus, results_bus):
            e = Signal()
            self.comb += e.eq(b.cyc & b.stb & b.ack & b.err)
            if bus_timeout is not None:
                waited = Signal(max=int(bus_timeout) + 1)
                self.sync += If(~(b.cyc & b.stb) | b.ack, waited.eq(0)).Elif(waited != int(bus_timeout),
                                                                               waited.eq(waited + 1))
                e = e | (b.cyc & b.stb & b.ack & (waited == int(bus_timeout)))
            errs.append(e)
        self.comb += self._status.fields.bus_error.eq(bus_error)
        self.sync += If(reset, bus_error.eq(0)).Else(bus_error.eq(bus_error | Cat(*errs)))
        # IRQ on the rising edges of the DMA done flags.
        load_done_d, run_done_d = Signal(), Signal()
        self.sync += load_done_d.eq(load_dma.done), run_done_d.eq(results_dma.done)
        self.comb += [
            self.ev.load.trigger.eq(load_dma.done & ~load_done_d),
            self.ev.run.trigger.eq(results_dma.done & ~run_done_d),
        ]


def layer_descriptors(cfg):
    """{name: value} of every layer's hardware descriptor words (docs/load-image.md)."""
    out = {}
    for i, lc in enumerate(cfg.layers):
        for j, word in enumerate(lc.descriptor()):
            out[f"L{i}_DESC{j}"] = word
    return out


def unmapped_address(soc) -> int:
    """A word address-aligned byte address inside no bus region of `soc` (for fault injection)."""
    for base in range(0x10000000, 1 << 32, 0x10000000):
        if all(base + 0x10000000 <= r.origin or base >= r.origin + r.size for r in soc.bus.regions.values()):
            return base
    raise ValueError("the SoC's bus regions leave no 256 MiB hole for fault injection")


def add_snn_accel(soc, core_config, name="snn", *, accel_clk_freq, fault_injection=False):
    """Attach an AccelCore generated from `core_config` (soc.accel.config.AccelConfig) to `soc`.

    The caller provides two clock domains: `sys` (the SoC's: CSRs, DMAs) and `accel` (the core's),
    each with its own clock and a reset synchronous to it (e.g. a PLL output with
    `pll.create_clkout(ClockDomain("accel"), f)`, or a sim clocker), and `accel_clk_freq`, the
    `accel` clock in Hz. The two may be unrelated: every crossing is synchronized (soc.accel_cdc); on
    an FPGA, declare the sys <-> accel paths false (platform.add_false_path_constraints).

    fault_injection (test SoCs): adds the `inject` CSR, which points a DMA at unmapped_address(soc) so
    that its beats end in bus errors (status.bus_error).

    Adds `soc.<name>` (CSRs + EventManager IRQ), three Wishbone DMA masters on soc.dma_bus (or
    soc.bus), and the constants <NAME>_ACCEL_* (config.constants()), <NAME>_L<i>_DESC<j> and
    <NAME>_ACCEL_CLK_FREQ (Hz).
    """
    from soc.accel.core import AccelCore
    soc.check_if_exists(name)
    buses = []
    for role in ("load", "frames", "results"):
        bus = wishbone.Interface(data_width=soc.bus.data_width,
                                 adr_width=soc.bus.get_address_width(standard="wishbone"), addressing="word")
        buses.append(bus)
    periph = SNNAccel(AccelCore(core_config), *buses, bus_timeout=soc.bus.timeout,
                      inject_addr=unmapped_address(soc) if fault_injection else None)
    soc.add_module(name=name, module=periph)
    dma_bus = getattr(soc, "dma_bus", soc.bus)
    for role, bus in zip(("load", "frames", "results"), buses):
        dma_bus.add_master(name=f"{name}_{role}", master=bus)
    if soc.irq.enabled:
        soc.irq.add(name, use_loc_if_exists=True)
    prefix = name.upper()
    for key, value in {**core_config.constants(), **layer_descriptors(core_config)}.items():
        soc.add_constant(f"{prefix}_{key}", value)
    soc.add_constant(f"{prefix}_ACCEL_CLK_FREQ", int(accel_clk_freq))
    return periph
