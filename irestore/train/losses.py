"""Pixel losses of the restoration literature, picked by name in the config.

L1 is the default of Restormer, NAFNet and HAT; Charbonnier (a smooth L1) is SwinIR's; NAFNet's
"PSNR loss" (log of the per-image MSE) weights every image equally however clean it is. The
optional frequency term (MPRNet / DeepRFT) compares 2-D spectra and sharpens textures.

The PSNR loss's gradient weights each patch by 1 / MSE: its size is 2 / RMSE, unbounded as a
patch gets clean, so nearly clean patches (blind denoising at sigma ~ 0) can take over a batch.
``psnr_floor_db`` adds the MSE of that PSNR (e.g. 50 dB) to every patch's MSE, which bounds a
patch's gradient by 1 / RMSE_floor (docs/ablations.md, "Loss").
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

_CHARBONNIER_EPS = 1e-3
_PSNR_EPS = 1e-8


def pixel_loss(name: str, output: Tensor, target: Tensor, *, psnr_floor_db: float = 0.0) -> Tensor:
    """``psnr_floor_db`` applies to the ``psnr`` loss only (0: the 80 dB guard against log 0 alone)."""
    diff = output - target
    if name == "l1":
        return diff.abs().mean()
    if name == "charbonnier":
        return torch.sqrt(diff * diff + _CHARBONNIER_EPS**2).mean()
    if name == "psnr":
        mse = (diff * diff).flatten(1).mean(dim=1)
        floor = 10.0 ** (-psnr_floor_db / 10.0) if psnr_floor_db > 0 else _PSNR_EPS
        return (10.0 / math.log(10.0)) * torch.log(mse + floor).mean()
    raise ValueError(f"unknown loss {name!r}")


def fft_loss(output: Tensor, target: Tensor) -> Tensor:
    """L1 distance of the real and imaginary parts of the 2-D FFTs (computed in float32)."""
    diff = torch.fft.rfft2(output.float()) - torch.fft.rfft2(target.float())
    return torch.view_as_real(diff).abs().mean()


def training_loss(output: Tensor, target: Tensor, *, name: str, fft_weight: float, psnr_floor_db: float = 0.0) -> Tensor:
    loss = pixel_loss(name, output.float(), target.float(), psnr_floor_db=psnr_floor_db)
    if fft_weight > 0:
        loss = loss + fft_weight * fft_loss(output, target)
    return loss
