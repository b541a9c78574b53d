"""An inference form of a restoration U-Net: the same outputs with fewer passes over memory.

Small-channel networks on a CPU are bound by memory traffic (docs/speed.md): every elementwise op
reads and writes a whole feature map, while the convolutions are cheap. A conv-mixer residual
``x + s * f(norm(x))`` spends much of its time in the norm and in the scalings around ``f``, and
most of those fold exactly into the 1x1 convolutions that open and close each branch:

* i-LN's ``gamma * (x - mu) / s + beta`` (per-image scalars) into the expand conv:
  ``W diag(gamma / s)`` and ``b + W (beta - gamma mu / s)``;
* NAFNet's channel gate ``h * g`` and i-LN's block rescale ``s`` into the project conv:
  ``s W diag(g)`` and ``s b``;
* per-token LayerNorm cannot fold (its statistics are per pixel), but on channels-last maps it is
  one ``F.layer_norm`` over the contiguous channel axis instead of seven elementwise passes.

The statistics themselves (mu, s and the gate's pool) still go through :func:`spatial_mean`, so
tiling with whole-image statistics works unchanged. Weights are folded per call (a few kB). When
the samples of a batch carry different statistics (tiles collecting their own) the folds cannot be
shared, and the same maps are applied explicitly instead. Other blocks run as they are; the whole
model runs channels-last, which the depthwise convolutions need to be fast on the CPU.

On one CPU thread PyTorch sends 1x1 convolutions to its native kernel, whose bias broadcast into a
channels-last output alone costs more than oneDNN's whole convolution (72 ms vs 22 ms for 16 -> 32
channels at 1 MP), so every pointwise convolution here calls oneDNN directly when it can.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from irestore.nn.blocks import Residual
from irestore.nn.global_stats import spatial_mean
from irestore.nn.mixers import ConvMixer, GatedPointwiseFeedForward
from irestore.nn.norms import ImageLayerNorm, TokenLayerNorm


def inference_model(model: nn.Module) -> nn.Module:
    """A channels-last copy of ``model`` in eval mode with foldable residual branches fused.

    The caller's model is left untouched (its parameters are copied, 3 MB for the small model).
    """
    fused = copy.deepcopy(model).eval()
    for parent in list(fused.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, Residual) and FusedResidual.supports(child):
                setattr(parent, name, FusedResidual(child))
            elif type(child) is TokenLayerNorm:
                setattr(parent, name, ChannelsLastLayerNorm(child))
            elif PointwiseConv.supports(child):
                setattr(parent, name, PointwiseConv(child))
    return fused.to(memory_format=torch.channels_last)


def conv1x1(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """``F.conv2d(x, weight, bias)`` for a 1x1 kernel, through oneDNN for float32 on the CPU."""
    if x.device.type == "cpu" and x.dtype == weight.dtype == torch.float32 and not _cpu_autocast() and torch.backends.mkldnn.is_available():
        return torch.ops.aten.mkldnn_convolution(x, weight, bias, [0, 0], [1, 1], [1, 1], 1)
    return F.conv2d(x, weight, bias)


def _cpu_autocast() -> bool:
    try:
        return torch.is_autocast_enabled("cpu")
    except TypeError:  # torch < 2.4
        return torch.is_autocast_cpu_enabled()


class PointwiseConv(nn.Module):
    """A plain 1x1 convolution that runs through :func:`conv1x1` (same parameters, same output)."""

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        self.weight, self.bias = conv.weight, conv.bias

    @staticmethod
    def supports(module: nn.Module) -> bool:
        return (
            type(module) is nn.Conv2d
            and module.kernel_size == (1, 1)
            and module.stride == (1, 1)
            and module.padding == (0, 0)
            and module.dilation == (1, 1)
            and module.groups == 1
        )

    def forward(self, x: Tensor) -> Tensor:
        return conv1x1(x, self.weight, self.bias)


class ChannelsLastLayerNorm(nn.Module):
    """:class:`TokenLayerNorm` (same parameters, same output) as one kernel over the channel axis."""

    def __init__(self, norm: TokenLayerNorm) -> None:
        super().__init__()
        self.weight, self.bias, self.eps = norm.weight, norm.bias, norm.eps

    def forward(self, x: Tensor) -> tuple[Tensor, None]:
        return layer_norm_channels(x, self.weight, self.bias, self.eps), None


def layer_norm_channels(x: Tensor, weight: Tensor, bias: Tensor, eps: float) -> Tensor:
    """LayerNorm of each pixel's channel vector; a channels-last ``x`` needs no copy."""
    y = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), weight, bias, eps)
    return y.permute(0, 3, 1, 2)


class FusedResidual(nn.Module):
    """``x + s * f(norm(x))``: an i-LN or per-token LN pre-norm around a conv mixer or pointwise FFN."""

    def __init__(self, residual: Residual) -> None:
        super().__init__()
        self.norm, self.fn = residual.norm, residual.fn

    @staticmethod
    def supports(residual: Residual) -> bool:
        return (
            type(residual.norm) in (ImageLayerNorm, TokenLayerNorm)
            and residual.post_norm is None
            and isinstance(residual.fn, (ConvMixer, GatedPointwiseFeedForward))
        )

    def forward(self, x: Tensor) -> Tensor:
        fn, norm = self.fn, self.norm
        if isinstance(norm, ImageLayerNorm):
            mu, s = norm.statistics(x)
            mu, s = mu.float().flatten(1), s.float().flatten(1)
            scale = norm.weight / s
            h = _conv_after_affine(x, fn.expand, scale, norm.bias - scale * mu)
        else:
            s = None
            h = fn.expand(layer_norm_channels(x, norm.weight, norm.bias, norm.eps))
        if isinstance(fn, ConvMixer):
            h = fn.gate(fn.dw(h))
            gate = fn.channel_gate
            pooled = spatial_mean(gate, "pool", (h,), lambda t: t.mean(dim=(2, 3), keepdim=True))
            in_scale = gate.fc(pooled).float().flatten(1)
        else:
            h = fn.gate(h)
            in_scale = None
        return x + _conv_then_scale(h, fn.project, in_scale, s)


def _conv_after_affine(x: Tensor, conv: nn.Conv2d, scale: Tensor, shift: Tensor) -> Tensor:
    """``conv(scale * x + shift)`` for (B, C) per-channel ``scale`` and ``shift``."""
    weight = conv.weight.float()
    if scale.shape[0] == 1:
        folded_weight = weight * scale.view(1, -1, 1, 1)
        folded_bias = conv.bias.float() + weight.flatten(1) @ shift[0]
        return conv1x1(x, folded_weight.to(conv.weight.dtype).contiguous(memory_format=torch.channels_last), folded_bias.to(conv.weight.dtype))
    b, c = scale.shape
    normed = torch.addcmul(shift.view(b, c, 1, 1), x, scale.view(b, c, 1, 1)).to(x.dtype)
    return conv(normed)


def _conv_then_scale(h: Tensor, conv: nn.Conv2d, in_scale: Tensor | None, out_scale: Tensor | None) -> Tensor:
    """``out_scale * conv(in_scale * h)`` for (B, C_in) ``in_scale`` and (B, 1) ``out_scale`` (None: 1)."""
    scales = [t for t in (in_scale, out_scale) if t is not None]
    if not scales:
        return conv1x1(h, conv.weight, conv.bias)
    if max(t.shape[0] for t in scales) == 1:
        weight, bias = conv.weight.float(), conv.bias.float()
        if out_scale is not None:
            weight, bias = weight * out_scale.view(1, 1, 1, 1), bias * out_scale.view(1)
        if in_scale is not None:
            weight = weight * in_scale.view(1, -1, 1, 1)
        return conv1x1(h, weight.to(conv.weight.dtype).contiguous(memory_format=torch.channels_last), bias.to(conv.weight.dtype))
    if in_scale is not None:
        h = h * in_scale.view(in_scale.shape[0], -1, 1, 1).to(h.dtype)
    out = conv1x1(h, conv.weight, conv.bias)
    return out if out_scale is None else out * out_scale.view(-1, 1, 1, 1).to(out.dtype)
