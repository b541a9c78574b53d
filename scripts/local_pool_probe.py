"""Probe: would TLC-style local pools help a model trained on small patches? (docs/ablations.md)

Chu et al. (TLC, ECCV 2022) found that restoration nets with global pools, trained on 256 px
patches and tested on whole images, gain when each pool at test time averages a local window
(about 1.5x the training patch) instead of the whole image. This script reruns ``irestore eval``
with every NAFNet channel-gate pool replaced by a box mean over a ``--window`` px window (scaled to
each level, shifted inward at the borders as TLC does). It stays a probe, not an engine option: on
the deblur release it lowered full-LIVE1 PSNR, so the product keeps whole-image statistics.

    python scripts/local_pool_probe.py --window 192 eval LIVE1 --task deblur -m deblur --tile 0

LIVE1's images (~0.3 MP) are barely larger than the windows, so ``--photos`` asks where TLC makes
its claim, on camera photos: 1536x2048 centre crops of every third PolyU_real clean photo and one
18 MP Canon (never in deblur's training data), blurred as deblur trains, restored whole with global
pools and with each window:

    python scripts/local_pool_probe.py --photos 384,768
"""

from __future__ import annotations

import sys

import numpy as np
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


_FORWARD_FEATURES = RestorationUNet.forward_features


def install(window: int) -> None:
    """Route channel-gate pools through ``box_mean``; run the unfused model (its gates broadcast). Call again to change the window."""
    size = {}
    forward_features = _FORWARD_FEATURES

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


def photos(windows: list[int], name: str = "deblur", side: tuple[int, int] = (1536, 2048)) -> None:
    """PSNR against the clean photo per window (0: whole-image pools), one row per photo and the mean."""
    from irestore.data.degradations import make_degradation
    from irestore.io import list_images, read_image
    from irestore.metrics import psnr
    from irestore.models.zoo import load_model
    from irestore.train.data import data_root

    root = data_root("") / "train" / "PolyU_real"
    files = list_images(root / "gt")[::3] + [f for f in list_images(root / "gt_only") if f.name.startswith("Canon600")][:1]
    model = load_model(name).model
    rows = []
    for i, f in enumerate(files):
        clean = read_image(f).pixels
        top, left = (clean.shape[0] - side[0]) // 2, (clean.shape[1] - side[1]) // 2
        clean = np.ascontiguousarray(clean[top : top + side[0], left : left + side[1]], dtype=np.float32)
        blurred, _ = make_degradation(name)(clean, np.random.default_rng(100 + i))
        blurred = np.clip(blurred, 0, 1).astype(np.float32)
        row = [psnr(blurred, clean)]
        for window in [0, *windows]:
            install(window or 10**9)
            row.append(psnr(restorer.Restorer(model, tile=0)(blurred), clean))
        rows.append(row)
        print(f.name, " ".join(f"{v:.3f}" for v in row), flush=True)
    print("columns: input, whole-image pools, " + ", ".join(f"{w} px" for w in windows))
    print("mean", " ".join(f"{v:.3f}" for v in np.mean(rows, axis=0)))


def main(argv: list[str]) -> None:
    if len(argv) == 2 and argv[0] == "--photos":
        return photos([int(w) for w in argv[1].split(",")])
    if len(argv) < 2 or argv[0] != "--window":
        sys.exit("usage: local_pool_probe.py --window PIXELS eval ARGS... | --photos W1,W2,...")
    install(int(argv[1]))
    from irestore.cli.main import app

    app(argv[2:], prog_name="irestore")


if __name__ == "__main__":
    main(sys.argv[1:])
