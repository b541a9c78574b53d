"""Residual blocks composed from a norm, a placement and a mixer, chosen by name."""

from __future__ import annotations

from torch import Tensor, nn

from irestore.errors import ConfigError
from irestore.nn.attention import ContinuousScalingAttention, TransposedAttention
from irestore.nn.mixers import ConvMixer, GatedFeedForward, GatedPointwiseFeedForward
from irestore.nn.norms import make_norm

MIXERS = ("attn", "csattn", "conv")
PLACEMENTS = ("pre", "peri")


class Residual(nn.Module):
    """``x + s(x) * post(f(pre(x)))``.

    ``pre`` is the block's norm; ``s(x)`` is i-LN's per-image std (1 for every other norm); ``post``
    is the Peri-LN output norm (identity for ``pre`` placement). With ``peri`` and ``iln`` the
    output is normalized and then rescaled by the *input's* std, which keeps i-LN's affine
    equivariance (a deliberate choice: plain Peri-LN would discard the input scale).
    """

    def __init__(self, fn: nn.Module, channels: int, norm: str, placement: str) -> None:
        super().__init__()
        if placement not in PLACEMENTS:
            raise ConfigError(f"unknown placement {placement!r}; choose one of {', '.join(PLACEMENTS)}")
        self.norm = make_norm(norm, channels)
        self.fn = fn
        self.post_norm = make_norm(norm, channels) if placement == "peri" else None

    def forward(self, x: Tensor) -> Tensor:
        y, scale = self.norm(x)
        out = self.fn(y)
        if self.post_norm is not None:
            out = self.post_norm(out)[0]
        if scale is not None:
            out = out * scale
        return x + out


class Block(nn.Module):
    """One encoder/decoder block: a token mixer branch, then (except for CSAttn) a feed-forward branch.

    ``gate`` picks the conv mixer's multiplicative gate (:data:`~irestore.nn.mixers.GATES`).
    """

    def __init__(self, channels: int, *, mixer: str, norm: str, placement: str, heads: int, expansion: float, gate: str = "product") -> None:
        super().__init__()
        if mixer == "attn":
            branches = [TransposedAttention(channels, heads), GatedFeedForward(channels, expansion)]
        elif mixer == "csattn":
            branches = [ContinuousScalingAttention(channels, heads)]
        elif mixer == "conv":
            branches = [ConvMixer(channels, expansion, gate), GatedPointwiseFeedForward(channels, expansion, gate)]
        else:
            raise ConfigError(f"unknown mixer {mixer!r}; choose one of {', '.join(MIXERS)}")
        self.branches = nn.ModuleList(Residual(fn, channels, norm, placement) for fn in branches)

    def forward(self, x: Tensor) -> Tensor:
        for branch in self.branches:
            x = branch(x)
        return x
