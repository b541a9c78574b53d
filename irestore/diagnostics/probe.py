"""Forward hooks that measure a :class:`RestorationUNet` while it runs, and the two entry points:
``diagnose`` (images -> :class:`Report`) and ``log_diagnostics`` (the training loop's hook)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from irestore.diagnostics.report import BlockStats, DiagnosticsError, Report, SkipStats
from irestore.diagnostics.stats import FeatureStats


class FeatureProbe:
    """Records every block's output and both sides of every long-skip scaling while active.

    Use as ``with FeatureProbe(model) as probe: model(x)``; forwards accumulate until ``report()``.
    Blocks are reported in the order they ran, which for a U-Net's decoder is innermost first and
    not the order the modules were registered in.
    """

    def __init__(self, model: nn.Module) -> None:
        if not hasattr(model, "blocks") or not hasattr(model, "skip_scales"):
            raise DiagnosticsError(f"{type(model).__name__} is not an irestore restoration U-Net (no blocks() / skip_scales)")
        self.model = model
        self.blocks = [(name, module, FeatureStats()) for name, module in model.blocks()]
        self.skips = [(FeatureStats(), FeatureStats()) for _ in model.skip_scales]
        self.handles: list[Any] = []
        self.ran: dict[str, int] = {}

    def __enter__(self) -> "FeatureProbe":
        for name, module, stats in self.blocks:
            self.handles.append(module.register_forward_hook(lambda m, args, out, name=name, stats=stats: self._record_block(name, stats, out)))
        for module, order in self._skip_call_order():
            self.handles.append(module.register_forward_hook(lambda m, args, out, order=order: self._record_skip(next(order), args[0], out)))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles.clear()

    def _skip_call_order(self) -> list[tuple[nn.Module, Iterable[int]]]:
        """Each distinct scaling module with the skip indices it serves, in call order.

        LS shares one gate between skips of equal width, so one module may serve several skips; the
        decoder visits skips innermost first, which fixes which call belongs to which skip.
        """
        served: dict[int, tuple[nn.Module, list[int]]] = {}
        for i, module in enumerate(self.model.skip_scales):
            served.setdefault(id(module), (module, []))[1].append(i)
        return [(module, itertools.cycle(sorted(indices, reverse=True))) for module, indices in served.values()]

    def _record_block(self, name: str, stats: FeatureStats, out: Tensor) -> None:
        self.ran.setdefault(name, len(self.ran))
        stats.update(out)

    def _record_skip(self, index: int, before: Tensor, after: Tensor) -> None:
        self.skips[index][0].update(before)
        self.skips[index][1].update(after)

    def report(self, images: int) -> Report:
        if not self.ran:
            raise DiagnosticsError("no forward pass was recorded")
        ran = sorted((b for b in self.blocks if b[0] in self.ran), key=lambda b: self.ran[b[0]])
        blocks = [BlockStats(name, s.channels, s.mean_square, s.peak, s.entropy, s.entropy_ratio) for name, _, s in ran]
        skips = [SkipStats(i + 1, before.channels, before.rms, after.rms) for i, (before, after) in enumerate(self.skips) if before.channels]
        return Report(blocks, skips, images, _describe(self.model))


def _describe(model: nn.Module) -> dict:
    config = getattr(model, "config", None)
    params = sum(p.numel() for p in model.parameters())
    return {"config": config.to_dict() if config is not None else None, "params": params}


def as_batch(image: np.ndarray | Tensor, channels: int) -> Tensor:
    """An H x W x C array in [0, 1] (or a (C, H, W) / (B, C, H, W) tensor) as a batch with ``channels``.

    Gray images are replicated for colour models and colour images averaged for gray ones, as the
    inference engine does, so a model is diagnosed on the input it would see.
    """
    if isinstance(image, np.ndarray):
        array = image[..., None] if image.ndim == 2 else image
        x = torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1), dtype=np.float32))
    else:
        x = image.float()
    x = x[None] if x.dim() == 3 else x
    if x.shape[1] == channels:
        return x
    if x.shape[1] == 1:
        return x.expand(-1, channels, -1, -1)
    if channels == 1:
        return x.mean(1, keepdim=True)
    raise DiagnosticsError(f"the model takes {channels} channels, the image has {x.shape[1]}")


@torch.no_grad()
def diagnose(model: nn.Module, images: Iterable[np.ndarray | Tensor]) -> Report:
    """Run ``model`` once per image with the probe attached; statistics pool every pixel of every image."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    channels = model.config.in_channels
    count = 0
    try:
        with FeatureProbe(model) as probe:
            for image in images:
                model(as_batch(image, channels).to(device))
                count += 1
    finally:
        model.train(was_training)
    if count == 0:
        raise DiagnosticsError("no images to diagnose")
    return probe.report(count)


@torch.no_grad()
def log_diagnostics(model: nn.Module, batch: Tensor | tuple[Tensor, ...]) -> dict[str, float]:
    """The training loop's hook: one no-grad forward on the batch's inputs, flat keys for ``log.jsonl``.

    The model's train/eval mode is left as it is (no layer here depends on it), so the numbers are
    those of the network being trained at that step.
    """
    inputs = batch[0] if isinstance(batch, (tuple, list)) else batch
    with FeatureProbe(model) as probe:
        model(inputs)
    return probe.report(int(inputs.shape[0])).flat()
