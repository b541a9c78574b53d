"""Deepen a trained network without changing what it computes (Net2Net's "deeper" step).

Why: on this project's 2-core CPU a release model cannot be retrained from scratch at a larger size
in one session, but it can keep training from where it is. Every block is a stack of residual
branches ``x + s(x) * f(norm(x))``; a new block whose branches end in a zero projection is the
identity, so a deeper model built this way starts at exactly the trained model's output and its new
blocks learn from there (the projection gets gradient at once; the layers before it follow).

New blocks go at the end of their stage, after the trained ones. Only depth may grow: width,
heads, norm, mixer and skips must match, since those change the function of the trained weights.
"""

from __future__ import annotations

import torch
from torch import nn

from irestore.errors import ConfigError
from irestore.models.config import ModelConfig
from irestore.models.unet import RestorationUNet
from irestore.nn.blocks import Block

DEPTH_FIELDS = ("enc_blocks", "mid_blocks", "dec_blocks")


def depth_growth(source: ModelConfig, target: ModelConfig) -> dict[str, dict]:
    """The depth fields that grow from ``source`` to ``target``, as ``{field: {"from": .., "to": ..}}``.

    A ConfigError where deepening cannot take one to the other: the level count or any non-depth
    field differs, or a stage would shrink.
    """
    src, dst = source.to_dict(), target.to_dict()
    if len(source.enc_blocks) != len(target.enc_blocks):
        raise ConfigError(f"only depth can grow from trained weights; levels are {source.levels} there, {target.levels} here")
    others = [k for k in src if k not in DEPTH_FIELDS and src[k] != dst[k]]
    if others:
        k = others[0]
        raise ConfigError(f"only depth can grow from trained weights; {k} is {src[k]!r} there, {dst[k]!r} here")
    grown = {}
    for key in DEPTH_FIELDS:
        a, b = _as_tuple(src[key]), _as_tuple(dst[key])
        if any(n < m for m, n in zip(a, b)):
            raise ConfigError(f"{key} cannot shrink from trained weights ({src[key]} there, {dst[key]} here)")
        if a != b:
            grown[key] = {"from": src[key], "to": dst[key]}
    return grown


def grow_into(model: RestorationUNet, source: RestorationUNet) -> dict[str, dict]:
    """Load ``source``'s weights into ``model``, of the same or a deeper config; zero the new blocks.

    Returns ``depth_growth`` of the two configs (empty where they are equal).
    """
    grown = depth_growth(source.config, model.config)
    model.load_state_dict(source.state_dict(), strict=not grown)
    trained = {name for name, _ in source.blocks()}
    for name, block in model.blocks():
        if name not in trained:
            zero_branches(block)
    return grown


def deepen(source: RestorationUNet, config: ModelConfig) -> RestorationUNet:
    """A model of ``config`` that computes what ``source`` computes: its weights, plus identity blocks."""
    model = RestorationUNet(config)
    grow_into(model, source)
    return model


def zero_branches(block: Block) -> None:
    """Zero the last convolution of every residual branch, which makes the block the identity.

    With Peri-LN the zero output still passes the branch's output norm, which maps it to that norm's
    bias: zero too, since the block is freshly built.
    """
    for branch in block.branches:
        last = [m for m in branch.fn.modules() if isinstance(m, nn.Conv2d)][-1]
        with torch.no_grad():
            last.weight.zero_()
            if last.bias is not None:
                last.bias.zero_()


def _as_tuple(value) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)
