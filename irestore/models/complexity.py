"""Parameter count and GFLOPs per megapixel, counted by PyTorch's FLOP counter on a real forward."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def gflops_per_megapixel(model: nn.Module, side: int = 128) -> float:
    """FLOPs (2 per multiply-add) of one forward on a side x side input, scaled to 1e6 input pixels."""
    cfg = model.config
    side -= side % cfg.multiple
    x = torch.zeros(1, cfg.in_channels, side, side)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops() / 1e9 * (1e6 / (side * side))
