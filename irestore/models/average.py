"""Average fine-tunes of one checkpoint into one model (a uniform "model soup", Wortsman et al. 2022).

Why: a release model here improves by fine-tuning it further, and the two CPU cores run two such
fine-tunes side by side (different seeds, learning rates). Runs that start from the same weights
stay in one basin of the loss, so the mean of their weights is a model too, often better than
either, at no cost at inference. Averaging unrelated networks is meaningless (their channels are
permuted against each other), so every input must name the same parent checkpoint.

The result's provenance keeps the shared parent chain as ``initialized_from`` and lists each
ingredient (its steps, wall time, validation, recipe) under ``averaged_from``; its ``steps`` and
``wall_time_s`` are the ingredients' sums, the training compute the averaged model embodies.
"""

from __future__ import annotations

from pathlib import Path

import torch

from irestore.checkpoint import load_checkpoint, sha256_of
from irestore.errors import ConfigError, WeightsError
from irestore.models.unet import RestorationUNet

RUN_FIELDS = ("steps", "wall_time_s", "weights", "val", "recipe")
"""What belongs to each ingredient's run: kept, with its name, in the ``averaged_from`` records."""
SHARED_FIELDS = ("task", "variant", "channels", "scale")
"""What must agree between ingredients besides the architecture: they restore the same thing."""


def average_checkpoints(paths: list[str | Path]) -> tuple[RestorationUNet, dict]:
    """The uniform weight average of ``paths`` (float32) and its provenance.

    Raises ConfigError for fewer than two inputs or different architectures or tasks, and
    WeightsError where the inputs are not fine-tunes of one parent checkpoint.
    """
    if len(paths) < 2:
        raise ConfigError("averaging needs at least two checkpoints")
    loaded = [load_checkpoint(p) for p in paths]
    first_model, first_info = loaded[0]
    parent = _parent_sha(paths[0], first_info)
    for path, (model, info) in zip(paths[1:], loaded[1:]):
        if model.config != first_model.config:
            raise ConfigError(f"{path}: a different architecture than {paths[0]}; only fine-tunes of one checkpoint can be averaged")
        differing = [k for k in SHARED_FIELDS if info.get(k) != first_info.get(k)]
        if differing:
            raise ConfigError(f"{path}: {differing[0]} is {info.get(differing[0])!r}, {first_info.get(differing[0])!r} in {paths[0]}")
        if _parent_sha(path, info) != parent:
            raise WeightsError(f"{path}: fine-tuned from another checkpoint than {paths[0]}; averaging needs one common parent")
    states = [m.state_dict() for m, _ in loaded]
    averaged = RestorationUNet(first_model.config)
    averaged.load_state_dict({k: torch.stack([s[k] for s in states]).mean(0) for k in states[0]})
    info = {k: v for k, v in first_info.items() if k not in RUN_FIELDS}
    info["steps"] = sum(int(i.get("steps") or 0) for _, i in loaded)
    info["wall_time_s"] = round(sum(float(i.get("wall_time_s") or 0.0) for _, i in loaded), 1)
    info["weights"] = f"uniform average of {len(paths)} fine-tunes of {parent[:12]}"
    info["averaged_from"] = [
        {"path": str(p), "sha256": sha256_of(p), **{k: i[k] for k in ("name", *RUN_FIELDS) if k in i}} for p, (_, i) in zip(paths, loaded)
    ]
    return averaged.eval(), info


def _parent_sha(path: str | Path, info: dict) -> str:
    parent = (info.get("initialized_from") or {}).get("sha256")
    if not parent:
        raise WeightsError(f"{path}: records no parent checkpoint (not trained with --init), so it cannot be averaged")
    return parent
