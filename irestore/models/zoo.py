"""The shipped weights: which file serves which task, and loading them safely.

``weights/manifest.json`` lists every release checkpoint with its sha256; loading verifies the hash
and that the stored config builds the stored tensors. The weights folder is ``$IRESTORE_WEIGHTS``
when set, else ``weights/`` beside the package (the repository checkout).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from irestore.checkpoint import load_checkpoint, read_metadata
from irestore.errors import WeightsError
from irestore.models.unet import RestorationUNet

MANIFEST = "manifest.json"


def weights_dir() -> Path:
    env = os.environ.get("IRESTORE_WEIGHTS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "weights"


def release_name(task: str, *, noise: str = "real", gray: bool = False, scale: int = 2) -> str:
    """The release entry for a task: e.g. ``denoise-real``, ``denoise-gaussian-gray``, ``sr-x4``."""
    if task == "denoise":
        name = f"denoise-{noise}"
    elif task == "sr":
        name = f"sr-x{scale}"
    else:
        name = task
    return f"{name}-gray" if gray else name


@dataclass
class LoadedModel:
    model: RestorationUNet
    meta: dict
    path: Path
    name: str


def read_manifest(folder: Path | None = None) -> dict:
    folder = folder or weights_dir()
    path = folder / MANIFEST
    if not path.is_file():
        return {"models": {}}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise WeightsError(f"{path}: manifest is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    data.setdefault("models", {})
    return data


def manifest_entry(name: str, folder: Path | None = None) -> dict | None:
    return read_manifest(folder)["models"].get(name)


def load_model(name_or_path: str, *, task: str | None = None) -> LoadedModel:
    """Load a release entry by name (``denoise-real``) or any checkpoint by path.

    A release entry is verified against the manifest's sha256. A missing file fails with one line
    naming it, so a task without trained weights says so instead of crashing.
    """
    as_path = Path(name_or_path)
    if as_path.suffix == ".safetensors" or as_path.is_file():
        model, info = load_checkpoint(as_path)
        return _checked(LoadedModel(model, info, as_path, as_path.stem), task)
    folder = weights_dir()
    entry = manifest_entry(name_or_path, folder)
    path = folder / (entry["file"] if entry else f"{name_or_path}.safetensors")
    if entry is None or not path.is_file():
        raise WeightsError(f"{path}: no trained weights for {name_or_path!r} yet (train one with `irestore train ... --export {path}`, or pass --weights FILE)")
    model, info = load_checkpoint(path, sha256=entry.get("sha256"))
    return _checked(LoadedModel(model, info, path, name_or_path), task)


def _checked(loaded: LoadedModel, task: str | None) -> LoadedModel:
    stored = loaded.meta.get("task")
    if task is not None and stored is not None and stored != task:
        raise WeightsError(f"{loaded.path}: these weights are for {stored!r}, not {task!r}")
    loaded.meta.setdefault("scale", loaded.model.config.scale)
    loaded.meta.setdefault("channels", loaded.model.config.in_channels)
    return loaded


def describe(path: Path) -> dict:
    """Config and info of a checkpoint without building it (for ``irestore models``)."""
    config, info = read_metadata(path)
    return {"config": config.to_dict(), **info}
