"""Running statistics of feature maps: magnitude, peak and channel-wise entropy.

The i-LN paper (papers.md 1.2, 1.6) diagnoses LayerNorm in restoration Transformers by two numbers
per block: the *feature mean square* grows to 1e6-1e7 over training, and the *channel-wise entropy*
collapses (a few channels carry all the energy). Its exact entropy formula is not available, so
irestore uses the practical definition of papers.md 1.6:

    e_c = mean over (B, H, W) of x_c^2          (energy of channel c)
    p_c = e_c / sum_c' e_c'
    H   = -sum_c p_c ln p_c                     (natural log; 0 ln 0 = 0)

H lies in [0, ln C]: ln C when every channel carries the same energy, 0 when one channel carries it
all. ``entropy_ratio`` = H / ln C puts networks of different widths on one scale (1 = uniform).
Feature maps with no energy at all have no distribution: their entropy is NaN.

Statistics accumulate over several calls (images of different sizes) as sums over positions in
float64, so a report over many images is the statistic of all their pixels together.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def channel_entropy(energy: Tensor) -> float:
    """H = -sum p ln p of the channel energies ``energy`` (shape (C,), non-negative)."""
    total = float(energy.sum())
    if not 0.0 < total < math.inf:
        return math.nan
    p = energy.double() / total
    terms = torch.where(p > 0, p * torch.log(p), torch.zeros_like(p))
    return float(-terms.sum())


class FeatureStats:
    """Accumulates per-channel energy, position count and peak |x| of (B, C, ...) feature maps."""

    def __init__(self) -> None:
        self.energy: Tensor | None = None
        self.positions = 0
        self.peak = 0.0

    def update(self, x: Tensor) -> None:
        x = x.detach()
        others = [d for d in range(x.dim()) if d != 1]
        sums = torch.sum(x.float().pow(2), dim=others, dtype=torch.float64).cpu()
        self.energy = sums if self.energy is None else self.energy + sums
        self.positions += x.numel() // x.shape[1]
        self.peak = max(self.peak, float(x.abs().amax())) if x.numel() else self.peak

    @property
    def channels(self) -> int:
        return 0 if self.energy is None else int(self.energy.numel())

    @property
    def channel_energy(self) -> Tensor:
        """e_c: the mean of x_c^2 over every position seen."""
        if self.energy is None:
            raise ValueError("no feature maps recorded")
        return self.energy / max(self.positions, 1)

    @property
    def mean_square(self) -> float:
        """mean(x^2) over all elements (the i-LN paper's "feature mean square")."""
        return float(self.channel_energy.mean())

    @property
    def rms(self) -> float:
        return math.sqrt(self.mean_square) if self.mean_square >= 0 else math.nan

    @property
    def entropy(self) -> float:
        return channel_entropy(self.channel_energy)

    @property
    def entropy_ratio(self) -> float:
        """H / ln C (NaN for a single channel, whose entropy is always 0)."""
        return self.entropy / math.log(self.channels) if self.channels > 1 else math.nan
