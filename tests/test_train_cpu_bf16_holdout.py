"""bf16 autocast on CPUs that have it, and validation images cut from a training folder."""

from __future__ import annotations

import json

import pytest
import torch

from irestore.engine.device import native_bf16
from irestore.train import TrainConfig, train
from irestore.train.data import data_root, train_dataset, val_files
from tests.test_train_loop import make_images


def _config(root, out, **values) -> TrainConfig:
    base = dict(
        name="run", task="denoise-gaussian", model="tiny", data_root=str(root), train_dirs=["train"], val_dirs=["train"],
        degradation={"sigma_range": [40, 60]}, val_degradation={"sigma_range": [50, 50]}, val_count=2, val_crop=64,
        patch_size=32, batch_size=4, steps=12, lr=5e-3, warmup_steps=2, val_every=6, checkpoint_every=6, log_every=3, threads=1, out_dir=str(out),
    )
    return TrainConfig(**{**base, **values})


def test_validation_images_from_a_training_folder_are_not_trained_on(tmp_path):
    make_images(tmp_path / "train", 5, seed=3)
    cfg = _config(tmp_path, tmp_path / "runs")
    held_out = val_files(cfg, data_root(cfg.data_root))
    assert [p.name for p in held_out] == ["00.png", "01.png"]
    assert len(train_dataset(cfg, data_root(cfg.data_root)).clean) == 3
    no_val = _config(tmp_path, tmp_path / "runs", val_every=0)
    assert len(train_dataset(no_val, data_root(no_val.data_root)).clean) == 5


@pytest.mark.skipif(not native_bf16(torch.device("cpu")), reason="this CPU has no native bf16 units")
def test_bf16_autocast_runs_on_a_cpu_that_has_it(tmp_path):
    make_images(tmp_path / "train", 5, seed=3)
    result = train(_config(tmp_path, tmp_path / "runs", bf16=True), progress=False)
    records = [json.loads(line) for line in (result.run_dir / "log.jsonl").read_text().splitlines()]
    assert records[0]["bf16"] is True
    losses = [r["loss"] for r in records if r["event"] == "train"]
    assert all(loss == loss for loss in losses) and losses[-1] < losses[0]
