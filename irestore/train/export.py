"""Turn a training run into a release checkpoint (safetensors + provenance), see :mod:`irestore.checkpoint`.

The released weights are the EMA weights with the best validation PSNR seen at a checkpoint (the
final EMA if the run never validated). The info records what a user of the weights needs to judge
them: task and variant, the data and degradation they were trained on, how long and on what, the
validation numbers, and the licence.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import torch

import irestore
from irestore.checkpoint import save_checkpoint
from irestore.errors import WeightsError
from irestore.models.config import ModelConfig
from irestore.models.unet import RestorationUNet
from irestore.models.zoo import release_name
from irestore.train.config import TrainConfig
from irestore.train.state import STATE_FILE, load_state

LICENCE = "MIT (weights trained by irestore)"


def hardware() -> str:
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()} x{torch.cuda.device_count()}, {os.cpu_count()} CPUs"
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"


def release_info(cfg: TrainConfig, state: dict[str, Any]) -> dict[str, Any]:
    noise = cfg.task.split("-")[1] if cfg.task.startswith("denoise-") else None
    best = state.get("best_ema") is not None
    return {
        "task": cfg.model_task,
        "name": release_name(cfg.model_task, noise=noise or "real", gray=cfg.gray, scale=cfg.scale),
        "variant": {"noise": noise, "gray": cfg.gray, "scale": cfg.scale},
        "channels": cfg.channels,
        "scale": cfg.scale,
        "training_data": _training_data(cfg),
        "degradation": state.get("degradation", cfg.task),
        "steps": int(state["step"]),
        "wall_time_s": round(float(state.get("wall_time", 0.0)), 1),
        "hardware": state.get("hardware", hardware()),
        "weights": f"{'best ' if best else ''}EMA at step {state['best_step'] if best else state['step']}",
        **({"initialized_from": state["init"]} if state.get("init") else {}),
        "val": {"data": _validation_data(cfg), "count": cfg.val_count, "crop": cfg.val_crop, **(state.get("best_val") or state.get("last_val") or {})},
        "recipe": cfg.to_dict(),
        "irestore_version": irestore.__version__,
        "licence": LICENCE,
    }


def _training_data(cfg: TrainConfig) -> list[str]:
    folders = list(cfg.train_dirs)
    if cfg.paired_dirs:
        folders.append(f"{cfg.paired_dirs[0]} (pairs, {cfg.paired_share:.0%} of samples)")
    return folders


def _validation_data(cfg: TrainConfig) -> list[str]:
    """What the run validated on: crops of its held-out pairs, or its validation folders."""
    if not cfg.paired_holdout:
        return list(cfg.val_dirs)
    data = [f"{cfg.paired_dirs[0]}/{name}* (held out)" for name in cfg.paired_holdout]
    if cfg.val_synthetic:
        data += [f"{folder} (first {cfg.val_synthetic}, synthetic)" for folder in cfg.val_dirs]
    return data


def export_state(state: dict[str, Any], out: Path, *, half: bool = False, running: bool = False) -> str:
    """Write the release checkpoint of a loaded training state; return its sha256.

    ``running`` writes the EMA as it is at the state's step instead of the best one, so a run can be
    snapshotted and chosen on another validation later (``scripts/snapshot_ema.py``)."""
    cfg = TrainConfig.from_dict(state["config"], source=str(out))
    model = RestorationUNet(ModelConfig.from_dict(state["model_config"]))
    best = state.get("best_ema") is not None and not running
    model.load_state_dict(state["best_ema"] if best else state["ema"]["model"])
    info = release_info(cfg, state)
    if running:
        info["weights"] = f"EMA at step {state['step']} (a snapshot of the running EMA)"
    return save_checkpoint(out, model, info, half=half)


def export_run(run_dir: Path, out: Path, *, half: bool = False) -> str:
    """Export a finished (or stopped) run folder's ``last.pt`` as ``out``."""
    path = Path(run_dir) / STATE_FILE
    if not path.is_file():
        raise WeightsError(f"{path}: no training state in this run folder")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return export_state(load_state(path), out, half=half)
