"""Where the training and validation images come from, and the batches a step loads.

Relative folders in a config (``train/BSD200``) are resolved against a data root so one config works
on a laptop, in CI and on a lent GPU machine, found as evaluation finds its datasets
(:mod:`irestore.data_paths`: ``--data-dir`` / ``data_root``, ``$IRESTORE_DATA``, the per-user cache,
then a source checkout's sibling ``shared/datasets``).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from irestore.data.colour import rgb_to_gray
from irestore.data.degradations import Degradation, make_degradation
from irestore.data.noise import quantize_8bit
from irestore.data.patches import PatchDataset, load_pairs
from irestore.errors import DatasetError
from irestore.io import list_images, read_image
from irestore.train.config import TrainConfig
from irestore.train.schedule import Phase, phase_at, rank_items

VAL_SEED = 20240  # one fixed validation set for every run and seed, so runs compare
_PATH_OPTIONS = ("kernel_files",)


def data_root(configured: str = "") -> Path:
    """The config's ``data_root`` / ``--data-dir``, else the lookup evaluation uses (:mod:`irestore.data_paths`)."""
    from irestore.data_paths import data_root as shared_root

    return shared_root(configured or None, os.environ)


def resolve(root: Path, folder: str) -> Path:
    path = Path(folder).expanduser()
    return path if path.is_absolute() else root / path


def build_degradation(cfg: TrainConfig, root: Path, extra: dict[str, Any] | None = None) -> Degradation:
    """The config's degradation options (lists become tuples, kernel files resolved), ``scale`` for sr."""
    opts = {**cfg.degradation, **(extra or {})}
    for key in _PATH_OPTIONS:
        if key in opts:
            opts[key] = [str(resolve(root, p)) for p in opts[key]]
    opts = {k: tuple(v) if isinstance(v, list) else v for k, v in opts.items()}
    if cfg.task == "sr":
        opts.setdefault("scale", cfg.scale)
    return make_degradation(cfg.task, **opts)


def existing_dirs(root: Path, folders: list[str], what: str) -> list[Path]:
    dirs = [resolve(root, f) for f in folders]
    for d in dirs:
        if not d.is_dir():
            raise DatasetError(f"{d}: {what} folder not found (set --data-dir, IRESTORE_DATA or data_root)")
    return dirs


def train_dataset(cfg: TrainConfig, root: Path) -> PatchDataset:
    """Clean folders degraded on the fly, and/or ``paired_dirs`` = [input_dir, target_dir] as they are."""
    dirs = existing_dirs(root, cfg.train_dirs, "training")
    paired = None
    if cfg.paired_dirs:
        if len(cfg.paired_dirs) != 2:
            raise DatasetError(f"paired_dirs needs [input_dir, target_dir], got {cfg.paired_dirs}")
        paired = tuple(existing_dirs(root, cfg.paired_dirs, "paired"))
    degradation = build_degradation(cfg, root) if dirs else None
    validates_on_clean = cfg.val_every > 0 and (not cfg.paired_holdout or cfg.val_synthetic > 0)
    held_out = frozenset(p.resolve() for p in val_files(cfg, root)) if validates_on_clean else frozenset()
    downscale = {resolve(root, folder): factor for folder, factor in cfg.downscale.items()}
    return PatchDataset(
        dirs, degradation, cfg.patch_size, cfg.gray, cfg.seed, paired=paired, exclude=held_out,
        paired_share=cfg.paired_share, paired_holdout=tuple(cfg.paired_holdout), downscale=downscale,
    )


def val_files(cfg: TrainConfig, root: Path) -> list[Path]:
    """The first ``val_count`` images of the validation folders (``val_synthetic`` beside held-out pairs).

    A validation folder may be a training folder (``val_dirs = ["train/BSD200"]``): its validation
    images are then left out of training, so checkpoints are chosen on images cut from the training
    data and never on a benchmark."""
    dirs = existing_dirs(root, cfg.val_dirs, "validation")
    count = cfg.val_synthetic if cfg.paired_holdout else cfg.val_count
    return [f for d in dirs for f in list_images(d)][:count]


def val_set(cfg: TrainConfig, root: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``val_count`` images of the validation folders, each degraded whole with a fixed seed
    (and the ``val_degradation`` settings, e.g. one sigma) as a test image would be, then cut to a
    centred ``val_crop`` square; stacked as (inputs, targets). With ``paired_holdout``, crops of the
    held-out real pairs instead: real degradations are what such a run is for; ``val_synthetic``
    adds that many synthetic ones, so a checkpoint that learns the pairs' cameras while forgetting
    the stronger synthetic noise (other cameras, phones) is not the one picked."""
    real = _held_out_pairs(cfg, root) if cfg.paired_holdout else None
    if real is not None and not cfg.val_synthetic:
        return real
    files = val_files(cfg, root)
    degrade = build_degradation(cfg, root, cfg.val_degradation)
    pairs = [_centre_pair(path, _val_image(path, cfg.gray), degrade, cfg.val_crop, cfg.scale, i) for i, path in enumerate(files)]
    inputs, targets = torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])
    if real is not None:
        return torch.cat([real[0], inputs]), torch.cat([real[1], targets])
    return inputs, targets


def _held_out_pairs(cfg: TrainConfig, root: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """``val_count`` crops of ``val_crop`` spread over the held-out pairs (along each image's diagonal)."""
    folders = tuple(existing_dirs(root, cfg.paired_dirs, "paired"))
    pairs = [pair for _, pair in load_pairs(folders, cfg.gray, keep=lambda name: name.startswith(tuple(cfg.paired_holdout)))]
    if not pairs:
        raise DatasetError(f"paired_holdout {cfg.paired_holdout}: no pair in {cfg.paired_dirs[0]} starts with these names")
    per_image = -(-cfg.val_count // len(pairs))
    inputs, targets = [], []
    for low, high in pairs:
        h, w = low.shape[:2]
        side = min(cfg.val_crop, h, w)
        for k in range(per_image):
            top, left = (h - side) * (k + 1) // (per_image + 1), (w - side) * (k + 1) // (per_image + 1)
            for img, out in ((low, inputs), (high, targets)):
                crop = img[top : top + side, left : left + side].astype(np.float32) / np.float32(np.iinfo(img.dtype).max)
                out.append(torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1))))
    return torch.stack(inputs[: cfg.val_count]), torch.stack(targets[: cfg.val_count])


def _val_image(path: Path, gray: bool) -> np.ndarray:
    """Gray validation images are made like gray training patches: luma rounded to 8 bits."""
    pixels = read_image(path).pixels
    return quantize_8bit(rgb_to_gray(pixels)) if gray else np.repeat(pixels, 3 // pixels.shape[2], axis=2)


def _centre_pair(path: Path, img: np.ndarray, degrade: Degradation, crop: int, scale: int, index: int) -> tuple[torch.Tensor, torch.Tensor]:
    low, target = degrade(img, np.random.default_rng([VAL_SEED, index]))
    side = crop // scale * scale
    if min(target.shape[:2]) < side:
        raise DatasetError(f"{path}: {target.shape[1]}x{target.shape[0]} is smaller than val_crop {crop}")
    top = (target.shape[0] - side) // 2 // scale * scale
    left = (target.shape[1] - side) // 2 // scale * scale
    target = target[top : top + side, left : left + side]
    low = low[top // scale : (top + side) // scale, left // scale : (left + side) // scale]
    low_t, target_t = (torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1), dtype=np.float32)) for a in (low, target))
    return low_t, target_t


class StepBatches:
    """Index lists ``[(item, patch), ...]`` for steps ``start, start + 1, ...``: this rank's share of
    each global batch, with the patch size of the step's phase."""

    def __init__(self, table: list[Phase], start: int, rank: int, world: int) -> None:
        self.table, self.start, self.rank, self.world = table, start, rank, world

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        step = self.start
        while True:
            patch = phase_at(step, self.table).patch
            yield [(i, patch) for i in rank_items(step, self.table, self.rank, self.world)]
            step += 1


def batch_loader(dataset: PatchDataset, table: list[Phase], start: int, rank: int, world: int, workers: int, pin: bool) -> DataLoader:
    """Batches from ``start`` on; workers only prefetch, the order stays a function of the step."""
    return DataLoader(
        dataset,
        batch_sampler=StepBatches(table, start, rank, world),
        num_workers=workers,
        pin_memory=pin,
        persistent_workers=False,
        prefetch_factor=4 if workers else None,
        worker_init_fn=_ignore_interrupts if workers else None,
    )


def _ignore_interrupts(worker_id: int) -> None:
    """Ctrl-C reaches the whole process group; only the main process should act on it (save, stop)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
