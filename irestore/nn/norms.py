"""Normalization layers for (B, C, H, W) feature maps, switchable by name.

Every norm returns ``(y, scale)``. ``scale`` is ``None`` except for i-LN, where it is the per-sample
standard deviation ``s(x)`` that the residual block multiplies back onto its branch output
(``x + s(x) * f(iLN(x))``). Keeping the rescale in the block rather than hidden state in the norm
means one norm module can be called twice (ensembles, tiles) without stale statistics.

Parameter names are the same for ``ln``, ``iln`` and ``rms`` (``weight``, ``bias``) so that configs
differ in behaviour, not in checkpoint layout; a checkpoint still records its config and refuses to
load into another one.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from irestore.errors import ConfigError
from irestore.nn.global_stats import spatial_mean

NORMS = ("ln", "iln", "rms", "dyt", "none")


class ChannelAffine(nn.Module):
    """Per-channel ``weight * x + bias`` with no statistics."""

    def __init__(self, channels: int, bias: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels)) if bias else None

    def affine(self, x: Tensor) -> Tensor:
        y = x * self.weight.view(1, -1, 1, 1)
        return y if self.bias is None else y + self.bias.view(1, -1, 1, 1)


class TokenLayerNorm(ChannelAffine):
    """Per-token LayerNorm: each pixel's C-vector is normalized on its own (Restormer's WithBias LN)."""

    eps = 1e-6

    def forward(self, x: Tensor) -> tuple[Tensor, None]:
        mu = x.mean(1, keepdim=True)
        var = (x - mu).pow(2).mean(1, keepdim=True)
        return self.affine((x - mu) * torch.rsqrt(var + self.eps)), None


class TokenRMSNorm(ChannelAffine):
    """Per-token RMSNorm (Zhang & Sennrich): no mean subtraction and no bias."""

    eps = 1e-6

    def __init__(self, channels: int) -> None:
        super().__init__(channels, bias=False)

    def forward(self, x: Tensor) -> tuple[Tensor, None]:
        return self.affine(x * torch.rsqrt(x.pow(2).mean(1, keepdim=True) + self.eps)), None


class ImageLayerNorm(ChannelAffine):
    """i-LN (Lee et al., ICLR 2026): one mean and variance per *image*, over all channels and positions.

    Follows the official code (papers.md 1.3, 1.8): biased variance, eps = 1e-4, per-channel affine,
    the mean is not added back, and ``s = sqrt(var + eps)`` is returned without ``detach`` so
    gradients flow through the rescale. Statistics go through :func:`spatial_mean` so that tiled
    inference can use the whole image's values. The variance is computed as E[x^2] - E[x]^2 of the
    per-pixel channel means, which is exact and lets tiles accumulate sums.
    """

    eps = 1e-4

    def statistics(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Per-image mean and ``s = sqrt(var + eps)``, each (B, 1, 1, 1); shared with the fused inference form."""
        moments = spatial_mean(self, "moments", (x,), _first_two_moments)
        mu, second = moments[:, 0:1], moments[:, 1:2]
        var = (second - mu * mu).clamp_min(0.0)
        return mu, torch.sqrt(var + self.eps)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mu, s = self.statistics(x)
        return self.affine((x - mu) / s), s


def _first_two_moments(x: Tensor) -> Tensor:
    """(B, 2, 1, 1): mean of x and of x**2 over channels and positions."""
    xf = x.float()
    m1 = xf.mean(dim=(1, 2, 3), keepdim=True)
    m2 = xf.pow(2).mean(dim=(1, 2, 3), keepdim=True)
    return torch.cat([m1, m2], dim=1).to(x.dtype)


class DynamicTanh(ChannelAffine):
    """DyT (Zhu et al., CVPR 2025): ``weight * tanh(alpha * x) + bias``, alpha a learned scalar (init 0.5)."""

    def __init__(self, channels: int, alpha: float = 0.5) -> None:
        super().__init__(channels)
        self.alpha = nn.Parameter(torch.tensor(alpha))

    def forward(self, x: Tensor) -> tuple[Tensor, None]:
        return self.affine(torch.tanh(self.alpha * x)), None


class NoNorm(nn.Module):
    def forward(self, x: Tensor) -> tuple[Tensor, None]:
        return x, None


def make_norm(kind: str, channels: int) -> nn.Module:
    if kind == "ln":
        return TokenLayerNorm(channels)
    if kind == "iln":
        return ImageLayerNorm(channels)
    if kind == "rms":
        return TokenRMSNorm(channels)
    if kind == "dyt":
        return DynamicTanh(channels)
    if kind == "none":
        return NoNorm()
    raise ConfigError(f"unknown norm {kind!r}; choose one of {', '.join(NORMS)}")
