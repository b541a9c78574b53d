import json

import pytest

from irestore.checkpoint import save_checkpoint
from irestore.errors import WeightsError
from irestore.models import build_model
from irestore.models.release import register
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


def test_release_files_are_named_after_their_entry(tmp_path):
    path = tmp_path / "other.safetensors"
    save_checkpoint(path, build_model("tiny"), {"task": "denoise", "name": "denoise-real"})
    with pytest.raises(WeightsError, match="denoise-real.safetensors"):
        register(path)
