"""The shipped weights: which file serves which task, and loading them safely.

``weights/manifest.json`` lists every release checkpoint with its sha256; loading verifies the hash
and that the stored config builds the stored tensors. Which folder holds them: see :func:`weights_dir`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from irestore.checkpoint import load_checkpoint, read_metadata
from irestore.errors import WeightsError
from irestore.models.unet import RestorationUNet

MANIFEST = "manifest.json"
ENV = "IRESTORE_WEIGHTS"
CHECKOUT = Path(__file__).resolve().parents[2]
PACKAGED = Path(__file__).resolve().parents[1] / "_weights"


def weights_dir(override: Path | None = None) -> Path:
    """The weights folder: ``override`` (``--weights-dir``), else ``$IRESTORE_WEIGHTS``, else the
    checkout's top-level ``weights/`` when running from a source checkout (an editable install, so
    newly registered weights count at once), else the copy a wheel carries in ``irestore/_weights``.

    An override that does not exist or holds no weights raises :class:`WeightsError` here, so a
    typo in a path reads as such rather than as "no trained weights" for every model.
    """
    return _weights_dir(override)


def _weights_dir(override: Path | None, wanted: str | None = None) -> Path:
    source = "--weights-dir"
    if override is None and os.environ.get(ENV):
        override, source = Path(os.environ[ENV]), ENV
    if override is None:
        checkout = CHECKOUT / "weights"
        return checkout if (CHECKOUT / "pyproject.toml").is_file() and checkout.is_dir() else PACKAGED
    folder = Path(override).expanduser()
    why = f"from {source}" + (f", looking for {wanted}" if wanted else "")
    if not folder.is_dir():
        raise WeightsError(f"{folder}: no such weights folder ({why})")
    if not (folder / MANIFEST).is_file() and not any(folder.glob("*.safetensors")):
        raise WeightsError(f"{folder}: no {MANIFEST} or .safetensors files in this weights folder ({why})")
    return folder


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
    entry: dict = field(default_factory=dict)  # the release's manifest record; empty for a bare checkpoint

    @property
    def stats_passes(self) -> int | None:
        """Statistics passes this release was calibrated to need (None: not calibrated)."""
        return self.entry.get("tiling", {}).get("stats_passes")

    @property
    def low_precision_stream(self) -> bool:
        """Whether this release runs its full-resolution stream in bf16 under bf16 (calibrated: ``scripts/calibrate_precision.py``)."""
        return low_precision_stream(self.entry)

    @property
    def bf16_cost_db(self) -> float | None:
        """PSNR this release loses in bf16 on its test sets (None: not measured)."""
        return self.entry.get("precision", {}).get("bf16_cost_db")


def low_precision_stream(entry: dict) -> bool:
    """A manifest record's calibrated stream choice (False where none was recorded)."""
    return bool(entry.get("precision", {}).get("low_precision_stream", False))


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


def load_model(name_or_path: str, *, task: str | None = None, folder: Path | None = None) -> LoadedModel:
    """Load a release entry by name (``denoise-real``) from ``folder`` (default: :func:`weights_dir`),
    or any checkpoint by path.

    A release entry is verified against the manifest's sha256. A missing file fails with one line
    naming it, so a task without trained weights says so instead of crashing.
    """
    as_path = Path(name_or_path)
    if as_path.suffix == ".safetensors" or as_path.is_file():
        model, info = load_checkpoint(as_path)
        return _checked(LoadedModel(model, info, as_path, as_path.stem), task)
    folder = _weights_dir(folder, wanted=f"{name_or_path}.safetensors")
    entry = manifest_entry(name_or_path, folder)
    path = folder / (entry["file"] if entry else f"{name_or_path}.safetensors")
    if entry is None or not path.is_file():
        raise WeightsError(f"{path}: no trained weights for {name_or_path!r} yet (train one with `irestore train ... --export {path}`, or pass --weights FILE)")
    model, info = load_checkpoint(path, sha256=entry.get("sha256"))
    return _checked(LoadedModel(model, info, path, name_or_path, entry), task)


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
