"""Ready-made input/target folders as a training source (instead of, or beside, clean images)."""

import json

import cv2
import numpy as np
import pytest
import torch

from irestore.errors import DatasetError
from irestore.train import TrainConfig, train

torch.set_num_threads(1)


def test_training_from_paired_folders_only(tmp_path):
    rng = np.random.default_rng(3)
    for sub in ("input", "target", "val"):
        (tmp_path / sub).mkdir()
    for i in range(4):
        clean = (cv2.resize(rng.random((4, 4, 3)), (48, 48)) * 255).astype(np.uint8)
        noisy = np.clip(clean + rng.normal(0, 20, clean.shape), 0, 255).astype(np.uint8)
        cv2.imwrite(str(tmp_path / "target" / f"{i}.png"), clean)
        cv2.imwrite(str(tmp_path / "input" / f"{i}.png"), noisy)
        cv2.imwrite(str(tmp_path / "val" / f"{i}.png"), clean)
    cfg = TrainConfig(
        name="paired", task="denoise-gaussian", model="tiny", data_root=str(tmp_path), train_dirs=[], paired_dirs=["input", "target"],
        val_dirs=["val"], val_count=2, val_crop=32, patch_size=32, batch_size=2, steps=6, warmup_steps=1, val_every=6,
        checkpoint_every=6, log_every=2, threads=1, out_dir=str(tmp_path / "runs"),
    )
    result = train(cfg, progress=False)
    assert result.step == 6
    losses = [r["loss"] for r in map(json.loads, (result.run_dir / "log.jsonl").read_text().splitlines()) if r["event"] == "train"]
    assert losses and all(np.isfinite(losses))


def test_paired_dirs_need_two_existing_folders(tmp_path):
    cfg = TrainConfig(name="p", task="denoise-gaussian", model="tiny", data_root=str(tmp_path), train_dirs=[], paired_dirs=["a"], out_dir=str(tmp_path))
    with pytest.raises(DatasetError, match="paired_dirs"):
        train(cfg, progress=False)


def _pairs(folder, names, rng):
    for sub in ("noisy", "clean"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for name in names:
        clean = (cv2.resize(rng.random((4, 4, 3)), (64, 48)) * 255).astype(np.uint8)
        noisy = np.clip(clean + rng.normal(0, 20, clean.shape), 0, 255).astype(np.uint8)
        cv2.imwrite(str(folder / "clean" / f"{name}_mean.png"), clean)
        cv2.imwrite(str(folder / "noisy" / f"{name}_real.png"), noisy)


def test_held_out_pairs_are_validated_on_and_never_trained_on(tmp_path):
    from irestore.train.data import train_dataset, val_set

    rng = np.random.default_rng(5)
    _pairs(tmp_path, ["canon_a", "canon_b", "nikon_a", "nikon_b"], rng)
    (tmp_path / "clean_only").mkdir()
    for i in range(3):
        cv2.imwrite(str(tmp_path / "clean_only" / f"{i}.png"), (rng.random((48, 48, 3)) * 255).astype(np.uint8))
    cfg = TrainConfig(
        name="real", task="denoise-gaussian", model="tiny", data_root=str(tmp_path), train_dirs=["clean_only"], paired_dirs=["noisy", "clean"],
        paired_holdout=["canon_b", "nikon_b"], paired_share=0.5, val_count=5, val_crop=32, patch_size=32, batch_size=2, steps=4,
        warmup_steps=1, val_every=4, checkpoint_every=4, log_every=2, threads=1, out_dir=str(tmp_path / "runs"),
    )
    data = train_dataset(cfg, tmp_path)
    assert len(data.pairs) == 2 and len(data.clean) == 3
    trained = {low.tobytes() for low, _ in data.pairs}
    for name in ("canon_a", "nikon_a", "canon_b", "nikon_b"):
        stored = cv2.imread(str(tmp_path / "noisy" / f"{name}_real.png"))[..., ::-1].tobytes()
        assert (stored in trained) == name.endswith("_a")
    inputs, targets = val_set(cfg, tmp_path)
    assert inputs.shape == targets.shape == (5, 3, 32, 32)
    assert float((inputs - targets).abs().mean()) > 0.03
    result = train(cfg, progress=False)
    assert result.step == 4
    from irestore.train.export import release_info

    info = release_info(cfg, torch.load(result.run_dir / "last.pt", weights_only=False))
    assert info["val"]["data"] == ["noisy/canon_b* (held out)", "noisy/nikon_b* (held out)"]
    assert info["training_data"] == ["clean_only", "noisy (pairs, 50% of samples)"]


def test_held_out_pairs_can_be_validated_beside_synthetic_crops_held_out_of_training(tmp_path):
    from irestore.train.data import train_dataset, val_set

    rng = np.random.default_rng(6)
    _pairs(tmp_path, ["canon_a", "canon_b"], rng)
    (tmp_path / "clean_only").mkdir()
    for i in range(4):
        cv2.imwrite(str(tmp_path / "clean_only" / f"{i}.png"), (rng.random((48, 48, 3)) * 255).astype(np.uint8))
    cfg = TrainConfig(
        name="mix", task="denoise-gaussian", model="tiny", data_root=str(tmp_path), train_dirs=["clean_only"], val_dirs=["clean_only"],
        paired_dirs=["noisy", "clean"], paired_holdout=["canon_b"], val_count=3, val_synthetic=2, val_crop=32,
    )
    inputs, targets = val_set(cfg, tmp_path)
    assert inputs.shape == targets.shape == (5, 3, 32, 32)
    assert len(train_dataset(cfg, tmp_path).clean) == 2
    from irestore.train.export import _validation_data

    assert _validation_data(cfg) == ["noisy/canon_b* (held out)", "clean_only (first 2, synthetic)"]
    with pytest.raises(Exception, match="val_synthetic"):
        TrainConfig(name="p", model="tiny", val_synthetic=2)


def test_paired_holdout_needs_pairs(tmp_path):
    with pytest.raises(Exception, match="paired_holdout needs paired_dirs"):
        TrainConfig(name="p", model="tiny", paired_holdout=["x"])
