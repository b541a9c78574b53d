"""Calibrate each release's statistics passes on real photos and store them in the manifest.

The photos are full-size camera images from the training data (PolyU_real: the noisy shots for
`denoise-real`, the clean means otherwise), cut to about 1.6 MP so the engine's default budget tiles
them at a reduced budget (``MEMORY_MB``), and degraded as each release expects (SR takes the clean crop as its low-resolution input). The engine then runs each release
with the fewest passes whose tiles agree with the whole image to >= 50 dB on every photo
(``irestore.engine.calibrate``); ``--exact`` on the command line still forces full agreement.

``--full-size`` calibrates at the size the speed target is set for instead: 12 MP (4000x3000) crops
of the three largest clean photos (``gt_only/Canon600_*``, 18 MP) at the engine's default budget,
so the tiles are the ones a user's 12 MP photo gets. A model whose pools still need passes on the
small crops (``deblur``) may need fewer there: each 1520x2016 tile holds more of the scene than a
~1.1k px tile of a 1.6 MP crop, so its statistics are closer to the whole image's.

    python scripts/calibrate_tiling.py [NAME ...] [--data-dir ROOT] [--full-size]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from irestore.data.colour import rgb_to_gray
from irestore.data.degradations import make_degradation
from irestore.engine.calibrate import calibrate_passes
from irestore.engine.restorer import DEFAULT_MEMORY_BUDGET_MB
from irestore.io import list_images, read_image
from irestore.models.release import record
from irestore.models.zoo import load_model, read_manifest, weights_dir
from irestore.train.data import data_root

PHOTOS = ("Canon80D_ball", "Nikon800_class", "SonyA7II_book")
SIDE = (1092, 1456)  # 1.6 MP, 4:3
# Tiles of ~1.1k px, what the default budget gave before the engine's activations shrank 4x: the
# default tiles are larger now, and larger tiles agree better, so this calibration is conservative.
MEMORY_MB = 384
FULL_SIZE_PHOTOS = ("Canon600_book", "Canon600_toy", "Canon600_water")
FULL_SIDE = (3000, 4000)


def _crop(img: np.ndarray, side: tuple[int, int]) -> np.ndarray:
    h, w = img.shape[:2]
    top, left = (h - side[0]) // 2, (w - side[1]) // 2
    return np.ascontiguousarray(img[top : top + side[0], left : left + side[1]])


def inputs(name: str, entry: dict, root, *, full_size: bool = False) -> list[np.ndarray]:
    """Realistic inputs of ``name``: real noise for the real-noise model, synthetic degradations otherwise."""
    if full_size and name == "denoise-real":
        raise SystemExit(f"{name}: --full-size: no real noisy photo here has 12 MP (PolyU_real's are 5-9 MP)")
    if full_size and entry["task"] == "sr":
        raise SystemExit(f"{name}: --full-size: a 12 MP input would make a {12 * entry['config']['scale'] ** 2} MP output; SR calibrates on the crops")
    folder = root / "train" / "PolyU_real" / ("noisy" if name == "denoise-real" else "gt_only" if full_size else "gt")
    photos, side, count = (FULL_SIZE_PHOTOS, FULL_SIDE, 3) if full_size else (PHOTOS, SIDE, 2)
    files = [f for f in list_images(folder) if f.name.startswith(photos)][:count]
    task = entry["task"]
    gray = entry["config"]["in_channels"] == 1
    out = []
    for i, f in enumerate(files):
        pixels = read_image(f).pixels
        img = _crop(pixels, side)
        if gray:
            img = rgb_to_gray(img)
        if name != "denoise-real" and task != "sr":
            kind = "denoise-gaussian" if task == "denoise" else task
            options = {"sigma_range": (25, 25)} if kind == "denoise-gaussian" else {}
            img, _ = make_degradation(kind, **options)(img, np.random.default_rng(i))
        out.append(np.clip(img, 0, 1).astype(np.float32))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--data-dir", default="")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--full-size", action="store_true", help="12 MP crops at the default budget (slow: minutes per photo)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    folder, root = weights_dir(), data_root(args.data_dir)
    models = read_manifest(folder)["models"]
    for name in args.names or sorted(models):
        memory_mb = DEFAULT_MEMORY_BUDGET_MB if args.full_size else MEMORY_MB
        result = calibrate_passes(load_model(name).model, inputs(name, models[name], root, full_size=args.full_size), memory_mb=memory_mb)
        result["memory_mb"] = memory_mb
        record(folder, name, tiling=result)
        print(f"{name}: {result['stats_passes']} passes; worst agreement by passes {result['agreement_db']} dB at tiles {result['tiles']}")


if __name__ == "__main__":
    main()
