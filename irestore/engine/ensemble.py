"""x8 self-ensemble: the 8 flips and 90-degree rotations of the dihedral group, each inverted exactly."""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor


SHAPE_ORDER = (0, 2, 4, 6, 1, 3, 5, 7)
"""All eight transforms, those that keep (H, W) first: feature maps of one shape are reused."""


def transform(x: Tensor, k: int) -> Tensor:
    """Element k of D4 on (..., H, W): rotate by k % 4 quarter turns, then flip W when k >= 4.

    The identity returns ``x`` itself; a channels-last input stays channels-last.
    """
    if k == 0:
        return x
    y = torch.rot90(x, k % 4, dims=(-2, -1))
    return _layout_of(x, y.flip(-1) if k >= 4 else y)


def inverse(y: Tensor, k: int) -> Tensor:
    if k == 0:
        return y
    x = y.flip(-1) if k >= 4 else y
    return torch.rot90(x, -(k % 4), dims=(-2, -1))


def _layout_of(x: Tensor, y: Tensor) -> Tensor:
    if x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last):
        return y.contiguous(memory_format=torch.channels_last)
    return y


def transform_box(box: tuple[int, int, int, int], size: tuple[int, int], k: int) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
    """Where ``transform`` moves the rectangle ``(top, bottom, left, right)`` of an (H, W) image, and the new size.

    A quarter turn (``rot90`` on (H, W)) sends pixel (r, c) to (W - 1 - c, r).
    """
    (top, bottom, left, right), (h, w) = box, size
    for _ in range(k % 4):
        (top, bottom, left, right), (h, w) = (w - right, w - left, top, bottom), (w, h)
    if k >= 4:
        left, right = w - right, w - left
    return (top, bottom, left, right), (h, w)


def self_ensemble(fn: Callable[[Tensor], Tensor], x: Tensor, count: int = 8) -> Tensor:
    """Mean of ``inverse(fn(transform(x, k)), k)`` over the first ``count`` transforms.

    Each transform runs on its own (not batched) so that whole-image statistics apply to every
    orientation unchanged; the running sum keeps memory at one extra output. The engine runs the
    ensemble inside each tile instead (:func:`irestore.engine.tiling.run_tiles`), with one set of
    statistics per orientation, so memory stays bounded by the tile.
    """
    total = None
    for k in range(count):
        y = inverse(fn(transform(x, k)), k)
        total = y if total is None else total + y
    return total / count
