"""Training config files, overrides, and the step-only schedules (no training here: fast)."""

from pathlib import Path

import pytest

from irestore.errors import ConfigError
from irestore.train.config import TrainConfig, apply_overrides, load_config, parse_override
from irestore.train.schedule import first_item, lr_factor, phase_at, phases, rank_items, schedule_step

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_file_then_flags_then_set_override_in_that_order(tmp_path):
    path = write(tmp_path / "denoise-x.toml", 'task = "denoise-real"\nsteps = 500\nlr = 1e-3\n[model_overrides]\nnorm = "ln"\n')
    cfg = load_config(path, ["lr=3e-4", "model_overrides.mixer=attn", "degradation.quantize=false"], steps=700, batch_size=None)
    assert cfg.name == "denoise-x"  # named after the file
    assert cfg.task == "denoise-real" and cfg.steps == 700 and cfg.lr == pytest.approx(3e-4)
    assert cfg.model_overrides == {"norm": "ln", "mixer": "attn"}
    assert cfg.degradation == {"quantize": False}
    assert cfg.batch_size == TrainConfig().batch_size  # a flag left as None keeps the default


def test_override_values_are_read_as_toml_with_bare_string_fallback():
    assert parse_override("degradation.sigma_range=[0, 50]") == (["degradation", "sigma_range"], [0, 50])
    assert parse_override("bf16=true") == (["bf16"], True)
    assert parse_override("model_overrides.norm=iln") == (["model_overrides", "norm"], "iln")
    assert parse_override("name = my run") == (["name"], "my run")
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_override("steps")
    with pytest.raises(ConfigError, match="not a table"):
        apply_overrides({"steps": 3}, ["steps.x=1"])


def test_integers_are_accepted_for_floats_but_wrong_types_and_keys_are_refused(tmp_path):
    assert load_config(None, ["lr=1", "ema_decay=0"]).lr == 1.0
    bad = write(tmp_path / "bad.toml", 'stepz = 3\n')
    with pytest.raises(ConfigError, match=r"bad\.toml: unknown training option 'stepz'"):
        load_config(bad)
    with pytest.raises(ConfigError, match="option 'steps' must be int"):
        load_config(None, ["steps=many"])
    with pytest.raises(ConfigError, match="option 'gray' must be bool"):
        load_config(None, ["gray=1"])
    with pytest.raises(ConfigError, match="option 'steps' must be int"):
        load_config(None, ["steps=true"])
    with pytest.raises(ConfigError, match="task 'paint'"):
        load_config(None, ["task=paint"])
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(write(tmp_path / "broken.toml", "steps = \n"))
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.toml")


def test_sr_defaults_to_x2_and_scale_belongs_to_sr_only():
    assert load_config(None, ["task=sr"]).scale == 2
    assert load_config(None, ["task=sr", "scale=4"]).model_task == "sr"
    with pytest.raises(ConfigError, match="scale applies to task 'sr' only"):
        load_config(None, ["task=jpeg", "scale=4"])


def test_yaml_config_when_pyyaml_is_installed(tmp_path):
    pytest.importorskip("yaml")
    path = write(tmp_path / "run.yaml", "task: jpeg\ngray: true\npatch_schedule: [[100, 96, 4]]\n")
    cfg = load_config(path)
    assert (cfg.task, cfg.gray, cfg.channels, cfg.patch_schedule) == ("jpeg", True, 1, [[100, 96, 4]])


def test_every_shipped_config_loads_and_names_a_release():
    from irestore.models.zoo import release_name

    names = set()
    for path in sorted(CONFIGS.glob("*.toml")):
        cfg = load_config(path)
        noise = cfg.task.split("-")[1] if cfg.task.startswith("denoise-") else "real"
        assert release_name(cfg.model_task, noise=noise, gray=cfg.gray, scale=cfg.scale) == path.stem
        names.add(path.stem)
    assert {"denoise-real", "denoise-gaussian", "denoise-gaussian-gray", "jpeg", "jpeg-gray", "sr-x2", "sr-x4", "deblur", "derain"} <= names


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.toml")), ids=lambda p: p.stem)
def test_each_release_config_builds_the_architecture_of_its_shipped_weights(path):
    """So fine-tuning a release with its own config (``-c configs/X.toml --init weights/X.safetensors``,
    as scripts/train_release_gpu.sh does) always fits, and training from scratch rebuilds the release."""
    from irestore.checkpoint import load_checkpoint
    from irestore.models.zoo import weights_dir
    from irestore.train.loop import model_for

    shipped, _ = load_checkpoint(weights_dir() / f"{path.stem}.safetensors")
    assert model_for(load_config(path)).config == shipped.config


def test_lr_warms_up_linearly_then_follows_a_cosine_to_the_floor():
    f = [lr_factor(s, steps=110, warmup=10, min_ratio=0.01) for s in range(111)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0)
    assert f[10] == pytest.approx(1.0) and f[60] == pytest.approx(0.505) and f[110] == pytest.approx(0.01)
    assert all(a >= b for a, b in zip(f[10:], f[11:]))


def test_a_time_annealed_run_still_warms_up_over_its_real_steps():
    """The regression: a 1e6-step ceiling over 7 200 s puts the time-based position past a 100-step
    warm-up after 0.72 s, which used to start every time-annealed fine-tune at the full rate."""
    at = schedule_step(0, steps=1_000_000, elapsed=5.0, time_budget=7200.0, by_time=True)
    assert at > 100
    assert lr_factor(0, steps=1_000_000, warmup=100, min_ratio=0.01, at=at) == pytest.approx(0.01, rel=1e-3)
    assert lr_factor(49, steps=1_000_000, warmup=100, min_ratio=0.01, at=at) == pytest.approx(0.5, rel=1e-3)
    late = schedule_step(150, steps=1_000_000, elapsed=3600.0, time_budget=7200.0, by_time=True)
    assert lr_factor(150, steps=1_000_000, warmup=100, min_ratio=0.01, at=late) == pytest.approx(0.505, rel=1e-3)


def test_the_schedule_follows_time_only_when_asked_and_never_runs_backwards():
    assert schedule_step(10, steps=100, elapsed=50.0, time_budget=100.0, by_time=False) == 10
    assert schedule_step(10, steps=100, elapsed=50.0, time_budget=100.0, by_time=True) == 50
    assert schedule_step(80, steps=100, elapsed=50.0, time_budget=100.0, by_time=True) == 80
    assert schedule_step(10, steps=100, elapsed=500.0, time_budget=100.0, by_time=True) == 100
    with pytest.raises(ConfigError, match="anneal_by_time needs a time_budget"):
        TrainConfig(anneal_by_time=True)


def test_items_of_a_step_follow_the_progressive_schedule_without_gaps():
    table = phases(64, 8, [[10, 96, 4], [15, 128, 2]])
    assert [phase_at(s, table).patch for s in (0, 9, 10, 14, 15, 99)] == [64, 64, 96, 96, 128, 128]
    seen = []
    for step in range(20):
        seen.extend(range(first_item(step, table), first_item(step + 1, table)))
    assert seen == list(range(10 * 8 + 5 * 4 + 5 * 2))


def test_ranks_split_each_global_batch_into_disjoint_contiguous_shares():
    table = phases(32, 8, [])
    shares = [list(rank_items(3, table, rank, 4)) for rank in range(4)]
    assert sum(shares, []) == list(range(24, 32))


def test_relative_folders_resolve_against_the_data_root(tmp_path, monkeypatch):
    from irestore.errors import DatasetError
    from irestore.train.data import data_root, existing_dirs

    monkeypatch.setenv("IRESTORE_DATA", str(tmp_path))
    assert data_root("") == tmp_path and data_root("/elsewhere") == Path("/elsewhere")
    (tmp_path / "train" / "set").mkdir(parents=True)
    assert existing_dirs(tmp_path, ["train/set", str(tmp_path)], "training") == [tmp_path / "train" / "set", tmp_path]
    with pytest.raises(DatasetError, match=r"missing: training folder not found \(set --data-dir"):
        existing_dirs(tmp_path, ["missing"], "training")


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*/*.toml")), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_each_recipe_and_study_config_loads_and_builds_its_model(path):
    from irestore.train.loop import model_for

    cfg = load_config(path)
    assert model_for(cfg).config.scale == cfg.scale
