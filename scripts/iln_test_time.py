"""Is an i-LN model safe on whole photos? Score it with whole-image and with training-crop statistics.

i-LN normalises by statistics of the whole image at test time, while training only ever saw
patches (docs/ablations.md, "i-LN at test time"). This scores each checkpoint on whole real photos
in two ways:

* ``whole``: one mean and variance per image, as ``irestore`` runs by default (exact whole-image
  statistics, however the image is tiled);
* ``crop``: tiles of the training crop (``recipe.patch_size``, at input resolution), each with its
  own statistics (no statistics passes), so every normalisation sees what training saw.

and reports the mean PSNR, the worst image's gain over the input (negative: the model made the
photo worse), how many images got worse, and the largest raw model output (a restored image lies in
[0, 1]; the blow-up reached 1e5). Denoisers see the real noisy photos; SR models see the MATLAB-bicubic
x1/scale of the clean ones and are scored on Y like ``irestore eval``'s sr-y preset. A set named
``sidd:g25`` or ``polyu:g25`` gives denoisers the clean photos with Gaussian noise (sigma 25, 8-bit)
instead: the noise they were trained on, so only the statistics differ from training.

    python scripts/iln_test_time.py runs/iln-p64.safetensors runs/ln-p64.safetensors --sets sidd polyu --limit 4
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from irestore.checkpoint import load_checkpoint
from irestore.data.degradations import Downscale
from irestore.data.noise import quantize_8bit
from irestore.data.resize import imresize
from irestore.engine.restorer import Restorer
from irestore.evaluation.datasets import clean_images, open_dataset
from irestore.evaluation.protocols import get_preset, score
from irestore.evaluation.samples import matched_pairs
from irestore.io.read import read_image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_polyu_heldout import held_out_pairs


def photo_pairs(name: str, limit: int) -> list[tuple[str, Path, Path]]:
    """(label, noisy, clean) for a named set of whole photos (``NAME:g25`` keeps only the clean ones).

    A clean test set (``Set14``) pairs each image with itself: for SR models, or with ``:g25``.
    """
    name = name.split(":")[0]
    if name == "polyu":
        return held_out_pairs()[:limit]
    if name == "sidd":
        return [(noisy.stem, noisy, clean) for noisy, clean in matched_pairs(open_dataset("SIDD_samples"))][:limit]
    return [(p.stem, p, p) for p in clean_images(open_dataset(name))][:limit]


def training_crop(info: dict, scale: int) -> int:
    """The training crop at the model's input resolution."""
    return int(info["recipe"]["patch_size"]) // scale


class Probe:
    """Restores with whole-image or training-crop statistics, remembering the largest raw model output."""

    def __init__(self, model: torch.nn.Module, crop: int) -> None:
        self.restorers = {
            "whole": Restorer(model, tile=0),
            "crop": Restorer(model, tile=crop, overlap=max(8, crop // 4), stats_passes=0),
        }
        self.peak = 0.0
        for restorer in self.restorers.values():
            restorer.model.forward_features = self._recorded(restorer.model.forward_features)

    def _recorded(self, forward):
        def recorded(x: torch.Tensor) -> torch.Tensor:
            y = forward(x)
            self.peak = max(self.peak, float(y.detach().abs().max()))
            return y

        return recorded

    def __call__(self, img: np.ndarray, mode: str) -> tuple[np.ndarray, float]:
        """The restored image and the largest absolute raw output of this call."""
        self.peak = 0.0
        with torch.no_grad():
            out = self.restorers[mode](img)
        return out, self.peak


def prepared(name: str, limit: int, scale: int, preset) -> list[tuple[str, np.ndarray, np.ndarray, float]]:
    """(label, model input, target, PSNR of the input or of bicubic) for each photo of a set, made once."""
    out = []
    for index, (label, noisy_path, clean_path) in enumerate(photo_pairs(name, limit)):
        clean = read_image(clean_path).pixels
        if scale > 1:
            low, clean = Downscale(scale)(clean, None)
            baseline = np.clip(imresize(low, scale), 0.0, 1.0)
        elif ":g" in name:
            sigma = float(name.split(":g")[1]) / 255.0
            noisy = clean + np.random.default_rng(index).normal(0.0, sigma, clean.shape)
            low = baseline = quantize_8bit(np.clip(noisy, 0.0, 1.0))
        else:
            low = baseline = read_image(noisy_path).pixels
        out.append((label, low, clean, score(baseline, clean, preset, scale=scale).psnr))
    return out


def evaluate(path: Path, sets: list[str], limit: int) -> list[dict]:
    model, info = load_checkpoint(path)
    model.eval()
    scale = model.config.scale
    preset = get_preset("sr-y" if scale > 1 else "real-srgb")
    crop = training_crop(info, scale)
    probe = Probe(model, crop)
    rows = []
    for name in sets:
        photos = prepared(name, limit, scale, preset)
        for mode in ("whole", "crop"):
            psnrs, gains, peak, peak_image = [], [], 0.0, "-"
            for label, low, clean, baseline_psnr in photos:
                out, out_peak = probe(low, mode)
                psnrs.append(score(out, clean, preset, scale=scale).psnr)
                gains.append(psnrs[-1] - baseline_psnr)
                if out_peak > peak:
                    peak, peak_image = out_peak, label
            rows.append(
                {
                    "model": path.stem, "norm": model.config.norm, "gate": model.config.gate, "crop": crop, "set": name,
                    "images": len(photos), "mode": mode, "psnr": float(np.mean(psnrs)), "worst_gain": float(min(gains)),
                    "worse": int(sum(g < 0 for g in gains)), "peak": peak, "peak_image": peak_image,
                    "per_image": dict(zip([p[0] for p in photos], psnrs)),
                }
            )
            print(_line(rows[-1]), flush=True)
    return rows


HEADER = "| model | norm | gate | train crop | set | mode | PSNR | worst gain | images worse | output peak (image) |\n|---|---|---|---|---|---|---|---|---|---|"


def _line(r: dict) -> str:
    return (
        f"| {r['model']} | {r['norm']} | {r['gate']} | {r['crop']} | {r['set']} ({r['images']}) | {r['mode']} | {r['psnr']:.2f} | "
        f"{r['worst_gain']:+.2f} | {r['worse']} | {r['peak']:.3g} ({r['peak_image']}) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", nargs="+", type=Path)
    parser.add_argument("--sets", nargs="+", default=["sidd", "polyu"])
    parser.add_argument("--limit", type=int, default=100, help="images per set")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(HEADER, flush=True)
    rows = [row for path in args.weights for row in evaluate(path, args.sets, args.limit)]
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
