"""Integer neuron unit (docs/spec.md): charge -> fire -> reset, one time step per cycle.

LIF (leak):  H = (V + I) >> 1 (arithmetic);  IF: H = V + I.   s = H > Vth;  V = 0 if s else H.
Readout:     V = V + I, never fires; after T steps the group's value is V = sum_t I_t.

Each input current drives `steps` time steps: 1 for a spiking input (one current per t), T for the
static first layer (its current is computed once and reused for every t). After T steps the unit emits
the T spike bits (bit t) or the readout accumulator, and V restarts at 0 for the next channel.

Two stages:
  H hold:  the accepted current I and K = I - ((Vth + 1) << leak), held for its `steps` steps;
  S step:  V + I and V + K from registers side by side: s = (V + K >= 0) (the sign bit; the same as
           H > Vth), H from V + I, and the registered V, spike bits and output.

Ports:
  sink    current_layout(lc)             in
  source  [("spikes", T)] or [("value", (mem, signed))]   out
  busy                                   out  any current held or steps under way
"""
from migen import Cat, If, Module, Signal

from litex.soc.interconnect import stream

from .config import LayerConfig, bits_for
from .detector import current_layout
from .verilog import kept_wires


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
        leak = lc.shape.leak and not lc.shape.readout

        # # #

        # ---- H: hold the current and its threshold offset
        kw = max(wd.acc, wd.vth + 2) + 2
        h_valid, h_last = Signal(name="h_valid"), Signal(name="h_last")   # h_last: the held current's final step
        h_cur, h_k = Signal((wd.acc, True), name="h_cur"), Signal((kw, True), name="h_k")
        h_left = Signal(bits_for(steps), name="h_left")
        k_in = Signal((kw, True), name="k_in")
        step, load = Signal(name="step"), Signal(name="load")
        final = Signal(name="final", reset=int(T == 1))                    # this step is step T-1
        # step and sink.ready as kept nodes, each one LUT of registers and the downstream ready: written
        # out as operators, abc9 mapped them one per LUT and the handshake chain (source.ready -> step ->
        # sink.ready -> the upstream FIFO's read -> its enables) reached 5 levels (docs/accelerator.md)
        node = kept_wires(self, "hs")
        go = ~final | ~source.valid | source.ready
        self.comb += [
            k_in.eq(sink.current - ((sink.vth + 1) << int(leak))),
            step.eq(node(h_valid & go)),
            sink.ready.eq(node(~h_valid | (h_valid & go & h_last))),
            load.eq(sink.valid & sink.ready),
        ]
        self.sync += [
            If(step, h_left.eq(h_left - 1), h_last.eq(h_left == 2), If(h_last, h_valid.eq(0))),
            If(load, h_valid.eq(1), h_cur.eq(sink.current), h_k.eq(k_in), h_left.eq(steps),
               h_last.eq(steps == 1)),
        ]

        # ---- S: step
        v = Signal((wd.mem, True), name="v")
        t = Signal(bits_for(T), name="t")
        bits = Signal(T, name="bits")
        total = Signal((wd.mem + 1, True), name="total")
        over = Signal((max(wd.mem, kw) + 1, True), name="over")
        h = Signal((wd.mem, True), name="h")
        fire = Signal(name="fire")
        self.comb += [
            total.eq(v + h_cur),
            over.eq(v + h_k),
            h.eq(total[1:] if leak else total),            # arithmetic shift: V + I fits mem bits
            self.busy.eq(h_valid | (t != 0) | source.valid),
        ]
        if not lc.shape.readout:
            self.comb += fire.eq(~over[-1])
        self.sync += [
            If(source.ready, source.valid.eq(0)),
            If(step,
                If(fire, v.eq(0)).Else(v.eq(h)),
                bits.eq(Cat(bits[1:], fire)) if T > 1 else bits.eq(fire),
                t.eq(t + 1), final.eq(t == T - 2),
                If(final,
                    t.eq(0), v.eq(0), source.valid.eq(1), final.eq(T == 1),
                    source.value.eq(h) if lc.shape.readout else
                    source.spikes.eq(Cat(bits[1:], fire) if T > 1 else fire)),
            ),
        ]
