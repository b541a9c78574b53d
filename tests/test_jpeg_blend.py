"""The quality read from a JPEG decides how much of the model's change is kept."""

from __future__ import annotations

import json

import cv2
import numpy as np
from typer.testing import CliRunner

from irestore.cli.main import app
from irestore.models.jpeg_blend import blend, blend_weight, fitted_weight
from tests.conftest import release_folder


def test_the_fitted_weight_is_the_least_squares_share_of_the_change():
    rng = np.random.default_rng(0)
    target = rng.random((8, 8, 3)).astype(np.float32)
    noisy = target + rng.normal(0, 0.1, target.shape).astype(np.float32)
    overshoot = noisy + 2 * (target - noisy)
    assert abs(fitted_weight([noisy], [overshoot], [target]) - 0.5) < 1e-6
    assert fitted_weight([noisy], [2 * noisy - target], [target]) == 0.0
    assert fitted_weight([noisy], [noisy], [target]) == 1.0
    assert np.allclose(blend(noisy, overshoot, 0.5), target, atol=1e-6)


def test_weights_interpolate_between_measured_qualities_and_default_to_the_model():
    record_ = {"qualities": [10, 60, 90, 100], "weights": [1.0, 1.0, 0.5, 0.0]}
    assert blend_weight(40, record_) == 1.0 and blend_weight(75, record_) == 0.75 and blend_weight(100, record_) == 0.0
    assert blend_weight(5, record_) == 1.0 and blend_weight(95, None) == 1.0


def test_a_high_quality_jpeg_is_written_unchanged_and_a_low_one_restored(tmp_path):
    folder = release_folder(tmp_path / "weights", "jpeg", "jpeg", jpeg_blend={"qualities": [10, 80, 90], "weights": [1.0, 1.0, 0.0]})
    rng = np.random.default_rng(1)
    pixels = cv2.GaussianBlur((rng.random((48, 64, 3)) * 255).astype(np.uint8), (5, 5), 0)
    for q in (20, 95):
        cv2.imwrite(str(tmp_path / f"q{q}.jpg"), pixels, [cv2.IMWRITE_JPEG_QUALITY, q])
    runner = CliRunner()
    result = runner.invoke(app, ["jpeg", str(tmp_path / "q20.jpg"), str(tmp_path / "q95.jpg"), "-o", str(tmp_path / "out"), "--ext", "png", "--weights-dir", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{"):])
    kept = {f["input"].rsplit("/", 1)[-1]: f["jpeg"] for f in report["files"]}
    assert kept["q20.jpg"]["quality"] == 20 and kept["q20.jpg"]["kept"] == 1.0
    assert kept["q95.jpg"]["quality"] == 95 and kept["q95.jpg"]["kept"] == 0.0
    decoded = cv2.imread(str(tmp_path / "q95.jpg"))
    assert np.array_equal(cv2.imread(str(tmp_path / "out" / "q95.png")), decoded)
