"""The runner, the protocol scoring, the baselines and the report writers."""

import csv
import json
import math
import sys
import types
from pathlib import Path

import cv2
import numpy as np
import pytest
from rich.console import Console

from irestore.errors import ConfigError
from irestore.evaluation import (
    BaselineUnavailableError,
    Level,
    PRESETS,
    evaluate,
    get_preset,
    make_baseline,
    render_table,
    score,
    write_csv,
    write_json,
)
from irestore.evaluation.baselines import estimate_sigma255
from irestore.metrics import to_uint8


def write_png(path: Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.ascontiguousarray(pixels if pixels.ndim == 2 else pixels[..., ::-1]))


def smooth_image(h: int, w: int, channels: int) -> np.ndarray:
    rows, cols = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing="ij")
    planes = [0.2 + 0.6 * rows * cols, 0.3 + 0.4 * rows, 0.8 - 0.5 * cols][:channels]
    return np.rint(np.stack(planes, -1) * 255).astype(np.uint8)


@pytest.fixture
def gray_set(tmp_path):
    for i in range(2):
        write_png(tmp_path / "gray" / f"{i:02d}.png", smooth_image(24, 32, 1)[..., 0])
    return tmp_path / "gray"


def test_score_rounds_for_uint8_presets_and_not_for_float_presets():
    target = np.full((16, 16, 3), 100 / 255, np.float32)
    restored = target + np.float32(0.4 / 255)  # rounds back to 100
    assert score(restored, target, PRESETS["gaussian-color"]).psnr == math.inf
    float_psnr = score(restored, target, PRESETS["sidd-val"]).psnr
    assert float_psnr == pytest.approx(20 * math.log10(255 / 0.4), abs=1e-3)
    over = np.full_like(target, 1.3)  # clamped to 1 before scoring in both conventions
    assert score(over, target, PRESETS["sidd-val"]).psnr == pytest.approx(20 * math.log10(1 / (1 - 100 / 255)), abs=1e-4)


def test_score_y_preset_compares_rounded_luma():
    target = np.zeros((12, 12, 3), np.float32)
    target[..., 0] = 1.0  # red: Y = 81.481 -> 81
    restored = np.zeros_like(target)  # black: Y = 16
    s = score(restored, target, PRESETS["derain-y"])
    assert s.psnr == pytest.approx(10 * math.log10(255**2 / 65**2))
    assert s.psnr_b is None and score(restored, target, PRESETS["jpeg-color"]).psnr_b is not None


def test_gaussian_gray_identity_and_nlm(gray_set):
    clean = cv2.imread(str(gray_set / "00.png"), cv2.IMREAD_GRAYSCALE)[..., None] / np.float32(255)
    np.random.seed(0)
    noisy = clean + np.random.normal(0, 25 / 255, clean.shape)
    ref = to_uint8(clean).astype(float)
    expected = 10 * math.log10(255**2 / np.mean((to_uint8(noisy) - ref) ** 2))
    identity, = evaluate(str(gray_set), restore=make_baseline("identity"), levels=[25], method="identity")
    assert identity.preset == "gaussian-gray" and identity.level == "sigma=25" and identity.images == 2
    assert identity.psnr == pytest.approx(expected, abs=1e-6)  # both images are the same picture
    assert identity.rounding.startswith("clamp + round") and identity.data_range == 255
    nlm, = evaluate(str(gray_set), restore=make_baseline("nlm"), levels=[25], method="nlm")
    assert nlm.psnr > identity.psnr + 3 and nlm.ssim > identity.ssim
    assert len(nlm.per_image) == 2 and nlm.seconds > 0 and nlm.mp_per_s > 0


def test_8bit_variant_feeds_the_restorer_clipped_uint8_noise(gray_set):
    seen = []

    def spy(img):
        seen.append(img.copy())
        return img

    published, = evaluate(str(gray_set), restore=spy, levels=[25], limit=1)
    assert (seen[0] < 0).any() or (seen[0] > 1).any()
    assert not np.allclose(seen[0] * 255, np.rint(seen[0] * 255))
    eight, = evaluate(str(gray_set), restore=spy, levels=[25], limit=1, preset="gaussian-gray-8bit")
    np.testing.assert_array_equal(seen[1], to_uint8(seen[0]) / np.float32(255))
    assert eight.preset == "gaussian-gray-8bit" and "rounded to uint8" in eight.degradation
    assert eight.settings == {"limit": 1}
    assert "unclipped" in published.degradation


def test_levels_default_and_for_level_protocol(gray_set):
    seen = []

    class Recorder:
        def for_level(self, level):
            seen.append(level)
            return lambda img: img

    results = evaluate(str(gray_set), restore=Recorder(), limit=1)
    assert [r.level for r in results] == ["sigma=15", "sigma=25", "sigma=50"]
    assert seen == [Level("sigma", 15), Level("sigma", 25), Level("sigma", 50)]
    assert results[0].psnr > results[1].psnr > results[2].psnr


def test_channels_select_preset_and_must_fit(tmp_path):
    write_png(tmp_path / "a.png", smooth_image(16, 16, 3))
    (gray,) = evaluate(str(tmp_path), restore=lambda img: img, task="jpeg", levels=[30], channels=1)
    assert gray.preset == "jpeg-gray" and gray.psnr_b is not None
    with pytest.raises(ConfigError, match="scores 3-channel images; this model takes 1"):
        evaluate(str(tmp_path), restore=lambda img: img, task="sr", levels=[2], channels=1)


def test_wrong_output_shape_is_a_one_line_error(gray_set):
    with pytest.raises(ConfigError, match=r"00: the restorer returned \(48, 64, 1\)"):
        evaluate(str(gray_set), restore=lambda img: img.repeat(2, 0).repeat(2, 1), levels=[15])


def test_nlm_estimates_sigma_on_real_noise(tmp_path):
    clean = smooth_image(48, 48, 3)
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 10, clean.shape), 0, 255).astype(np.uint8)
    assert estimate_sigma255(noisy / np.float32(255)) == pytest.approx(10, rel=0.2)
    write_png(tmp_path / "input" / "x.png", noisy)
    write_png(tmp_path / "target" / "x.png", clean)
    base, = evaluate(str(tmp_path), restore=make_baseline("identity"), task="denoise")
    nlm, = evaluate(str(tmp_path), restore=make_baseline("nlm"), task="denoise")
    assert nlm.psnr > base.psnr + 2


def test_baselines_refuse_tasks_they_cannot_do():
    with pytest.raises(ConfigError, match="bicubic"):
        make_baseline("identity").for_level(Level("scale", 2))
    with pytest.raises(ConfigError, match="sr only"):
        make_baseline("bicubic").for_level(Level("sigma", 25))
    with pytest.raises(ConfigError, match="denoiser"):
        make_baseline("nlm").for_level(Level("quality", 10))
    with pytest.raises(ConfigError, match="unknown baseline"):
        make_baseline("wiener")
    with pytest.raises(ConfigError, match="unknown protocol preset"):
        get_preset("psnr-only")


def test_bm3d_skips_without_package_and_passes_sigma_when_present(monkeypatch):
    monkeypatch.setitem(sys.modules, "bm3d", None)  # import fails like a missing package
    with pytest.raises(BaselineUnavailableError, match="pip install"):
        make_baseline("bm3d")
    calls = []
    fake = types.SimpleNamespace(
        bm3d=lambda z, sigma_psd: calls.append(("gray", sigma_psd)) or z,
        bm3d_rgb=lambda z, sigma_psd: calls.append(("rgb", sigma_psd)) or z,
    )
    monkeypatch.setitem(sys.modules, "bm3d", fake)
    restore = make_baseline("bm3d").for_level(Level("sigma", 25))
    assert restore(np.zeros((4, 4, 1), np.float32)).shape == (4, 4, 1)
    restore(np.zeros((4, 4, 3), np.float32))
    assert calls == [("gray", pytest.approx(25 / 255)), ("rgb", pytest.approx(25 / 255))]


def test_trained_tiny_model_runs_through_the_engine(tmp_path):
    torch = pytest.importorskip("torch")
    try:
        from irestore.engine import Restorer
        from irestore.models import build_model
    except ImportError as exc:
        pytest.skip(f"model code not available yet: {exc}")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    write_png(tmp_path / "input" / "x.png", smooth_image(32, 32, 3))
    write_png(tmp_path / "target" / "x.png", smooth_image(32, 32, 3))
    restorer = Restorer(build_model("tiny", task="denoise", channels=3), tile=0)
    (result,) = evaluate(str(tmp_path), restore=restorer, task="denoise", channels=3, settings={"tile": 0})
    assert result.images == 1 and 0 < result.ssim <= 1 and result.settings == {"tile": 0}


def test_report_writers_echo_protocol(tmp_path, gray_set):
    results = evaluate(str(gray_set), restore=lambda img: img, levels=[15], method="identity", settings={"tile": 0})
    results[0].psnr = math.inf  # non-finite values must still give valid JSON/CSV
    write_json(results, tmp_path / "r.json")
    write_csv(results, tmp_path / "r.csv")
    data = json.loads((tmp_path / "r.json").read_text())
    row = data["results"][0]
    assert row["psnr"] is None and row["preset"] == "gaussian-gray" and row["ssim_variant"] == "2d"
    assert len(row["per_image"]) == 2 and data["presets"]["gaussian-gray"]["quantize"] is True
    (csv_row,) = list(csv.DictReader(open(tmp_path / "r.csv")))
    assert csv_row["psnr"] == "" and csv_row["crop"] == "0" and json.loads(csv_row["settings"]) == {"tile": 0}
    console = Console(record=True, width=200)
    render_table(results, console)
    text = console.export_text()
    assert "gaussian-gray: GRAY, clamp + round to uint8" in text and "identity: tile=0" in text
