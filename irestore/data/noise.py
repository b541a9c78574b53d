"""Additive white Gaussian noise, the degradation of the Gaussian-denoising benchmarks.

The benchmark protocol (DnCNN, Restormer, SwinIR) adds N(0, sigma/255) to the float image and feeds
it to the network *unclipped and unquantised*; a noisy image a user loads from a PNG was clipped and
rounded to 8 bits. ``clip`` and ``quantize`` produce the latter so training can see both.
"""

import numpy as np


def quantize_8bit(img: np.ndarray) -> np.ndarray:
    """Round to the nearest multiple of 1/255 (ties to even, like ``np.rint`` in img_as_ubyte)."""
    return (np.rint(img * 255.0) / 255.0).astype(np.float32)


def add_gaussian(
    img: np.ndarray,
    sigma255: float,
    rng: np.random.Generator,
    clip: bool = False,
    quantize: bool = False,
) -> np.ndarray:
    """Add i.i.d. N(0, (sigma255/255)^2) to every value; optionally clip to [0, 1] and quantise.

    Quantising implies clipping: an 8-bit file cannot hold values outside [0, 1].
    """
    noisy = img + rng.standard_normal(img.shape, dtype=np.float32) * np.float32(sigma255 / 255.0)
    if clip or quantize:
        noisy = np.clip(noisy, 0.0, 1.0)
    if quantize:
        noisy = quantize_8bit(noisy)
    return noisy.astype(np.float32)
