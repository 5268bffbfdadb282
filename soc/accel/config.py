"""Build-time parameters of the accelerator: one frozen `LayerConfig` per engine, one `AccelConfig` per core.

    cfg = AccelConfig.from_model(model, [(pco, pci), ...])   # soc.accel.balance.configure() chooses them
    cfg.signature        # CRC32 of describe(): the load image must carry the same value
    cfg.constants()      # upper-case ints for soc.add_constant

Nothing here is a runtime register. Derived widths and depths are properties; every constructor check
raises ConfigError naming the bad value.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

from sw import spec
from sw.topology import LayerShape

VAL_PER_WORD = 8          # packed 4-bit weights per value-memory word (= per load-image word)
SIG_VERSION = 1           # bump when the hardware layout of describe() changes meaning
MAX_PCI = 255             # the detector popcount sums byte fields
DOUBLE_BUFFER_READS = 2048  # window reads per frame from which the window gets a second register
DOUBLE_BUFFER_BITS = 1024   # windows up to this size always get one (it is cheap)


class ConfigError(ValueError):
    """A hardware configuration the generator cannot build; the message names the bad value."""


def bits_for(n: int) -> int:
    """Unsigned width that can hold 0..n (at least 1)."""
    return max(1, int(n).bit_length())


def pow2_at_least(n: int) -> int:
    return 1 << max(0, (int(n) - 1).bit_length())


@dataclass(frozen=True)
class LayerConfig:
    """One engine: the layer's shape and widths, and its parallelism.

    pco: output channels in flight (detectors); pci: kernel bits scanned per chunk (per token).
    planes: time steps T of a spiking input, or k bit-planes of the static first layer.
    """
    shape: LayerShape
    widths: spec.Widths
    pco: int
    pci: int
    timesteps: int
    planes: int
    static: bool = False          # layer 0 of a static model: input = k bit-planes, current reused over T

    def __post_init__(self):
        s = self.shape
        if not isinstance(self.pco, int) or not 1 <= self.pco <= s.co:
            raise ConfigError(f"layer {s.token()}: PCo={self.pco!r} must be in 1..{s.co} (its output channels)")
        if not isinstance(self.pci, int) or not 1 <= self.pci <= min(s.fan_in, MAX_PCI):
            raise ConfigError(f"layer {s.token()}: PCi={self.pci!r} must be in 1..{min(s.fan_in, MAX_PCI)} "
                              f"(its kernel length, at most {MAX_PCI})")
        if not 1 <= self.timesteps <= spec.MAX_TIMESTEPS:
            raise ConfigError(f"timesteps {self.timesteps}: must be in 1..{spec.MAX_TIMESTEPS}")
        if not 1 <= self.planes <= max(self.timesteps, 8):
            raise ConfigError(f"layer {s.token()}: planes={self.planes} out of range")
        if self.static and self.planes > 8:
            raise ConfigError(f"static layer: {self.planes} bit-planes, at most 8")
        if max(self.widths.as_tuple()) > spec.MAX_WIDTH:
            raise ConfigError(f"layer {s.token()}: widths {self.widths.as_tuple()} exceed {spec.MAX_WIDTH} bits")

    # ------------------------------------------------------------------ loop bounds
    @property
    def groups(self) -> int:
        """Output-channel groups G = ceil(co / PCo); detector d handles channels g*PCo + d."""
        return -(-self.shape.co // self.pco)

    @property
    def fan_in(self) -> int:
        return self.shape.fan_in

    @property
    def chunks(self) -> int:
        """Chunks per kernel: KCH = ceil(kh*kw*ci / PCi)."""
        return -(-self.fan_in // self.pci)

    @property
    def window(self) -> int:
        """Pixels in one kernel window: kh*kw."""
        return self.shape.kh * self.shape.kw

    @property
    def positions(self) -> int:
        return self.shape.conv_h * self.shape.conv_w

    # ------------------------------------------------------------------ stream widths
    @property
    def in_width(self) -> int:
        """Input pixel word: planes x ci bits, bit p*ci + c."""
        return self.planes * self.shape.ci

    @property
    def out_width(self) -> int:
        """Output pixel word: T x co spike bits, bit t*co + c (readout: unused)."""
        return self.timesteps * self.shape.co

    @property
    def plane_bits(self) -> int:
        return bits_for(self.planes - 1)

    @property
    def step_bits(self) -> int:
        return bits_for(self.timesteps)

    # ------------------------------------------------------------------ memories
    @property
    def buffer_depth(self) -> int:
        """Circular input-pixel buffer: a power of two >= the window span (kh-1)*W + kw plus slack rows
        (one, and stride more so the rows a strided window skips at the frame end always fit)."""
        s = self.shape
        return pow2_at_least((s.kh + s.stride) * s.w + s.kw)

    @property
    def window_reads(self) -> int:
        """Buffer reads per frame: kh*min(stride, kw) per position (columns are reused along a row),
        one hand-over cycle per position, and the columns a row start cannot reuse."""
        s = self.shape
        cnew = min(s.stride, s.kw)
        return self.positions * (s.kh * cnew + 1) + s.conv_h * s.kh * (s.kw - cnew)

    @property
    def double_buffer(self) -> bool:
        """Load the next window while scanning this one. The second window register is cheap for small
        windows and worth it where the reads are many (high-resolution maps); a large window read a few
        times per frame (deep layers, the fc readout) is loaded between scans instead."""
        return self.window * self.in_width <= DOUBLE_BUFFER_BITS or self.window_reads >= DOUBLE_BUFFER_READS

    @property
    def chunk_depth(self) -> int:
        """Chunk records per detector: G * KCH, address g*KCH + j."""
        return self.groups * self.chunks

    @property
    def val_capacity(self) -> int:
        """Non-zero weights one detector can hold: its G whole kernels (dense weights fit)."""
        return self.groups * self.fan_in

    @property
    def val_depth(self) -> int:
        return -(-self.val_capacity // VAL_PER_WORD)

    @property
    def base_width(self) -> int:
        return bits_for(self.val_capacity)

    @property
    def mask_words(self) -> int:
        return -(-self.pci // 32)

    @property
    def chunk_words(self) -> int:
        """Load-image words per chunk record: the PCi mask bits, then one word with the base offset."""
        return self.mask_words + 1

    @property
    def group_bits(self) -> int:
        return bits_for(self.groups - 1)

    @property
    def chunk_bits(self) -> int:
        return bits_for(self.chunk_depth - 1)

    def load_words(self) -> int:
        """Words of this layer in the load image (descriptor + every detector's memories)."""
        per_det = self.chunk_depth * self.chunk_words + self.val_depth + 2 * self.groups
        return len(self.descriptor()) + self.pco * per_det

    def descriptor(self) -> tuple:
        """The layer's words in the load-image header (docs/load-image.md); widths checked as <=."""
        s = self.shape
        flags = int(s.pool) | int(s.leak) << 1 | int(s.readout) << 2
        kind = 1 if s.kind == "fc" else 0
        w = self.widths
        return (kind | flags << 8 | s.kh << 16 | s.kw << 24,
                s.stride | s.pad << 8 | s.ci << 16,
                s.h | s.w << 16,
                s.co,
                w.acc | w.mem << 8 | w.bias << 16 | w.vth << 24)

    def describe(self) -> str:
        return f"{self.shape.token()}:{self.shape.in_shape}:w{self.widths.as_tuple()}:p{self.planes}:" \
               f"s{int(self.static)}:pco{self.pco}:pci{self.pci}:lk{int(self.shape.leak)}:db{int(self.double_buffer)}"


@dataclass(frozen=True)
class AccelConfig:
    """The whole core: one LayerConfig per compute layer, plus FIFO depths.

    fifo_depth: pixels buffered between engines; det_fifo_depth: chunk tokens queued per detector.
    """
    layers: tuple
    timesteps: int
    in_bits: int
    in_kind: int = spec.IN_STATIC
    fifo_depth: int = 4
    det_fifo_depth: int = 16

    def __post_init__(self):
        if not self.layers:
            raise ConfigError("an accelerator needs at least one layer")
        if self.in_kind not in (spec.IN_STATIC, spec.IN_TEMPORAL):
            raise ConfigError(f"input kind {self.in_kind}: expected 0 (static) or 1 (temporal)")
        if not 1 <= self.in_bits <= 8:
            raise ConfigError(f"input bits {self.in_bits}: must be in 1..8")
        for name in ("fifo_depth", "det_fifo_depth"):
            if getattr(self, name) < 2:
                raise ConfigError(f"{name}={getattr(self, name)}: must be >= 2")
        for i, l in enumerate(self.layers):
            if l.timesteps != self.timesteps:
                raise ConfigError(f"layer {i}: timesteps {l.timesteps} != {self.timesteps}")
            if l.shape.readout != (i == len(self.layers) - 1):
                raise ConfigError(f"layer {i}: only the last layer is the readout")
        for a, b in zip(self.layers, self.layers[1:]):
            if a.shape.out_shape != b.shape.in_shape:
                raise ConfigError(f"layer chain: {a.shape.out_shape} does not feed {b.shape.in_shape}")

    @classmethod
    def from_model(cls, model, parallelism, **kw) -> "AccelConfig":
        """Hardware for `model`'s topology and widths with parallelism [(PCo, PCi)] per layer
        (soc.accel.balance.configure() lets balance() choose it)."""
        if len(parallelism) != len(model.layers):
            raise ConfigError(f"parallelism has {len(parallelism)} entries for {len(model.layers)} layers")
        layers = []
        for i, (l, (pco, pci)) in enumerate(zip(model.layers, parallelism)):
            static = i == 0 and model.in_kind == spec.IN_STATIC
            layers.append(LayerConfig(l.shape, l.widths, int(pco), int(pci), model.timesteps,
                                      model.in_bits if static else model.timesteps, static))
        return cls(tuple(layers), model.timesteps, model.in_bits, model.in_kind, **kw)

    @property
    def parallelism(self):
        return tuple((l.pco, l.pci) for l in self.layers)

    @property
    def num_classes(self) -> int:
        return self.layers[-1].shape.co

    @property
    def input_shape(self):
        return self.layers[0].shape.in_shape

    @property
    def frame_words(self) -> int:
        """32-bit words per input frame (docs/accel-interface.md)."""
        from sw.frames import frame_words
        return frame_words(self.input_shape, self.in_kind, self.timesteps)

    @property
    def result_words(self) -> int:
        return 1 + self.num_classes

    def describe(self) -> str:
        return f"ffs-accel-v{SIG_VERSION};T{self.timesteps};b{self.in_bits};k{self.in_kind};" + \
            ";".join(l.describe() for l in self.layers)

    @property
    def signature(self) -> int:
        return zlib.crc32(self.describe().encode())

    def load_words(self) -> int:
        """Length of the load image in 32-bit words: header (3), layers, end marker (1)."""
        return 3 + sum(l.load_words() for l in self.layers) + 1

    def constants(self) -> dict:
        c = {"ACCEL_SIGNATURE": self.signature, "ACCEL_LAYERS": len(self.layers),
             "ACCEL_TIMESTEPS": self.timesteps, "ACCEL_IN_BITS": self.in_bits, "ACCEL_IN_KIND": self.in_kind,
             "ACCEL_NUM_CLASSES": self.num_classes, "ACCEL_FRAME_WORDS": self.frame_words,
             "ACCEL_RESULT_WORDS": self.result_words, "ACCEL_LOAD_WORDS": self.load_words()}
        for i, l in enumerate(self.layers):
            c[f"ACCEL_L{i}_PCO"] = l.pco
            c[f"ACCEL_L{i}_PCI"] = l.pci
        return c

    def fits(self, model) -> str | None:
        """None if `model` can run on this hardware, else why not (topology, T, input, or widths)."""
        if len(model.layers) != len(self.layers):
            return f"model has {len(model.layers)} layers, hardware {len(self.layers)}"
        if (model.timesteps, model.in_bits, model.in_kind) != (self.timesteps, self.in_bits, self.in_kind):
            return (f"model T/in_bits/in_kind {(model.timesteps, model.in_bits, model.in_kind)} != hardware "
                    f"{(self.timesteps, self.in_bits, self.in_kind)}")
        for i, (m, h) in enumerate(zip(model.layers, self.layers)):
            if m.shape != h.shape:
                return f"layer {i}: model {m.shape.token()} {m.shape.in_shape} != hardware " \
                       f"{h.shape.token()} {h.shape.in_shape}"
            if not h.widths.covers(m.widths):
                return f"layer {i}: model widths {m.widths.as_tuple()} exceed hardware {h.widths.as_tuple()}"
        return None
