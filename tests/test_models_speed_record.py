"""A release's measured speed lives in its manifest entry and survives re-registering the same network."""

import json

import pytest

from irestore.checkpoint import save_checkpoint
from irestore.errors import WeightsError
from irestore.models import build_model
from irestore.models.release import record, register


def _manifest(folder):
    return json.loads((folder / "manifest.json").read_text())["models"]


def test_speed_is_kept_for_the_same_network_and_dropped_for_another(tmp_path):
    path = tmp_path / "jpeg.safetensors"
    save_checkpoint(path, build_model("tiny", task="jpeg"), {"task": "jpeg", "name": "jpeg", "steps": 5})
    register(path)
    record(tmp_path, "jpeg", speed={"mp_per_s": 1.5, "threads": 2})
    save_checkpoint(path, build_model("tiny", task="jpeg"), {"task": "jpeg", "name": "jpeg", "steps": 9})
    assert register(path)["speed"] == {"mp_per_s": 1.5, "threads": 2}
    assert _manifest(tmp_path)["jpeg"]["speed"]["mp_per_s"] == 1.5
    save_checkpoint(path, build_model("tiny", task="jpeg", mid_blocks=3), {"task": "jpeg", "name": "jpeg", "steps": 9})
    assert "speed" not in register(path)


def test_speed_of_an_unknown_entry_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"models": {}}))
    with pytest.raises(WeightsError, match="no entry 'sr-x4'"):
        record(tmp_path, "sr-x4", speed={"mp_per_s": 1.0})
