"""The training loop end to end on generated images with the tiny model: learning, exact resume after
SIGKILL, SIGTERM saving, non-finite steps, export, and torchrun with two CPU processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import types
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from irestore.checkpoint import load_checkpoint
from irestore.errors import ConfigError
from irestore.train import TrainConfig, TrainingDiverged, export_run, train
from irestore.train import loop as loop_module
from irestore.train.state import load_state

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[1]


def make_images(folder: Path, count: int, seed: int) -> None:
    """Smooth colour fields with hard-edged rectangles: structure a denoiser can learn in a few steps."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        img = cv2.resize(rng.random((6, 6, 3)), (80, 80), interpolation=cv2.INTER_CUBIC)
        for _ in range(3):
            y, x = rng.integers(0, 60, 2)
            img[y : y + 20, x : x + 20] = rng.random(3)
        cv2.imwrite(str(folder / f"{i:02d}.png"), np.clip(img * 255, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    make_images(root / "train", 6, seed=1)
    make_images(root / "val", 3, seed=2)
    return root


def tiny(data: Path, out: Path, **values) -> TrainConfig:
    base = dict(
        name="run", task="denoise-gaussian", model="tiny", data_root=str(data), train_dirs=["train"], val_dirs=["val"],
        degradation={"sigma_range": [40, 60]}, val_degradation={"sigma_range": [50, 50]}, val_count=3, val_crop=64,
        patch_size=32, batch_size=4, steps=40, lr=5e-3, warmup_steps=5, ema_decay=0.9, val_every=20,
        checkpoint_every=10, log_every=5, threads=1, out_dir=str(out),
    )
    return TrainConfig(**{**base, **values})


def records(run_dir: Path, event: str) -> list[dict]:
    lines = (run_dir / "log.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["event"] == event]


def write_toml(cfg: TrainConfig, path: Path) -> Path:
    def value(v):
        return json.dumps(v) if not isinstance(v, bool) else str(v).lower()

    plain = [f"{k} = {value(v)}" for k, v in cfg.to_dict().items() if not isinstance(v, dict)]
    tables = [f"[{k}]\n" + "\n".join(f"{kk} = {value(vv)}" for kk, vv in v.items()) for k, v in cfg.to_dict().items() if isinstance(v, dict) and v]
    path.write_text("\n".join(plain) + "\n" + "\n".join(tables) + "\n")
    return path


def weights(run_dir: Path) -> tuple[dict, dict]:
    state = load_state(run_dir / "last.pt")
    return state["model"], state["ema"]["model"]


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=lambda m: f"{key}: {m}")


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    """One 40-step run shared by the tests that only read its results (with a diagnostics hook)."""
    out = tmp_path_factory.mktemp("runs")
    calls = []
    fake = types.ModuleType("irestore.diagnostics")
    fake.log_diagnostics = lambda model, batch: calls.append(batch[0].shape) or {"blocks": len(list(model.blocks()))}
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "irestore.diagnostics", fake)
        result = train(tiny(data, out, diag_every=20), export=out / "w" / "tiny.safetensors", progress=False)
    return result, out, calls


def test_loss_falls_and_the_ema_beats_the_noisy_input(trained):
    result, out, calls = trained
    losses = [r["loss"] for r in records(result.run_dir, "train")]
    assert result.step == 40 and result.stopped == "done" and len(losses) == 8
    assert np.mean(losses[-2:]) < 0.8 * np.mean(losses[:2])
    first, last = records(result.run_dir, "val")
    assert last["val_psnr"] > first["val_psnr"] and last["val_psnr"] > last["val_psnr_input"] + 1.0
    diags = records(result.run_dir, "diag")
    assert [d["step"] for d in diags] == [20, 40] and diags[0]["blocks"] > 0 and calls[0] == (4, 3, 32, 32)


def test_the_real_diagnostics_hook_writes_records_its_reader_understands(data, tmp_path):
    diagnostics = pytest.importorskip("irestore.diagnostics")
    result = train(tiny(data, tmp_path, steps=2, diag_every=1, val_every=0), progress=False)
    trajectory = diagnostics.read_trajectory(result.run_dir)
    assert trajectory.steps == [1, 2] and trajectory.blocks() and trajectory.stopped == "done"


def test_export_round_trips_through_load_checkpoint(trained):
    result, out, _ = trained
    model, info = load_checkpoint(out / "w" / "tiny.safetensors")
    state = load_state(result.run_dir / "last.pt")
    assert model.config.to_dict() == state["model_config"]
    assert_same_weights(model.state_dict(), state["best_ema"])
    assert info["task"] == "denoise" and info["name"] == "denoise-gaussian" and info["steps"] == 40
    assert info["licence"] == "MIT (weights trained by irestore)"
    assert info["val"]["val_psnr"] == pytest.approx(result.best_psnr) and info["variant"] == {"noise": "gaussian", "gray": False, "scale": 1}
    assert "GaussianNoise" in info["degradation"] and info["training_data"] == ["train"] and info["hardware"]
    export_run(result.run_dir, out / "again.safetensors")
    again, _ = load_checkpoint(out / "again.safetensors")
    assert_same_weights(again.state_dict(), model.state_dict())


def test_a_snapshot_saves_the_running_ema_once_per_step(trained, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("snapshot_ema", Path(__file__).parents[1] / "scripts" / "snapshot_ema.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    result, _, _ = trained
    path = script.snapshot(result.run_dir, tmp_path / "snaps")
    assert path == tmp_path / "snaps" / "step-000040.safetensors"
    model, info = load_checkpoint(path)
    ema = weights(result.run_dir)[1]
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, ema[key].half().float(), msg=lambda m: f"{key}: {m}")
    assert info["weights"].startswith("EMA at step 40") and info["steps"] == 40
    assert script.snapshot(result.run_dir, tmp_path / "snaps") is None


def test_scoring_saved_weights_reproduces_the_runs_own_validation(trained, data, tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("score_validation", Path(__file__).parents[1] / "scripts" / "score_validation.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    result, out, _ = trained
    config = write_toml(tiny(data, out, diag_every=20), tmp_path / "tiny.toml")
    script.main(["-c", str(config), str(out / "w" / "tiny.safetensors")])
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in capsys.readouterr().out.splitlines()]
    rows = {row[0]: row[1:] for row in cells}
    model_psnr, input_psnr = float(rows[str(out / "w" / "tiny.safetensors")][0]), float(rows["input"][0])
    assert model_psnr == pytest.approx(result.best_psnr, abs=0.05)  # fp32 weights here, the run's EMA in training
    assert model_psnr > input_psnr + 1.0


def test_resuming_a_finished_run_only_exports_it(trained, data):
    result, out, _ = trained
    before = (result.run_dir / "last.pt").read_bytes()
    finished = train(tiny(data, out), resume=True, export=out / "late.safetensors", progress=False)
    assert finished.step == 40 and (result.run_dir / "last.pt").read_bytes() == before
    assert_same_weights(load_checkpoint(out / "late.safetensors")[0].state_dict(), load_state(result.run_dir / "last.pt")["best_ema"])


def test_a_second_run_of_the_same_name_needs_resume(trained, data):
    result, out, _ = trained
    with pytest.raises(ConfigError, match="already exists; pass --resume"):
        train(tiny(data, out), progress=False)


def test_non_finite_losses_are_skipped_and_a_streak_stops_the_run(data, tmp_path, monkeypatch):
    real = loop_module.training_loss
    calls = {"n": 0}

    def sometimes_nan(*args, **kwargs):
        calls["n"] += 1
        loss = real(*args, **kwargs)
        return loss * float("nan") if calls["n"] in (3, 4) else loss

    monkeypatch.setattr(loop_module, "training_loss", sometimes_nan)
    result = train(tiny(data, tmp_path, steps=8, val_every=8), progress=False)
    assert [r["step"] for r in records(result.run_dir, "skip")] == [2, 3] and result.step == 8
    model, ema = weights(result.run_dir)
    assert all(torch.isfinite(t).all() for t in [*model.values(), *ema.values()])

    monkeypatch.setattr(loop_module, "training_loss", lambda *a, **k: real(*a, **k) * float("inf"))
    with pytest.raises(TrainingDiverged, match=r"stopped at step 2 after 3 consecutive non-finite losses"):
        train(tiny(data, tmp_path, name="diverge", max_nonfinite=3), progress=False)


def test_time_budget_stops_saves_and_exports(data, tmp_path):
    result = train(tiny(data, tmp_path, steps=10_000, time_budget=0.5), export=tmp_path / "b.safetensors", progress=False)
    assert result.stopped == "time budget" and 0 < result.step < 10_000
    assert load_state(result.run_dir / "last.pt")["step"] == result.step
    assert load_checkpoint(tmp_path / "b.safetensors")[1]["steps"] == result.step


def test_annealing_by_time_ends_a_time_budgeted_run_at_the_low_learning_rate(data, tmp_path):
    result = train(tiny(data, tmp_path, steps=100_000, time_budget=1.0, anneal_by_time=True, log_every=1, min_lr=1e-6), progress=False)
    lrs = [r["lr"] for r in records(result.run_dir, "train")]
    assert result.stopped == "time budget" and result.step < 100_000
    assert max(lrs) > 1e-3 and lrs[-1] < 0.1 * max(lrs)


def test_a_resumed_time_annealed_run_continues_its_cosine(data, tmp_path):
    cfg = tiny(data, tmp_path, name="annealed", steps=100_000, time_budget=1.0, anneal_by_time=True, log_every=1, val_every=0)
    first = train(cfg, progress=False)
    wall = load_state(first.run_dir / "last.pt")["wall_time"]
    resumed = train(replace(cfg, time_budget=2.0 * wall), resume=True, progress=False)
    lrs = [r["lr"] for r in records(resumed.run_dir, "train") if r["step"] > first.step]
    assert resumed.stopped == "time budget" and lrs and lrs[0] < 0.75 * cfg.lr


def test_fine_tuning_starts_from_the_init_weights_and_records_them(trained, data, tmp_path):
    _, out, _ = trained
    init = out / "w" / "tiny.safetensors"
    result = train(tiny(data, tmp_path, name="tune", steps=1, lr=1e-12, warmup_steps=1, val_every=0, init_weights=str(init)), export=tmp_path / "t.safetensors", progress=False)
    start, _ = load_checkpoint(init)
    model, _ = weights(result.run_dir)
    for key, value in start.state_dict().items():
        torch.testing.assert_close(model[key], value, atol=1e-6, rtol=0)
    info = load_checkpoint(tmp_path / "t.safetensors")[1]
    assert info["steps"] == 1 and info["initialized_from"]["steps"] == 40 and info["initialized_from"]["path"] == str(init)
    with pytest.raises(ConfigError, match="different architecture"):
        train(tiny(data, tmp_path, name="wide", model="small", init_weights=str(init)), progress=False)


def test_fine_tuning_may_deepen_the_init_weights_and_records_it(trained, data, tmp_path):
    _, out, _ = trained
    init = out / "w" / "tiny.safetensors"
    cfg = tiny(data, tmp_path, name="deep", steps=1, lr=1e-12, warmup_steps=1, val_every=0, init_weights=str(init), model_overrides={"mid_blocks": 3})
    train(cfg, export=tmp_path / "d.safetensors", progress=False)
    start, deeper = load_checkpoint(init)[0].eval(), load_checkpoint(tmp_path / "d.safetensors")
    assert deeper[1]["initialized_from"]["deepened"] == {"mid_blocks": {"from": 1, "to": 3}}
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(deeper[0].eval()(x), start(x), atol=2e-3, rtol=0)


def run_cli(args: list[str], cwd: Path, **popen) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "irestore.train", *args], cwd=cwd, env=env, stderr=subprocess.PIPE, text=True, **popen)


def start_and_signal(cfg: TrainConfig, tmp_path: Path, sig: int) -> subprocess.Popen:
    """Start a CLI run, wait for its first checkpoint, send ``sig`` while it is still training."""
    proc = run_cli(["-c", str(write_toml(cfg, tmp_path / f"{cfg.name}.toml")), "-q"], tmp_path)
    log = Path(cfg.out_dir) / cfg.name / "log.jsonl"
    deadline = time.monotonic() + 60
    while not (log.exists() and '"checkpoint"' in log.read_text()):
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    return proc


def test_sigkill_then_resume_ends_with_the_weights_of_an_uninterrupted_run(data, tmp_path):
    cfg = tiny(data, tmp_path / "runs", name="killed", steps=60, val_every=30, patch_schedule=[[30, 40, 2]])
    proc = start_and_signal(cfg, tmp_path, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    saved = load_state(tmp_path / "runs" / "killed" / "last.pt")["step"]
    assert 10 <= saved < 60 and saved % 10 == 0

    resumed = train(cfg, resume=True, progress=False)
    straight = train(replace(cfg, name="straight"), progress=False)
    assert resumed.step == straight.step == 60
    for a, b in zip(weights(resumed.run_dir), weights(straight.run_dir)):
        assert_same_weights(a, b)
    assert load_state(resumed.run_dir / "last.pt")["best_step"] == load_state(straight.run_dir / "last.pt")["best_step"]
    assert records(resumed.run_dir, "resume")[0]["step"] == saved
    assert {(r["patch"], r["batch"]) for r in records(straight.run_dir, "train")} == {(32, 4), (40, 2)}


def test_cli_flags_and_set_overrides_reach_the_run_and_errors_are_one_line(data, tmp_path):
    import typer
    from typer.testing import CliRunner

    from irestore.cli.main import friendly_errors
    from irestore.cli.train_cmd import train_command

    app = typer.Typer()
    app.command()(friendly_errors(train_command))
    config = write_toml(tiny(data, tmp_path / "runs", name="cli"), tmp_path / "cli.toml")
    ok = CliRunner().invoke(app, ["-c", str(config), "--steps", "3", "--set", "degradation.sigma_range=[10, 10]", "--set", "val_every=0", "-q"])
    assert ok.exit_code == 0, ok.output
    stored = records(tmp_path / "runs" / "cli", "start")[0]["config"]
    assert stored["steps"] == 3 and stored["degradation"] == {"sigma_range": [10, 10]} and stored["model"] == "tiny"
    bad = CliRunner().invoke(app, ["-c", str(config), "--set", "steps=lots"])
    assert bad.exit_code == 1 and "option 'steps' must be int" in bad.output and "Traceback" not in bad.output


def test_sigterm_saves_the_current_step_and_exits_cleanly(data, tmp_path):
    cfg = tiny(data, tmp_path / "runs", name="termed", steps=100_000, checkpoint_every=5, val_every=1000)
    proc = start_and_signal(cfg, tmp_path, signal.SIGTERM)
    assert proc.returncode == 0, proc.stderr.read()
    stop = records(Path(cfg.out_dir) / "termed", "stop")[-1]
    assert stop["reason"] == "signal SIGTERM"
    assert load_state(Path(cfg.out_dir) / "termed" / "last.pt")["step"] == stop["step"] > 0


@pytest.mark.skipif(shutil.which("torchrun") is None, reason="torchrun not on PATH")
def test_torchrun_two_cpu_processes_match_one_process_on_the_same_global_batch(data, tmp_path):
    cfg = tiny(data, tmp_path / "runs", name="ddp", steps=6, val_every=6, checkpoint_every=6)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    args = ["torchrun", "--standalone", "--nproc_per_node", "2", "-m", "irestore.train", "-c", str(write_toml(cfg, tmp_path / "ddp.toml")), "-q"]
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert records(tmp_path / "runs" / "ddp", "start")[0]["world"] == 2
    single = train(replace(cfg, name="single"), progress=False)
    for a, b in zip(weights(tmp_path / "runs" / "ddp"), weights(single.run_dir)):
        for key in a:
            torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5)


def test_a_log_file_gets_one_plain_line_per_validation(data, tmp_path, capfd):
    train(tiny(data, tmp_path, steps=10, val_every=5, checkpoint_every=5), progress=True)
    lines = capfd.readouterr().err.splitlines()
    assert [line.split()[:2] for line in lines] == [["step", "5/10"], ["step", "10/10"]], lines
    assert all(" dB " in line and "\u2501" not in line for line in lines)
