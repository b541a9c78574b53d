"""Release checkpoints: safetensors only (no pickle), with the config and provenance as metadata.

A checkpoint is self-describing: ``metadata["config"]`` is the :class:`ModelConfig` as JSON, so the
loader builds exactly the architecture the tensors were trained in and refuses anything else.
``metadata["irestore"]`` holds task, training data, steps, metrics, licence (JSON). Tensors may be
stored in float16 to halve the file; they are loaded back as float32.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from irestore.errors import ConfigError, WeightsError
from irestore.models.config import ModelConfig
from irestore.models.unet import RestorationUNet

FORMAT = "irestore-checkpoint/1"


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_checkpoint(path: str | Path, model: RestorationUNet, info: dict, *, half: bool = False) -> str:
    """Write atomically (temp file in the same folder, then rename); return the file's sha256."""
    path = Path(path)
    if not path.parent.is_dir():
        raise WeightsError(f"{path}: folder {path.parent} does not exist")
    dtype = torch.float16 if half else torch.float32
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in model.state_dict().items()}
    metadata = {"format": FORMAT, "config": model.config.to_json(), "irestore": json.dumps(info, sort_keys=True)}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return sha256_of(path)


def read_metadata(path: str | Path) -> tuple[ModelConfig, dict]:
    """Config and info of a checkpoint without loading its tensors."""
    from safetensors import safe_open

    path = _existing(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors file (corrupt or truncated): {_first_line(exc)}") from None
    return _parse_metadata(path, metadata)


def load_checkpoint(path: str | Path, *, sha256: str | None = None) -> tuple[RestorationUNet, dict]:
    """Build the checkpoint's architecture and load its tensors; verify the hash when one is given."""
    path = _existing(path)
    if sha256 is not None and sha256_of(path) != sha256:
        raise WeightsError(f"{path}: sha256 does not match the manifest (file changed or damaged; re-copy it)")
    config, info = read_metadata(path)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors file (corrupt or truncated): {_first_line(exc)}") from None
    model = RestorationUNet(config)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    wrong = sorted(k for k in set(expected) & set(tensors) if expected[k].shape != tensors[k].shape)
    if missing or unexpected or wrong:
        detail = (missing and f"missing {missing[0]}") or (unexpected and f"unexpected {unexpected[0]}") or f"shape of {wrong[0]}"
        raise WeightsError(f"{path}: tensors do not match the stored architecture ({detail}, {len(missing) + len(unexpected) + len(wrong)} problems)")
    model.load_state_dict({k: v.float() for k, v in tensors.items()})
    return model.eval(), info


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: weights file not found")
    if path.stat().st_size == 0:
        raise WeightsError(f"{path}: weights file is empty")
    return path


def _parse_metadata(path: Path, metadata: dict) -> tuple[ModelConfig, dict]:
    if metadata.get("format") != FORMAT or "config" not in metadata:
        raise WeightsError(f"{path}: not an irestore checkpoint (no {FORMAT} metadata)")
    try:
        config = ModelConfig.from_dict(json.loads(metadata["config"]))
        info = json.loads(metadata.get("irestore", "{}"))
    except (json.JSONDecodeError, TypeError, ConfigError) as exc:
        raise WeightsError(f"{path}: checkpoint metadata is invalid: {_first_line(exc)}") from None
    return config, info


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
