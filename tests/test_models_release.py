import json

import pytest

from irestore.checkpoint import save_checkpoint
from irestore.errors import WeightsError
from irestore.models import build_model
from irestore.models.release import register, scores_from_eval
from irestore.models.zoo import load_model


def test_register_writes_a_verified_entry_with_eval_scores(tmp_path, monkeypatch):
    monkeypatch.setenv("IRESTORE_WEIGHTS", str(tmp_path))
    path = tmp_path / "jpeg.safetensors"
    save_checkpoint(path, build_model("tiny", task="jpeg"), {"task": "jpeg", "name": "jpeg", "steps": 5})
    rows = [
        {"method": "jpeg", "dataset": "LIVE1", "level": "q10", "psnr": 29.1, "ssim": 0.8, "psnr_b": 28.7, "preset": "jpeg-color", "images": 29},
        {"method": "identity", "dataset": "LIVE1", "level": "q10", "psnr": 27.8, "ssim": 0.77, "psnr_b": 25.3, "preset": "jpeg-color", "images": 29},
    ]
    (tmp_path / "eval.json").write_text(json.dumps({"results": rows}))
    entry = register(path, eval_files=[tmp_path / "eval.json"], commands=["irestore eval LIVE1 --model jpeg"])
    assert entry["metrics"] == {"LIVE1/q10": {"psnr": 29.1, "ssim": 0.8, "psnr_b": 28.7, "preset": "jpeg-color", "images": 29}}
    assert entry["baselines"]["identity"]["LIVE1/q10"]["psnr"] == 27.8
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["models"]["jpeg"]["sha256"] == entry["sha256"]
    assert load_model("jpeg").meta["steps"] == 5
    assert "initialized_from" not in entry["training"]


def test_a_fine_tuned_release_names_the_weights_it_started_from(tmp_path):
    path = tmp_path / "jpeg.safetensors"
    parent = {"name": "jpeg", "steps": 4000, "hardware": "x86_64, 2 CPUs", "sha256": "ab" * 32}
    save_checkpoint(path, build_model("tiny", task="jpeg"), {"task": "jpeg", "name": "jpeg", "steps": 900, "initialized_from": parent})
    entry = register(path, eval_files=[], commands=[])
    assert entry["training"]["steps"] == 900 and entry["training"]["initialized_from"] == parent
    assert "averaged_from" not in entry["training"]


def test_an_averaged_release_lists_its_ingredients(tmp_path):
    path = tmp_path / "jpeg.safetensors"
    ingredients = [{"sha256": "cd" * 32, "steps": 400}, {"sha256": "ef" * 32, "steps": 500}]
    info = {"task": "jpeg", "name": "jpeg", "steps": 900, "initialized_from": {"sha256": "ab" * 32}, "averaged_from": ingredients}
    save_checkpoint(path, build_model("tiny", task="jpeg"), info)
    assert register(path)["training"]["averaged_from"] == ingredients


def test_register_refuses_scores_of_another_checkpoint(tmp_path):
    path = tmp_path / "jpeg.safetensors"
    save_checkpoint(path, build_model("tiny", task="jpeg"), {"task": "jpeg", "name": "jpeg"})
    row = {"method": "jpeg", "dataset": "LIVE1", "level": "q10", "psnr": 29.1, "ssim": 0.8, "preset": "jpeg-color", "images": 29}
    (tmp_path / "eval.json").write_text(json.dumps({"results": [{**row, "settings": {"sha256": "0123456789ab"}}]}))
    with pytest.raises(WeightsError, match="scores checkpoint 0123456789ab"):
        register(path, eval_files=[tmp_path / "eval.json"])
    from irestore.checkpoint import sha256_of

    (tmp_path / "eval.json").write_text(json.dumps({"results": [{**row, "settings": {"sha256": sha256_of(path)[:12]}}]}))
    assert register(path, eval_files=[tmp_path / "eval.json"])["metrics"]["LIVE1/q10"]["psnr"] == 29.1


def test_8bit_protocol_scores_sit_beside_the_published_ones(tmp_path):
    rows = [
        {"method": "model", "dataset": "CBSD68", "level": "sigma=25", "psnr": 30.1, "ssim": 0.8, "preset": "gaussian-color", "images": 68},
        {"method": "model", "dataset": "CBSD68", "level": "sigma=25", "psnr": 29.9, "ssim": 0.8, "preset": "gaussian-color-8bit", "images": 68},
        {"method": "model", "dataset": "CBSD68", "level": "sigma=25", "psnr": 30.3, "ssim": 0.8, "preset": "gaussian-color", "images": 10, "settings": {"limit": 10}},
    ]
    (tmp_path / "eval.json").write_text(json.dumps({"results": rows}))
    model, _, _ = scores_from_eval(tmp_path / "eval.json")
    assert model["CBSD68/sigma=25"]["psnr"] == 30.1 and model["CBSD68-8bit/sigma=25"]["psnr"] == 29.9
    assert model["CBSD68[:10]/sigma=25"]["psnr"] == 30.3


def test_ensemble_scores_are_kept_apart_from_the_single_pass(tmp_path):
    path = tmp_path / "denoise-gaussian.safetensors"
    save_checkpoint(path, build_model("tiny"), {"task": "denoise", "name": "denoise-gaussian"})
    row = {"method": "denoise-gaussian", "dataset": "Set12", "level": "sigma=15", "ssim": 0.9, "preset": "gaussian-gray", "images": 12}
    rows = [{**row, "psnr": 32.3}, {**row, "psnr": 32.4, "settings": {"ensemble": True}}]
    (tmp_path / "eval.json").write_text(json.dumps({"results": rows}))
    entry = register(path, eval_files=[tmp_path / "eval.json"])
    assert entry["metrics"]["Set12/sigma=15"]["psnr"] == 32.3
    assert entry["ensemble_metrics"]["Set12/sigma=15"]["psnr"] == 32.4
    (tmp_path / "eval.json").write_text(json.dumps({"results": rows[:1]}))
    assert "ensemble_metrics" not in register(path, eval_files=[tmp_path / "eval.json"])


def test_release_files_are_named_after_their_entry(tmp_path):
    path = tmp_path / "other.safetensors"
    save_checkpoint(path, build_model("tiny"), {"task": "denoise", "name": "denoise-real"})
    with pytest.raises(WeightsError, match="denoise-real.safetensors"):
        register(path)


def test_models_command_lists_entries_with_params_gflops_and_psnr(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from irestore.cli.main import app

    monkeypatch.setenv("IRESTORE_WEIGHTS", str(tmp_path))
    path = tmp_path / "derain.safetensors"
    save_checkpoint(path, build_model("tiny", task="derain"), {"task": "derain", "name": "derain"})
    rows = [{"method": "derain", "dataset": "Rain100L", "level": "", "psnr": 31.5, "ssim": 0.9, "preset": "derain-y", "images": 10}]
    (tmp_path / "e.json").write_text(json.dumps({"results": rows}))
    register(path, eval_files=[tmp_path / "e.json"])
    result = CliRunner().invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["name"] == "derain" and row["params"] > 0 and row["gflops_per_mp"] > 0
    assert row["metrics"]["Rain100L"]["psnr"] == 31.5
    table = CliRunner().invoke(app, ["models"], env={"COLUMNS": "250"})
    assert "| derain | derain |" in table.stdout and "| Rain100L | 31.50 |" in table.stdout
