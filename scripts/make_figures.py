"""Make the README's before/after figures: one strip per task, crops at 100%, from freely licensed images.

Each strip is input | irestore's output | the clean original, cut from the same place. The clean
photos are scikit-image's data images (CC0 or public domain: "coffee" by Rachel Michetti, "chelsea"
by Stefan van der Walt, NASA's "astronaut" and "rocket"); the degradations are irestore's own
synthetic ones at a fixed seed, except denoise, which uses the shipped example photo. The shipped
weights restore the whole image, the crop is taken afterwards:

    pip install scikit-image && python scripts/make_figures.py
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import skimage.data

from irestore.data.degradations import make_degradation
from irestore.engine import Restorer
from irestore.io import read_image
from irestore.models.zoo import load_model, release_name

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "figures"
CROP = 160
LABEL = 22

# task, release, clean image, degradation options, crop (top, left) in the clean image
CASES = [
    ("denoise", release_name("denoise"), "example", None, (150, 250)),
    ("sr", release_name("sr", scale=4), "astronaut", {"scale": 4}, (40, 160)),
    ("jpeg", release_name("jpeg"), "chelsea", {"quality_range": (10, 10)}, (60, 150)),
    ("deblur", release_name("deblur"), "rocket", {}, (170, 230)),
    ("derain", release_name("derain"), "coffee", {}, (120, 260)),
]


def _clean(name: str) -> np.ndarray:
    if name == "example":
        return read_image(ROOT / "examples" / "coffee.png").pixels
    return getattr(skimage.data, name)().astype(np.float32) / 255.0


def _degrade(task: str, clean: np.ndarray, options: dict | None) -> tuple[np.ndarray, np.ndarray]:
    if options is None:
        return read_image(ROOT / "examples" / "coffee-noisy.png").pixels, clean
    degrade = make_degradation(task, **options)
    return degrade(clean, np.random.default_rng(7))


def _panel(pixels: np.ndarray, label: str) -> np.ndarray:
    """A crop with its caption above it, 8-bit BGR for OpenCV."""
    body = cv2.cvtColor(np.clip(np.rint(pixels * 255), 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    head = np.full((LABEL, body.shape[1], 3), 255, np.uint8)
    cv2.putText(head, label, (4, LABEL - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([head, body])


def make(task: str, release: str, image: str, options: dict | None, at: tuple[int, int]) -> Path:
    low, clean = _degrade(task, _clean(image), options)
    restored = Restorer(load_model(release, task=task).model)(low)
    top, left = at
    scale = clean.shape[0] // low.shape[0]
    crop_in = low[top // scale : (top + CROP) // scale, left // scale : (left + CROP) // scale]
    if scale > 1:
        crop_in = cv2.resize(crop_in, (CROP, CROP), interpolation=cv2.INTER_NEAREST)
    gap = np.full((CROP + LABEL, 4, 3), 255, np.uint8)
    panels = [
        _panel(crop_in, "input" + (f" (x{scale}, nearest)" if scale > 1 else "")),
        gap,
        _panel(restored[top : top + CROP, left : left + CROP], f"irestore {task}"),
        gap,
        _panel(clean[top : top + CROP, left : left + CROP], "original"),
    ]
    path = OUT / f"{task}.png"
    cv2.imwrite(str(path), np.hstack(panels), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return path


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        print(make(*case))


if __name__ == "__main__":
    main()
