"""How much of a JPEG model's change to keep, by the quality the file says it was saved at.

A model trained on qualities 10-60 removes what it learnt to remove whatever the file: on a quality
95 photo, where there is almost nothing to remove, the shipped colour model lowered LIVE1 PSNR from
38.26 to 35.46 dB. Knowing the quality from the file's tables (:mod:`irestore.io.jpeg_quality`), the
output is ``input + w(q) * (model(input) - input)`` with ``w`` fitted per quality on validation
images (least squares, clipped to [0, 1]) and interpolated between the measured qualities. Where
``w`` is 0 the model is not run at all.
"""

from __future__ import annotations

import numpy as np


def blend_weight(quality: int, record: dict | None) -> float:
    """``w(quality)`` from a release's ``jpeg_blend`` record; 1 (the model as it is) without one."""
    if not record:
        return 1.0
    return float(np.interp(quality, record["qualities"], record["weights"]))


def fitted_weight(inputs: list[np.ndarray], outputs: list[np.ndarray], targets: list[np.ndarray]) -> float:
    """The ``w`` in [0, 1] minimising the squared error of ``input + w (output - input)`` over all pixels."""
    num = sum(float(np.sum((o - i).astype(np.float64) * (t - i))) for i, o, t in zip(inputs, outputs, targets))
    den = sum(float(np.sum((o - i).astype(np.float64) ** 2)) for i, o in zip(inputs, outputs))
    return float(np.clip(num / den, 0.0, 1.0)) if den > 0 else 1.0


def blend(image: np.ndarray, restored: np.ndarray, weight: float) -> np.ndarray:
    return restored if weight >= 1.0 else (image + weight * (restored - image)).astype(np.float32)
