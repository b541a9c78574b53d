"""Classical baselines that run in the same table as a trained model.

A table without a reference point hides whether a model helps: ``identity`` scores the degraded
input itself, ``bicubic`` is the SR floor, and ``nlm`` / ``bm3d`` are the denoisers people reach for
(ecosystem.md §1.9). The denoisers use the level's known sigma on synthetic noise and, on real
noise (no level), a per-image estimate (:func:`estimate_sigma255`).

Each baseline provides ``for_level(level)``, returning the restore callable for that level; the
runner calls it so a baseline knows sigma or scale without the model interface changing.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from irestore.errors import ConfigError
from irestore.evaluation.samples import Level
from irestore.metrics import to_uint8

Restore = Callable[[np.ndarray], np.ndarray]
BASELINES = ("identity", "bicubic", "nlm", "bm3d")

# OpenCV's h relative to sigma (0..255 units), picked on a CBSD68/BSD68 image at sigma 15/25/50:
# the colour filter works in CIELAB, where the same noise needs a smaller h than gray.
NLM_H_PER_SIGMA_COLOR = 0.6
NLM_H_PER_SIGMA_GRAY = 0.9


class BaselineUnavailableError(ConfigError):
    """An optional baseline's package is not installed; the CLI skips it with this message."""


def estimate_sigma255(img: np.ndarray) -> float:
    """Noise std in 0..255 units: Donoho's MAD of the finest Haar diagonal band, mean over channels.

    For i.i.d. noise the diagonal detail (a - b - c + d) / 2 of each 2x2 block has the noise's
    variance while smooth content cancels; the median / 0.6745 ignores the edges that survive.
    (skimage's ``estimate_sigma`` does the same with db2 but needs PyWavelets.)
    """
    h, w = img.shape[0] // 2 * 2, img.shape[1] // 2 * 2
    x = np.asarray(img[:h, :w], dtype=np.float64)
    diagonal = (x[0::2, 0::2] - x[0::2, 1::2] - x[1::2, 0::2] + x[1::2, 1::2]) / 2.0
    per_channel = np.median(np.abs(diagonal.reshape(-1, x.shape[-1])), axis=0) / 0.6745
    return float(per_channel.mean()) * 255.0


class Identity:
    """The degraded input unchanged: the score to beat."""

    name = "identity"

    def for_level(self, level: Level) -> Restore:
        if level.kind == "scale":
            raise ConfigError("identity cannot change the image size; use the 'bicubic' baseline for sr")
        return lambda img: img


class Bicubic:
    """MATLAB-bicubic up-scaling (the same resampler that made the LR inputs)."""

    name = "bicubic"

    def for_level(self, level: Level) -> Restore:
        if level.kind != "scale":
            raise ConfigError("the 'bicubic' baseline is for sr only")
        from irestore.data.resize import imresize

        return lambda img: imresize(img, level.scale)


class _Denoiser:
    name = ""

    def for_level(self, level: Level) -> Restore:
        if level.kind not in ("sigma", "none"):
            raise ConfigError(f"the {self.name!r} baseline is a denoiser; it has no meaning at {level}")
        known = float(level.value) if level.kind == "sigma" else None
        return lambda img: self.denoise(img, known if known is not None else estimate_sigma255(img))

    def denoise(self, img: np.ndarray, sigma255: float) -> np.ndarray:
        raise NotImplementedError


class NonLocalMeans(_Denoiser):
    """OpenCV fast NLM (7x7 patches, 21x21 search) on the 8-bit clipped input, as OpenCV requires."""

    name = "nlm"

    def denoise(self, img: np.ndarray, sigma255: float) -> np.ndarray:
        pixels = to_uint8(img)
        if img.shape[-1] == 1:
            h = NLM_H_PER_SIGMA_GRAY * sigma255
            out = cv2.fastNlMeansDenoising(pixels[..., 0], None, h, 7, 21)[..., None]
        else:
            h = NLM_H_PER_SIGMA_COLOR * sigma255
            out = cv2.fastNlMeansDenoisingColored(np.ascontiguousarray(pixels), None, h, h, 7, 21)
        return out.astype(np.float32) / 255.0


class Bm3d(_Denoiser):
    """BM3D / CBM3D from the optional ``bm3d`` package (Makinen et al.), on the float input."""

    name = "bm3d"

    def __init__(self) -> None:
        try:
            import bm3d
        except ImportError:
            raise BaselineUnavailableError(
                "bm3d: the optional 'bm3d' package is not installed (pip install 'irestore[bm3d]'); baseline skipped"
            ) from None
        self._bm3d = bm3d

    def denoise(self, img: np.ndarray, sigma255: float) -> np.ndarray:
        sigma = sigma255 / 255.0
        if img.shape[-1] == 1:
            out = np.asarray(self._bm3d.bm3d(img[..., 0], sigma_psd=sigma))[..., None]
        else:
            out = np.asarray(self._bm3d.bm3d_rgb(img, sigma_psd=sigma))
        return out.astype(np.float32)


def make_baseline(name: str) -> Identity | Bicubic | NonLocalMeans | Bm3d:
    """Build a baseline by name; ``bm3d`` raises :class:`BaselineUnavailableError` when not installed."""
    makers = {"identity": Identity, "bicubic": Bicubic, "nlm": NonLocalMeans, "bm3d": Bm3d}
    if name not in makers:
        raise ConfigError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}")
    return makers[name]()
