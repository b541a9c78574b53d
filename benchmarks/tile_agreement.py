"""How closely tiled inference reproduces whole-image inference on real photos.

For each image: PSNR (peak 1) between the whole-image output and the tiled output, with whole-image
statistics (``--passes`` statistics passes, the default engine) and with naive per-tile statistics
(0 passes) for comparison. The issue's bar is >= 45 dB for the shipped models.

    python benchmarks/tile_agreement.py --model denoise-real --tile 192 --images ../shared/datasets/test/Nam_CC15/noisy examples/coffee-noisy.png
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from irestore.engine import Restorer
from irestore.io import list_images, read_image
from irestore.models.zoo import load_model


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="denoise-real", help="release name or .safetensors path")
    parser.add_argument("--images", nargs="+", required=True, help="image files or folders")
    parser.add_argument("--limit", type=int, default=5, help="images per folder")
    parser.add_argument("--tile", type=int, default=192)
    parser.add_argument("--overlap", type=int, default=32)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.model).model
    files = [f for item in map(Path, args.images) for f in (list_images(item)[: args.limit] if item.is_dir() else [item])]
    whole = Restorer(model, tile=0)
    exact = Restorer(model, tile=args.tile, overlap=args.overlap, stats_passes=args.passes)
    naive = Restorer(model, tile=args.tile, overlap=args.overlap, stats_passes=0)
    table = Table(title=f"tiled vs whole image: {args.model}, tile {args.tile}, overlap {args.overlap}")
    for column in ("image", "size", f"{args.passes} statistics passes (dB)", "per-tile statistics (dB)"):
        table.add_column(column)
    results = []
    for f in files:
        pixels = read_image(f).pixels
        reference = whole(pixels)
        results.append((psnr(exact(pixels), reference), psnr(naive(pixels), reference)))
        table.add_row(f.name, f"{pixels.shape[1]}x{pixels.shape[0]}", f"{results[-1][0]:.2f}", f"{results[-1][1]:.2f}")
    table.add_row("mean", "", f"{np.mean([r[0] for r in results]):.2f}", f"{np.mean([r[1] for r in results]):.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
