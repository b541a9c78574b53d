"""x8 self-ensemble: the 8 flips and 90-degree rotations of the dihedral group, each inverted exactly."""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor


def transform(x: Tensor, k: int) -> Tensor:
    """Element k of D4 on (..., H, W): rotate by k % 4 quarter turns, then flip W when k >= 4."""
    y = torch.rot90(x, k % 4, dims=(-2, -1))
    return y.flip(-1) if k >= 4 else y


def inverse(y: Tensor, k: int) -> Tensor:
    x = y.flip(-1) if k >= 4 else y
    return torch.rot90(x, -(k % 4), dims=(-2, -1))


def self_ensemble(fn: Callable[[Tensor], Tensor], x: Tensor, count: int = 8) -> Tensor:
    """Mean of ``inverse(fn(transform(x, k)), k)`` over the first ``count`` transforms.

    Each transform runs on its own (not batched) so that tiling and whole-image statistics apply
    to every orientation unchanged; the running sum keeps memory at one extra output.
    """
    total = None
    for k in range(count):
        y = inverse(fn(transform(x, k)), k)
        total = y if total is None else total + y
    return total / count
