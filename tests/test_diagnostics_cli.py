"""`irestore diagnose` through the real app, on a tiny random checkpoint and generated images."""

import json

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from irestore.checkpoint import save_checkpoint
from irestore.cli.main import app
from irestore.models import build_model

runner = CliRunner()
WIDE = {"COLUMNS": "200"}


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "tiny.safetensors"
    save_checkpoint(path, build_model("tiny", skip="cs", kappa=0.5), {"task": "denoise"})
    return path


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    paths = [tmp_path / "noisy.png", tmp_path / "gray.png"]
    assert cv2.imwrite(str(paths[0]), (rng.random((40, 56, 3)) * 255).astype(np.uint8))
    assert cv2.imwrite(str(paths[1]), (rng.random((24, 24)) * 255).astype(np.uint8))
    return paths


@pytest.fixture
def run_dir(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    records = [{"event": "diag", "step": s, "peak_max": p, "entropy_ratio_mean": e, "block.middle.0.ms": p, "block.middle.0.entropy_ratio": e}
               for s, p, e in [(100, 3.0, 0.9), (200, 3.1e4, 0.4)]]
    (folder / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


def test_prints_tables_and_summary_and_writes_json(checkpoint, images, tmp_path):
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["diagnose", *map(str, images), "--weights", str(checkpoint), "--json", str(out)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "decoders.0.0" in result.output and "RMS after" in result.output
    assert "Peak feature magnitude" in result.output and "of its maximum" in result.output
    report = json.loads(out.read_text())["report"]
    assert report["images"] == 2 and len(report["blocks"]) == 5
    assert [round(s["ratio"], 6) for s in report["skips"]] == [1.0, 0.5]


def test_run_trajectory_summary_and_plots(checkpoint, images, run_dir, tmp_path):
    pytest.importorskip("matplotlib")
    result = runner.invoke(app, ["diagnose", str(images[0]), "-w", str(checkpoint), "--run", str(run_dir), "--plots", str(tmp_path / "plots")], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "Run run, steps 100-200: peak feature magnitude 3 -> 3.1e+04" in result.output
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["blocks.png", "trajectory.png"]


def test_a_run_alone_needs_no_images(run_dir, tmp_path):
    result = runner.invoke(app, ["diagnose", "--run", str(run_dir), "--json", str(tmp_path / "r.json")], env=WIDE)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "r.json").read_text())["run"]["steps"] == [100, 200]


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "nothing to diagnose"),
        (["{image}"], "say which network"),
        (["{image}", "-w", "{missing}"], "weights file not found"),
        (["--run", "{tmp}"], "no training log"),
        (["{image}", "--run", "{tmp}"], "no training state"),
    ],
)
def test_user_errors_are_one_line(args, message, images, tmp_path):
    values = {"image": str(images[0]), "missing": str(tmp_path / "none.safetensors"), "tmp": str(tmp_path)}
    result = runner.invoke(app, ["diagnose", *(a.format(**values) for a in args)], env=WIDE)
    assert result.exit_code == 1
    assert message in result.output and len(result.output.strip().splitlines()) == 1
