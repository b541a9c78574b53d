"""Feature diagnostics: the entropy definition, the hooks, skip norms, the training hook, run logs, plots."""

import json
import math
import sys

import numpy as np
import pytest
import torch

from irestore.diagnostics import DiagnosticsError, FeatureStats, channel_entropy, diagnose, log_diagnostics, read_trajectory
from irestore.diagnostics.plots import plot_report, plot_trajectory, pyplot
from irestore.errors import IRestoreError
from irestore.models import build_model


def test_entropy_of_uniform_channel_energy_is_ln_c():
    assert channel_entropy(torch.full((16,), 3.0)) == pytest.approx(math.log(16))


def test_entropy_of_one_hot_energy_is_zero():
    energy = torch.zeros(8)
    energy[5] = 2.0
    assert channel_entropy(energy) == 0.0


def test_entropy_of_no_energy_is_undefined():
    assert math.isnan(channel_entropy(torch.zeros(4)))


def test_feature_stats_follow_the_definition():
    x = torch.zeros(2, 4, 3, 3)
    x[:, 0] = 2.0  # channel 0 carries energy 4, channel 1 energy 1, the others none
    x[:, 1] = -1.0
    stats = FeatureStats()
    stats.update(x)
    p = torch.tensor([0.8, 0.2])
    assert stats.mean_square == pytest.approx(5 / 4)
    assert stats.peak == 2.0
    assert stats.entropy == pytest.approx(float(-(p * p.log()).sum()))
    assert stats.entropy_ratio == pytest.approx(stats.entropy / math.log(4))


def test_feature_stats_pool_images_of_different_sizes_pixel_by_pixel():
    a, b = torch.randn(1, 3, 4, 4), torch.randn(1, 3, 2, 8) * 5
    pooled, together = FeatureStats(), FeatureStats()
    pooled.update(a)
    pooled.update(b)
    together.update(torch.cat([a.flatten(2), b.flatten(2)], dim=2))
    assert pooled.mean_square == pytest.approx(together.mean_square)
    assert pooled.entropy == pytest.approx(together.entropy)
    assert pooled.peak == together.peak


def test_hooks_see_every_block_in_the_order_it_ran_and_are_removed():
    model = build_model("tiny")
    report = diagnose(model, [np.random.default_rng(0).random((20, 28, 3), dtype=np.float32)])
    assert [b.name for b in report.blocks] == ["encoders.0.0", "encoders.1.0", "middle.0", "decoders.1.0", "decoders.0.0"]
    assert {b.name for b in report.blocks} == {name for name, _ in model.blocks()}
    assert [b.channels for b in report.blocks] == [8, 16, 32, 16, 8]
    assert all(b.mean_square > 0 and b.peak > 0 and 0 < b.entropy_ratio <= 1 for b in report.blocks)
    assert not any(m._forward_hooks for m in model.modules())


@pytest.mark.parametrize("kappa", [0.5, 0.7])
def test_cs_scaled_skip_rms_is_kappa_power_times_unscaled(kappa):
    model = build_model("small", skip="cs", kappa=kappa)
    report = diagnose(model, [torch.rand(3, 32, 32), torch.rand(3, 16, 48)])
    assert [s.index for s in report.skips] == [1, 2, 3]
    for s in report.skips:
        assert s.rms_before > 0
        assert s.rms_after == pytest.approx(kappa ** (s.index - 1) * s.rms_before, rel=1e-5)


def test_learned_skip_gate_shrinks_each_skip():
    report = diagnose(build_model("tiny", skip="ls"), [torch.rand(3, 16, 16)])
    assert len(report.skips) == 2 and all(0 < s.ratio < 1 for s in report.skips)


def test_gray_image_is_replicated_for_a_colour_model():
    image = np.random.default_rng(1).random((16, 16), dtype=np.float32)
    model = build_model("tiny")
    gray, rgb = diagnose(model, [image]), diagnose(model, [np.repeat(image[..., None], 3, axis=2)])
    assert gray.blocks[0].mean_square == pytest.approx(rgb.blocks[0].mean_square)


def test_log_diagnostics_gives_flat_finite_keys_without_touching_training_state():
    model = build_model("tiny", skip="cs").train()
    inputs = torch.rand(2, 3, 16, 16)
    values = log_diagnostics(model, (inputs, inputs))
    names = [name for name, _ in model.blocks()]
    expected = {"peak_max", "ms_max", "entropy_ratio_mean", "entropy_ratio_min"}
    expected |= {f"block.{n}.{stat}" for n in names for stat in ("ms", "peak", "entropy_ratio")}
    expected |= {f"skip.{i}.{side}" for i in (1, 2) for side in ("rms_before", "rms_after")}
    assert set(values) == expected
    assert all(isinstance(v, float) and math.isfinite(v) for v in values.values())
    assert values["peak_max"] == max(values[f"block.{n}.peak"] for n in names)
    assert model.training and all(p.grad is None for p in model.parameters())
    json.dumps(values)  # the loop writes it to log.jsonl


def test_the_training_loop_finds_the_hook():
    from irestore.train.loop import find_diagnostics

    assert find_diagnostics() is log_diagnostics


def test_diagnose_without_images_is_a_user_error():
    with pytest.raises(IRestoreError, match="no images"):
        diagnose(build_model("tiny"), [])


def write_log(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def diag(step, peak, entropy=0.9):
    return {"event": "diag", "step": step, "peak_max": peak, "entropy_ratio_mean": entropy, "block.encoders.0.0.ms": peak / 2,
            "block.encoders.0.0.entropy_ratio": entropy, "skip.1.rms_before": 1.0, "skip.1.rms_after": 0.5}


def test_trajectory_reads_diag_records_and_keeps_the_latest_after_a_resume(tmp_path):
    write_log(tmp_path / "log.jsonl", [
        {"event": "start", "step": 0}, diag(50, 2.0), {"event": "train", "step": 50, "loss": 0.1},
        diag(100, 99.0), {"event": "resume", "step": 50}, diag(100, 4.0, 0.7), {"event": "diag", "step": 150, "error": "boom"},
        {"event": "stop", "step": 100, "reason": "done"},
    ])
    t = read_trajectory(tmp_path)
    assert t.steps == [50, 100] and t.series["peak_max"] == [2.0, 4.0]
    assert t.blocks() == ["encoders.0.0"] and t.skips() == [1]
    assert t.loss == [(50, 0.1)] and not t.diverged
    assert "2 -> 4" in t.summary()[0]


def test_trajectory_reports_divergence(tmp_path):
    write_log(tmp_path / "log.jsonl", [diag(50, 2.0), {"event": "skip", "step": 51}, {"event": "stop", "step": 60, "reason": "diverged"}])
    t = read_trajectory(tmp_path / "log.jsonl")
    assert t.diverged and t.skipped_steps == 1 and "diverged" in " ".join(t.summary())


def test_a_log_without_diagnostics_says_how_to_get_them(tmp_path):
    write_log(tmp_path / "log.jsonl", [{"event": "train", "step": 10, "loss": 0.2}])
    with pytest.raises(DiagnosticsError, match="diag_every"):
        read_trajectory(tmp_path)


def test_plots_are_png_files(tmp_path):
    pytest.importorskip("matplotlib")
    report = diagnose(build_model("tiny"), [torch.rand(3, 16, 16)])
    write_log(tmp_path / "log.jsonl", [diag(50, 2.0), diag(100, 4.0)])
    for path in (plot_report(report, tmp_path / "b.png"), plot_trajectory(read_trajectory(tmp_path), tmp_path / "t.png")):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(DiagnosticsError, match=r"irestore\[plots\]"):
        pyplot()
