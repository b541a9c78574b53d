"""The in-memory image every part of irestore passes around, and the formats it comes from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FORMAT_BY_EXTENSION: dict[str, str] = {
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".webp": "webp",
    ".bmp": "bmp",
    ".heic": "heic",
    ".heif": "heic",
    ".hif": "heic",
    ".avif": "avif",
}
IMAGE_EXTENSIONS: frozenset[str] = frozenset(FORMAT_BY_EXTENSION)
FORMATS: frozenset[str] = frozenset(FORMAT_BY_EXTENSION.values())

DEFAULT_MAX_PIXELS: int = 200_000_000
"""200 MP: above any camera sensor in common use, well below what a decoder bomb can claim."""


@dataclass
class Image:
    """Pixels plus what must survive a round trip through the model.

    Alpha is kept apart from ``pixels`` because restoration models see colour only; the writer puts
    it back unchanged. ``bit_depth`` is that of the source file so that a 16-bit input is not
    silently written as 8-bit (a common loss in other restoration tools); 10- and 12-bit HEIC/AVIF
    count as 16. ``pixels`` are upright: orientation is applied on read and never written, so
    viewers cannot rotate twice. ``notes`` say what of the file the pixels are, where that is not
    all of it (e.g. "page 1 of 3"), so that callers can tell the user instead of guessing.
    """

    pixels: np.ndarray
    alpha: np.ndarray | None
    bit_depth: int
    icc_profile: bytes | None
    source: str
    format: str
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        pixels = self.pixels
        if not isinstance(pixels, np.ndarray) or pixels.dtype != np.float32:
            raise TypeError(f"{self.source}: pixels must be a float32 numpy array")
        if pixels.ndim != 3 or pixels.shape[2] not in (1, 3):
            raise ValueError(f"{self.source}: pixels must be H x W x 1 or H x W x 3, got {pixels.shape}")
        if pixels.shape[0] == 0 or pixels.shape[1] == 0:
            raise ValueError(f"{self.source}: image has no pixels ({pixels.shape})")
        if self.alpha is not None:
            if not isinstance(self.alpha, np.ndarray) or self.alpha.dtype != np.float32:
                raise TypeError(f"{self.source}: alpha must be a float32 numpy array")
            if self.alpha.shape != pixels.shape[:2]:
                raise ValueError(
                    f"{self.source}: alpha shape {self.alpha.shape} does not match pixels {pixels.shape[:2]}"
                )
        if self.bit_depth not in (8, 16):
            raise ValueError(f"{self.source}: bit_depth must be 8 or 16, got {self.bit_depth}")
        if self.format not in FORMATS:
            raise ValueError(f"{self.source}: format must be one of {sorted(FORMATS)}, got {self.format!r}")

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def channels(self) -> int:
        return int(self.pixels.shape[2])
