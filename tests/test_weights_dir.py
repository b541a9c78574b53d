"""Where the weights come from: --weights-dir, $IRESTORE_WEIGHTS, the checkout, the wheel's copy."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from irestore.checkpoint import save_checkpoint
from irestore.cli.main import app
from irestore.errors import WeightsError
from irestore.models import build_model
from irestore.models import zoo
from irestore.models.release import register
from irestore.models.zoo import load_model, weights_dir

REPO = Path(__file__).resolve().parents[1]


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def own(tmp_path: Path) -> Path:
    """A user's weights folder with one registered tiny denoiser."""
    folder = tmp_path / "own"
    folder.mkdir()
    path = folder / "denoise-real.safetensors"
    save_checkpoint(path, build_model("tiny", task="denoise"), {"task": "denoise", "name": "denoise-real"})
    register(path)
    return folder


def test_a_checkout_reads_its_top_level_weights_and_an_install_its_packaged_copy(tmp_path, monkeypatch):
    monkeypatch.delenv("IRESTORE_WEIGHTS", raising=False)
    assert weights_dir() == REPO / "weights"
    monkeypatch.setattr(zoo, "CHECKOUT", tmp_path)
    assert weights_dir() == zoo.PACKAGED == REPO / "irestore" / "_weights"


def test_override_beats_the_environment_which_beats_the_default(own, tmp_path, monkeypatch):
    other = tmp_path / "other"
    other.mkdir()
    (other / "manifest.json").write_text('{"models": {}}')
    monkeypatch.setenv("IRESTORE_WEIGHTS", str(other))
    assert weights_dir() == other
    assert weights_dir(own) == own
    assert load_model("denoise-real", folder=own).path == own / "denoise-real.safetensors"


@pytest.mark.parametrize("make", [False, True], ids=["missing", "empty"])
def test_a_missing_or_empty_override_is_one_clear_error(tmp_path, monkeypatch, make):
    folder = tmp_path / "nowhere"
    if make:
        folder.mkdir()
    with pytest.raises(WeightsError, match=f"{folder}: no .*\\(from --weights-dir\\)"):
        weights_dir(folder)
    monkeypatch.setenv("IRESTORE_WEIGHTS", str(folder))
    with pytest.raises(WeightsError, match="from IRESTORE_WEIGHTS, looking for jpeg.safetensors"):
        load_model("jpeg")


def test_models_lists_the_folder_given_by_option_or_environment(own, tmp_path, monkeypatch):
    monkeypatch.delenv("IRESTORE_WEIGHTS", raising=False)
    listed = invoke("models", "--json", "--weights-dir", own)
    assert listed.exit_code == 0, listed.output
    assert [r["name"] for r in json.loads(listed.stdout)] == ["denoise-real"]
    monkeypatch.setenv("IRESTORE_WEIGHTS", str(own))
    assert [r["name"] for r in json.loads(invoke("models", "--json").stdout)] == ["denoise-real"]
    missing = invoke("models", "--weights-dir", tmp_path / "nowhere")
    assert missing.exit_code == 1 and "Traceback" not in missing.output
    assert missing.stderr.strip().splitlines() == [f"irestore: error: {tmp_path / 'nowhere'}: no such weights folder (from --weights-dir)"]


def test_restore_commands_take_weights_dir(own, tmp_path, photo, monkeypatch):
    monkeypatch.delenv("IRESTORE_WEIGHTS", raising=False)
    result = invoke("denoise", photo, "-o", tmp_path / "out.png", "--weights-dir", own)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out.png").is_file()
    failed = invoke("deblur", photo, "-o", tmp_path / "d.png", "--weights-dir", own)
    assert failed.exit_code == 1 and f"{own / 'deblur.safetensors'}: no trained weights" in failed.stderr
    missing = invoke("denoise", photo, "-o", tmp_path / "m.png", "--weights-dir", tmp_path / "nowhere")
    assert missing.exit_code == 1 and "Traceback" not in missing.output
    assert len(missing.stderr.strip().splitlines()) == 1 and "no such weights folder" in missing.stderr
