"""Transposed (channel) attention: Restormer's MDTA and the three-stage CSAttn.

Attention runs across channels, so its cost is linear in the number of pixels. The C x C attention
map is a sum over *all* positions, which makes it a whole-image statistic: the Gram matrix and the
norms used for the L2 normalisation of queries and keys are taken through :func:`spatial_mean`,
so tiled inference can reuse the whole image's attention map. ``q_hat k_hat^T`` with q, k
L2-normalised over positions equals ``mean(q k^T) / sqrt(mean(q^2) mean(k^2)^T)``, the form used here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from irestore.nn.global_stats import spatial_mean


def _heads(x: Tensor, heads: int) -> Tensor:
    b, c, h, w = x.shape
    return x.reshape(b, heads, c // heads, h * w)


def head_gram(q: Tensor, k: Tensor, heads: int) -> Tensor:
    """(B, heads, d, d+2) from (B, C, H, W) q and k: per head, the mean over positions of q k^T, then
    mean q^2 and mean k^2 as columns (the whole-image statistic of channel attention)."""
    q, k = _heads(q, heads), _heads(k, heads)
    n = q.shape[-1]
    qf, kf = q.float(), k.float()
    g = qf @ kf.transpose(-1, -2) / n
    return torch.cat([g, qf.pow(2).mean(-1, keepdim=True), kf.pow(2).mean(-1, keepdim=True)], dim=-1)


class TransposedAttention(nn.Module):
    """MDTA (Restormer): 1x1 conv -> 3x3 depthwise conv -> q, k, v -> channel attention -> 1x1 conv."""

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.qkv_dw = nn.Conv2d(3 * channels, 3 * channels, 3, padding=1, groups=3 * channels)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        q, k, v = self.qkv_dw(self.qkv(x)).chunk(3, dim=1)
        out = attend(self, "a1", q, k, v, self.temperature, self.heads)
        return self.proj(out)


def attend(module: nn.Module, name: str, q: Tensor, k: Tensor, v: Tensor, temperature: Tensor, heads: int) -> Tensor:
    """Channel attention on (B, C, H, W) maps; the Gram is reduced over H x W (tile-croppable)."""
    b, c, h, w = q.shape

    d = c // heads
    packed = spatial_mean(module, name, (q, k), lambda qq, kk: head_gram(qq, kk, heads))
    g, q2, k2 = packed[..., :d], packed[..., d : d + 1], packed[..., d + 1 :]
    denom = torch.sqrt(q2.clamp_min(1e-12) * k2.clamp_min(1e-12).transpose(-1, -2))
    attn = torch.softmax((g / denom).to(v.dtype) * temperature, dim=-1)
    return (attn @ _heads(v, heads)).reshape(b, c, h, w)


class ContinuousScalingAttention(nn.Module):
    """CSAttn (Wang et al., arXiv 2403.10336): attention in three consecutive stages, no FFN.

    Published: 1x1 conv -> 3x3 depthwise conv -> five tensors Q, K, V, V2, V3; stage 1 is MDTA.
    Stages 2 and 3 are not published in detail (papers.md 2.2-2.4); this is the documented
    interpretation, kept in :meth:`forward` so it is easy to change:

    * stage 2 ("value nonlinear transformation"): the stage-1 output X1 queries K again and
      attends over ReLU(V2): ``X2 = softmax(t2 * x1_hat k_hat^T) relu(V2)``;
    * stage 3 ("spatial scaling"): X2 queries K over V3, and the result is scaled position-wise by
      ``relu(X1)``, a non-negative spatial map from the first stage:
      ``X3 = softmax(t3 * x2_hat k_hat^T) V3 * relu(X1)``;
    * a 1x1 projection of X3 is the branch output.
    """

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(3, heads, 1, 1))
        self.qkv = nn.Conv2d(channels, 5 * channels, 1)
        self.qkv_dw = nn.Conv2d(5 * channels, 5 * channels, 3, padding=1, groups=5 * channels)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        q, k, v, v2, v3 = self.qkv_dw(self.qkv(x)).chunk(5, dim=1)
        t = self.temperature
        x1 = attend(self, "s1", q, k, v, t[0], self.heads)
        x2 = attend(self, "s2", x1, k, F.relu(v2), t[1], self.heads)
        x3 = attend(self, "s3", x2, k, v3, t[2], self.heads) * F.relu(x1)
        return self.proj(x3)
