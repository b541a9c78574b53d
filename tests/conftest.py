from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from irestore.checkpoint import save_checkpoint
from irestore.models import build_model

torch.set_num_threads(1)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    """A tiny random denoiser checkpoint: the CLI's whole path in milliseconds."""
    path = tmp_path / "tiny.safetensors"
    save_checkpoint(path, build_model("tiny"), {"task": "denoise"})
    return path


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A small colour PNG of noise."""
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), (np.random.default_rng(0).random((24, 36, 3)) * 255).astype(np.uint8))
    return path


def release_folder(folder: Path, name: str, task: str, **measured: dict) -> Path:
    """A weights folder holding one registered tiny release ``name``, with manifest ``measured`` records."""
    from irestore.models.release import record, register

    folder.mkdir(parents=True, exist_ok=True)
    save_checkpoint(folder / f"{name}.safetensors", build_model("tiny", task=task), {"task": task, "name": name})
    register(folder / f"{name}.safetensors")
    if measured:
        record(folder, name, **measured)
    return folder
