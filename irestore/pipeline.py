"""One image through one model: pixels restored, alpha carried, bit depth and ICC profile kept."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from irestore.engine import Restorer
from irestore.io import Image


def restore_image(image: Image, restorer: Restorer) -> Image:
    """Restore ``image.pixels``; alpha passes through unchanged (resized bicubically for SR)."""
    pixels = restorer(image.pixels)
    alpha = image.alpha
    if alpha is not None and restorer.scale != 1:
        h, w = pixels.shape[:2]
        alpha = np.clip(cv2.resize(alpha, (w, h), interpolation=cv2.INTER_CUBIC), 0.0, 1.0).astype(np.float32)
    return replace(image, pixels=np.ascontiguousarray(pixels, dtype=np.float32), alpha=alpha)
