"""Tiled inference with overlap, smooth blending and whole-image statistics.

Tiles start on multiples of the model's size multiple, so every tile sees the same down-sampling
grid as the whole image would. Each overlap is blended with a raised-cosine ramp across its middle
half (the outer quarter on each side gets zero weight, so pixels whose receptive field leaves the
tile do not count); image borders are never feathered. Blending weights form a grid of separable
1-D profiles, so their sum is an outer product of two 1-D sums: dividing each 1-D profile by its
sum beforehand makes the blend a plain weighted sum, written straight into the output.

The tiles are read and written through two callables, so the caller decides where pixels live
(a tensor, or a numpy image that is never copied whole): memory is bounded by the tile.

Models with whole-image reductions (i-LN, channel attention, global pools) are run in passes (see
:mod:`irestore.nn.global_stats`): the first pass collects the statistics over a partition of the
image into tile cores, later passes replay them, so every tile uses the same, whole-image values.
A grid of one tile is the whole image: its own statistics are exact and it needs no extra pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from torch import Tensor, nn

from irestore.engine.ensemble import SHAPE_ORDER, inverse, transform, transform_box
from irestore.nn.global_stats import StatsContext

Reader = Callable[[int, int], Tensor]
"""``read(y0, x0)``: the (1, C, tile_h, tile_w) input tile whose top-left corner is (y0, x0)."""
Writer = Callable[[int, int, Tensor, Tensor, Tensor], None]
"""``write(y0, x0, y, wy, wx)``: add ``y * wy[:, None] * wx[None, :]`` at (y0, x0) times the scale."""


@dataclass(frozen=True)
class Axis:
    """Tile starts along one axis and the core partition (cut points between neighbouring tiles)."""

    starts: tuple[int, ...]
    cuts: tuple[int, ...]
    tile: int
    length: int


def plan_axis(length: int, tile: int, overlap: int, multiple: int) -> Axis:
    """The fewest tiles of at most ``tile`` that cover ``length`` with ``overlap``, shrunk to share it evenly.

    Shrinking matters: 1024 px in 512 px tiles with 32 px overlap needs three tiles, and three of
    368 px recompute 8% of the axis where 0, 480, 512 would recompute 50%. Lengths are counted in
    units of ``multiple`` so that every start stays on the model's down-sampling grid, and any
    slack widens the overlaps (never narrows them).
    """
    if tile >= length:
        return Axis((0,), (0, length), length, length)
    units, size = length // multiple, max(tile // multiple, 1)
    lap = min(overlap // multiple, size - 1)
    count = math.ceil((units - lap) / (size - lap))
    size = math.ceil((units + (count - 1) * lap) / count)
    slack = count * size - (count - 1) * lap - units
    starts = [0]
    for i in range(count - 1):
        starts.append(starts[-1] + size - lap - slack // (count - 1) - (i < slack % (count - 1)))
    starts = [s * multiple for s in starts]
    tile = size * multiple
    cuts = [0]
    for prev, nxt in zip(starts, starts[1:]):
        middle = (nxt + prev + tile) // 2
        cuts.append(max(nxt, min(prev + tile, middle - middle % multiple)))
    cuts.append(length)
    return Axis(tuple(starts), tuple(cuts), tile, length)


@dataclass(frozen=True)
class Grid:
    """Tiles over a (padded) image: a product of two axes."""

    rows: Axis
    cols: Axis
    multiple: int

    @classmethod
    def plan(cls, height: int, width: int, tile: int, overlap: int, multiple: int) -> "Grid":
        tile = max(multiple, tile - tile % multiple)
        overlap = min(overlap - overlap % multiple, tile // 2)
        return cls(plan_axis(height, tile, overlap, multiple), plan_axis(width, tile, overlap, multiple), multiple)

    @property
    def tile_size(self) -> tuple[int, int]:
        return self.rows.tile, self.cols.tile

    def __len__(self) -> int:
        return len(self.rows.starts) * len(self.cols.starts)

    def __iter__(self) -> Iterator[tuple[int, int, int, int]]:
        """(i, j, y0, x0) in row-major order."""
        for i, y0 in enumerate(self.rows.starts):
            for j, x0 in enumerate(self.cols.starts):
                yield i, j, y0, x0

    def core(self, i: int, j: int) -> tuple[int, int, int, int]:
        """Tile (i, j)'s share of the image partition, in the tile's coordinates."""
        ay, ax = self.rows, self.cols
        y0, x0 = ay.starts[i], ax.starts[j]
        return ay.cuts[i] - y0, ay.cuts[i + 1] - y0, ax.cuts[j] - x0, ax.cuts[j + 1] - x0


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


def _profile_sum(axis: Axis, scale: int) -> Tensor:
    total = torch.zeros(axis.length * scale, dtype=torch.float64)
    for i, s in enumerate(axis.starts):
        total[s * scale : (s + axis.tile) * scale] += blend_profile(axis, i, scale)
    return total


def blend_weights(axis: Axis, scale: int) -> list[Tensor]:
    """Each tile's profile divided by the sum of all profiles: along the axis they sum to exactly 1."""
    total = _profile_sum(axis, scale)
    n = axis.tile * scale
    return [(blend_profile(axis, i, scale) / total[s * scale : s * scale + n]).float() for i, s in enumerate(axis.starts)]


def run_tiles(
    model: nn.Module,
    grid: Grid,
    read: Reader,
    write: Writer,
    *,
    scale: int = 1,
    stats_passes: int = 2,
    orientations: int = 1,
    batch: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Run ``model`` over every tile of ``grid`` (in ``orientations`` of the x8 ensemble) and blend.

    ``stats_passes`` passes gather whole-image statistics before the output pass (each refines the
    previous estimate); 0 gives per-tile statistics, the naive approach kept for comparison. Each
    orientation has its own statistics, as the whole transformed image would. The output pass may
    run ``batch`` tiles per call (replayed statistics are per image, so they broadcast); collecting
    passes run one tile at a time because each tile has its own core.
    """
    if len(grid) == 1 or (stats_passes and not uses_global_stats(model, read(0, 0), grid.multiple)):
        stats_passes = 0
    counter = _Progress(len(grid) * orientations * (stats_passes + 1), progress)
    contexts = _collect_statistics(model, grid, read, stats_passes, orientations, counter)
    weights = (blend_weights(grid.rows, scale), blend_weights(grid.cols, scale))
    tiles, batch = list(grid), max(batch, 1)
    for start in range(0, len(tiles), batch):
        chunk = tiles[start : start + batch]
        pieces = torch.cat([read(y0, x0) for _, _, y0, x0 in chunk])
        y = None
        for k in _orientations(orientations):
            out = inverse(_call(model, transform(pieces, k), contexts[k]), k)
            y = out if y is None else y.add_(out)
            for _ in chunk:
                counter.step()
        if orientations > 1:
            y = y.div_(orientations)
        for n, (i, j, y0, x0) in enumerate(chunk):
            write(y0, x0, y[n : n + 1], weights[0][i].to(y.device), weights[1][j].to(y.device))


def _collect_statistics(model: nn.Module, grid: Grid, read: Reader, passes: int, orientations: int, counter: "_Progress") -> list[StatsContext | None]:
    """Replaying contexts (one per orientation) after ``passes`` collecting passes; None for no passes."""
    contexts: list[StatsContext | None] = [None] * orientations
    for _ in range(passes):
        contexts = [StatsContext(mode="collect") if ctx is None else ctx.finish() for ctx in contexts]
        for i, j, y0, x0 in grid:
            piece = read(y0, x0)
            for k in _orientations(orientations):
                ctx = contexts[k]
                ctx.core, ctx.tile_size = transform_box(grid.core(i, j), grid.tile_size, k)
                with ctx:
                    model(transform(piece, k))
                counter.step()
    replay = [None if ctx is None else ctx.finish() for ctx in contexts]
    for ctx in replay:
        if ctx is not None:
            ctx.collect = False
    return replay


def _orientations(count: int) -> tuple[int, ...]:
    return SHAPE_ORDER if count == len(SHAPE_ORDER) else tuple(range(count))


def _call(model: nn.Module, x: Tensor, ctx: StatsContext | None) -> Tensor:
    if ctx is None:
        return model(x)
    with ctx:
        return model(x)


def tiled_forward(
    model: nn.Module,
    x: Tensor,
    *,
    tile: int,
    overlap: int,
    multiple: int,
    scale: int = 1,
    stats_passes: int = 2,
    batch: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Tensor:
    """Run ``model`` on (B, C, H, W) ``x`` (H, W multiples of ``multiple``) tile by tile."""
    _, _, h, w = x.shape
    grid = Grid.plan(h, w, tile, overlap, multiple)
    th, tw = grid.tile_size
    out: list[Tensor] = []

    def read(y0: int, x0: int) -> Tensor:
        return x[..., y0 : y0 + th, x0 : x0 + tw]

    def write(y0: int, x0: int, y: Tensor, wy: Tensor, wx: Tensor) -> None:
        if not out:
            out.append(x.new_zeros(x.shape[0], y.shape[1], h * scale, w * scale))
        region = out[0][..., y0 * scale : y0 * scale + y.shape[-2], x0 * scale : x0 * scale + y.shape[-1]]
        region += y * (wy[:, None] * wx[None, :]).to(y.dtype)

    run_tiles(model, grid, read, write, scale=scale, stats_passes=stats_passes, batch=batch if x.shape[0] == 1 else 1, progress=progress)
    return out[0]


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
