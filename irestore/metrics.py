"""Image-quality metrics with the exact conventions published restoration tables use.

Papers disagree on details that move numbers by tenths of a dB (ecosystem.md §3.1): the peak value,
whether the output is rounded to 8 bits first, the colour space (RGB or MATLAB's studio-range Y),
the border crop, and which SSIM (Wang's per-channel 2-D index with a ``valid`` window, or MATLAB's
built-in ``ssim`` that treats an H x W x 3 array as a volume). Every function here makes the choice
an explicit argument so a caller states the convention instead of inheriting one.

Inputs are numpy arrays H x W or H x W x C of any real dtype; arithmetic is float64. The two images of
a pair must have the same shape. Errors in the arguments are programming errors (``ValueError``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.ndimage import correlate1d

SsimVariant = Literal["2d", "matlab3d"]

# MATLAB rgb2ycbcr luma row for RGB in [0, 1]; the result is in 0..255 units (studio range 16..235).
_Y_OFFSET = 16.0
_Y_WEIGHTS = np.array([65.481, 128.553, 24.966])

_SSIM_RADIUS = 5  # 11 taps, sigma 1.5: Wang's window, and MATLAB's 2*ceil(3*sigma)+1
_SSIM_SIGMA = 1.5
_JPEG_BLOCK = 8


def _pair(x: np.ndarray, y: np.ndarray, crop_border: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate a pair, make both H x W x C float64 and drop ``crop_border`` pixels on every side."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"images differ in shape: {x.shape} vs {y.shape}")
    if x.ndim == 2:
        x, y = x[..., None], y[..., None]
    if x.ndim != 3:
        raise ValueError(f"expected H x W or H x W x C, got shape {x.shape}")
    if crop_border < 0:
        raise ValueError(f"crop_border must be >= 0, got {crop_border}")
    if crop_border:
        if 2 * crop_border >= min(x.shape[:2]):
            raise ValueError(f"crop_border {crop_border} leaves nothing of a {x.shape[:2]} image")
        x = x[crop_border:-crop_border, crop_border:-crop_border]
        y = y[crop_border:-crop_border, crop_border:-crop_border]
    return x, y


def _psnr_from_mse(mse: float, peak: float) -> float:
    return float("inf") if mse == 0 else float(10.0 * np.log10(peak * peak / mse))


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Float [0, 1] -> uint8 the way saved results are made: clip, scale by 255, round half to even.

    This is ``skimage.img_as_ubyte`` / BasicSR ``tensor2img`` (``np.rint``); MATLAB's ``im2uint8``
    rounds halves away from zero instead, which only differs on exact .5 values.
    """
    scaled = np.clip(np.asarray(img, dtype=np.float64), 0.0, 1.0) * 255.0
    return np.rint(scaled).astype(np.uint8)


def psnr(x: np.ndarray, y: np.ndarray, *, peak: float = 1.0, crop_border: int = 0) -> float:
    """PSNR = 10 log10(peak^2 / MSE), MSE over all pixels and channels of one image.

    ``peak`` is 1.0 for float data in [0, 1] and 255 for 8-bit values; published tables average
    this per-image value over a dataset rather than pooling the MSE. Identical images give ``inf``.
    """
    x, y = _pair(x, y, crop_border)
    return _psnr_from_mse(float(np.mean((x - y) ** 2)), peak)


def rgb_to_y(img: np.ndarray, *, round_uint8: bool) -> np.ndarray:
    """MATLAB ``rgb2ycbcr`` luma (BT.601 studio range) of an RGB image, as H x W x 1 in 0..255 units.

    Y = 16 + 65.481 R + 128.553 G + 24.966 B with R, G, B in [0, 1] (uint8 input is divided by 255
    first), so white is 235 and black 16. MATLAB rounds Y when its input is uint8; pass
    ``round_uint8=True`` for that convention (KAIR, Restormer's deraining script), ``False`` to keep
    the float value (BasicSR / SwinIR). Channel order must be RGB: BGR input silently swaps the R and
    B weights. A one-channel image is treated as R = G = B.
    """
    arr = np.asarray(img)
    values = arr.astype(np.float64) / 255.0 if arr.dtype == np.uint8 else arr.astype(np.float64)
    if values.ndim == 2:
        values = values[..., None]
    if values.ndim != 3 or values.shape[-1] not in (1, 3):
        raise ValueError(f"rgb_to_y needs H x W x 3 (or x 1) RGB, got shape {arr.shape}")
    if values.shape[-1] == 1:
        luma = _Y_OFFSET + _Y_WEIGHTS.sum() * values
    else:
        luma = _Y_OFFSET + values @ _Y_WEIGHTS
        luma = luma[..., None]
    if round_uint8:
        luma = np.rint(np.clip(luma, 0.0, 255.0))
    return luma


def _gaussian_taps() -> np.ndarray:
    offsets = np.arange(-_SSIM_RADIUS, _SSIM_RADIUS + 1, dtype=np.float64)
    taps = np.exp(-(offsets**2) / (2.0 * _SSIM_SIGMA**2))
    return taps / taps.sum()


def _gaussian_filter(img: np.ndarray, axes: tuple[int, ...], mode: str) -> np.ndarray:
    """Separable Gaussian: the 11x11 (x11) window is an outer product of one 1-D kernel."""
    taps = _gaussian_taps()
    for axis in axes:
        img = correlate1d(img, taps, axis=axis, mode=mode)
    return img


def ssim_map(
    x: np.ndarray, y: np.ndarray, *, variant: SsimVariant = "2d", data_range: float = 1.0
) -> np.ndarray:
    """The local SSIM values whose mean :func:`ssim` reports.

    ``"2d"``: each channel filtered on its own, borders that the 11x11 window does not fully cover
    dropped (``valid``), shape (H-10) x (W-10) x C. ``"matlab3d"``: one volumetric filter over H, W
    and the channel axis with replicate padding, shape H x W x C (MATLAB on single-channel data is the
    2-D replicate-padded map).
    """
    x, y = _pair(x, y, 0)
    if variant == "2d":
        if min(x.shape[:2]) <= 2 * _SSIM_RADIUS:
            raise ValueError(f"2-D SSIM needs images larger than 11x11, got {x.shape[:2]}")
        axes: tuple[int, ...] = (0, 1)
        mode = "constant"
    elif variant == "matlab3d":
        axes = (0, 1, 2)
        mode = "nearest"
    else:
        raise ValueError(f"unknown SSIM variant {variant!r}; use '2d' or 'matlab3d'")

    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    mu_x = _gaussian_filter(x, axes, mode)
    mu_y = _gaussian_filter(y, axes, mode)
    var_x = _gaussian_filter(x * x, axes, mode) - mu_x * mu_x
    var_y = _gaussian_filter(y * y, axes, mode) - mu_y * mu_y
    cov = _gaussian_filter(x * y, axes, mode) - mu_x * mu_y
    num = (2.0 * mu_x * mu_y + c1) * (2.0 * cov + c2)
    den = (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)
    out = num / den
    if variant == "2d":
        r = _SSIM_RADIUS
        out = out[r:-r, r:-r]
    return out


def ssim(
    x: np.ndarray,
    y: np.ndarray,
    *,
    variant: SsimVariant = "2d",
    data_range: float = 1.0,
    crop_border: int = 0,
) -> float:
    """Structural similarity with C1 = (0.01 L)^2, C2 = (0.03 L)^2, L = ``data_range``.

    ``"2d"`` is Wang et al.'s ``ssim_index`` as BasicSR/KAIR/SwinIR compute it: 11x11 Gaussian
    (sigma 1.5), ``valid`` region, mean per channel, then the mean of the channels. ``"matlab3d"``
    reproduces MATLAB's built-in ``ssim`` on an H x W x 3 array (the SIDD and GoPro tables), which
    filters the colour axis too and usually scores higher. ``data_range`` must match the data: 255
    for 8-bit values, 1.0 for float images; a wrong value changes C1 and C2 and therefore the score.
    """
    x, y = _pair(x, y, crop_border)
    return float(np.mean(ssim_map(x, y, variant=variant, data_range=data_range)))


def blocking_effect_factor(img: np.ndarray) -> float:
    """Yim & Bovik's blocking-effect factor of one channel (H x W) on the 8x8 JPEG grid.

    Mean squared difference across block boundaries minus that across all other neighbour pairs,
    horizontal and vertical together, weighted by log2(8) / log2(min(H, W)) and floored at 0.
    Pairs are counted as they occur (SwinIR's formula H * (W // 8 - 1) gives the same count when the
    size is a multiple of 8, and a wrong one otherwise).
    """
    img = np.asarray(img, dtype=np.float64)
    h, w = img.shape
    dx = (img[:, :-1] - img[:, 1:]) ** 2  # pair (j, j+1) at column j
    dy = (img[:-1, :] - img[1:, :]) ** 2
    at_col = (np.arange(w - 1) % _JPEG_BLOCK) == _JPEG_BLOCK - 1
    at_row = (np.arange(h - 1) % _JPEG_BLOCK) == _JPEG_BLOCK - 1
    boundary_sum = dx[:, at_col].sum() + dy[at_row, :].sum()
    boundary_n = h * at_col.sum() + w * at_row.sum()
    inner_sum = dx[:, ~at_col].sum() + dy[~at_row, :].sum()
    inner_n = h * (~at_col).sum() + w * (~at_row).sum()
    if boundary_n == 0 or inner_n == 0:
        return 0.0
    difference = boundary_sum / boundary_n - inner_sum / inner_n
    scale = np.log2(_JPEG_BLOCK) / np.log2(min(h, w))
    return float(scale * difference) if difference > 0 else 0.0


def psnr_b(x: np.ndarray, y: np.ndarray, *, peak: float = 1.0, crop_border: int = 0) -> float:
    """PSNR-B (Yim & Bovik 2011): PSNR with MSE + BEF(x), where x is the image under test.

    Not symmetric: only the test image's blocking is penalised. Colour images follow SwinIR's
    ``calculate_psnrb``: PSNR-B per channel, then the mean of the channels, so on colour data it is
    comparable with the per-channel mean PSNR rather than with :func:`psnr` of the pooled MSE.
    """
    x, y = _pair(x, y, crop_border)
    values = []
    for c in range(x.shape[-1]):
        mse = float(np.mean((x[..., c] - y[..., c]) ** 2))
        values.append(_psnr_from_mse(mse + blocking_effect_factor(x[..., c]), peak))
    return float(np.mean(values))
