"""Branch functions ``f`` that a residual block wraps: feed-forward networks and the conv mixer."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from irestore.errors import ConfigError
from irestore.nn.global_stats import channel_mean, spatial_mean

GATES = ("product", "sigmoid")


class SimpleGate(nn.Module):
    """NAFNet's gate: split the channels in two halves and multiply them (a nonlinearity without an activation)."""

    def forward(self, x: Tensor) -> Tensor:
        a, b = x.chunk(2, dim=1)
        return a * b


class SigmoidGate(nn.Module):
    """``a * sigmoid(b)``: SimpleGate with one factor bounded to (0, 1).

    SimpleGate squares the scale of whatever it is given, so an input far outside the training
    range grows quadratically in every block it passes (the i-LN test-time blow-up,
    docs/ablations.md); this gate's output grows at most linearly with its input.
    """

    def forward(self, x: Tensor) -> Tensor:
        a, b = x.chunk(2, dim=1)
        return a * torch.sigmoid(b)


def make_gate(kind: str) -> nn.Module:
    if kind == "product":
        return SimpleGate()
    if kind == "sigmoid":
        return SigmoidGate()
    raise ConfigError(f"unknown gate {kind!r}; choose one of {', '.join(GATES)}")


class GatedFeedForward(nn.Module):
    """Restormer's GDFN: 1x1 expand -> 3x3 depthwise -> GELU(a) * b -> 1x1 project."""

    def __init__(self, channels: int, expansion: float) -> None:
        super().__init__()
        hidden = int(channels * expansion)
        self.expand = nn.Conv2d(channels, 2 * hidden, 1)
        self.dw = nn.Conv2d(2 * hidden, 2 * hidden, 3, padding=1, groups=2 * hidden)
        self.project = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        a, b = self.dw(self.expand(x)).chunk(2, dim=1)
        return self.project(nn.functional.gelu(a) * b)


class ChannelGate(nn.Module):
    """NAFNet's simplified channel attention: global average pool -> 1x1 conv -> multiply.

    The pool is a whole-image statistic, taken through :func:`spatial_mean` so tiles agree.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fc = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        pooled = spatial_mean(self, "pool", (x,), channel_mean)
        return x * self.fc(pooled)


class ConvMixer(nn.Module):
    """NAFNet's spatial branch: 1x1 expand -> 3x3 depthwise -> SimpleGate -> channel gate -> 1x1 project.

    The CPU-efficient baseline: no attention map, only convolutions and one global pool.
    """

    def __init__(self, channels: int, expansion: float = 2.0, gate: str = "product") -> None:
        super().__init__()
        hidden = int(channels * expansion)
        self.expand = nn.Conv2d(channels, hidden, 1)
        self.dw = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden)
        self.gate = make_gate(gate)
        self.channel_gate = ChannelGate(hidden // 2)
        self.project = nn.Conv2d(hidden // 2, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.project(self.channel_gate(self.gate(self.dw(self.expand(x)))))


class GatedPointwiseFeedForward(nn.Module):
    """NAFNet's FFN: 1x1 expand -> SimpleGate -> 1x1 project."""

    def __init__(self, channels: int, expansion: float = 2.0, gate: str = "product") -> None:
        super().__init__()
        hidden = int(channels * expansion)
        self.expand = nn.Conv2d(channels, hidden, 1)
        self.gate = make_gate(gate)
        self.project = nn.Conv2d(hidden // 2, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.project(self.gate(self.expand(x)))


