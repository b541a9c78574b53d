"""The training state file ``runs/NAME/last.pt``: everything needed to continue a run exactly.

Contents (all plain tensors, numbers and strings, so ``torch.load(weights_only=True)`` reads it):
``format``, ``config`` (the TrainConfig as a dict), ``model_config``, ``model``, ``ema``,
``best_ema`` (or None), ``optimizer``, ``step`` (steps completed; the learning rate is a pure
function of it, so there is no scheduler object to save), ``best_psnr``, ``best_step``, ``best_val``,
``last_val``, ``wall_time`` (seconds trained so far), ``rng`` (torch, CUDA, numpy, python generator
states), ``hardware`` and ``degradation`` (for the export's provenance). It is written to a temporary file and renamed over the old one, so a
run killed at any moment leaves either the previous or the new state, never half of one.
"""

from __future__ import annotations

import os
import pickle
import random
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from irestore.errors import WeightsError

FORMAT = "irestore-train-state/1"
STATE_FILE = "last.pt"


def capture_rng() -> dict[str, Any]:
    numpy_state = np.random.get_state(legacy=True)
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"key": torch.from_numpy(numpy_state[1].astype(np.int64)), "pos": int(numpy_state[2]),
                  "has_gauss": int(numpy_state[3]), "gauss": float(numpy_state[4])},
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
    }


def restore_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["key"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss_next"]))


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Atomic write: temporary file in the same folder, flushed to disk, then ``os.replace``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"format": FORMAT, **state}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_state(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise WeightsError(f"{path}: no training state to resume (start the run without --resume)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, OSError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise WeightsError(f"{path}: training state is unreadable: {first}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise WeightsError(f"{path}: not an irestore training state (no {FORMAT} marker)")
    return state
