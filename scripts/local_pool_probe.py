"""Probe: would TLC-style local pools help a model trained on small patches? (docs/ablations.md)

Chu et al. (TLC, ECCV 2022) found that restoration nets with global pools, trained on 256 px
patches and tested on whole images, gain when each pool at test time averages a local window
(about 1.5x the training patch) instead of the whole image. This script reruns ``irestore eval``
with every NAFNet channel-gate pool replaced by a box mean over a ``--window`` px window (scaled to
each level, shifted inward at the borders as TLC does). It stays a probe, not an engine option: on
the deblur release it lowered full-LIVE1 PSNR, so the product keeps whole-image statistics.

    python scripts/local_pool_probe.py --window 192 eval LIVE1 --task deblur -m deblur --tile 0
"""

from __future__ import annotations

import sys

import torch
import torch.nn.functional as F

import irestore.engine.restorer as restorer
import irestore.nn.mixers as mixers
from irestore.models.unet import RestorationUNet
from irestore.nn.global_stats import spatial_mean


def box_mean(t: torch.Tensor, kh: int, kw: int) -> torch.Tensor:
    """Mean over every kh x kw window (integral image), replicated out to the input's size."""
    s = F.pad(t.double().cumsum(-2).cumsum(-1), (1, 0, 1, 0))
    out = (s[..., kh:, kw:] - s[..., :-kh, kw:] - s[..., kh:, :-kw] + s[..., :-kh, :-kw]) / (kh * kw)
    (h, w), (oh, ow) = t.shape[-2:], out.shape[-2:]
    top, left = (h - oh) // 2, (w - ow) // 2
    return F.pad(out, (left, w - ow - left, top, h - oh - top), mode="replicate").to(t.dtype)


def install(window: int) -> None:
    """Route channel-gate pools through ``box_mean``; run the unfused model (its gates broadcast)."""
    size = {}
    forward_features = RestorationUNet.forward_features

    def remember_size(self, x):
        size["h"], size["w"] = x.shape[-2:]
        return forward_features(self, x)

    def local_mean(module, name, tensors, fn):
        t = tensors[0]
        h, w = t.shape[-2:]
        kh, kw = min(h, max(1, round(window * h / size["h"]))), min(w, max(1, round(window * w / size["w"])))
        return box_mean(t, kh, kw) if (kh, kw) != (h, w) else spatial_mean(module, name, tensors, fn)

    RestorationUNet.forward_features = remember_size
    mixers.spatial_mean = local_mean
    restorer.inference_model = lambda model: model


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[0] != "--window":
        sys.exit("usage: local_pool_probe.py --window PIXELS eval ARGS...")
    install(int(argv[1]))
    from irestore.cli.main import app

    app(argv[2:], prog_name="irestore")


if __name__ == "__main__":
    main(sys.argv[1:])
