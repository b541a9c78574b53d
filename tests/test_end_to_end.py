"""Train a tiny model, export it, and score the export with `irestore eval` against the noisy input
on a generated input/target folder and on a generated SIDD validation .mat in the official layout."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.io
import torch
from typer.testing import CliRunner

from irestore.cli.main import app
from irestore.evaluation.datasets import SIDD_GT, SIDD_NOISY
from irestore.train import TrainConfig, train

torch.set_num_threads(1)
SIGMA = 40


def scene(rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """Smooth colour fields with hard-edged rectangles, float in [0, 1]."""
    img = cv2.resize(rng.random((5, 5, 3)), (size, size), interpolation=cv2.INTER_CUBIC)
    for _ in range(3):
        y, x = rng.integers(0, size - 16, 2)
        img[y : y + 16, x : x + 16] = rng.random(3)
    return np.clip(img, 0, 1)


def noisy_u8(clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.clip(np.round((clean + rng.normal(0, SIGMA / 255, clean.shape)) * 255), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("e2e")
    rng = np.random.default_rng(5)
    for folder, count in (("train", 8), ("val", 2)):
        (root / folder).mkdir()
        for i in range(count):
            cv2.imwrite(str(root / folder / f"{i}.png"), (scene(rng, 80) * 255).astype(np.uint8)[..., ::-1])
    cfg = TrainConfig(
        name="e2e", task="denoise-gaussian", model="tiny", data_root=str(root), train_dirs=["train"], val_dirs=["val"],
        degradation={"sigma_range": [SIGMA, SIGMA], "clip_quantize": 1.0}, val_degradation={"sigma_range": [SIGMA, SIGMA]},
        val_count=2, val_crop=64, patch_size=32, batch_size=4, steps=60, lr=5e-3, warmup_steps=5, ema_decay=0.9,
        val_every=30, checkpoint_every=30, log_every=10, threads=1, out_dir=str(root / "runs"),
    )
    weights = root / "tiny.safetensors"
    train(cfg, export=weights, progress=False)
    return weights


def scores(result) -> dict[str, float]:
    assert result.exit_code == 0, result.output
    rows = json.loads(Path(result.json_path).read_text())
    rows = rows["results"] if isinstance(rows, dict) else rows
    return {row["method"]: row["psnr"] for row in rows}


def run_eval(dataset: Path, weights: Path, out: Path):
    result = CliRunner().invoke(app, ["eval", str(dataset), "--task", "denoise", "-w", str(weights), "-b", "identity", "--json", str(out)])
    result.json_path = out
    return result


def test_export_beats_the_noisy_input_on_a_paired_folder(exported, tmp_path):
    rng = np.random.default_rng(9)
    for i in range(3):
        clean = scene(rng)
        for sub, img in (("target", (clean * 255).round().astype(np.uint8)), ("input", noisy_u8(clean, rng))):
            (tmp_path / "pairs" / sub).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(tmp_path / "pairs" / sub / f"{i}.png"), img[..., ::-1])
    psnr = scores(run_eval(tmp_path / "pairs", exported, tmp_path / "pairs.json"))
    model = next(v for k, v in psnr.items() if k != "identity")
    assert model > psnr["identity"] + 1.0


def test_export_beats_the_noisy_input_on_a_sidd_format_mat(exported, tmp_path):
    rng = np.random.default_rng(11)
    gt = np.stack([np.stack([(scene(rng, 32) * 255).round().astype(np.uint8) for _ in range(2)]) for _ in range(2)])
    noisy = noisy_u8(gt / 255.0, rng)
    folder = tmp_path / "SIDD"
    folder.mkdir()
    scipy.io.savemat(folder / f"{SIDD_NOISY}.mat", {SIDD_NOISY: noisy})
    scipy.io.savemat(folder / f"{SIDD_GT}.mat", {SIDD_GT: gt})
    psnr = scores(run_eval(folder, exported, tmp_path / "sidd.json"))
    model = next(v for k, v in psnr.items() if k != "identity")
    assert model > psnr["identity"] + 1.0
