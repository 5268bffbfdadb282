"""Data parallelism under torchrun (DDP): every rank walks the same seeded global batches and takes its
own contiguous slice, so N processes see exactly the batches one process would."""
from __future__ import annotations

import numpy as np
import torch.distributed as dist


def world():
    """(rank, world size); (0, 1) outside torchrun."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def global_batches(n: int, batch: int, seed: int, epoch: int):
    """The epoch's global batches: a permutation of range(n) seeded by (seed, epoch), the last partial batch dropped."""
    perm = np.random.default_rng([seed, epoch]).permutation(n)
    return [perm[a:a + batch] for a in range(0, n - batch + 1, batch)] or [perm]


def rank_slice(idx: np.ndarray, rank: int, ws: int) -> np.ndarray:
    """This rank's contiguous share of one global batch."""
    k = len(idx) // ws
    return idx[rank * k:(rank + 1) * k]
