"""What the speed options cost in quality: tiles and statistics passes, bf16, onnxruntime.

A 2 x 2 mosaic of LIVE1 photos (different content per quadrant, so per-tile statistics really
differ from the whole image's) with Gaussian noise, restored by a denoising checkpoint:

    python benchmarks/accuracy.py --weights weights/denoise-gaussian.safetensors

Prints PSNR against the clean mosaic and the largest difference from the whole-image result.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from irestore.engine import Restorer
from irestore.evaluation.datasets import data_roots, list_images
from irestore.io import read_image
from irestore.metrics import psnr
from irestore.models.zoo import load_model


def mosaic(sigma: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    folder = next((root / "test" / "LIVE1" for root in data_roots() if (root / "test" / "LIVE1").is_dir()), None)
    if folder is None:
        raise SystemExit("LIVE1 not found: set IRESTORE_DATA to the folder holding test/LIVE1")
    crops = [img[:512, :768] for img in (read_image(p).pixels for p in list_images(folder)) if img.shape[0] >= 512 and img.shape[1] >= 768][:4]
    clean = np.concatenate([np.concatenate(crops[:2], 1), np.concatenate(crops[2:], 1)], 0)
    noisy = clean + np.random.default_rng(seed).normal(0, sigma / 255, clean.shape).astype(np.float32)
    return clean, (np.round(np.clip(noisy, 0, 1) * 255) / 255).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True, help="a denoising checkpoint or release name")
    parser.add_argument("--sigma", type=float, default=25.0)
    parser.add_argument("--tiles", default="512,256")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_model(args.weights).model
    clean, noisy = mosaic(args.sigma)
    whole = Restorer(model, tile=0)(noisy)
    reference = psnr(whole, clean)
    print(f"{noisy.shape[1]}x{noisy.shape[0]} mosaic, sigma {args.sigma:g}: noisy {psnr(noisy, clean):.3f} dB, whole image {reference:.3f} dB")

    def row(name: str, out: np.ndarray) -> None:
        print(f"{name:<28} {psnr(out, clean):.3f} dB ({psnr(out, clean) - reference:+.4f})  max |diff| vs whole {np.abs(out - whole).max():.4f}")

    for tile in (int(t) for t in args.tiles.split(",")):
        for passes in range(4):
            row(f"tile {tile}, {passes} stats passes", Restorer(model, tile=tile, stats_passes=passes)(noisy))
    row("bf16 whole image", Restorer(model, tile=0, precision="bf16")(noisy))
    row("x8 ensemble", Restorer(model, tile=0, ensemble=True)(noisy))
    try:
        from irestore.export.onnx import OnnxRestorer, export_onnx

        path = export_onnx(model, Path(tempfile.mkdtemp()) / "model.onnx")
        row("onnxruntime whole image", OnnxRestorer(path, model.config)(noisy))
    except ImportError:
        print("onnxruntime: not installed")


if __name__ == "__main__":
    main()
