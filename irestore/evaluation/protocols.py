"""Protocol presets: how a restored image is scored so the number matches a published table.

Each preset fixes the choices that ecosystem.md §3.7 lists per benchmark family: colour space,
whether the output is rounded to 8 bits (and hence the peak / SSIM data range), the border crop and
the SSIM variant. The runner echoes these fields next to every score, so a table says which
convention produced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from irestore.errors import ConfigError
from irestore.metrics import SsimVariant, psnr, psnr_b, rgb_to_y, ssim, to_uint8

ColorSpace = Literal["rgb", "gray", "y"]


@dataclass(frozen=True)
class Preset:
    """One scoring convention.

    ``quantize``: clamp and round the output to uint8 (saved-PNG protocols, peak 255); otherwise
    clamp only and score floats with peak 1 (Restormer's SIDD path). ``crop_is_scale``: SR crops
    ``scale`` pixels per side. ``gray_source`` says how a colour file becomes the one-channel
    ground truth of a gray preset: ``"luma"`` (OpenCV's IMREAD_GRAYSCALE, BT.601 full range, as the
    gray denoising scripts read) or ``"matlab-y"`` (rounded studio-range Y, SwinIR's gray JPEG).
    ``noisy_8bit``: the Gaussian-noise input is clipped and rounded to uint8, as a noisy photo a user
    hands the CLI would be; the published protocol keeps it float and unclipped. ``full_chroma``:
    colour JPEGs keep 4:4:4 chroma instead of the benchmarks' (and libjpeg's default) 4:2:0.
    """

    name: str
    color_space: ColorSpace
    quantize: bool
    ssim_variant: SsimVariant
    crop_is_scale: bool = False
    with_psnr_b: bool = False
    gray_source: Literal["luma", "matlab-y"] = "luma"
    noisy_8bit: bool = False
    full_chroma: bool = False
    summary: str = ""

    @property
    def channels(self) -> int:
        """Channels of the images the restorer sees (Y presets score Y of an RGB result)."""
        return 1 if self.color_space == "gray" else 3

    @property
    def peak(self) -> float:
        return 255.0 if self.quantize else 1.0

    @property
    def rounding(self) -> str:
        return "clamp + round to uint8 (rint)" if self.quantize else "clamp to [0,1], float (no rounding)"

    def crop(self, scale: int) -> int:
        return scale if self.crop_is_scale else 0


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("gaussian-color", "rgb", True, "2d", summary="AWGN seed 0 per image, RGB uint8"),
        Preset("gaussian-gray", "gray", True, "2d", summary="AWGN seed 0 per image, gray uint8"),
        Preset("gaussian-color-8bit", "rgb", True, "2d", noisy_8bit=True, summary="as gaussian-color, noisy input saved as 8-bit"),
        Preset("gaussian-gray-8bit", "gray", True, "2d", noisy_8bit=True, summary="as gaussian-gray, noisy input saved as 8-bit"),
        Preset("sidd-val", "rgb", False, "matlab3d", summary="SIDD blocks, float output as Restormer/MATLAB"),
        Preset("real-srgb", "rgb", False, "matlab3d", summary="real noisy/clean pairs scored like sidd-val"),
        Preset("sr-y", "y", True, "2d", crop_is_scale=True, summary="MATLAB bicubic LR, Y, crop = scale"),
        Preset("jpeg-color", "rgb", True, "2d", with_psnr_b=True, summary="OpenCV JPEG of RGB"),
        Preset("jpeg-color-444", "rgb", True, "2d", with_psnr_b=True, full_chroma=True, summary="OpenCV JPEG of RGB, 4:4:4 chroma"),
        Preset("jpeg-gray", "gray", True, "2d", with_psnr_b=True, gray_source="matlab-y", summary="OpenCV JPEG of rounded MATLAB Y"),
        Preset("derain-y", "y", True, "2d", summary="paired folders, Y (rounded), crop 0"),
        Preset("deblur-gopro", "rgb", True, "matlab3d", summary="RGB uint8, MATLAB ssim as GoPro/HIDE"),
    )
}


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ConfigError(f"unknown protocol preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


@dataclass(frozen=True)
class Scores:
    psnr: float
    ssim: float
    psnr_b: float | None = None


def _prepare(img: np.ndarray, preset: Preset) -> np.ndarray:
    """Output or target -> the array the metrics see, in the preset's units (0..255 or 0..1)."""
    values = to_uint8(img).astype(np.float64) if preset.quantize else np.clip(img, 0.0, 1.0).astype(np.float64)
    if preset.color_space != "y":
        return values
    if preset.quantize:
        return rgb_to_y(values.astype(np.uint8), round_uint8=True)
    return rgb_to_y(values, round_uint8=False) / 255.0


def score(restored: np.ndarray, target: np.ndarray, preset: Preset, *, scale: int = 1) -> Scores:
    """Score one restored image (float32 H x W x C) against its target (float32 in [0, 1])."""
    out = _prepare(restored, preset)
    ref = _prepare(target, preset)
    crop = preset.crop(scale)
    return Scores(
        psnr=psnr(out, ref, peak=preset.peak, crop_border=crop),
        ssim=ssim(out, ref, variant=preset.ssim_variant, data_range=preset.peak, crop_border=crop),
        psnr_b=psnr_b(out, ref, peak=preset.peak, crop_border=crop) if preset.with_psnr_b else None,
    )
