"""Bands of rows and the kernels that run on them: the inference form's building blocks.

Without autograd a residual branch can run row band by row band, so its wide intermediates (the
expanded maps of a feed-forward, the q/k/v of an attention) stay in cache and are never whole; the
band sum is written into the block's input (docs/speed.md, "Activation memory").

On one CPU thread PyTorch sends 1x1 convolutions to its native kernel, whose bias broadcast into a
channels-last output alone costs more than oneDNN's whole convolution (72 ms vs 22 ms for 16 -> 32
channels at 1 MP), so :func:`conv1x1` calls oneDNN directly when it can.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

BAND_BYTES = 1 << 22
"""Bytes of the widest intermediate in one band of rows on the CPU.

1 and 4 MB bands gave the lowest peak RSS at 4 MP (1.0-1.3 GB), 16 MB ones 5-10% more: glibc
refills the holes small bands leave, large ones fragment its heap (docs/speed.md, "Activation memory").
"""
MAX_BANDS = 16
"""Bands per map at most: each band is a round of OpenMP parallel regions, which cost much on a busy
machine unless idle threads sleep. 16 kept the 4 MP peak RSS of uncapped bands; 8 added 15%, 4 doubled
the activation slope."""
LARGEST_BAND_BYTES = 1 << 24
"""...except that no band on the CPU grows past this for the cap's sake. At 16 bands a 12 MP photo
whole had 48 MB bands: above :data:`~irestore.engine.allocator.MAPPED_ABOVE`, so a photo whose maps
are mapped would map every band afresh, and on the heap their holes added to the peak (docs/speed.md,
"A 12 MP photo whole"). Images up to ~2 MP are banded as before."""
DEVICE_BAND_BYTES = 1 << 26
"""Off the CPU every band costs kernel launches and the caching allocator does not fragment so; not measured."""


def band_rows(x: Tensor, channels: int) -> int:
    """Rows per band: ``channels`` channels of a band of ``x`` take about :data:`BAND_BYTES`, in at most
    :data:`MAX_BANDS` bands unless that needs bands over :data:`LARGEST_BAND_BYTES` (CPU)."""
    per_row = max(x.shape[0] * x.shape[3] * channels * x.element_size(), 1)
    if x.device.type != "cpu":
        return max(1, DEVICE_BAND_BYTES // per_row, -(-x.shape[2] // MAX_BANDS))
    return max(1, BAND_BYTES // per_row, min(-(-x.shape[2] // MAX_BANDS), LARGEST_BAND_BYTES // per_row))


def add_by_rows(x: Tensor, branch: Callable[[int, int], Tensor], rows: int, halo: int = 0) -> Tensor:
    """``x + branch(rows)`` band by band, into ``x`` itself unless the sum needs a wider dtype.

    ``halo``: rows beyond its band that ``branch`` reads from ``x`` (a 3x3 convolution reads one). A
    band's sum is then written only after the next band is computed, so that band still reads input.
    """
    if halo > rows:
        raise ValueError(f"a halo of {halo} rows needs bands of at least as many rows, got {rows}")
    out, pending = None, None
    for r0 in range(0, x.shape[2], rows):
        r1 = min(r0 + rows, x.shape[2])
        y = branch(r0, r1)
        if out is None:
            dtype = torch.result_type(x, y)
            out = x if dtype == x.dtype else torch.empty_like(x, dtype=dtype)
        if pending is not None:
            _add_rows(x, out, *pending)
        pending = (r0, r1, y)
        if not halo:
            _add_rows(x, out, *pending)
            pending = None
        del y
    if pending is not None:
        _add_rows(x, out, *pending)
    return x if out is None else out


def _add_rows(x: Tensor, out: Tensor, r0: int, r1: int, y: Tensor) -> None:
    torch.add(x[:, :, r0:r1], y, out=out[:, :, r0:r1])


def conv1x1(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """``F.conv2d(x, weight, bias)`` for a 1x1 kernel, through oneDNN for float32 on the CPU."""
    if x.device.type == "cpu" and x.dtype == weight.dtype == torch.float32 and not cpu_autocast() and torch.backends.mkldnn.is_available():
        return torch.ops.aten.mkldnn_convolution(x, weight, bias, [0, 0], [1, 1], [1, 1], 1)
    return F.conv2d(x, weight, bias)


def cpu_autocast() -> bool:
    return autocast_dtype("cpu") is not None


def autocast_dtype(device_type: str) -> torch.dtype | None:
    """The dtype autocast computes in on this device type; None where it is off."""
    try:
        enabled = torch.is_autocast_enabled(device_type)
    except TypeError:  # torch < 2.4
        enabled = torch.is_autocast_cpu_enabled() if device_type == "cpu" else torch.is_autocast_enabled()
    if not enabled:
        return None
    if hasattr(torch, "get_autocast_dtype"):
        return torch.get_autocast_dtype(device_type)
    return torch.get_autocast_cpu_dtype() if device_type == "cpu" else torch.get_autocast_gpu_dtype()


def layer_norm_channels(x: Tensor, weight: Tensor, bias: Tensor, eps: float) -> Tensor:
    """LayerNorm of each pixel's channel vector; a channels-last ``x`` needs no copy."""
    y = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), weight, bias, eps)
    return y.permute(0, 3, 1, 2)


def empty_channels_last(like: Tensor, shape: tuple[int, ...], dtype: torch.dtype | None = None) -> Tensor:
    return torch.empty(shape, dtype=dtype or like.dtype, device=like.device, memory_format=torch.channels_last)
