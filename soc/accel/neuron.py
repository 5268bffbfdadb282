"""Integer neuron unit (docs/spec.md): charge -> fire -> reset, one time step per cycle.

LIF (leak):  H = (V + I) >> 1 (arithmetic);  IF: H = V + I.   s = H > Vth;  V = 0 if s else H.
Readout:     V = V + I, never fires; after T steps the group's value is V = sum_t I_t.

Each input current drives `steps` time steps: 1 for a spiking input (one current per t), T for the
static first layer (its current is computed once and reused for every t). After T steps the unit emits
the T spike bits (bit t) or the readout accumulator, and V restarts at 0 for the next channel.

Ports:
  sink    current_layout(lc)             in
  source  [("spikes", T)] or [("value", (mem, signed))]   out
"""
from migen import Cat, If, Module, Signal

from litex.soc.interconnect import stream

from .config import LayerConfig, bits_for
from .detector import current_layout


def output_layout(lc: LayerConfig):
    if lc.shape.readout:
        return [("value", (lc.widths.mem, True))]   # sum over T of I_t
    return [("spikes", lc.timesteps)]                # bit t: fired at step t


def lif_step(v: int, i: int, vth: int, leak: bool):
    """Python model of one step: returns (spike, new V)."""
    h = (v + i) >> 1 if leak else v + i
    return (1, 0) if h > vth else (0, h)


class Neuron(Module):
    def __init__(self, lc: LayerConfig):
        self.sink = sink = stream.Endpoint(current_layout(lc))
        self.source = source = stream.Endpoint(output_layout(lc))
        self.busy = Signal()
        T, wd = lc.timesteps, lc.widths
        steps = T if lc.static else 1

        # # #

        v = Signal((wd.mem, True))
        cur = Signal((wd.acc, True))
        vth = Signal((wd.vth, True))
        left = Signal(bits_for(steps))           # steps still to run on the held current
        t = Signal(bits_for(T))
        bits = Signal(T)
        active = Signal()
        i_use = Signal((wd.acc, True))
        vth_use = Signal((wd.vth, True))
        step, final = Signal(), Signal()
        total = Signal((wd.mem + 1, True))
        h = Signal((wd.mem, True))
        fire = Signal()
        self.comb += [
            active.eq(left != 0),
            If(active, i_use.eq(cur), vth_use.eq(vth)).Else(i_use.eq(sink.current), vth_use.eq(sink.vth)),
            final.eq(t == T - 1),
            step.eq((active | sink.valid) & (~final | ~source.valid | source.ready)),
            sink.ready.eq(~active & step),
            total.eq(v + i_use),
            self.busy.eq(active | (t != 0) | source.valid),
        ]
        if lc.shape.readout:
            self.comb += h.eq(total)
        elif lc.shape.leak:
            self.comb += h.eq(total[1:])             # arithmetic shift: V + I fits mem bits
        else:
            self.comb += h.eq(total)
        if not lc.shape.readout:
            self.comb += fire.eq(h > vth_use)
        self.sync += [
            If(source.ready, source.valid.eq(0)),
            If(step,
                If(active, left.eq(left - 1)).Else(left.eq(steps - 1), cur.eq(sink.current), vth.eq(sink.vth)),
                If(fire, v.eq(0)).Else(v.eq(h)),
                bits.eq(Cat(bits[1:], fire)) if T > 1 else bits.eq(fire),
                t.eq(t + 1),
                If(final,
                    t.eq(0), v.eq(0), source.valid.eq(1),
                    source.value.eq(h) if lc.shape.readout else
                    source.spikes.eq(Cat(bits[1:], fire) if T > 1 else fire)),
            ),
        ]
