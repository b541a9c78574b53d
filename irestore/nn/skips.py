"""Long-skip scaling for U-shaped networks (ScaleLong, Huang et al., NeurIPS 2023).

Skips are numbered i = 1 for the outermost (full resolution) to N for the innermost, as in the
paper's figure. ``1`` and ``inv_sqrt2`` are the two common baselines; ``cs`` multiplies skip i by
``kappa ** (i - 1)``; ``ls`` multiplies it by a learned SE-style gate in (0, 1).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from irestore.errors import ConfigError
from irestore.nn.global_stats import channel_mean, spatial_mean

SKIPS = ("1", "inv_sqrt2", "cs", "ls")


class ConstantSkip(nn.Module):
    def __init__(self, coefficient: float) -> None:
        super().__init__()
        self.coefficient = coefficient

    def forward(self, h: Tensor) -> Tensor:
        return h * self.coefficient if self.coefficient != 1.0 else h


class LearnedSkipGate(nn.Module):
    """SE gate: global average pool -> FC (C -> C/r) -> ReLU -> FC -> sigmoid, per channel.

    The official U-ViT code gates tokens; a conv U-Net has no fixed token count, so the gate is per
    channel (papers.md 3.3, conv-UNet note). PyTorch's default init leaves the gate near 0.5, as in
    the official code. Hidden width max(C // 16, 4) keeps narrow skips from a 1-unit bottleneck.
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(channels // reduction, 4)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, channels, 1)

    def gate(self, h: Tensor) -> Tensor:
        pooled = spatial_mean(self, "pool", (h,), channel_mean)
        return torch.sigmoid(self.fc2(torch.relu(self.fc1(pooled))))

    def forward(self, h: Tensor) -> Tensor:
        return h * self.gate(h)


def skip_coefficients(kind: str, count: int, kappa: float = 0.5) -> list[float]:
    """Constant coefficients for skips i = 1..count (outermost first)."""
    if kind == "1":
        return [1.0] * count
    if kind == "inv_sqrt2":
        return [1.0 / math.sqrt(2.0)] * count
    if kind == "cs":
        return [kappa ** (i - 1) for i in range(1, count + 1)]
    raise ConfigError(f"skip {kind!r} has no constant coefficients")


def make_skips(kind: str, widths: list[int], kappa: float = 0.5) -> nn.ModuleList:
    """One scaling module per skip, outermost first. LS shares one gate per distinct width."""
    if kind not in SKIPS:
        raise ConfigError(f"unknown skip {kind!r}; choose one of {', '.join(SKIPS)}")
    if kind == "ls":
        gates: dict[int, LearnedSkipGate] = {}
        return nn.ModuleList(gates.setdefault(w, LearnedSkipGate(w)) for w in widths)
    return nn.ModuleList(ConstantSkip(c) for c in skip_coefficients(kind, len(widths), kappa))
