"""PSNR of a model on the fixed validation crops: the number that picks the released weights.

Outputs are clipped to [0, 1] (what a saved result holds); PSNR is averaged per image, as published
tables do. The input's own PSNR (bicubic upscaling for super-resolution) is
reported beside it, so a log shows how much the network adds over doing nothing.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from irestore.metrics import psnr

_CHUNK = 4


@torch.no_grad()
def evaluate(model: nn.Module, inputs: Tensor, targets: Tensor, device: torch.device) -> dict[str, float]:
    was_training = model.training
    model.eval()
    outputs = torch.cat([model(inputs[i : i + _CHUNK].to(device)).float().clamp(0, 1).cpu() for i in range(0, len(inputs), _CHUNK)])
    model.train(was_training)
    result = {"val_psnr": _mean_psnr(outputs, targets)}
    if inputs.shape == targets.shape:
        result["val_psnr_input"] = _mean_psnr(inputs.clamp(0, 1), targets)
    else:
        upscaled = F.interpolate(inputs, size=targets.shape[-2:], mode="bicubic", align_corners=False)
        result["val_psnr_bicubic"] = _mean_psnr(upscaled.clamp(0, 1), targets)
    return result


def _mean_psnr(outputs: Tensor, targets: Tensor) -> float:
    values = [psnr(o.permute(1, 2, 0).numpy(), t.permute(1, 2, 0).numpy()) for o, t in zip(outputs, targets)]
    finite = [v for v in values if math.isfinite(v)]
    return float(sum(finite) / len(finite)) if finite else float("inf")
