import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from irestore.checkpoint import save_checkpoint
from irestore.cli.main import app
from irestore.export.onnx import ExportError, OnnxRestorer, export_onnx, onnx_parity, require
from irestore.models import build_model

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("overrides", [{}, {"task": "sr", "scale": 2, "mixer": "attn", "skip": "ls"}])
def test_onnx_export_matches_pytorch_on_sizes_it_was_not_traced_at(tmp_path, overrides):
    model = build_model("tiny", **overrides)
    path = export_onnx(model, tmp_path / "m.onnx")
    assert onnx_parity(model, path, height=37, width=61) < 1e-5
    out = OnnxRestorer(path, model.config)(np.random.default_rng(0).random((20, 12, 3), dtype=np.float32))
    assert out.shape == (20 * model.config.scale, 12 * model.config.scale, 3)
    assert out.min() >= 0 and out.max() <= 1


def test_wrong_channel_count_is_a_user_error(tmp_path):
    model = build_model("tiny")
    restorer = OnnxRestorer(export_onnx(model, tmp_path / "m.onnx"), model.config)
    with pytest.raises(ExportError, match="3 channels"):
        restorer(np.zeros((8, 8, 1), dtype=np.float32))


def test_missing_optional_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ExportError, match=r"irestore\[onnx\]"):
        require("onnxruntime")


def test_export_command_writes_and_checks(tmp_path):
    weights = tmp_path / "tiny.safetensors"
    save_checkpoint(weights, build_model("tiny"), {"task": "denoise"})
    runner = CliRunner()
    result = runner.invoke(app, ["export", "--weights", str(weights), "-o", str(tmp_path / "tiny.onnx")], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "tiny.onnx").stat().st_size > 10_000
    assert "max abs difference" in result.output
    both = runner.invoke(app, ["export", "-o", str(tmp_path / "x.onnx")])
    assert both.exit_code == 1 and "exactly one of" in both.output
