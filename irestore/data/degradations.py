"""Task name -> degradation used to make training pairs.

Each degradation is a small frozen dataclass: calling it with a clean H x W x C image and an rng
returns ``(degraded, target)``. Dataclasses rather than closures so that the settings print in logs
and checkpoints (``repr``) and survive pickling into DataLoader workers. All of them work on gray
(1-channel) images as well as colour ones.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Protocol

import numpy as np

from irestore.data.blur import DEBLUR_NOISE_SIGMA, blur, load_kernels, random_motion_kernel
from irestore.data.camera_noise import DEMOSAICKERS, camera_noise_pair
from irestore.data.jpeg import jpeg_compress
from irestore.data.noise import add_gaussian, quantize_8bit
from irestore.data.rain import StreakRanges, add_rain
from irestore.data.resize import imresize, modcrop
from irestore.errors import ConfigError


class Degradation(Protocol):
    def __call__(
        self, img: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]: ...


def _check_range(name: str, bounds: Sequence[float], low: float, high: float) -> None:
    if len(bounds) != 2 or not low <= bounds[0] <= bounds[1] <= high:
        raise ConfigError(
            f"{name} must be (min, max) with {low} <= min <= max <= {high}, got {bounds}"
        )


@dataclass(frozen=True)
class GaussianNoise:
    """Blind AWGN: sigma (0..255 units) uniform in ``sigma_range``.

    With probability ``clip_quantize`` the noisy input is clipped and rounded to 8 bits, as a noisy
    PNG a user feeds in would be; otherwise it is left raw like the benchmark protocol.
    """

    sigma_range: tuple[float, float] = (0.0, 50.0)
    clip_quantize: float = 0.0

    def __post_init__(self) -> None:
        _check_range("sigma_range", self.sigma_range, 0.0, 255.0)
        if not 0.0 <= self.clip_quantize <= 1.0:
            raise ConfigError(f"clip_quantize is a probability in [0, 1], got {self.clip_quantize}")

    def __call__(self, img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        sigma = rng.uniform(*self.sigma_range)
        eight_bit = bool(rng.random() < self.clip_quantize)
        return add_gaussian(img, sigma, rng, clip=eight_bit, quantize=eight_bit), img


@dataclass(frozen=True)
class CameraNoise:
    """Unprocessing camera noise; the target is the clean image through the same camera.

    ``demosaic``: the share of samples whose noise is demosaicked (spatially correlated, as in
    camera JPEGs and SIDD sRGB); the rest keep pixel-independent noise, as in raw-like inputs.
    ``shot_range``: (min, max) shot-noise variance, default the paper's (1e-4, 1.2e-2).
    ``demosaic_method``: how that noise is interpolated, ``"bilinear"`` or ``"mhc"`` (gradient-corrected,
    which correlates the colours' noise as real sRGB noise is; see ``irestore.data.camera_noise``).
    ``jpeg``: the share of samples saved as the camera's own JPEG at a quality drawn from
    ``jpeg_quality`` (a camera's fine setting is ~90-98): in-camera JPEG smears the noise into 8x8
    blocks and ringing, which noise that is only quantised never shows.
    """

    quantize: bool = True
    demosaic: float = 0.0
    demosaic_method: str = "bilinear"
    shot_range: tuple[float, float] | None = None
    jpeg: float = 0.0
    jpeg_quality: tuple[int, int] = (85, 98)

    def __post_init__(self) -> None:
        for name in ("demosaic", "jpeg"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} is a share of samples in [0, 1], got {getattr(self, name)}")
        if self.demosaic_method not in DEMOSAICKERS:
            raise ConfigError(f"demosaic_method must be one of {sorted(DEMOSAICKERS)}, got {self.demosaic_method!r}")
        if self.shot_range is not None:
            _check_range("shot_range", self.shot_range, 1e-8, 1.0)
            object.__setattr__(self, "shot_range", tuple(self.shot_range))
        _check_range("jpeg_quality", self.jpeg_quality, 1, 100)
        object.__setattr__(self, "jpeg_quality", tuple(self.jpeg_quality))

    def __call__(self, img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        demosaic = self.demosaic > 0 and bool(rng.random() < self.demosaic)
        noisy, clean = camera_noise_pair(
            img, rng, demosaic=demosaic, shot_range=self.shot_range, demosaic_method=self.demosaic_method
        )
        if self.jpeg > 0 and rng.random() < self.jpeg:
            low, high = self.jpeg_quality
            return jpeg_compress(noisy, int(rng.integers(low, high + 1))), clean
        return (quantize_8bit(noisy) if self.quantize else noisy), clean


@dataclass(frozen=True)
class JpegArtifacts:
    """OpenCV JPEG at a quality drawn uniformly from the integers in ``quality_range``; a share
    ``full_chroma`` of colour samples keeps 4:4:4 chroma instead of 4:2:0, since both occur in the wild."""

    quality_range: tuple[int, int] = (10, 60)
    full_chroma: float = 0.0

    def __post_init__(self) -> None:
        _check_range("quality_range", self.quality_range, 1, 100)
        if not 0.0 <= self.full_chroma <= 1.0:
            raise ConfigError(f"jpeg: full_chroma is a share in [0, 1], got {self.full_chroma}")

    def __call__(self, img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        low, high = self.quality_range
        quality = int(rng.integers(low, high + 1))
        if self.full_chroma == 0.0:
            return jpeg_compress(img, quality), img
        return jpeg_compress(img, quality, subsample=bool(rng.random() >= self.full_chroma)), img


@dataclass(frozen=True)
class Downscale:
    """MATLAB-bicubic x1/scale of the mod-cropped target, 8-bit like SR benchmarks' LR PNGs."""

    scale: int = 4
    quantize: bool = True

    def __post_init__(self) -> None:
        if self.scale not in (2, 3, 4, 8):
            raise ConfigError(f"sr scale must be 2, 3, 4 or 8, got {self.scale}")

    def __call__(self, img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        target = modcrop(img, self.scale)
        low = imresize(target, 1.0 / self.scale, quantize_8bit=self.quantize)
        return np.clip(low, 0.0, 1.0), target


@dataclass(frozen=True)
class MotionBlur:
    """Motion blur + white noise (default 1%): random camera-shake kernels, mixed with kernels from
    files (a recorded kernel with probability ``file_kernel_share``) so the model sees both the
    synthetic trajectories and real measured shake."""

    kernel_files: tuple[str, ...] = ()
    kernel_size: int = 25
    noise_sigma: float = DEBLUR_NOISE_SIGMA
    file_kernel_share: float = 0.5
    kernels: tuple[np.ndarray, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kernel_size < 3 or self.noise_sigma < 0 or not 0 <= self.file_kernel_share <= 1:
            raise ConfigError(
                f"deblur needs kernel_size >= 3, noise_sigma >= 0 and file_kernel_share in [0, 1], got "
                f"{self.kernel_size}, {self.noise_sigma}, {self.file_kernel_share}"
            )
        loaded = [k for path in self.kernel_files for k in load_kernels(Path(path))]
        object.__setattr__(self, "kernels", tuple(loaded))

    def __call__(self, img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        if self.kernels and rng.random() < self.file_kernel_share:
            kernel = self.kernels[rng.integers(len(self.kernels))]
        else:
            kernel = random_motion_kernel(rng, self.kernel_size)
        return blur(img, kernel, self.noise_sigma, rng), img


@dataclass(frozen=True)
class Rain(StreakRanges):
    """Synthetic rain streaks (screen-blended, or added for an ``additive`` share); the settings are
    the :class:`StreakRanges` drawn from."""

    def __post_init__(self) -> None:
        for name, low, high in (("density", 0.0, 1.0), ("length", 1.0, 512.0), ("width", 0.0, 16.0), ("brightness", 0.0, 1.0)):
            _check_range(name, getattr(self, name), low, high)
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not 0.0 <= self.max_angle <= 90.0 or self.max_layers < 1 or not 0.0 <= self.additive <= 1.0:
            raise ConfigError(
                f"max_angle must lie in [0, 90], max_layers be >= 1 and additive in [0, 1], got "
                f"{self.max_angle}, {self.max_layers}, {self.additive}"
            )

    def __call__(self, img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return add_rain(img, rng, ranges=self), img


DEGRADATIONS: dict[str, type] = {
    "denoise-gaussian": GaussianNoise,
    "denoise-real": CameraNoise,
    "jpeg": JpegArtifacts,
    "sr": Downscale,
    "deblur": MotionBlur,
    "derain": Rain,
}


def make_degradation(task: str, **opts: object) -> Degradation:
    """Build the degradation for ``task`` with keyword overrides of its settings.

    Unknown tasks and unknown or invalid settings raise :class:`ConfigError` naming the choices.
    """
    if task not in DEGRADATIONS:
        raise ConfigError(f"unknown task '{task}'; known tasks: {', '.join(DEGRADATIONS)}")
    cls = DEGRADATIONS[task]
    allowed = [f.name for f in fields(cls) if f.init]
    unknown = sorted(set(opts) - set(allowed))
    if unknown:
        choices = ", ".join(allowed) or "none"
        raise ConfigError(f"task '{task}' has no option {', '.join(unknown)}; options: {choices}")
    return cls(**opts)
