"""The inference engine: numpy image in, restored numpy image out.

pad to the model's multiple -> tiles (one tile when the image fits the memory budget) -> per tile:
(x8 self-ensemble) -> model with whole-image statistics -> blend into the output -> clamp.

Memory is bounded by the tile, not the image: tiles are read from the caller's HxWxC array (a
tile of it is exactly the channels-last layout the model runs in) and padded on the fly, and the
blend accumulates in the float32 output array that is returned, so no other whole-image copy is
ever made. ``memory_mb`` covers those two images plus the activations of one tile.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch import Tensor, nn

from irestore.engine.allocator import large_maps_mapped, mapped_zeros, reuse_freed_memory
from irestore.engine.device import PRECISIONS, autocast, check_precision, resolve_device
from irestore.engine.fuse import inference_model
from irestore.engine.tiling import Grid, run_tiles
from irestore.errors import IRestoreError

DEFAULT_MEMORY_BUDGET_MB = 1536
BYTES_PER_PIXEL_PER_CHANNEL = 20
"""Peak activation bytes per input pixel per unit of model width (fp32, fused inference form).

Measured with ``irestore bench --calibrate`` (docs/speed.md, "Activation memory"): growth of peak
RSS with image size, whole images in fresh processes. The banded, in-place inference form (issue
36) measured 12.9 (denoise-real) and 9.7 (deblur) over 0.25-1 MP, 15.3 and 15.5 over 0.25-4 MP,
and 9.7-17.3 over every calibration of it; the form before it 49-77 (the constant was 80). 20
leaves room for glibc heap fragmentation, which moves peak RSS by up to 250 MB between identical
4 MP runs.
"""
LOW_PRECISION_STREAM_BYTES = 6.5
"""The same for a whole photo through a U-Net whose full-resolution stream runs in bf16 (``low_precision_stream``).

Its stream and skips take 2 bytes per value instead of 4, and a photo that fits only by this
constant maps its large maps and its output on their own (:meth:`Restorer.maps_large_maps`), so the
heap fragmentation the float32 constant allows for is not there: ``deblur`` peaked at 4.9-5.6 bytes
whole at 12 MP in bf16 (1 416-1 558 MB over fifteen photos; docs/speed.md, "A 12 MP photo whole").
Tiles stay on the heap and are planned with :data:`BYTES_PER_PIXEL_PER_CHANNEL`: planned with this
one, 50 MP ran in 2.6 MP tiles that peaked at 2.0 GB.
"""
MIN_TILE = 128
GPU_TILE_BATCH = 4


def auto_tile(height: int, width: int, model_width: int, multiple: int, budget_mb: float) -> int:
    """0 (whole image) when it fits the budget, else the largest square tile that does."""
    per_pixel = BYTES_PER_PIXEL_PER_CHANNEL * model_width
    max_pixels = max(budget_mb, 0) * 2**20 / per_pixel
    if height * width <= max_pixels:
        return 0
    side = int(math.sqrt(max_pixels))
    return max(multiple * 4, MIN_TILE - MIN_TILE % multiple, side - side % multiple)


class Restorer:
    """Callable restoring float32 HxWxC images in [0, 1] with one model.

    ``tile``: None = auto from ``memory_mb``, 0 = whole image, N = N x N tiles with ``overlap``.
    ``batch``: tiles per model call in the output pass (None: 1 on the CPU, where batching does
    not pay, :data:`GPU_TILE_BATCH` elsewhere).
    ``low_precision_stream``: under bf16/fp16, a U-Net's full-resolution stream runs in that dtype
    too, halving the memory of a whole photo; a release's calibrated choice (:attr:`LoadedModel.low_precision_stream`).
    A colour model given a gray image sees it replicated to RGB and returns the channel mean;
    a gray model given a colour image restores each channel on its own.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        tile: int | None = None,
        overlap: int = 32,
        ensemble: bool = False,
        device: str = "cpu",
        precision: str = "fp32",
        stats_passes: int = 2,
        memory_mb: float = DEFAULT_MEMORY_BUDGET_MB,
        batch: int | None = None,
        progress: Callable[[int, int], None] | None = None,
        low_precision_stream: bool = False,
    ) -> None:
        if tile is not None and tile < 0:
            raise IRestoreError(f"--tile {tile}: must be 0 (whole image) or a positive size")
        if overlap < 0:
            raise IRestoreError(f"--tile-overlap {overlap}: must be >= 0")
        self.device = resolve_device(device)
        self.dtype = check_precision(precision, self.device)
        self.precision = next(name for name, dtype in PRECISIONS.items() if dtype == self.dtype)
        if self.device.type == "cpu":
            reuse_freed_memory()
        self.low_precision_stream = low_precision_stream and self.dtype != torch.float32
        self.model = inference_model(model, low_precision_stream=self.low_precision_stream).to(self.device)
        self.config = model.config
        self.tile, self.overlap, self.ensemble = tile, overlap, ensemble
        self.stats_passes, self.memory_mb, self.progress = stats_passes, memory_mb, progress
        self.batch = batch or (1 if self.device.type == "cpu" else GPU_TILE_BATCH)

    @property
    def scale(self) -> int:
        return self.config.scale

    def __call__(self, img: np.ndarray) -> np.ndarray:
        if img.ndim == 2:
            img = img[..., None]
        h, w, channels = img.shape
        model_channels, s = self.config.in_channels, self.scale
        if channels not in (model_channels, 1) and not (channels == 3 and model_channels == 1):
            raise IRestoreError(f"the model takes {model_channels} channels, the image has {channels}")
        shape, mapped = (h * s, w * s, channels), self.maps_large_maps(h, w)
        out = mapped_zeros(shape, np.float32) if mapped else np.zeros(shape, np.float32)
        planes = [(img, out)] if model_channels != 1 else [(img[..., c : c + 1], out[..., c : c + 1]) for c in range(channels)]
        with large_maps_mapped(mapped):
            for src, dst in planes:
                self._restore_into(src, dst)
        return np.clip(out, 0.0, 1.0, out=out)

    def tile_for(self, height: int, width: int) -> int:
        """The tile side used for an image of this size (0: whole image)."""
        if self.tile is not None:
            return self.tile
        ph, pw, _ = padding(height, width, self.config.multiple)
        budget = self._activation_budget_mb(height, width)
        if self.low_precision_stream and self.device.type == "cpu" and self._planned_mb(ph, pw, LOW_PRECISION_STREAM_BYTES) <= budget:
            return 0
        return auto_tile(ph, pw, self.config.width, self.config.multiple, budget)

    def maps_large_maps(self, height: int, width: int) -> bool:
        """Whether a photo of this size runs whole only by :data:`LOW_PRECISION_STREAM_BYTES`, which holds only with its large maps and output mapped on their own.

        Such a run maps them (:func:`~irestore.engine.allocator.large_maps_mapped`,
        :func:`~irestore.engine.allocator.mapped_zeros`): on the heap, where a map lands depends on
        what the threads freed before it, and identical 12 MP ``deblur`` runs peaked anywhere from
        1.5 to 2.2 GB; mapped, at 1.42-1.56 GB (docs/speed.md, "A 12 MP photo whole"). Tiles and
        photos that fit by the heap's constant stay on the heap, whose reuse is worth more: mapped,
        ``sr-x2`` ran a fifth slower at 1 MP.
        """
        if not self.low_precision_stream or self.device.type != "cpu" or self.tile_for(height, width) != 0:
            return False
        ph, pw, _ = padding(height, width, self.config.multiple)
        return self._planned_mb(ph, pw, BYTES_PER_PIXEL_PER_CHANNEL) > self._activation_budget_mb(height, width)

    def _planned_mb(self, height: int, width: int, bytes_per_channel: float) -> float:
        return height * width * self.config.width * bytes_per_channel / 2**20

    def _activation_budget_mb(self, height: int, width: int) -> float:
        """``memory_mb`` less the input and output images."""
        return self.memory_mb - height * width * 4 * self.config.in_channels * (1 + self.scale**2) / 2**20

    def grid_for(self, height: int, width: int) -> Grid:
        """The tiles an image of this size is restored in (one tile: the whole image, padded)."""
        ph, pw, _ = padding(height, width, self.config.multiple)
        return Grid.plan(ph, pw, self.tile_for(height, width) or max(ph, pw), self.overlap, self.config.multiple)

    @torch.inference_mode()
    def _restore_into(self, src: np.ndarray, dst: np.ndarray) -> None:
        try:
            self._run(src, dst, self.dtype)
        except _NonFinite:
            dst[...] = 0.0
            self._run(src, dst, torch.float32)

    def _run(self, src: np.ndarray, dst: np.ndarray, dtype: torch.dtype) -> None:
        h, w = src.shape[:2]
        s = self.scale
        grid = self.grid_for(h, w)
        th, tw = grid.tile_size
        mode = padding(h, w, self.config.multiple)[2]
        gray_in_colour_model = src.shape[2] == 1 and self.config.in_channels == 3
        check = dtype != torch.float32

        def read(y0: int, x0: int) -> Tensor:
            piece = padded_window(src, y0, y0 + th, x0, x0 + tw, mode)
            x = torch.from_numpy(piece).permute(2, 0, 1)[None].to(self.device)
            if gray_in_colour_model:
                x = x.expand(-1, 3, -1, -1).contiguous(memory_format=torch.channels_last)
            return x

        def write(y0: int, x0: int, y: Tensor, wy: Tensor, wx: Tensor) -> None:
            y = y.float()
            if check and not torch.isfinite(y.sum()):  # one pass, no copy: a sum overflows only for garbage outputs
                raise _NonFinite
            if gray_in_colour_model:
                y = y.mean(1, keepdim=True)
            rows, cols = min(y.shape[-2], (h - y0) * s), min(y.shape[-1], (w - x0) * s)
            if rows <= 0 or cols <= 0:
                return
            pixels = y[0, :, :rows, :cols].permute(1, 2, 0)
            region = torch.from_numpy(dst[y0 * s : y0 * s + rows, x0 * s : x0 * s + cols])
            if bool((wy[:rows] == 1).all() and (wx[:cols] == 1).all()):
                region += pixels.cpu()
            else:
                region += (pixels * (wy[:rows, None, None] * wx[None, :cols, None])).cpu()

        with autocast(self.device, dtype):
            run_tiles(
                self.model.forward_features,
                grid,
                read,
                write,
                scale=s,
                stats_passes=self.stats_passes,
                orientations=8 if self.ensemble else 1,
                batch=self.batch,
                progress=self.progress,
            )


class _NonFinite(Exception):
    """A reduced-precision tile overflowed; the image is redone in float32."""


def padding(height: int, width: int, multiple: int) -> tuple[int, int, str]:
    """The padded height and width and the padding mode, as :func:`pad_to_multiple` pads (bottom/right)."""
    ph, pw = height + (-height) % multiple, width + (-width) % multiple
    return ph, pw, "reflect" if ph - height < height and pw - width < width else "replicate"


def padded_window(img: np.ndarray, y0: int, y1: int, x0: int, x1: int, mode: str) -> np.ndarray:
    """``img[y0:y1, x0:x1]`` of the image padded bottom/right as :func:`pad_to_multiple` pads it; float32, contiguous."""
    h, w = img.shape[:2]
    if y1 <= h and x1 <= w:
        window = img[y0:y1, x0:x1]
    else:
        window = img[np.ix_(_pad_index(y0, y1, h, mode), _pad_index(x0, x1, w, mode))]
    return np.ascontiguousarray(window, dtype=np.float32)


def _pad_index(start: int, stop: int, length: int, mode: str) -> np.ndarray:
    i = np.arange(start, stop)
    beyond = i >= length
    i[beyond] = 2 * (length - 1) - i[beyond] if mode == "reflect" else length - 1
    return i
