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
shared, and the same maps are applied explicitly instead. Attention blocks with per-token LN run
in bands too (:mod:`irestore.engine.fuse_attention`); other blocks run as they are. The whole
model runs channels-last, which the depthwise convolutions need to be fast on the CPU.

Pointwise convolutions call oneDNN directly where PyTorch would not (:func:`~irestore.engine.bands.conv1x1`).

Without autograd (``torch.inference_mode`` or ``no_grad``) the form also keeps activation memory
low (issue 36; docs/speed.md, "Activation memory"): a fused block adds its branch into its input in
place, and runs norm -> expand (-> depthwise) -> gate in bands of rows, so the 2x-wide expanded
map is never whole; only a conv mixer's gated map (for its channel pool) is. The U-Net drops each
skip once used and writes its decoder fuse into the skip's storage, band by band, from banded
up-convolutions. Peak RSS per pixel per unit of width fell from 49-77 to 10-17 bytes
(``irestore bench --calibrate``) with outputs bitwise equal to the form before. With autograd on,
everything runs out of place as before.

Under bf16 (or fp16) autocast the full-resolution stream stays in float32: the stem, the last
decoder fuse and the head run in float32, so the residual sums at full resolution are never rounded
to 8 bits of mantissa, while every other convolution, including those inside the full-resolution
blocks, runs in bf16. On CBSD68 sigma 15 this cut bf16's cost from 0.030 to 0.011 dB (denoise-gaussian)
at the same speed (docs/speed.md, "bf16 with a float32 stream"). Super-resolution is the exception:
its head runs in bf16 and only its output is cast up, since it makes the small residual added to the
float32 bilinear base (:class:`FloatOut`), and a plain SR body (no U-Net levels) runs its whole
stream in bf16 (:class:`LowPrecisionStem`), as a U-Net's does where its release calibrated it so.
"""

from __future__ import annotations

import copy
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from irestore.engine.bands import add_by_rows, autocast_dtype, band_rows, conv1x1, empty_channels_last, layer_norm_channels
from irestore.engine.fuse_attention import FusedAttention, FusedGatedFeedForward
from irestore.models.unet import Downsample, RestorationUNet, Upsample
from irestore.nn.blocks import Residual
from irestore.nn.global_stats import channel_mean, spatial_mean
from irestore.nn.mixers import ConvMixer, GatedPointwiseFeedForward, SimpleGate
from irestore.nn.norms import ImageLayerNorm, NoNorm, TokenLayerNorm
from irestore.nn.skips import ConstantSkip, LearnedSkipGate


def inference_model(model: nn.Module, *, low_precision_stream: bool = False) -> nn.Module:
    """A channels-last copy of ``model`` in eval mode with foldable residual branches fused.

    The caller's model is left untouched (its parameters are copied, 3 MB for the small model); a
    :class:`RestorationUNet` in the copy becomes a :class:`LeanUNet`. ``low_precision_stream``: a
    U-Net's full-resolution stream runs in the autocast dtype too (a release's calibrated choice,
    :attr:`~irestore.models.zoo.LoadedModel.low_precision_stream`); a plain SR body's always does.
    """
    fused = copy.deepcopy(model).eval()
    for module in list(fused.modules()):
        if type(module) is RestorationUNet:
            module.__class__ = LeanUNet
            module.stem, module.head = Float32(module.stem), Float32(module.head)
            cfg, head = module.config, module.head.module
            shuffled = cfg.scale > 1 and cfg.in_channels == cfg.out_channels and isinstance(head, nn.Sequential) and isinstance(head[-1], nn.PixelShuffle)
            low_stream = low_precision_stream or (shuffled and not cfg.levels)
            if cfg.levels and not low_stream:
                module.fuses[0] = Float32(module.fuses[0])
            if low_stream:
                module.stem, module.head = LowPrecisionStem(module.stem.module), FloatOut(head)
            if shuffled:
                order = offset_major_order(cfg.scale, cfg.out_channels)
                module.head, module.shuffle = FloatOut(_output_channels(head[0], order)), OffsetMajorShuffle(cfg.scale)
                module.register_buffer("bilinear", bilinear_upsampling_conv(cfg.scale, cfg.in_channels)[order], persistent=False)
            module.downs = nn.ModuleList(BandedDownsample(down) if type(down) is Downsample else down for down in module.downs)
    for parent in list(fused.modules()):
        for name, child in list(parent.named_children()):
            fused_kind = next((kind for kind in FUSED_BRANCHES if isinstance(child, Residual) and kind.supports(child)), None)
            if fused_kind is not None:
                setattr(parent, name, fused_kind(child))
            elif type(child) is TokenLayerNorm:
                setattr(parent, name, ChannelsLastLayerNorm(child))
            elif PointwiseConv.supports(child):
                setattr(parent, name, PointwiseConv(child))
    return fused.to(memory_format=torch.channels_last)


class Float32(nn.Module):
    """``module`` computed in float32 even under autocast (its input is cast up, never down)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: Tensor) -> Tensor:
        with torch.autocast(x.device.type, enabled=False):
            return self.module(x.float())


class FloatOut(nn.Module):
    """``module`` computed as autocast decides, its output cast up to float32.

    The SR head: its output is the residual detail at the input resolution, small beside the
    float32 bilinear base it is added to, so its bf16 rounding is far below what the benchmarks
    resolve, while a float32 3x3 convolution from 32 to 48 channels took about a seventh of sr-x4's time.
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: Tensor) -> Tensor:
        return self.module(x).float()


class LowPrecisionStem(nn.Module):
    """The stem convolution in float32, its output cast down to the autocast dtype band by band: a low-precision stream.

    A plain SR body has no lower levels, so a float32 stream would keep every block's LayerNorm input,
    the cast of its normalised band and its mixed-dtype sum in float32 (18% of a six-block x4 body's
    profile); its rounding reaches the output only through the head's residual detail, 0.0015 dB on
    Set5 / Set14 (docs/speed.md, "A bf16 stream for super-resolution"). A U-Net's bf16 stream halves
    the bytes of its full-resolution maps (docs/speed.md, "A 12 MP photo whole"). In bands, the
    float32 map (768 MB for 16 channels at 12 MP) never exists whole.
    """

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        self.conv = conv

    def forward(self, x: Tensor) -> Tensor:
        x = x.float()
        dtype = autocast_dtype(x.device.type)
        with torch.autocast(x.device.type, enabled=False):
            if dtype is None or torch.is_grad_enabled():
                y = self.conv(x)
                return y if dtype is None else y.to(dtype)
            return _conv_in_bands(self.conv, x, dtype)


class BandedDownsample(nn.Module):
    """:class:`~irestore.models.unet.Downsample` (3x3 conv, pixel-unshuffle) in bands of rows without autograd.

    Whole, the convolution's full-resolution output and its unshuffled copy both exist at once
    (half a stream map each), at the moment the level's skip is also kept: the peak of a whole photo.
    """

    def __init__(self, down: Downsample) -> None:
        super().__init__()
        self.body = down.body

    def forward(self, x: Tensor) -> Tensor:
        if torch.is_grad_enabled():
            return self.body(x)
        conv, unshuffle = self.body
        return _conv_in_bands(conv, x, None, unshuffle)


def _conv_in_bands(conv: nn.Conv2d, x: Tensor, dtype: torch.dtype | None, unshuffle: nn.PixelUnshuffle | None = None) -> Tensor:
    """``conv(x)``, pixel-unshuffled if given, band by band into one map of ``dtype`` (None: the conv's)."""
    factor = unshuffle.downscale_factor if unshuffle is not None else 1
    height, halo = x.shape[2], conv.padding[0]
    rows = band_rows(x, conv.out_channels)
    rows += -rows % factor
    out = None
    for r0 in range(0, height, rows):
        r1 = min(r0 + rows, height)
        a, b = max(r0 - halo, 0), min(r1 + halo, height)
        y = conv(x[:, :, a:b])[:, :, r0 - a : r1 - a]
        if unshuffle is not None:
            y = unshuffle(y)
        if out is None:
            out = empty_channels_last(y, (y.shape[0], y.shape[1], height // factor, y.shape[3]), dtype)
        out[:, :, r0 // factor : r1 // factor] = y
        del y
    return out


class OffsetMajorShuffle(nn.Module):
    """Pixel shuffle of a map whose channels are ordered (row offset, column offset, channel), into a channels-last output.

    With that order (:func:`offset_major_order`) the values one input pixel gives an output row are
    contiguous (``scale * channels``: 12 at x4 in RGB), so the shuffle is one copy of such runs instead
    of ``F.pixel_shuffle``'s gather from a channels-last map (36 against 234 ms per input megapixel at
    x4, one thread), and the output is already in the image's HWC layout.
    """

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, y: Tensor) -> Tensor:
        n, channels, h, w = y.shape
        s = self.scale
        runs = y.permute(0, 2, 3, 1).reshape(n, h, w, s, channels // s)
        return runs.transpose(2, 3).reshape(n, h * s, w * s, channels // s**2).permute(0, 3, 1, 2)


def offset_major_order(scale: int, channels: int) -> Tensor:
    """The head's output channels reordered from PixelShuffle's (channel, row offset, column offset) to (row, column, channel)."""
    return torch.arange(channels * scale * scale).view(channels, scale * scale).t().reshape(-1)


def _output_channels(conv: nn.Conv2d, order: Tensor) -> nn.Conv2d:
    """``conv`` (the inference form's own copy) with its output channels permuted in place."""
    with torch.no_grad():
        for p in (conv.weight, conv.bias):
            if p is not None:
                p.copy_(p[order])
    return conv


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


class FusedResidual(nn.Module):
    """``x + s * f(norm(x))``: an i-LN, per-token LN or no pre-norm around a conv mixer or pointwise FFN.

    Without autograd the sum is written into ``x`` (the block owns its input in the inference form).
    """

    def __init__(self, residual: Residual) -> None:
        super().__init__()
        self.norm, self.fn = residual.norm, residual.fn

    @staticmethod
    def supports(residual: Residual) -> bool:
        return (
            type(residual.norm) in (ImageLayerNorm, TokenLayerNorm, NoNorm)
            and residual.post_norm is None
            and isinstance(residual.fn, (ConvMixer, GatedPointwiseFeedForward))
            and type(residual.fn.gate) is SimpleGate
        )

    def forward(self, x: Tensor) -> Tensor:
        if torch.is_grad_enabled():
            return self._out_of_place(x)
        expand, s = self._expansion(x)
        fn, height = self.fn, x.shape[2]
        rows = band_rows(x, fn.expand.weight.shape[0])
        if not isinstance(fn, ConvMixer):
            project = _conv_then_scale(fn.project, None, s)

            def branch(r0: int, r1: int) -> Tensor:
                return project(_simple_gate(expand(x[:, :, r0:r1])))

            return add_by_rows(x, branch, rows)
        gated, halo = None, fn.dw.padding[0]
        for r0 in range(0, height, rows):
            r1 = min(r0 + rows, height)
            a, b = max(r0 - halo, 0), min(r1 + halo, height)
            h = fn.dw(expand(x[:, :, a:b]))[:, :, r0 - a : r1 - a]
            if gated is None:
                gated = empty_channels_last(h, (h.shape[0], h.shape[1] // 2, height, h.shape[3]))
            _simple_gate(h, out=gated[:, :, r0:r1])
            del h
        project = _conv_then_scale(fn.project, self._channel_gate(gated), s)
        return add_by_rows(x, lambda r0, r1: project(gated[:, :, r0:r1]), band_rows(gated, gated.shape[1]))

    def _out_of_place(self, x: Tensor) -> Tensor:
        expand, s = self._expansion(x)
        h = expand(x)
        in_scale = None
        if isinstance(self.fn, ConvMixer):
            h = _simple_gate(self.fn.dw(h))
            in_scale = self._channel_gate(h)
        else:
            h = _simple_gate(h)
        return x + _conv_then_scale(self.fn.project, in_scale, s)(h)

    def _expansion(self, x: Tensor) -> tuple[Callable[[Tensor], Tensor], Tensor | None]:
        """The expand conv of the normed input as a function of rows of ``x``, and i-LN's ``s`` (else None)."""
        norm, conv = self.norm, self.fn.expand
        if isinstance(norm, NoNorm):
            return conv, None
        if isinstance(norm, TokenLayerNorm):
            return lambda rows: conv(layer_norm_channels(rows, norm.weight, norm.bias, norm.eps)), None
        mu, s = norm.statistics(x)
        mu, s = mu.float().flatten(1), s.float().flatten(1)
        scale = norm.weight / s
        return _conv_after_affine(conv, scale, norm.bias - scale * mu), s

    def _channel_gate(self, h: Tensor) -> Tensor:
        gate = self.fn.channel_gate
        pooled = spatial_mean(gate, "pool", (h,), channel_mean)
        return gate.fc(pooled).float().flatten(1)


def _simple_gate(h: Tensor, out: Tensor | None = None) -> Tensor:
    """NAFNet's SimpleGate (first channel half times the second), optionally into ``out``."""
    c = h.shape[1] // 2
    return torch.mul(h[:, :c], h[:, c:]) if out is None else torch.mul(h[:, :c], h[:, c:], out=out)


FUSED_BRANCHES = (FusedResidual, FusedAttention, FusedGatedFeedForward)


class LeanUNet(RestorationUNet):
    """The inference form's U-Net: the same function, with each full-resolution map freed or reused early.

    With autograd on it is :class:`RestorationUNet` unchanged.
    """

    def _add_base(self, y: Tensor, x: Tensor) -> Tensor:
        """The global residual added into the head's output.

        For super-resolution the head here stops before its pixel shuffle, and the bilinear upsampling
        is added before it too, as a 3x3 convolution of the input (:func:`bilinear_upsampling_conv`):
        at x4 that adds a 48-channel map at input size instead of interpolating a 16x larger one.
        """
        if getattr(self, "bilinear", None) is not None:
            if torch.is_grad_enabled():
                return super()._add_base(self.shuffle(y), x)
            with torch.autocast(x.device.type, enabled=False):
                y = y.add_(F.conv2d(F.pad(x.float(), (1, 1, 1, 1), mode="replicate"), self.bilinear))
            return self.shuffle(y)
        base = self.base(x)
        if torch.is_grad_enabled() or torch.result_type(y, base) != y.dtype:
            return y + base
        return y.add_(base)

    def _up_and_fuse(self, i: int, low: Tensor, skip: Tensor) -> Tensor:
        """``fuse(cat(up(low), skip_scale(skip)))`` in bands of rows, written into ``skip``'s storage."""
        if torch.is_grad_enabled():
            return super()._up_and_fuse(i, low, skip)
        up, fuse, skip_scale = self.ups[i], self.fuses[i], self.skip_scales[i]
        scaled = _rowwise_skip(skip_scale, skip)
        if type(up) is not Upsample or scaled is None:
            return fuse(torch.cat([up(low), skip_scale(skip)], dim=1))
        conv, shuffle = up.body
        height, halo, factor = low.shape[2], conv.padding[0], shuffle.upscale_factor
        rows = band_rows(low, conv.out_channels)
        out = None
        for q0 in range(0, height, rows):
            q1 = min(q0 + rows, height)
            a, b = max(q0 - halo, 0), min(q1 + halo, height)
            r0, r1 = factor * q0, factor * q1
            upper = shuffle(conv(low[:, :, a:b])[:, :, q0 - a : q1 - a])
            y = fuse(torch.cat([upper, scaled(skip[:, :, r0:r1])], dim=1))
            del upper
            if out is None:
                same = y.dtype == skip.dtype and y.shape[1] == skip.shape[1]
                out = skip if same else empty_channels_last(y, (y.shape[0], y.shape[1], *skip.shape[2:]))
            out[:, :, r0:r1] = y
            del y
        return out


def bilinear_upsampling_conv(scale: int, channels: int) -> Tensor:
    """(channels * scale**2, channels, 3, 3) weights: pixel-shuffled, a 3x3 convolution of the
    edge-replicated input equals ``F.interpolate(x, scale_factor=scale, mode="bilinear")``.

    Output row ``scale * i + a`` samples the input at ``i + t``, ``t = (a + 1/2) / scale - 1/2`` in
    (-1/2, 1/2), between rows ``i - 1`` and ``i`` (t < 0) or ``i`` and ``i + 1``; PyTorch clamps at
    the border, which the replicated edge reproduces.
    """
    taps = torch.zeros(scale, 3, dtype=torch.float64)
    for a in range(scale):
        t = (a + 0.5) / scale - 0.5
        if t < 0:
            taps[a, 0], taps[a, 1] = -t, 1 + t
        else:
            taps[a, 1], taps[a, 2] = 1 - t, t
    per_offset = torch.einsum("ai,bj->abij", taps, taps).reshape(scale * scale, 3, 3)
    weight = torch.zeros(channels, scale * scale, channels, 3, 3, dtype=torch.float64)
    for c in range(channels):
        weight[c, :, c] = per_offset
    return weight.reshape(channels * scale * scale, channels, 3, 3).float()


def _rowwise_skip(module: nn.Module, skip: Tensor) -> Callable[[Tensor], Tensor] | None:
    """The skip scaling as a function of rows of ``skip`` (None: not known to act row by row)."""
    if type(module) is ConstantSkip:
        return module
    if type(module) is LearnedSkipGate:
        gate = module.gate(skip)
        return lambda rows: rows * gate
    return None


def _conv_after_affine(conv: nn.Module, scale: Tensor, shift: Tensor) -> Callable[[Tensor], Tensor]:
    """``x -> conv(scale * x + shift)`` for (B, C) per-channel ``scale`` and ``shift``, folded when B is 1."""
    weight = conv.weight.float()
    if scale.shape[0] == 1:
        folded_weight = (weight * scale.view(1, -1, 1, 1)).to(conv.weight.dtype).contiguous(memory_format=torch.channels_last)
        folded_bias = (conv.bias.float() + weight.flatten(1) @ shift[0]).to(conv.weight.dtype)
        return lambda x: conv1x1(x, folded_weight, folded_bias)
    b, c = scale.shape
    scale, shift = scale.view(b, c, 1, 1), shift.view(b, c, 1, 1)
    return lambda x: conv(torch.addcmul(shift, x, scale).to(x.dtype))


def _conv_then_scale(conv: nn.Module, in_scale: Tensor | None, out_scale: Tensor | None) -> Callable[[Tensor], Tensor]:
    """``h -> out_scale * conv(in_scale * h)`` for (B, C_in) ``in_scale`` and (B, 1) ``out_scale`` (None: 1)."""
    scales = [t for t in (in_scale, out_scale) if t is not None]
    if not scales:
        return lambda h: conv1x1(h, conv.weight, conv.bias)
    if max(t.shape[0] for t in scales) == 1:
        weight, bias = conv.weight.float(), conv.bias.float()
        if out_scale is not None:
            weight, bias = weight * out_scale.view(1, 1, 1, 1), bias * out_scale.view(1)
        if in_scale is not None:
            weight = weight * in_scale.view(1, -1, 1, 1)
        weight, bias = weight.to(conv.weight.dtype).contiguous(memory_format=torch.channels_last), bias.to(conv.weight.dtype)
        return lambda h: conv1x1(h, weight, bias)

    def unfolded(h: Tensor) -> Tensor:
        if in_scale is not None:
            h = h * in_scale.view(in_scale.shape[0], -1, 1, 1).to(h.dtype)
        out = conv1x1(h, conv.weight, conv.bias)
        return out if out_scale is None else out * out_scale.view(-1, 1, 1, 1).to(out.dtype)

    return unfolded
