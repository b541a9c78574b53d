"""Realistic camera noise by "unprocessing" sRGB images (Brooks et al., CVPR 2019).

Real sensor noise is Poisson-Gaussian in *linear raw* space, then bent by the camera pipeline, so
in sRGB it is signal-dependent and channel-correlated. Following the paper, an sRGB image is mapped
back to a plausible raw image (inverse tone curve, inverse gamma, inverse colour correction, inverse
white balance), noise with shot/read levels drawn from the paper's fit is added there, and the same
pipeline is run forward again. Gray (1-channel) images skip the colour steps (no CCM, no red/blue
gains) but keep tone curve, gamma, brightness gain and noise.

Real sRGB noise is also *spatially* correlated: each pixel samples one colour of a Bayer mosaic and
demosaicking interpolates the rest, so neighbouring pixels share noise (Nam CC15 measures a
lag-1 correlation of 0.6-0.8, SIDD is similar). With ``demosaic=True`` the noise is drawn on an
RGGB mosaic of the raw image and demosaicked; the *signal* is not mosaicked, so the clean
target stays sharp and the model learns to remove correlated noise, not to re-demosaic.

How the noise is demosaicked decides how the colours' noise correlate. Bilinear interpolation works
on each colour alone, so after the colour matrix neighbouring channels' noise is *anti*-correlated
(red-green -0.4); every real sRGB set here shows positive correlations (PolyU_real's training pairs
0.4-0.9, Nam 0.2-0.7, SIDD 0.1-0.6). Gradient-corrected interpolation (Malvar, He & Cutler, ICASSP
2004; MATLAB's ``demosaic``) borrows green's detail for red and blue, and so green's noise too, and
gives that sign.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from irestore.data.colour import (
    RGB_TO_XYZ,
    apply_matrix,
    gamma_compress,
    gamma_expand,
    inverse_smoothstep,
    smoothstep,
)

# XYZ -> camera matrices of four real cameras used by Brooks et al.; a random convex mix of them
# gives a "random camera".
XYZ_TO_CAMS = np.array(
    [
        [[1.0234, -0.2969, -0.2266], [-0.5625, 1.6328, -0.0469], [-0.0703, 0.2188, 0.6406]],
        [[0.4913, -0.0541, -0.0202], [-0.6130, 1.3513, 0.2906], [-0.1564, 0.2151, 0.7183]],
        [[0.8380, -0.2630, -0.0639], [-0.2887, 1.0725, 0.2496], [-0.0627, 0.1427, 0.5438]],
        [[0.6596, -0.2079, -0.0562], [-0.4782, 1.3016, 0.1933], [-0.0970, 0.1581, 0.5181]],
    ]
)

LOG_SHOT_RANGE = (np.log(1e-4), np.log(1.2e-2))
HIGHLIGHT_START = 0.9


@dataclass(frozen=True)
class Camera:
    """One random camera: colour matrix and white-balance gains (the paper's sampled parameters)."""

    rgb_to_cam: np.ndarray
    rgb_gain: float
    red_gain: float
    blue_gain: float

    def gains(self, channels: int) -> np.ndarray:
        """Forward (raw -> white-balanced) per-channel gains; gray only gets the brightness gain."""
        if channels == 1:
            return np.array([self.rgb_gain])
        return np.array([self.red_gain, 1.0, self.blue_gain]) * self.rgb_gain


def random_camera(rng: np.random.Generator) -> Camera:
    """Sample a camera as in the paper: convex CCM mix, rows normalised; gains from its ranges."""
    weights = rng.uniform(1e-8, 1e8, size=len(XYZ_TO_CAMS))
    xyz_to_cam = np.tensordot(weights / weights.sum(), XYZ_TO_CAMS, axes=1)
    rgb_to_cam = xyz_to_cam @ RGB_TO_XYZ
    rgb_to_cam /= rgb_to_cam.sum(axis=1, keepdims=True)  # keeps white white
    rgb_gain = 1.0 / max(rng.normal(0.8, 0.1), 0.1)
    return Camera(rgb_to_cam, rgb_gain, rng.uniform(1.9, 2.4), rng.uniform(1.5, 1.9))


def random_noise_levels(rng: np.random.Generator, shot_range: tuple[float, float] | None = None) -> tuple[float, float]:
    """(shot, read) variances as in the paper's fit to real cameras.

    log shot ~ U[log 1e-4, log 1.2e-2] (or ``shot_range``); log read = 2.18 log shot + 1.20 + N(0, 0.26^2).
    """
    log_shot = rng.uniform(*(np.log(shot_range) if shot_range is not None else LOG_SHOT_RANGE))
    log_read = 2.18 * log_shot + 1.20 + rng.normal(0.0, 0.26)
    return float(np.exp(log_shot)), float(np.exp(log_read))


def _inverse_gains_preserving_highlights(raw: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """Divide by the white-balance gains, fading the division out near white.

    Dividing a saturated pixel by gains > 1 would turn clipped white into a dim grey that the
    forward pipeline could never clip back, so (as in the paper) pixels whose mean exceeds 0.9
    are blended toward gain 1 with a quadratic mask.
    """
    inverse = 1.0 / gains
    grey = raw.mean(axis=-1, keepdims=True)
    mask = (np.maximum(grey - HIGHLIGHT_START, 0.0) / (1.0 - HIGHLIGHT_START)) ** 2
    return raw * np.maximum(mask + (1.0 - mask) * inverse, inverse)


def unprocess(img: np.ndarray, camera: Camera) -> np.ndarray:
    """sRGB [0, 1] -> linear raw-like camera RGB in [0, 1] (float64)."""
    raw = gamma_expand(inverse_smoothstep(img.astype(np.float64)))
    if img.shape[-1] == 3:
        raw = apply_matrix(raw, camera.rgb_to_cam)
    raw = _inverse_gains_preserving_highlights(raw, camera.gains(img.shape[-1]))
    return np.clip(raw, 0.0, 1.0)


def process(raw: np.ndarray, camera: Camera) -> np.ndarray:
    """Linear camera RGB -> sRGB [0, 1] float32: white balance, CCM, gamma, tone curve."""
    img = np.clip(raw * camera.gains(raw.shape[-1]), 0.0, 1.0)
    if raw.shape[-1] == 3:
        img = np.clip(apply_matrix(img, np.linalg.inv(camera.rgb_to_cam)), 0.0, 1.0)
    return smoothstep(gamma_compress(img)).astype(np.float32)


def add_poisson_gaussian(
    raw: np.ndarray, shot: float, read: float, rng: np.random.Generator
) -> np.ndarray:
    """Heteroscedastic Gaussian approximation of shot + read noise: variance = shot * x + read."""
    variance = shot * np.maximum(raw, 0.0) + read
    return raw + rng.standard_normal(raw.shape) * np.sqrt(variance)


def bayer_masks(h: int, w: int) -> np.ndarray:
    """H x W x 3 boolean masks of an RGGB mosaic: which pixel samples which colour."""
    masks = np.zeros((h, w, 3), dtype=bool)
    masks[0::2, 0::2, 0] = True
    masks[0::2, 1::2, 1] = True
    masks[1::2, 0::2, 1] = True
    masks[1::2, 1::2, 2] = True
    return masks


_BILINEAR_RB = np.array([[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])
_BILINEAR_G = np.array([[0.0, 0.25, 0.0], [0.25, 1.0, 0.25], [0.0, 0.25, 0.0]])


def demosaic_bilinear(mosaic: np.ndarray) -> np.ndarray:
    """Bilinear demosaicking of an H x W x 3 array that is zero where a colour was not sampled."""
    out = np.empty_like(mosaic)
    for c, kernel in enumerate((_BILINEAR_RB, _BILINEAR_G, _BILINEAR_RB)):
        out[..., c] = cv2.filter2D(mosaic[..., c], -1, kernel, borderType=cv2.BORDER_REFLECT_101)
    return out


_MHC_GREEN = np.array(
    [[0, 0, -1, 0, 0], [0, 0, 2, 0, 0], [-1, 2, 4, 2, -1], [0, 0, 2, 0, 0], [0, 0, -1, 0, 0]]
) / 8.0
_MHC_ALONG_ROW = np.array(
    [[0, 0, 0.5, 0, 0], [0, -1, 0, -1, 0], [-1, 4, 5, 4, -1], [0, -1, 0, -1, 0], [0, 0, 0.5, 0, 0]]
) / 8.0
_MHC_DIAGONAL = np.array(
    [[0, 0, -1.5, 0, 0], [0, 2, 0, 2, 0], [-1.5, 0, 6, 0, -1.5], [0, 2, 0, 2, 0], [0, 0, -1.5, 0, 0]]
) / 8.0


def demosaic_mhc(mosaic: np.ndarray) -> np.ndarray:
    """Malvar-He-Cutler demosaicking of an RGGB mosaic given as H x W x 3 (zero where unsampled).

    A linear filter of the one-plane mosaic, so it may be applied to the noise alone. Each missing
    value is the bilinear estimate corrected by the other colours' Laplacian at that site.
    """
    plane = mosaic.sum(axis=-1)
    green, along_row, along_column, diagonal = (
        cv2.filter2D(plane, -1, k, borderType=cv2.BORDER_REFLECT_101)
        for k in (_MHC_GREEN, _MHC_ALONG_ROW, _MHC_ALONG_ROW.T, _MHC_DIAGONAL)
    )
    masks = bayer_masks(*plane.shape)
    red_site, blue_site = masks[..., 0], masks[..., 2]
    green_in_red_row = masks[..., 1] & np.any(red_site, axis=1, keepdims=True)
    green_in_blue_row = masks[..., 1] & ~green_in_red_row
    out = np.empty_like(mosaic)
    out[..., 1] = np.where(masks[..., 1], plane, green)
    out[..., 0] = np.select([red_site, green_in_red_row, green_in_blue_row], [plane, along_row, along_column], diagonal)
    out[..., 2] = np.select([blue_site, green_in_blue_row, green_in_red_row], [plane, along_row, along_column], diagonal)
    return out


DEMOSAICKERS = {"bilinear": demosaic_bilinear, "mhc": demosaic_mhc}


def add_demosaicked_noise(
    raw: np.ndarray, shot: float, read: float, rng: np.random.Generator, method: str = "bilinear"
) -> np.ndarray:
    """Poisson-Gaussian noise drawn on an RGGB mosaic of ``raw`` and demosaicked by ``method``.

    Where the mosaic has no sample, the noise is interpolated from its neighbours' (lower variance,
    correlated with them), as in a real camera; the signal itself is left untouched.
    """
    h, w, _ = raw.shape
    masks = bayer_masks(h, w)
    variance = shot * np.maximum(raw, 0.0) + read
    sampled = np.where(masks, rng.standard_normal(raw.shape) * np.sqrt(variance), 0.0)
    return raw + DEMOSAICKERS[method](sampled)


def camera_noise_pair(
    img: np.ndarray,
    rng: np.random.Generator,
    camera: Camera | None = None,
    noise_levels: tuple[float, float] | None = None,
    demosaic: bool = False,
    shot_range: tuple[float, float] | None = None,
    demosaic_method: str = "bilinear",
) -> tuple[np.ndarray, np.ndarray]:
    """(noisy, clean) sRGB float32 in [0, 1]; random camera and noise levels unless given.

    ``clean`` is ``img`` sent through the same camera without noise. It equals ``img`` except where
    the round trip is lossy (highlights, colours outside the camera gamut), so a model trained on
    the pair learns to remove noise only, not the round trip's colour shifts. ``demosaic`` makes
    the noise spatially correlated as a Bayer sensor's is (colour images only), interpolated by
    ``demosaic_method`` (a key of ``DEMOSAICKERS``); ``shot_range``
    widens or narrows the paper's shot-noise range (the read noise follows its fit).
    """
    camera = camera if camera is not None else random_camera(rng)
    shot, read = noise_levels if noise_levels is not None else random_noise_levels(rng, shot_range)
    raw = unprocess(img, camera)
    if demosaic and img.shape[-1] == 3:
        noisy_raw = add_demosaicked_noise(raw, shot, read, rng, demosaic_method)
    else:
        noisy_raw = add_poisson_gaussian(raw, shot, read, rng)
    noisy = process(noisy_raw, camera)
    return noisy, process(raw, camera)


def add_camera_noise(
    img: np.ndarray,
    rng: np.random.Generator,
    camera: Camera | None = None,
    noise_levels: tuple[float, float] | None = None,
) -> np.ndarray:
    """Noisy sRGB version of ``img`` (float32, [0, 1]); see :func:`camera_noise_pair`."""
    return camera_noise_pair(img, rng, camera, noise_levels)[0]
