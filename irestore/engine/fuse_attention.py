"""The inference form of the attention blocks (MDTA + gated feed-forward, per-token LN), in bands of rows.

Run as trained, an attention block at one megapixel spends most of its time moving memory, not
computing: the head split of a channels-last map copies q, k and v, GELU on a channel half of a
channels-last map is 5.7x slower in bf16 than on a contiguous one (160 vs 28 ms at 32 channels,
1 MP), and per-token LayerNorm under bf16 autocast round-trips through float32. The same functions
here:

* the **attention** branch in two passes: the first runs LN, q, k and v band by band, keeps v and
  sums ``[q; k] [q; k]^T`` (the Gram of q and k, their squared norms on its diagonal), so q and k
  are never whole; the second applies ``proj(attn @ v)`` to v as *one* 1x1 convolution, since a
  per-head C x C attention map applied to every pixel is a block-diagonal pointwise map that folds
  into ``proj``'s weight;
* the **gated feed-forward** band by band, its expand and depthwise convolutions split into the
  GELU half and the gate half so that each is a contiguous map.

Inside a :class:`~irestore.nn.global_stats.StatsContext` (tiles that collect or replay whole-image
statistics) the attention map goes through :func:`spatial_mean` as in training, from q and k
computed in bands into whole maps. With autograd on, both blocks run as trained.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from irestore.engine.bands import add_by_rows, band_rows, conv1x1, empty_channels_last, layer_norm_channels
from irestore.nn.attention import TransposedAttention, head_gram
from irestore.nn.blocks import Residual
from irestore.nn.global_stats import active_context, spatial_mean
from irestore.nn.mixers import GatedFeedForward
from irestore.nn.norms import TokenLayerNorm


class _BandedBranch(nn.Module):
    """A pre-LN residual ``x + f(LN(x))`` whose ``f`` opens with 1x1 and 3x3 depthwise convolutions."""

    def __init__(self, residual: Residual) -> None:
        super().__init__()
        self.residual = residual

    def forward(self, x: Tensor) -> Tensor:
        """As trained with autograd on; banded into ``x`` without it."""
        return self.residual(x) if torch.is_grad_enabled() else self.banded(x)

    def banded(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def normed_rows(self, x: Tensor, r0: int, r1: int) -> tuple[Tensor, int]:
        """``LN(x)`` on rows ``r0:r1`` and a one-row halo, and the offset of row ``r0`` in it."""
        norm, a = self.residual.norm, max(r0 - 1, 0)
        return layer_norm_channels(x[:, :, a : min(r1 + 1, x.shape[2])], norm.weight, norm.bias, norm.eps), r0 - a


def _depthwise_rows(y: Tensor, top: int, rows: int, pointwise: nn.Module, depthwise: nn.Conv2d, channels: slice) -> Tensor:
    """``depthwise(pointwise(y))`` for output ``channels`` only, cropped to ``rows`` rows from ``top``, channels-last."""
    h = conv1x1(y, pointwise.weight[channels], pointwise.bias[channels])
    h = F.conv2d(h, depthwise.weight[channels], depthwise.bias[channels], padding=1, groups=h.shape[1])[:, :, top : top + rows]
    return h if h.is_contiguous(memory_format=torch.channels_last) else h.contiguous(memory_format=torch.channels_last)


def _supports(residual: Residual, fn_type: type) -> bool:
    return type(residual.norm) is TokenLayerNorm and residual.post_norm is None and type(residual.fn) is fn_type


class FusedGatedFeedForward(_BandedBranch):
    """``x + project(GELU(a) * b)`` with ``a, b = dw(expand(LN(x)))``, band by band into ``x``."""

    @staticmethod
    def supports(residual: Residual) -> bool:
        return _supports(residual, GatedFeedForward)

    def banded(self, x: Tensor) -> Tensor:
        fn = self.residual.fn
        hidden = fn.project.weight.shape[1]
        first, second = slice(0, hidden), slice(hidden, 2 * hidden)

        def branch(r0: int, r1: int) -> Tensor:
            y, top = self.normed_rows(x, r0, r1)
            a = F.gelu(_depthwise_rows(y, top, r1 - r0, fn.expand, fn.dw, first))
            a.mul_(_depthwise_rows(y, top, r1 - r0, fn.expand, fn.dw, second))
            return conv1x1(a, fn.project.weight, fn.project.bias)

        return add_by_rows(x, branch, band_rows(x, hidden), halo=1)


class FusedAttention(_BandedBranch):
    """``x + proj(softmax(q_hat k_hat^T t) v)`` (MDTA) in two banded passes, ``proj`` and the attention map folded."""

    @staticmethod
    def supports(residual: Residual) -> bool:
        return _supports(residual, TransposedAttention)

    def banded(self, x: Tensor) -> Tensor:
        attn, (b, c, height, width) = self.residual.fn, x.shape
        heads = attn.heads
        d = c // heads
        keep_qk = active_context() is not None
        q, k, v, products = self._first_pass(x, keep_qk)
        if keep_qk:
            packed = spatial_mean(attn, "a1", (q, k), lambda qq, kk: head_gram(qq, kk, heads)).float()
            del q, k
        else:
            packed = _pack(products, heads) / (height * width)
        g, q2, k2 = packed[..., :d], packed[..., d : d + 1], packed[..., d + 1 :]
        denom = torch.sqrt(q2.clamp_min(1e-12) * k2.clamp_min(1e-12).transpose(-1, -2))
        maps = torch.softmax(g / denom * attn.temperature.float(), dim=-1)
        proj, out = attn.proj, []
        for i in range(b):
            weight = proj.weight.float().flatten(1) @ torch.block_diag(*maps[i].unbind(0))
            weight = weight.to(proj.weight.dtype).view(c, c, 1, 1).contiguous(memory_format=torch.channels_last)
            vi = v[i : i + 1]
            out.append(add_by_rows(x[i : i + 1], lambda r0, r1: conv1x1(vi[:, :, r0:r1], weight, proj.bias), band_rows(vi, c)))
        return out[0] if b == 1 else torch.cat(out).contiguous(memory_format=torch.channels_last)

    def _first_pass(self, x: Tensor, keep_qk: bool) -> tuple[Tensor | None, Tensor | None, Tensor, Tensor]:
        """Band by band: v whole, q and k whole only if ``keep_qk``, else the sums over positions of
        ``[q; k] [q; k]^T`` (the Gram of q and k, and their squared norms on the diagonals), in float32
        across bands and in the autocast dtype within one, as training computes the Gram."""
        attn, (b, c, height, width) = self.residual.fn, x.shape
        q = k = v = None
        products = x.new_zeros(b, 2 * c, 2 * c, dtype=torch.float32)
        rows = band_rows(x, 3 * c)
        for r0 in range(0, height, rows):
            r1 = min(r0 + rows, height)
            y, top = self.normed_rows(x, r0, r1)
            h = _depthwise_rows(y, top, r1 - r0, attn.qkv, attn.qkv_dw, slice(0, 2 * c))
            values = _depthwise_rows(y, top, r1 - r0, attn.qkv, attn.qkv_dw, slice(2 * c, 3 * c))
            del y
            if v is None:
                v = empty_channels_last(values, (b, c, height, width))
                if keep_qk:
                    q, k = (empty_channels_last(h, (b, c, height, width)) for _ in range(2))
            v[:, :, r0:r1] = values
            if keep_qk:
                q[:, :, r0:r1], k[:, :, r0:r1] = h[:, :c], h[:, c:]
            else:
                tokens = h.permute(0, 2, 3, 1).reshape(b, -1, 2 * c)
                products += (tokens.transpose(1, 2) @ tokens).float()
                del tokens
            del h, values
        return q, k, v, products


def _pack(products: Tensor, heads: int) -> Tensor:
    """(B, 2C, 2C) sums of ``[q; k] [q; k]^T`` to the (B, heads, d, d+2) layout of
    :func:`~irestore.nn.attention.head_gram`: each head's block of ``q k^T``, then its q^2 and k^2 columns."""
    b, c = products.shape[0], products.shape[1] // 2
    d = c // heads
    gram = products[:, :c, c:]
    blocks = torch.stack([gram[:, j * d : (j + 1) * d, j * d : (j + 1) * d] for j in range(heads)], dim=1)
    q2 = products[:, :c, :c].diagonal(dim1=1, dim2=2).reshape(b, heads, d, 1)
    k2 = products[:, c:, c:].diagonal(dim1=1, dim2=2).reshape(b, heads, d, 1)
    return torch.cat([blocks, q2, k2], dim=-1)
