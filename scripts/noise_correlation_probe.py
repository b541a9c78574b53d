"""How real sRGB camera noise correlates across colours and pixels, against the synthetic recipes.

Real camera noise reaches an sRGB file through demosaicking, a colour matrix and often the camera's
JPEG, and each leaves a trace in the residual ``noisy - clean``: neighbouring pixels share noise
(lag-1 correlation) and so do the colours (red-green, red-blue, green-blue). This prints both for the
real pairs here (PolyU_real's training pairs, Nam CC15, the SIDD samples; centre crops of 512 px) and
for the synthetic camera noise of ``irestore.data.degradations.CameraNoise`` on BSD200 crops, so a
noise model can be checked against what cameras make (docs/models.md, denoise-real):

    python scripts/noise_correlation_probe.py
    python scripts/noise_correlation_probe.py --synthetic-only --crops 40
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from irestore.data.degradations import CameraNoise
from irestore.data_paths import data_roots
from irestore.io import read_image

REAL_SETS = {
    "PolyU_real (train)": ("train/PolyU_real/noisy", "train/PolyU_real/gt", "_real", "_mean"),
    "Nam CC15": ("test/Nam_CC15/noisy", "test/Nam_CC15/gt", "_real", "_mean"),
    "SIDD samples": ("test/SIDD_samples/Noisy_Images", "test/SIDD_samples/GT_Images", "NOISY_", "GT_"),
}
SYNTHETIC = {
    "no demosaic, no JPEG": dict(demosaic=0.0),
    "bilinear demosaic": dict(demosaic=1.0),
    "bilinear demosaic + JPEG 85-98": dict(demosaic=1.0, jpeg=1.0),
    "MHC demosaic": dict(demosaic=1.0, demosaic_method="mhc"),
    "MHC demosaic + JPEG 85-98": dict(demosaic=1.0, demosaic_method="mhc", jpeg=1.0),
}


def correlations(residual: np.ndarray) -> np.ndarray:
    """(lag-1 along rows, mean over colours; red-green; red-blue; green-blue) of one H x W x 3 residual."""
    r = residual.astype(np.float64) - residual.mean(axis=(0, 1))
    lag = np.mean([np.corrcoef(r[:, :-1, c].ravel(), r[:, 1:, c].ravel())[0, 1] for c in range(3)])
    cc = np.corrcoef(r.reshape(-1, 3).T)
    return np.array([lag, cc[0, 1], cc[0, 2], cc[1, 2]])


def centre(img: np.ndarray, size: int) -> np.ndarray:
    h, w = img.shape[:2]
    top, left = max((h - size) // 2, 0), max((w - size) // 2, 0)
    return img[top : top + size, left : left + size]


def real_rows(root: Path, crop: int) -> list[tuple[str, int, np.ndarray]]:
    rows = []
    for name, (noisy_dir, clean_dir, noisy_tag, clean_tag) in REAL_SETS.items():
        noisy_paths = sorted((root / noisy_dir).glob(f"*{noisy_tag}*"))
        found = []
        for path in noisy_paths:
            clean = root / clean_dir / path.name.replace(noisy_tag, clean_tag)
            if clean.exists():
                found.append(correlations(centre(read_image(path).pixels, crop) - centre(read_image(clean).pixels, crop)))
        if found:
            rows.append((name, len(found), np.array(found)))
    return rows


def synthetic_rows(root: Path, count: int, crop: int) -> list[tuple[str, int, np.ndarray]]:
    images = [centre(read_image(p).pixels, crop) for p in sorted((root / "train/BSD200").glob("*.png"))[:count]]
    rows = []
    for name, options in SYNTHETIC.items():
        degrade, rng = CameraNoise(**options), np.random.default_rng(0)
        found = []
        for img in images:
            noisy, clean = degrade(img, rng)
            if (noisy - clean).std() > 1e-3:
                found.append(correlations(noisy - clean))
        rows.append((f"synthetic: {name}", len(found), np.array(found)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--crop", type=int, default=512, help="centre crop of each real photo (px)")
    parser.add_argument("--crops", type=int, default=80, help="BSD200 images for each synthetic recipe")
    parser.add_argument("--synthetic-crop", type=int, default=128, help="their crop, the training patch")
    parser.add_argument("--synthetic-only", action="store_true")
    args = parser.parse_args()
    root = next((r for r in data_roots(None) if (r / "train/BSD200").is_dir()), None)
    if root is None:
        sys.exit("datasets not found (set IRESTORE_DATA)")
    rows = [] if args.synthetic_only else real_rows(root, args.crop)
    rows += synthetic_rows(root, args.crops, args.synthetic_crop)
    print("| residual | n | lag-1 | red-green | red-blue | green-blue |")
    print("|---|---|---|---|---|---|")
    for name, n, values in rows:
        low, mean, high = values.min(0), values.mean(0), values.max(0)
        cells = [f"{m:.2f} ({lo:.2f} to {hi:.2f})" for lo, m, hi in zip(low, mean, high)]
        print(f"| {name} | {n} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
