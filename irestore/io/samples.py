"""Conversion between stored integer samples and the float [0, 1] arrays the library works on."""

from __future__ import annotations

import numpy as np


def to_float(samples: np.ndarray) -> tuple[np.ndarray, int]:
    """Scale by the maximum of the array's *dtype*, and report the bit depth that dtype implies.

    The dtype, not the data, decides: the ``max > 256`` test some tools use mistakes a dark 16-bit
    image for an 8-bit one. Float samples (float TIFF) are clipped to [0, 1] and reported as 16-bit,
    the deepest integer depth the writers support.
    """
    if samples.dtype == np.uint8:
        return samples.astype(np.float32) / np.float32(255), 8
    if samples.dtype == np.uint16:
        return samples.astype(np.float32) / np.float32(65535), 16
    if samples.dtype == np.bool_:
        return samples.astype(np.float32), 8
    if np.issubdtype(samples.dtype, np.floating):
        return np.clip(np.nan_to_num(samples.astype(np.float32)), 0.0, 1.0), 16
    raise ValueError(f"unsupported sample type {samples.dtype}")


def levels_to_float(samples: np.ndarray, bits: int) -> np.ndarray:
    """Scale integer levels of a known depth, e.g. 10-bit HEIF/AVIF held in uint16, where 1023 is white.

    Here the file states the depth and the dtype cannot (uint16 holds 10, 12 or 16 bits).
    """
    return np.clip(samples.astype(np.float32) / np.float32(2**bits - 1), 0.0, 1.0)


def quantise(values: np.ndarray, bit_depth: int) -> np.ndarray:
    """Clip to [0, 1], then round to the nearest integer level (half to even).

    NaN becomes 0 so that a numerical failure upstream yields black rather than an undefined cast.
    """
    if bit_depth not in (8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth}")
    top = 255 if bit_depth == 8 else 65535
    clean = np.clip(np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    return np.rint(clean * np.float32(top)).astype(np.uint8 if bit_depth == 8 else np.uint16)
