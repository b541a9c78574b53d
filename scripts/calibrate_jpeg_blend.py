"""Fit how much of each JPEG release's change to keep at each quality, and store it in the manifest.

Validation images cut from the training data (the first 10 of BSD200, the images the JPEG runs hold
out for validation; gray for gray models) are saved as JPEG at each quality with OpenCV, restored
whole, and the least-squares weight of the change is fitted over all of them
(``irestore.models.jpeg_blend``). ``irestore jpeg`` then applies ``w(q)`` for the quality it reads
from each file. Never fitted on the test sets (LIVE1, Classic5).

    python scripts/calibrate_jpeg_blend.py [jpeg jpeg-gray] [--data-dir ROOT]
"""

from __future__ import annotations

import argparse

import torch

from irestore.data.colour import rgb_to_gray
from irestore.data.jpeg import jpeg_compress
from irestore.data.noise import quantize_8bit
from irestore.engine import Restorer
from irestore.io import list_images, read_image
from irestore.models.jpeg_blend import fitted_weight
from irestore.models.release import record
from irestore.models.zoo import load_model, read_manifest, weights_dir
from irestore.train.data import data_root

QUALITIES = (10, 30, 50, 60, 70, 75, 80, 85, 90, 95, 98, 100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=["jpeg", "jpeg-gray"])
    parser.add_argument("--data-dir", default="")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    folder = weights_dir()
    files = list_images(data_root(args.data_dir) / "train" / "BSD200")[: args.count]
    for name in args.names:
        loaded = load_model(name, folder=folder)
        gray = loaded.model.config.in_channels == 1
        clean = [read_image(f).pixels for f in files]
        clean = [quantize_8bit(rgb_to_gray(c)) if gray else c for c in clean]
        restorer = Restorer(loaded.model, tile=0)
        weights = []
        for q in QUALITIES:
            inputs = [jpeg_compress(c, q) for c in clean]
            weights.append(round(fitted_weight(inputs, [restorer(i) for i in inputs], clean), 3))
        result = {"qualities": list(QUALITIES), "weights": weights, "images": f"BSD200[:{args.count}]", "sha256": read_manifest(folder)["models"][name]["sha256"][:12]}
        record(folder, name, jpeg_blend=result)
        print(f"{name}: " + ", ".join(f"q{q} {w:.2f}" for q, w in zip(QUALITIES, weights)))


if __name__ == "__main__":
    main()
