"""scripts/eval_polyu_heldout.py scores exactly the scenes the real-pair recipe holds out."""

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("eval_polyu_heldout", Path(__file__).parents[1] / "scripts" / "eval_polyu_heldout.py")
script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(script)


def test_the_held_out_scenes_come_from_the_recipe(tmp_path, monkeypatch):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text('paired_dirs = ["polyu/noisy", "polyu/gt"]\npaired_holdout = ["CamA_ball", "CamB_desk"]\n')
    for name in ("CamA_ball", "CamA_ball2", "CamB_desk", "CamC_wall"):
        for sub, suffix in (("noisy", "real"), ("gt", "mean")):
            (tmp_path / "polyu" / sub).mkdir(parents=True, exist_ok=True)
            (tmp_path / "polyu" / sub / f"{name}_{suffix}.jpg").write_bytes(b"")
    monkeypatch.setenv("IRESTORE_DATA", str(tmp_path))
    pairs = script.held_out_pairs(recipe)
    assert [(scene, noisy.name, mean.name) for scene, noisy, mean in pairs] == [
        ("CamA_ball", "CamA_ball_real.jpg", "CamA_ball_mean.jpg"),
        ("CamB_desk", "CamB_desk_real.jpg", "CamB_desk_mean.jpg"),
    ]


def test_the_shipped_recipe_holds_out_two_scenes_per_camera():
    held = script.read_config_file(script.RECIPE)["paired_holdout"]
    cameras = [scene.split("_")[0] for scene in held]
    assert sorted(set(cameras)) == ["Canon80D", "Nikon800", "SonyA7II"] and all(cameras.count(c) == 2 for c in set(cameras))


def test_a_missing_scene_is_a_clear_error(tmp_path, monkeypatch):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text('paired_dirs = ["n", "g"]\npaired_holdout = ["gone"]\n')
    (tmp_path / "n").mkdir()
    (tmp_path / "g").mkdir()
    monkeypatch.setenv("IRESTORE_DATA", str(tmp_path))
    with pytest.raises(SystemExit, match="gone: expected one noisy and one mean image"):
        script.held_out_pairs(recipe)
