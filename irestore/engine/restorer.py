"""The inference engine: numpy image in, restored numpy image out.

pad to the model's multiple -> (self-ensemble) -> (tiles with whole-image statistics) -> model
-> crop -> clamp. Tiles are chosen from a memory budget when not given: whole image when it fits.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch import Tensor, nn

from irestore.engine.device import autocast, check_precision, resolve_device
from irestore.engine.ensemble import self_ensemble
from irestore.engine.tiling import tiled_forward
from irestore.errors import IRestoreError
from irestore.models.unet import pad_to_multiple

DEFAULT_MEMORY_BUDGET_MB = 1536
BYTES_PER_PIXEL_PER_CHANNEL = 60
"""Measured peak activation bytes per input pixel per unit of model width (fp32, inference)."""


def auto_tile(height: int, width: int, model_width: int, multiple: int, budget_mb: float) -> int:
    """0 (whole image) when it fits the budget, else the largest square tile that does."""
    per_pixel = BYTES_PER_PIXEL_PER_CHANNEL * model_width
    max_pixels = budget_mb * 2**20 / per_pixel
    if height * width <= max_pixels:
        return 0
    side = int(math.sqrt(max_pixels))
    return max(multiple * 4, side - side % multiple)


class Restorer:
    """Callable restoring float32 HxWxC images in [0, 1] with one model.

    ``tile``: None = auto from ``memory_mb``, 0 = whole image, N = N x N tiles with ``overlap``.
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
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        if tile is not None and tile < 0:
            raise IRestoreError(f"--tile {tile}: must be 0 (whole image) or a positive size")
        if overlap < 0:
            raise IRestoreError(f"--tile-overlap {overlap}: must be >= 0")
        self.device = resolve_device(device)
        self.dtype = check_precision(precision, self.device)
        self.model = model.to(self.device).eval()
        self.config = model.config
        self.tile, self.overlap, self.ensemble = tile, overlap, ensemble
        self.stats_passes, self.memory_mb, self.progress = stats_passes, memory_mb, progress

    @property
    def scale(self) -> int:
        return self.config.scale

    def __call__(self, img: np.ndarray) -> np.ndarray:
        if img.ndim == 2:
            img = img[..., None]
        channels = img.shape[2]
        x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).float()[None]
        model_channels = self.config.in_channels
        if channels == model_channels:
            y = self._restore(x)
        elif channels == 1 and model_channels == 3:
            y = self._restore(x.expand(-1, 3, -1, -1)).mean(1, keepdim=True)
        elif channels == 3 and model_channels == 1:
            y = torch.cat([self._restore(x[:, c : c + 1]) for c in range(3)], dim=1)
        else:
            raise IRestoreError(f"the model takes {model_channels} channels, the image has {channels}")
        return y[0].permute(1, 2, 0).numpy()

    @torch.inference_mode()
    def _restore(self, x: Tensor) -> Tensor:
        y = self._run(x, self.dtype)
        if self.dtype != torch.float32 and not torch.isfinite(y).all():
            y = self._run(x, torch.float32)
        return y.clamp_(0.0, 1.0).float().cpu()

    def _run(self, x: Tensor, dtype: torch.dtype) -> Tensor:
        x = x.to(self.device)
        with autocast(self.device, dtype):
            fn = self._forward
            y = self_ensemble(fn, x) if self.ensemble else fn(x)
        return y.float()

    def _forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        multiple = self.config.multiple
        padded, _ = pad_to_multiple(x, multiple)
        tile = self.tile
        if tile is None:
            tile = auto_tile(*padded.shape[-2:], self.config.width, multiple, self.memory_mb)
        if tile == 0 or (tile >= padded.shape[-2] and tile >= padded.shape[-1]):
            y = self.model.forward_features(padded)
        else:
            y = tiled_forward(
                self.model.forward_features,
                padded,
                tile=tile,
                overlap=self.overlap,
                multiple=multiple,
                scale=self.scale,
                stats_passes=self.stats_passes,
                progress=self.progress,
            )
        s = self.scale
        return y[..., : h * s, : w * s]
