"""`irestore eval` through Typer's test runner, on generated datasets."""

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from irestore.cli.eval_cmd import eval_command
from irestore.errors import ConfigError, DatasetError

app = typer.Typer()
app.command("eval")(eval_command)
app.command("noop")(lambda: None)  # a second command keeps "eval" as a sub-command name
runner = CliRunner()


def write_png(path: Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.ascontiguousarray(pixels if pixels.ndim == 2 else pixels[..., ::-1]))


@pytest.fixture
def pairs(tmp_path):
    rng = np.random.default_rng(0)
    clean = np.full((24, 24, 3), 120, np.uint8)
    noisy = np.clip(clean + rng.normal(0, 12, clean.shape), 0, 255).astype(np.uint8)
    write_png(tmp_path / "set" / "input" / "a.png", noisy)
    write_png(tmp_path / "set" / "target" / "a.png", clean)
    return tmp_path / "set"


def test_help_lists_the_options():
    result = runner.invoke(app, ["eval", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--data-dir", "--baselines", "--sigma", "--quality", "--scale", "--ensemble", "--tile", "--json", "--csv", "--limit"):
        assert option in result.output


def test_baselines_on_pairs_write_json_and_csv(pairs, tmp_path):
    out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
    result = runner.invoke(
        app, ["eval", str(pairs), "--task", "denoise", "-b", "identity,nlm", "--json", str(out_json), "--csv", str(out_csv)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "real-srgb: RGB, clamp to [0,1], float (no rounding)" in result.output
    rows = json.loads(out_json.read_text())["results"]
    assert [r["method"] for r in rows] == ["identity", "nlm"]
    assert rows[1]["psnr"] > rows[0]["psnr"]
    assert out_csv.read_text().count("\n") == 3


def test_sigma_list_and_limit_on_clean_folder(tmp_path):
    for i in range(3):
        write_png(tmp_path / "g" / f"{i}.png", np.full((16, 16), 90, np.uint8))
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["eval", str(tmp_path / "g"), "-b", "identity", "--sigma", "10,30", "--limit", "2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())["results"]
    assert [(r["level"], r["images"], r["preset"]) for r in rows] == [("sigma=10", 2, "gaussian-gray"), ("sigma=30", 2, "gaussian-gray")]


def test_user_errors_raise_irestore_errors(tmp_path, pairs):
    missing = runner.invoke(app, ["eval", "CBSD68", "--data-dir", str(tmp_path), "-b", "identity"])
    assert isinstance(missing.exception, DatasetError) and "CBSD68" in str(missing.exception)
    nothing = runner.invoke(app, ["eval", str(pairs)])  # custom pairs: no task, so no default model
    assert isinstance(nothing.exception, ConfigError) and "--task" in str(nothing.exception)
    no_dataset = runner.invoke(app, ["eval", "-b", "identity"])
    assert isinstance(no_dataset.exception, ConfigError) and "--dataset" in str(no_dataset.exception)
    two = runner.invoke(app, ["eval", str(pairs), "--dataset", "CBSD68", "-b", "identity"])
    assert isinstance(two.exception, ConfigError) and "give one" in str(two.exception)
    bad = runner.invoke(app, ["eval", str(pairs), "--task", "denoise", "-b", "identity", "--sigma", "a,b"])
    assert isinstance(bad.exception, ConfigError)


def test_missing_bm3d_is_skipped_with_a_message(pairs, monkeypatch):
    monkeypatch.setitem(sys.modules, "bm3d", None)
    result = runner.invoke(app, ["eval", str(pairs), "--task", "denoise", "-b", "bm3d,identity"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "skipping baseline bm3d" in result.output and "irestore[bm3d]" in result.output


def test_trained_model_from_weights_file(pairs, tmp_path):
    torch = pytest.importorskip("torch")
    try:
        from irestore.checkpoint import save_checkpoint
        from irestore.models import build_model
    except ImportError as exc:
        pytest.skip(f"model code not available yet: {exc}")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    weights = tmp_path / "tiny.safetensors"
    save_checkpoint(weights, build_model("tiny", task="denoise", channels=3), {"task": "denoise"})
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["eval", str(pairs), "--weights", str(weights), "--tile", "0", "--device", "cpu", "-b", "identity", "--json", str(out)])
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())["results"]
    assert [r["method"] for r in rows] == ["tiny", "identity"]
    assert rows[0]["task"] == "denoise" and rows[0]["settings"]["tile"] == 0 and len(rows[0]["settings"]["sha256"]) == 12
    assert rows[0]["settings"]["low_precision_stream"] is False
    low = runner.invoke(app, ["eval", str(pairs), "--weights", str(weights), "--device", "cpu", "--precision", "bf16", "--stream", "low", "--json", str(out)])
    assert low.exit_code == 0, low.output
    assert json.loads(out.read_text())["results"][0]["settings"]["low_precision_stream"] is True
    bad = runner.invoke(app, ["eval", str(pairs), "--weights", str(weights), "--stream", "half"])
    assert isinstance(bad.exception, ConfigError) and "--stream half" in str(bad.exception)


def test_baselines_follow_a_gray_model_on_a_colour_set(tmp_path):
    from irestore.checkpoint import save_checkpoint
    from irestore.models import build_model

    rng = np.random.default_rng(0)
    for i in range(2):
        write_png(tmp_path / "colour" / f"{i}.png", rng.integers(0, 256, (24, 32, 3), dtype=np.uint8))
    weights = tmp_path / "gray.safetensors"
    save_checkpoint(weights, build_model("tiny", task="jpeg", channels=1), {"task": "jpeg", "channels": 1})
    out = tmp_path / "r.json"
    args = ["eval", str(tmp_path / "colour"), "--weights", str(weights), "--task", "jpeg", "--quality", "10", "-b", "identity", "--json", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())["results"]
    assert [r["preset"] for r in rows] == ["jpeg-gray", "jpeg-gray"]


def shipped(name: str) -> bool:
    from irestore.models.zoo import manifest_entry, weights_dir

    entry = manifest_entry(name)
    return entry is not None and (weights_dir() / entry["file"]).is_file()


def json_rows(result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["results"]


@pytest.mark.skipif(not shipped("denoise-real"), reason="no shipped denoise-real weights")
def test_dataset_option_on_sidd_mat_files_matches_the_positional_form(tmp_path):
    import scipy.io

    from irestore.evaluation.datasets import SIDD_GT, SIDD_NOISY

    rng = np.random.default_rng(0)
    gt = rng.integers(40, 200, (2, 2, 32, 32, 3), dtype=np.uint8)
    noisy = np.clip(gt + rng.normal(0, 10, gt.shape), 0, 255).astype(np.uint8)
    folder = tmp_path / "sidd_val"
    folder.mkdir()
    scipy.io.savemat(folder / f"{SIDD_NOISY}.mat", {SIDD_NOISY: noisy})
    scipy.io.savemat(folder / f"{SIDD_GT}.mat", {SIDD_GT: gt})
    common = ["--tile", "0", "--device", "cpu", "--format", "json"]
    by_name = json_rows(runner.invoke(app, ["eval", "--dataset", "SIDD", "--data-dir", str(folder), *common]))
    by_path = json_rows(runner.invoke(app, ["eval", str(folder), *common]))
    assert [r["method"] for r in by_name] == [r["method"] for r in by_path] == ["denoise-real", "identity"]
    assert all(r["preset"] == "sidd-val" and r["images"] == 4 for r in by_name + by_path)
    for a, b in zip(by_name, by_path):
        assert a["psnr"] == pytest.approx(b["psnr"], abs=0.001) and a["ssim"] == pytest.approx(b["ssim"], abs=1e-5)


@pytest.mark.skipif(not shipped("denoise-gaussian"), reason="no shipped denoise-gaussian weights")
def test_dataset_option_without_a_model_scores_the_default_model_and_identity(tmp_path):
    rng = np.random.default_rng(1)
    for i in range(3):
        write_png(tmp_path / "test" / "CBSD68" / f"{i}.png", rng.integers(0, 256, (24, 32, 3), dtype=np.uint8))
    result = runner.invoke(app, ["eval", "--dataset", "CBSD68", "--limit", "2", "--sigma", "25", "--data-dir", str(tmp_path), "--tile", "0"])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("| ") and "CBSD68" in line]
    assert [row.split(" | ")[0] for row in rows] == ["| denoise-gaussian", "| identity"]
    assert all("| sigma=25 | gaussian-color | 2 |" in row for row in rows)
