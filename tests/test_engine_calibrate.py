"""Per-model statistics passes and precision: calibrated once, chosen at run time, forced by --exact."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from irestore.engine.calibrate import EXACT_PASSES, calibrate_passes
from irestore.engine.device import choose_precision, native_bf16
from irestore.models import build_model

CPU = torch.device("cpu")


def _photo(h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(6 * x + 1) * y, np.cos(5 * y) * x, x * y], axis=-1) * 0.4 + 0.5
    return np.clip(base + rng.normal(0, 0.05, base.shape), 0, 1).astype(np.float32)


def test_passes_are_the_fewest_that_reach_the_floor_and_agreement_grows_with_passes():
    torch.manual_seed(0)
    model = build_model("tiny", mixer="conv", norm="iln", skip="ls").eval()
    img = _photo(256, 320)
    low = calibrate_passes(model, [img], floor_db=0.0, memory_mb=0.3)
    assert low["stats_passes"] == 0 and low["tiles"][0] > 0
    agreement = low["agreement_db"]
    assert agreement["2"] >= agreement["1"] - 0.5 and agreement["2"] > agreement["0"]
    unreachable = calibrate_passes(model, [img], floor_db=1e9, memory_mb=0.3)
    assert unreachable["stats_passes"] == EXACT_PASSES
    middle = calibrate_passes(model, [img], floor_db=(agreement["0"] + agreement["2"]) / 2, memory_mb=0.3)
    assert middle["stats_passes"] in (1, 2)


def test_an_image_that_runs_whole_cannot_calibrate_tiling():
    with pytest.raises(ValueError, match="runs whole"):
        calibrate_passes(build_model("tiny").eval(), [_photo(32, 32)])


def test_auto_precision_needs_native_bf16_and_a_measured_small_cost():
    assert choose_precision("fp32", CPU, 0.0) == "fp32" and choose_precision("bf16", CPU, 1.0) == "bf16"
    assert choose_precision("auto", CPU, None) == "fp32"
    assert choose_precision("auto", CPU, 0.05) == "fp32"
    assert choose_precision("auto", CPU, 0.01) == ("bf16" if native_bf16(CPU) else "fp32")


def test_the_cli_runs_the_calibrated_passes_and_exact_forces_full_agreement(tmp_path):
    import cv2
    from typer.testing import CliRunner

    from irestore.cli.main import app
    from tests.conftest import release_folder

    folder = release_folder(tmp_path / "weights", "denoise-real", "denoise", tiling={"stats_passes": 0}, precision={"bf16_cost_db": 0.5})
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), (_photo(40, 48) * 255).astype(np.uint8))
    runner = CliRunner()
    base = ["denoise", str(photo), "--weights-dir", str(folder), "--overwrite", "-o"]
    default = runner.invoke(app, [*base, str(tmp_path / "a.png")])
    assert default.exit_code == 0, default.output
    assert "fp32 (auto)" in default.output and "0 statistics passes, calibrated" in default.output
    exact = runner.invoke(app, [*base, str(tmp_path / "b.png"), "--exact"])
    assert exact.exit_code == 0 and f"{EXACT_PASSES} statistics passes)" in exact.output
