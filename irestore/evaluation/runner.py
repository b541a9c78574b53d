"""Run a restorer over a dataset and score it under the matching protocol preset.

Published tables average per-image scores, so this does too (ecosystem.md §3.1). The runner times
only the restore call, so MP/s (output megapixels per second) measures the method and not the
data loading or the degradation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from irestore.errors import ConfigError, DatasetError
from irestore.evaluation.datasets import TASKS, DatasetSource, open_dataset
from irestore.evaluation.protocols import PRESETS, Preset, Scores, get_preset, score
from irestore.evaluation.samples import DEBLUR_SEED, Sample, iter_samples, levels_for

Restore = Callable[[np.ndarray], np.ndarray]


@dataclass
class ImageScore:
    name: str
    psnr: float
    ssim: float
    psnr_b: float | None
    seconds: float


@dataclass
class Result:
    """Mean scores of one method on one dataset at one level, with the protocol that made them."""

    method: str
    dataset: str
    task: str
    level: str
    preset: str
    psnr: float
    ssim: float
    psnr_b: float | None
    images: int
    seconds: float
    mp_per_s: float
    color_space: str
    ssim_variant: str
    data_range: float
    rounding: str
    crop: int
    degradation: str
    settings: dict = field(default_factory=dict)
    per_image: list[ImageScore] = field(default_factory=list)


def choose_preset(task: str, source: DatasetSource, channels: int | None = None) -> Preset:
    """The preset of ecosystem.md §3.7 for this task and dataset; ``channels`` picks gray/colour."""
    gray = source.gray if channels is None else channels == 1
    if task == "denoise":
        if source.kind == "sidd":
            return PRESETS["sidd-val"]
        if source.kind == "pairs":
            return PRESETS["real-srgb"]
        return PRESETS["gaussian-gray" if gray else "gaussian-color"]
    if task == "jpeg":
        return PRESETS["jpeg-gray" if gray else "jpeg-color"]
    return PRESETS[{"sr": "sr-y", "derain": "derain-y", "deblur": "deblur-gopro"}[task]]


def describe_degradation(source: DatasetSource, task: str, preset: Preset | None = None) -> str:
    """How the inputs were made, worded independently of the level so a table prints it once."""
    if source.kind == "sidd":
        return "official SIDD sRGB validation blocks"
    if source.kind == "pairs":
        return "degraded images as stored"
    if task == "denoise":
        if preset is not None and preset.noisy_8bit:
            return "AWGN N(0, sigma/255), RandomState(0) per image, clipped and rounded to uint8"
        return "AWGN N(0, sigma/255), RandomState(0) per image, unclipped float"
    if task == "jpeg":
        from irestore.data.jpeg import ENCODER

        encoder = ENCODER.replace("4:2:0 chroma subsampling", "4:4:4 chroma (not subsampled)") if preset is not None and preset.full_chroma else ENCODER
        return f"JPEG at quality q, {encoder}"
    if task == "sr":
        return "LR_bicubic/X<s> if present, else MATLAB bicubic 1/s of mod-cropped HR"
    return f"motion blur, kernel and 1% noise from default_rng(({DEBLUR_SEED}, i)) for image i"


def _checked_output(out: np.ndarray, sample: Sample, source: DatasetSource) -> np.ndarray:
    out = np.asarray(out, dtype=np.float32)
    if out.ndim == 2:
        out = out[..., None]
    if out.shape != sample.target.shape:
        raise ConfigError(
            f"{source.path}/{sample.name}: the restorer returned {out.shape} for a {sample.degraded.shape} input "
            f"but the target is {sample.target.shape} (wrong scale or channel count?)"
        )
    return out


def _resolve_task(task: str | None, source: DatasetSource) -> str:
    task = task or source.default_task
    if task is None:
        raise ConfigError(f"{source.path}: say which task these input/ + target/ pairs are for (--task)")
    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if task not in source.tasks:
        raise ConfigError(f"{source.path}: {source.name} has no {task!r} protocol (it supports {', '.join(source.tasks)})")
    return task


def evaluate(
    dataset: str,
    *,
    restore: Restore,
    task: str | None = None,
    levels: Sequence[int] | None = None,
    data_dir: str | Path | None = None,
    limit: int | None = None,
    channels: int | None = None,
    preset: str | None = None,
    method: str = "model",
    settings: dict | None = None,
) -> list[Result]:
    """Score ``restore`` on ``dataset`` at each level; one :class:`Result` per level.

    ``restore`` maps a float32 H x W x C image in [0, 1] to its restoration (C = 1 for gray
    presets, else 3). An object with ``for_level(level)`` (the baselines) is asked for the callable
    of each level instead. ``levels`` are sigmas (denoise), JPEG qualities or SR scales; None uses
    15/25/50, 10/20/30/40 or 2/4. ``channels`` is the model's channel count, which selects the gray
    or colour preset; ``preset`` overrides the choice. ``limit`` scores only the first N images
    (or SIDD blocks). ``settings`` (tiling, ensemble, weights) are echoed into every result.
    """
    if limit is not None and limit < 1:
        raise ConfigError(f"limit must be at least 1, got {limit}")
    source = open_dataset(dataset, data_dir)
    task = _resolve_task(task, source)
    chosen = get_preset(preset) if preset else choose_preset(task, source, channels)
    if channels is not None and channels != chosen.channels:
        raise ConfigError(f"the {chosen.name} protocol scores {chosen.channels}-channel images; this model takes {channels}")
    results = []
    for level in levels_for(task, source, levels):
        fn = restore.for_level(level) if hasattr(restore, "for_level") else restore
        per_image, megapixels = [], 0.0
        for sample in iter_samples(source, task, level, chosen, limit):
            start = time.perf_counter()
            out = fn(sample.degraded)
            seconds = time.perf_counter() - start
            out = _checked_output(out, sample, source)
            s: Scores = score(out, sample.target, chosen, scale=level.scale)
            per_image.append(ImageScore(sample.name, s.psnr, s.ssim, s.psnr_b, seconds))
            megapixels += out.shape[0] * out.shape[1] / 1e6
        if not per_image:
            raise DatasetError(f"{source.path}: no images to evaluate")
        total = sum(i.seconds for i in per_image)
        results.append(
            Result(
                method=method,
                dataset=source.name,
                task=task,
                level=str(level),
                preset=chosen.name,
                psnr=float(np.mean([i.psnr for i in per_image])),
                ssim=float(np.mean([i.ssim for i in per_image])),
                psnr_b=float(np.mean([i.psnr_b for i in per_image])) if chosen.with_psnr_b else None,
                images=len(per_image),
                seconds=total,
                mp_per_s=megapixels / total if total > 0 else float("inf"),
                color_space=chosen.color_space,
                ssim_variant=chosen.ssim_variant,
                data_range=chosen.peak,
                rounding=chosen.rounding,
                crop=chosen.crop(level.scale),
                degradation=describe_degradation(source, task, chosen),
                settings={**(settings or {}), **({"limit": limit} if limit else {})},
                per_image=per_image,
            )
        )
    return results
