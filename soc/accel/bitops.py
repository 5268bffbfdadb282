"""Bit-vector operators the scanner and the detector build their one-pair/one-chunk loops from.

Each returns a Migen expression. The carry-chain forms (`v - 1`, `v & -v`) are one CARRY4 per 4 bits
on xc7 (a CCU2C per 2 bits on ECP5), so on wide vectors they are split into blocks of `BLOCK` bits:
each block's chain runs at once, and a block learns whether a lower block has a set bit from an OR
tree over the block flags (a LUT tree, no chain). Up to `BLOCK` bits the plain form is kept, so
narrow vectors map exactly as before.
"""
from functools import reduce
from operator import or_

from migen import Cat, Constant

# bits per carry chain (8 CARRY4). 16 was tried first: on the A7-100T build's 52-bit chunks the block
# flags' OR trees made the extract loop 6 LUT levels deep (a 13-CARRY4 chain had been 2 LUT levels)
BLOCK = 32


def blocks_of(n: int) -> list[tuple[int, int]]:
    """(start, end) bit ranges of the carry-chain blocks of an n-bit vector (one block up to BLOCK)."""
    return [(i, min(i + BLOCK, n)) for i in range(0, n, BLOCK)]


def _blocks(v):
    return [v[a:b] for a, b in blocks_of(len(v))]


def reduce_tree(op, terms, wire=None, k=6, leaf_k=None):
    """op over `terms` as a tree of `k` inputs per node (`leaf_k` on the first level, default k: terms
    that are functions of several registers fit fewer to a LUT6); `wire(expr)`, if given, names every node
    but the root (soc.accel.verilog.kept_wires: kept nodes hold the tree's shape through synthesis)."""
    nodes, n = list(terms), leaf_k or k
    while len(nodes) > 1:
        nxt = [reduce(op, nodes[i:i + n]) for i in range(0, len(nodes), n)]
        nodes = [wire(x) for x in nxt] if wire is not None and len(nxt) > 1 else nxt
        n = k
    return nodes[0]


def tree_levels(n: int, k: int = 6) -> int:
    """Levels of reduce_tree over n terms, k per node (ceil(log_k n))."""
    levels = 0
    while n > 1:
        n, levels = -(-n // k), levels + 1
    return levels


def _any_below(nonzero):
    """Per block: some lower block has a set bit (a prefix OR over `nonzero`, the flags of every block
    but the last)."""
    return [reduce(or_, nonzero[:i]) if i else 0 for i in range(len(nonzero) + 1)]


def minus_one(v, nonzero=None):
    """v - 1 truncated to len(v) bits (all ones for v = 0): the lowest set bit cleared and the
    zeros below it set (assign it to a len(v)-bit signal). A block with a set bit below it is
    unchanged (no borrow reaches it). `nonzero`, if given, holds for every block but the last a
    signal equal to (that block != 0), e.g. a register kept beside v, in place of the OR trees."""
    if len(v) <= BLOCK:
        return v - 1
    blocks = _blocks(v)
    if nonzero is None:
        nonzero = [b != 0 for b in blocks[:-1]]
    assert len(nonzero) == len(blocks) - 1
    out = []
    for b, below in zip(blocks, _any_below(nonzero)):
        dec = (b - 1)[:len(b)]
        out.append(dec if isinstance(below, int) else
                   Cat(*[(below & b[i]) | (~below & dec[i]) for i in range(len(b))]))
    return Cat(*out)


def strided_order(n: int, k: int = 6) -> list[int]:
    """0 .. n-1 ordered so that consecutive runs of k (the first-level nodes of reduce_tree, at_most_one,
    sat_counts) take every m-th bit (m = ceil(n / k)): no run but a whole vector is a prefix 0 .. j-1.
    Beside a carry chain over the same bits (`~v + 1`, `v - 1`), a prefix OR is the inverted carry out of
    bit j-1, and yosys computed a kept node of that OR that way, a LUT1 after the chain, one LUT level
    more (random model 3's `c_nxt`, model 4's `sgl`: 5 levels)."""
    m = -(-n // k)
    return [i for r in range(m) for i in range(r, n, m)]


def strided(v, k: int = 6) -> list:
    """v's bits in strided_order."""
    return [v[i] for i in strided_order(len(v), k)]


def lowest(v, wire=None):
    """(one-hot lowest set bit, the rest): v & -v and v & (v - 1). `wire`, if given, names the nodes of
    each block's "!= 0" as reduce_tree does (abc9 chained a 32-bit block's OR 4-5 LUTs deep)."""
    if len(v) <= BLOCK:
        return v & (~v + 1), v & (v - 1)
    blocks = _blocks(v)
    out = []
    nonzero = [b != 0 if wire is None else wire(reduce_tree(or_, strided(b), wire))
               for b in blocks[:-1]]
    for b, below in zip(blocks, _any_below(nonzero)):
        one = (b & (~b + 1))[:len(b)]
        out.append(one if isinstance(below, int) else Cat(*[one[i] & ~below for i in range(len(b))]))
    one = Cat(*out)
    return one, v & ~one


def at_most_one(v, wire=None):
    """v has at most one bit set: a tree of (any, several) pairs, six inputs per LUT (3 levels up to
    54 bits, no carry chain; `v & (v - 1) == 0` mapped to a carry chain and 3 more levels). `wire(expr)`,
    if given, names every node but the root (as reduce_tree)."""
    nodes = [(b, None) for b in strided(v)]                 # (any, several); None: constant 0
    while len(nodes) > 1:
        k = 6 if all(m is None for _, m in nodes) else 3   # single bits: 6 per LUT; pairs: 3
        nxt = []
        for i in range(0, len(nodes), k):
            part = nodes[i:i + k]
            anys = [a for a, _ in part]
            two = [anys[x] & anys[y] for x in range(len(anys)) for y in range(x + 1, len(anys))]
            several = reduce(or_, [m for _, m in part if m is not None] + two, 0)
            nxt.append((reduce(or_, anys), several))
        if wire is not None and len(nxt) > 1:
            nxt = [(wire(a), m if isinstance(m, int) else wire(m)) for a, m in nxt]
        nodes = nxt
    return ~nodes[0][1] if nodes[0][1] is not None else 1


COUNT_GROUP = 6    # bits per saturating count: each of its two bits is one LUT6 of the group


def _code(ge1, ge2, ge3):
    """The 2-bit count min(n, 3) from "n >= 1", "n >= 2", "n >= 3" (a constant 0 for a group too small
    to reach it: never complemented, or Migen would print `~0` as the negative literal -1'd1)."""
    return Cat((ge1 if isinstance(ge2, int) else ge1 & ~ge2) | ge3, ge2)


def _any(terms):
    return reduce(or_, terms, 0)


def count_groups(n: int) -> list[list[int]]:
    """The bit indices of sat_counts' groups of an n-bit vector: COUNT_GROUP at a time in strided_order
    (a group of consecutive bits from 0 was a prefix OR that yosys took from a carry chain beside it)."""
    order = strided_order(n, COUNT_GROUP)
    return [order[a:a + COUNT_GROUP] for a in range(0, n, COUNT_GROUP)]


def sat_counts(v):
    """Per group of v's bits (count_groups): min(popcount, 3) as a 2-bit expression. Boolean logic, no
    `+`: yosys would map a sum to a carry chain (the first form, `sum > 3 ? 3 : sum`, put 5 CARRY4 on
    the A7-100T build's critical path), and Verilog would size it by its context."""
    out = []
    for group in count_groups(len(v)):
        b = [v[i] for i in group]
        n = len(b)
        out.append(_code(_any(b),
                         _any([b[i] & b[j] for i in range(n) for j in range(i + 1, n)]),
                         _any([b[i] & b[j] & b[k] for i in range(n) for j in range(i + 1, n) for k in range(j + 1, n)])))
    return out


def sat_sum(counts, wire=lambda e: e):
    """min(sum of 2-bit saturating counts, 3): a tree of three counts (six inputs) per LUT6 per bit.
    `wire(expr)` names each node (a module's comb signal): each node's bits are read several times by
    the next level, so unnamed the expression would grow threefold per level."""
    nodes = list(counts)
    while len(nodes) > 1:
        nxt = []
        for i in range(0, len(nodes), 3):
            part = nodes[i:i + 3]
            t1, t2, t3 = [x[0] | x[1] for x in part], [x[1] for x in part], [x[0] & x[1] for x in part]
            n = len(part)
            pairs = [(a, b) for a in range(n) for b in range(n) if a != b]     # a, b: not the loop's i
            nxt.append(_code(_any(t1),
                             _any(t2 + [t1[a] & t1[b] for a, b in pairs if a < b]),
                             _any(t3 + [t2[a] & t1[b] for a, b in pairs] + ([t1[0] & t1[1] & t1[2]] if n == 3 else []))))
        nodes = [wire(x) for x in nxt] if len(nxt) > 1 else nxt
    return nodes[0]


LT_CHUNK = 2    # bits per first-level compare: 4 inputs per "<" and "==" (with 3 bits, 6 inputs, abc9 split both
#               into two levels to share the top two bits' compare: random model 2's writer ready at 5)


def less_than(a, b, wire, b_negative=None):
    """a < b as a tree of kept nodes (`wire`, as reduce_tree; the root left unnamed), where abc9 had
    mapped a 7-bit `<` as a ripple of 4 LUTs (the writer's ready, docs/accelerator.md). a is unsigned; b
    is unsigned, or with `b_negative` the bits below its sign (two's complement: a < b needs b >= 0, and
    then compares as unsigned). Unequal widths: a shorter a is zero-extended, a shorter b by its sign.

    The top pair (lt, eq) holds b's sign and the longer operand's bits above the shorter one (their OR,
    one kept node when more than 3 inputs would result), an expression of <= 3 inputs that the first
    merge absorbs. Below it, per LT_CHUNK bits from the top, "<" and "==" as kept nodes (a last single
    bit is left as an expression of 2 inputs); then (lt, eq) pairs merged three per node from the top:
    <= 1 + ceil(log3(chunks + 1)) LUT levels (3 up to 16 common bits). The top pair is never a kept node
    of its own: when a's high bits were constant zeros inside a chunk, abc9 computed that chunk's "=="
    from its "<" node (one LUT level more)."""
    if b_negative is not None and len(b) < len(a):
        b = Cat(b, *[b_negative] * (len(a) - len(b)))
    n = min(len(a), len(b))
    hi_a, hi_b = [a[i] for i in range(n, len(a))], [b[i] for i in range(n, len(b))]
    s_eq = Constant(1, 1) if b_negative is None else ~b_negative     # (b's sign can only make a < b false)
    hi = hi_a + hi_b
    if hi:
        any_hi = reduce(or_, hi) if (b_negative is not None) + len(hi) <= 3 else wire(reduce_tree(or_, hi, wire))
        top = (s_eq & any_hi if hi_b else Constant(0, 1), s_eq & ~any_hi)
    else:
        top = (Constant(0, 1), s_eq)
    nodes = [top] if hi or b_negative is not None else []          # (lt, eq), most significant first
    for hi_bit in range(n, 0, -LT_CHUNK):
        lo = max(hi_bit - LT_CHUNK, 0)
        x, y = a[lo:hi_bit], b[lo:hi_bit]
        nodes.append((x < y, x == y) if hi_bit - lo == 1 else (wire(x < y), wire(x == y)))
    while len(nodes) > 1:
        nxt = []
        for i in range(0, len(nodes), 3):
            part = nodes[i:i + 3]
            lt, eq = part[-1]
            for hl, he in reversed(part[:-1]):   # (higher lt, eq) over what is below it
                lt, eq = hl | (he & lt), he & eq
            nxt.append((lt, eq) if len(part) == 1 or len(nodes) <= 3 else (wire(lt), wire(eq)))
        nodes = nxt
    return nodes[0][0]
