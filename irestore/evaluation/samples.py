"""Degraded/clean pairs for one dataset, task and level, made the way the benchmarks make them.

Synthetic degradations are deterministic so every run and every method sees the same inputs:

* Gaussian noise: a fresh ``np.random.RandomState(0)`` per image, drawing ``normal(0, sigma/255)``
  over the image's shape. That is bit-for-bit ``np.random.seed(0); np.random.normal(...)`` of
  Restormer/KAIR (RGB order); the noisy image stays float, neither clipped nor quantised.
* JPEG: :func:`irestore.data.jpeg.jpeg_compress` (OpenCV encoder, recorded in ``JPEG_ENCODER``).
* SR: the given ``LR_bicubic/X<s>`` file, else MATLAB bicubic of the mod-cropped HR with 8-bit
  rounding as MATLAB does on uint8; the target is cropped to ``LR size * s`` (SwinIR).
* Deblur: image ``i`` (in sorted order) uses ``np.random.default_rng((DEBLUR_SEED, i))`` for its
  motion kernel and its 1% noise, so the set does not change with ``limit``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from irestore.errors import ConfigError, DatasetError, ImageReadError
from irestore.evaluation.datasets import SIDD_GT, SIDD_NOISY, DatasetSource, child_dir, clean_images, list_images
from irestore.evaluation.protocols import Preset
from irestore.evaluation.sidd_mat import BlockFile
from irestore.data.noise import quantize_8bit
from irestore.metrics import rgb_to_y

DEBLUR_SEED = 0
DEFAULT_LEVELS = {"sigma": (15, 25, 50), "quality": (10, 20, 30, 40), "scale": (2, 4)}
LevelKind = Literal["sigma", "quality", "scale", "none"]


@dataclass(frozen=True)
class Level:
    """A degradation strength: noise sigma (0..255 units), JPEG quality, SR scale, or none."""

    kind: LevelKind
    value: int | None = None

    def __str__(self) -> str:
        if self.kind == "none":
            return "-"
        prefix = {"sigma": "sigma=", "quality": "q=", "scale": "x"}[self.kind]
        return f"{prefix}{self.value}"

    @property
    def scale(self) -> int:
        return int(self.value) if self.kind == "scale" else 1


@dataclass
class Sample:
    name: str
    degraded: np.ndarray
    target: np.ndarray


def level_kind(task: str, source: DatasetSource) -> LevelKind:
    if task == "sr":
        return "scale"
    if source.kind == "clean":
        return {"denoise": "sigma", "jpeg": "quality"}.get(task, "none")
    return "none"


def levels_for(task: str, source: DatasetSource, values: list[int] | tuple[int, ...] | None) -> list[Level]:
    kind = level_kind(task, source)
    if kind == "none":
        return [Level("none")]
    if values is None and kind == "scale" and source.kind == "pairs":
        values = (_pair_scale(source),)
    return [Level(kind, int(v)) for v in (values or DEFAULT_LEVELS[kind])]


def read_image(path: Path, mode: str) -> np.ndarray:
    """8-bit file -> float32 H x W x C in [0, 1]; ``mode`` is ``rgb``, ``luma`` or ``matlab-y``."""
    flag = {"rgb": cv2.IMREAD_COLOR, "luma": cv2.IMREAD_GRAYSCALE}.get(mode, cv2.IMREAD_UNCHANGED)
    pixels = cv2.imread(str(path), flag)
    if pixels is None:
        raise ImageReadError(f"{path}: cannot be read as an image")
    if pixels.dtype != np.uint8:
        raise ImageReadError(f"{path}: {pixels.dtype} image; the benchmark protocols expect 8-bit files")
    if pixels.ndim == 2:
        return pixels[..., None].astype(np.float32) / 255.0
    rgb = pixels[..., 2::-1]  # BGR(A) -> RGB, alpha dropped
    if mode == "matlab-y":
        return (rgb_to_y(np.ascontiguousarray(rgb), round_uint8=True) / 255.0).astype(np.float32)
    return rgb.astype(np.float32) / 255.0


def _mode(preset: Preset) -> str:
    return preset.gray_source if preset.channels == 1 else "rgb"


def add_benchmark_noise(clean: np.ndarray, sigma: float) -> np.ndarray:
    """Restormer's AWGN: seed 0 for this image, unclipped float (see the module docstring)."""
    noise = np.random.RandomState(0).normal(0.0, sigma / 255.0, clean.shape)
    return (clean + noise).astype(np.float32)


def _lr_file(source: DatasetSource, hr: Path, scale: int) -> Path | None:
    lr_root = child_dir(source.path, "LR_bicubic")
    if lr_root is None:
        return None
    candidate = lr_root / f"X{scale}" / f"{hr.stem}x{scale}{hr.suffix}"
    return candidate if candidate.is_file() else None


def _sr_pair(source: DatasetSource, hr_path: Path, hr: np.ndarray, scale: int, mode: str) -> tuple[np.ndarray, np.ndarray]:
    given = _lr_file(source, hr_path, scale)
    if given is not None:
        lr = read_image(given, mode)
    else:
        from irestore.data.resize import imresize, modcrop

        hr = modcrop(hr, scale)
        lr = imresize(hr, 1.0 / scale, quantize_8bit=True)
    h, w = lr.shape[0] * scale, lr.shape[1] * scale
    if hr.shape[0] < h or hr.shape[1] < w:
        raise DatasetError(f"{given or hr_path}: LR {lr.shape[:2]} x{scale} is larger than HR {hr.shape[:2]}")
    return lr, hr[:h, :w]


def _degrade(source: DatasetSource, task: str, level: Level, index: int, path: Path, clean: np.ndarray, preset: Preset) -> tuple[np.ndarray, np.ndarray]:
    if task == "denoise":
        noisy = add_benchmark_noise(clean, level.value)
        if preset.noisy_8bit:
            noisy = quantize_8bit(np.clip(noisy, 0.0, 1.0))
        return noisy, clean
    if task == "jpeg":
        from irestore.data.jpeg import jpeg_compress

        return jpeg_compress(clean, level.value, subsample=not preset.full_chroma), clean
    if task == "sr":
        return _sr_pair(source, path, clean, level.scale, _mode(preset))
    if task == "deblur":
        from irestore.data.blur import DEBLUR_NOISE_SIGMA, blur, random_motion_kernel

        rng = np.random.default_rng((DEBLUR_SEED, index))
        kernel = random_motion_kernel(rng)
        return blur(clean, kernel, noise_sigma=DEBLUR_NOISE_SIGMA, rng=rng), clean
    raise ConfigError(f"{source.path}: task {task!r} needs degraded/clean pairs, not a folder of clean images")


def matched_pairs(source: DatasetSource) -> list[tuple[Path, Path]]:
    """(input, target) paths of a paired dataset, matched by name as its layout says."""
    layout = source.pairs
    folders = []
    for sub in (layout.input_dir, layout.target_dir):
        folder = child_dir(source.path, sub)
        if folder is None:
            raise DatasetError(f"{source.path / sub}: folder missing; expected {layout.input_dir}/ and {layout.target_dir}/")
        folders.append(folder)

    def key(path: Path, affix: tuple[str, str]) -> str:
        stem, (prefix, suffix) = path.stem, affix
        stem = stem[len(prefix):] if prefix and stem.startswith(prefix) else stem
        return stem[: -len(suffix)] if suffix and stem.endswith(suffix) else stem

    targets = {key(p, layout.target_affix): p for p in list_images(folders[1])}
    inputs = list_images(folders[0])
    if not inputs:
        raise DatasetError(f"{folders[0]}: no images found")
    pairs = []
    for p in inputs:
        k = key(p, layout.input_affix)
        if k not in targets:
            raise DatasetError(f"{p}: no matching target in {folders[1]} (expected the name {k!r} there)")
        pairs.append((p, targets[k]))
    return pairs


def _pair_scale(source: DatasetSource) -> int:
    inp, tgt = matched_pairs(source)[0]
    a, b = read_image(inp, "rgb"), read_image(tgt, "rgb")
    return max(1, round(b.shape[0] / a.shape[0]))


def _sidd_samples(source: DatasetSource, limit: int | None) -> Iterator[Sample]:
    with BlockFile(source.path / f"{SIDD_NOISY}.mat", SIDD_NOISY) as noisy, BlockFile(source.path / f"{SIDD_GT}.mat", SIDD_GT) as gt:
        if noisy.shape != gt.shape:
            raise DatasetError(f"{gt.path}: shape {gt.shape} differs from {noisy.path} {noisy.shape}")
        count = len(noisy) if limit is None else min(limit, len(noisy))
        for k in range(count):
            image, block = divmod(k, noisy.shape[1])
            yield Sample(f"{image:02d}_{block:02d}", noisy.block(k), gt.block(k))


def iter_samples(source: DatasetSource, task: str, level: Level, preset: Preset, limit: int | None = None) -> Iterator[Sample]:
    """Yield the dataset's (degraded, target) pairs for one level, at most ``limit`` of them."""
    if source.kind == "sidd":
        yield from _sidd_samples(source, limit)
        return
    mode = _mode(preset)
    if source.kind == "pairs":
        for inp, tgt in matched_pairs(source)[:limit]:
            degraded, target = read_image(inp, mode), read_image(tgt, mode)
            if task == "sr":
                s = level.scale
                target = target[: degraded.shape[0] * s, : degraded.shape[1] * s]
            yield Sample(inp.stem, degraded, target)
        return
    for index, path in enumerate(clean_images(source)[:limit]):
        degraded, target = _degrade(source, task, level, index, path, read_image(path, mode), preset)
        yield Sample(path.stem, degraded, target)
