"""A plain-loop reference of docs/spec.md, written independently of sw/golden.py: slow, obvious, NCHW."""
import numpy as np


def reference_forward(model, images):
    """images: uint8 [N,C,H,W] (static) or binary [N,T,C,H,W]. Returns readout [N, classes] as ints."""
    T = model.timesteps
    out = []
    for img in images:
        if model.in_kind == 0:
            q = [[[int(p) >> (8 - model.in_bits) for p in row] for row in ch] for ch in img]
            frames = [q] * T          # same input at every timestep
        else:
            frames = [img[t].tolist() for t in range(T)]
        acc = None
        for li, layer in enumerate(model.layers):
            s = layer.shape
            W = layer.weights         # [co, kh, kw, ci]
            Hc = (s.h + 2 * s.pad - s.kh) // s.stride + 1
            Wc = (s.w + 2 * s.pad - s.kw) // s.stride + 1
            V = [[[0] * Wc for _ in range(Hc)] for _ in range(s.co)]
            acc = [0] * s.co
            new_frames = []
            for t in range(T):
                x = frames[t]
                spk = [[[0] * Wc for _ in range(Hc)] for _ in range(s.co)]
                for co in range(s.co):
                    for y in range(Hc):
                        for xx in range(Wc):
                            cur = int(layer.bias[co])
                            for kh in range(s.kh):
                                for kw in range(s.kw):
                                    iy, ix = y * s.stride + kh - s.pad, xx * s.stride + kw - s.pad
                                    if 0 <= iy < s.h and 0 <= ix < s.w:
                                        for ci in range(s.ci):
                                            cur += int(W[co, kh, kw, ci]) * x[ci][iy][ix]
                            if s.readout:
                                acc[co] += cur
                                continue
                            h = V[co][y][xx] + cur
                            h = h // 2 if s.leak else h      # Python // floors like >>
                            if h > int(layer.vth[co]):
                                spk[co][y][xx] = 1
                                V[co][y][xx] = 0
                            else:
                                V[co][y][xx] = h
                if s.pool:
                    spk = [[[max(spk[c][2 * y + dy][2 * xx + dx] for dy in (0, 1) for dx in (0, 1))
                             for xx in range(Wc // 2)] for y in range(Hc // 2)] for c in range(s.co)]
                new_frames.append(spk)
            frames = new_frames
        out.append(acc)
    return np.array(out, dtype=np.int64)
