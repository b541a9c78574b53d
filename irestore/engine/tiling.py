"""Tiled inference with overlap, smooth blending and whole-image statistics.

Tiles start on multiples of the model's size multiple, so every tile sees the same down-sampling
grid as the whole image would. Each overlap is blended with a raised-cosine ramp across its middle
half (the outer quarter on each side gets zero weight, so pixels whose receptive field leaves the
tile do not count); image borders are never feathered. Blending weights form a grid of separable
1-D profiles, so their sum is an outer product of two 1-D sums and needs no full-size accumulator.

Models with whole-image reductions (i-LN, channel attention, global pools) are run in passes (see
:mod:`irestore.nn.global_stats`): the first pass collects the statistics over a partition of the
image into tile cores, later passes replay them, so every tile uses the same, whole-image values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor, nn

from irestore.nn.global_stats import StatsContext


@dataclass(frozen=True)
class Axis:
    """Tile starts along one axis and the core partition (cut points between neighbouring tiles)."""

    starts: tuple[int, ...]
    cuts: tuple[int, ...]
    tile: int
    length: int


def plan_axis(length: int, tile: int, overlap: int, multiple: int) -> Axis:
    if tile >= length:
        return Axis((0,), (0, length), length, length)
    step = max(tile - overlap, multiple)
    count = math.ceil((length - tile) / step) + 1
    starts = sorted({min(i * step, length - tile) for i in range(count)})
    cuts = [0]
    for prev, nxt in zip(starts, starts[1:]):
        middle = (nxt + prev + tile) // 2
        cuts.append(max(nxt, min(prev + tile, middle - middle % multiple)))
    cuts.append(length)
    return Axis(tuple(starts), tuple(cuts), tile, length)


def blend_profile(axis: Axis, index: int, scale: int) -> Tensor:
    """1-D weights of tile ``index`` in output pixels: 1 inside, cosine ramps into each neighbour's overlap."""
    n = axis.tile * scale
    w = torch.ones(n, dtype=torch.float64)
    starts = axis.starts
    if index > 0:
        _ramp(w, (starts[index - 1] + axis.tile - starts[index]) * scale, rising=True)
    if index < len(starts) - 1:
        _ramp(w, (starts[index] + axis.tile - starts[index + 1]) * scale, rising=False)
    return w


def _ramp(w: Tensor, overlap: int, rising: bool) -> None:
    if overlap <= 0:
        return
    margin = overlap // 4
    width = max(overlap - 2 * margin, 1)
    t = (torch.arange(width, dtype=torch.float64) + 0.5) / width
    up = 0.5 - 0.5 * torch.cos(math.pi * t)
    edge = torch.cat([torch.zeros(margin, dtype=torch.float64), up, torch.ones(overlap - margin - width, dtype=torch.float64)])
    if rising:
        w[:overlap] *= edge
    else:
        w[-overlap:] *= edge.flip(0)


def tiled_forward(
    model: nn.Module,
    x: Tensor,
    *,
    tile: int,
    overlap: int,
    multiple: int,
    scale: int = 1,
    stats_passes: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> Tensor:
    """Run ``model`` on (B, C, H, W) ``x`` (H, W multiples of ``multiple``) tile by tile.

    ``stats_passes`` counts the passes that gather whole-image statistics before the output pass
    (each later one refines the previous estimate); 0 gives per-tile statistics, the naive approach
    kept for comparison. Models without whole-image reductions need no statistics pass.
    """
    _, _, h, w = x.shape
    tile = max(multiple, tile - tile % multiple)
    overlap = min(overlap - overlap % multiple, tile // 2)
    grid = (plan_axis(h, tile, overlap, multiple), plan_axis(w, tile, overlap, multiple))
    if stats_passes and not uses_global_stats(model, x, multiple):
        stats_passes = 0
    counter = _Progress(len(grid[0].starts) * len(grid[1].starts) * (stats_passes + 1), progress)
    ctx = None
    for _ in range(stats_passes):
        ctx = StatsContext(mode="collect") if ctx is None else ctx.finish()
        _run_pass(model, x, grid, ctx, scale, counter, blend=False)
    if ctx is not None:
        ctx = ctx.finish()
        ctx.collect = False
    return _run_pass(model, x, grid, ctx, scale, counter, blend=True)


def uses_global_stats(model: nn.Module, x: Tensor, multiple: int) -> bool:
    """Probe with a tiny input whether any module reduces over the whole image."""
    probe = x[:1, :, :multiple, :multiple]
    with StatsContext(mode="collect") as ctx, torch.no_grad():
        model(probe)
    return bool(ctx.sums)


class _Progress:
    def __init__(self, total: int, callback: Callable[[int, int], None] | None) -> None:
        self.total, self.done, self.callback = total, 0, callback

    def step(self) -> None:
        self.done += 1
        if self.callback is not None:
            self.callback(self.done, self.total)


def _run_pass(model, x: Tensor, grid: tuple[Axis, Axis], ctx: StatsContext | None, scale: int, counter: _Progress, blend: bool) -> Tensor | None:
    ay, ax = grid
    out = None
    for i, y0 in enumerate(ay.starts):
        for j, x0 in enumerate(ax.starts):
            piece = x[..., y0 : y0 + ay.tile, x0 : x0 + ax.tile]
            if ctx is None:
                y = model(piece)
            else:
                ctx.core = (ay.cuts[i] - y0, ay.cuts[i + 1] - y0, ax.cuts[j] - x0, ax.cuts[j + 1] - x0)
                ctx.tile_size = (ay.tile, ax.tile)
                with ctx:
                    y = model(piece)
            counter.step()
            if not blend:
                continue
            if out is None:
                out = x.new_zeros(x.shape[0], y.shape[1], ay.length * scale, ax.length * scale)
            weight = (blend_profile(ay, i, scale)[:, None] * blend_profile(ax, j, scale)[None, :]).to(y.dtype)
            out[..., y0 * scale : (y0 + ay.tile) * scale, x0 * scale : (x0 + ax.tile) * scale] += y * weight
    if not blend:
        return None
    norm = _profile_sum(ay, scale)[:, None] * _profile_sum(ax, scale)[None, :]
    return out / norm.to(out.dtype)


def _profile_sum(axis: Axis, scale: int) -> Tensor:
    total = torch.zeros(axis.length * scale, dtype=torch.float64)
    for i, s in enumerate(axis.starts):
        total[s * scale : (s + axis.tile) * scale] += blend_profile(axis, i, scale)
    return total
