"""The hardware load image (docs/load-image.md): a model artifact laid out for one AccelConfig.

    words = build(model, cfg)        # np.uint32 array, cfg.load_words() long; raises LoadImageError

The firmware mirrors `build` in C; tests/soc/accel/test_loadimage.py pins the layout.
"""
from __future__ import annotations

import numpy as np

from .config import VAL_PER_WORD, AccelConfig, LayerConfig

MAGIC = 0x4C534646       # "FFSL" little-endian
END = 0x45534646         # "FFSE"

# load_error codes (hardware and docs/load-image.md)
ERR_OK = 0
ERR_MAGIC = 1            # word 0 is not MAGIC
ERR_SIGNATURE = 2        # image built for another hardware configuration
ERR_LAYERS = 3           # layer count differs
ERR_TOPOLOGY = 4         # a layer descriptor's shape word differs from the hardware's
ERR_WIDTHS = 5           # a layer's model widths exceed the hardware's
ERR_END = 6              # the word after the last section is not END
ERR_LENGTH = 7           # a word arrived after the end marker
ERROR_NAMES = {ERR_OK: "ok", ERR_MAGIC: "bad magic", ERR_SIGNATURE: "signature mismatch",
               ERR_LAYERS: "layer count mismatch", ERR_TOPOLOGY: "topology mismatch",
               ERR_WIDTHS: "model widths exceed hardware", ERR_END: "bad end marker",
               ERR_LENGTH: "words after the end marker"}


class LoadImageError(ValueError):
    """The model cannot be laid out for this hardware; the message says why."""


def detector_channels(lc: LayerConfig, d: int):
    """Output channels handled by detector d, group by group (None for a padding slot)."""
    return [g * lc.pco + d if g * lc.pco + d < lc.shape.co else None for g in range(lc.groups)]


def _pack_nibbles(vals: np.ndarray, nwords: int) -> np.ndarray:
    nib = np.zeros(nwords * VAL_PER_WORD, np.uint64)
    nib[:len(vals)] = vals.astype(np.int64) & 0xF
    return (nib.reshape(-1, VAL_PER_WORD) << (4 * np.arange(VAL_PER_WORD, dtype=np.uint64))).sum(1)


def layer_words(layer, lc: LayerConfig) -> list:
    """Descriptor (with the model's widths) and, per detector, chunk records, values and params."""
    w = layer.widths
    desc = list(lc.descriptor())
    desc[4] = w.acc | w.mem << 8 | w.bias << 16 | w.vth << 24
    out = [np.asarray(desc, np.uint64)]
    flat = layer.flat
    k, pci, kch = lc.fan_in, lc.pci, lc.chunks
    for d in range(lc.pco):
        chunks = np.zeros((lc.groups, kch, lc.chunk_words), np.uint64)
        vals, params, base = [], np.zeros((lc.groups, 2), np.uint64), 0
        for g, c in enumerate(detector_channels(lc, d)):
            row = np.zeros(kch * pci, np.int64)
            if c is not None:
                row[:k] = flat[c]
                params[g] = (int(layer.bias[c]) & 0xFFFFFFFF, int(layer.vth[c]) & 0xFFFFFFFF)
            for j in range(kch):
                seg = row[j * pci:(j + 1) * pci]
                m = sum(1 << int(i) for i in np.flatnonzero(seg))
                for mw in range(lc.mask_words):
                    chunks[g, j, mw] = (m >> (32 * mw)) & 0xFFFFFFFF
                chunks[g, j, -1] = base
                nz = seg[seg != 0]
                vals.append(nz)
                base += len(nz)
        out += [chunks.reshape(-1), _pack_nibbles(np.concatenate(vals), lc.val_depth), params.reshape(-1)]
    return out


def build(model, cfg: AccelConfig) -> np.ndarray:
    """The load image of `model` for hardware `cfg` (docs/load-image.md)."""
    why = cfg.fits(model)
    if why:
        raise LoadImageError(f"model does not fit the generated hardware: {why}")
    parts = [np.asarray([MAGIC, cfg.signature, len(cfg.layers)], np.uint64)]
    for layer, lc in zip(model.layers, cfg.layers):
        parts += layer_words(layer, lc)
    parts.append(np.asarray([END], np.uint64))
    words = np.concatenate(parts).astype(np.uint32)
    assert len(words) == cfg.load_words(), (len(words), cfg.load_words())
    return words
