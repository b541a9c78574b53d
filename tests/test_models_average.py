import pytest
import torch

from irestore.checkpoint import load_checkpoint, save_checkpoint, sha256_of
from irestore.errors import ConfigError, WeightsError
from irestore.models import build_model
from irestore.models.average import average_checkpoints
from irestore.train.loop import init_from

INFO = {"name": "denoise-gaussian", "task": "denoise", "variant": {"noise": "gaussian"}, "channels": 3, "scale": 1, "licence": "MIT"}


def fine_tune(folder, name, seed, parent="a" * 64, **info):
    """A checkpoint of the tiny model with random weights, recorded as fine-tuned from ``parent``."""
    torch.manual_seed(seed)
    model = build_model("tiny")
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.1)
    record = INFO | {"steps": 100 * seed, "wall_time_s": 10.0 * seed, "weights": f"best EMA at step {seed}", "val": {"val_psnr": 30.0 + seed}}
    record |= {"initialized_from": {"sha256": parent, "steps": 7}} | info
    path = folder / f"{name}.safetensors"
    save_checkpoint(path, model, record)
    return path, model


def test_the_average_is_the_mean_of_the_weights_and_keeps_the_parent_chain(tmp_path):
    a, model_a = fine_tune(tmp_path, "a", 1)
    b, model_b = fine_tune(tmp_path, "b", 2)
    averaged, info = average_checkpoints([a, b])
    sa, sb = model_a.state_dict(), model_b.state_dict()
    for key, value in averaged.state_dict().items():
        torch.testing.assert_close(value, (sa[key] + sb[key]) / 2)
    assert info["initialized_from"] == {"sha256": "a" * 64, "steps": 7}
    assert (info["steps"], info["wall_time_s"]) == (300, 30.0)
    assert [i["sha256"] for i in info["averaged_from"]] == [sha256_of(a), sha256_of(b)]
    assert [i["val"]["val_psnr"] for i in info["averaged_from"]] == [31.0, 32.0]
    assert "val" not in info and info["licence"] == "MIT" and info["weights"].startswith("uniform average of 2")


def test_the_averaged_checkpoint_saves_and_loads_with_its_provenance(tmp_path):
    paths = [fine_tune(tmp_path, n, s)[0] for n, s in (("a", 1), ("b", 2), ("c", 3))]
    averaged, info = average_checkpoints(paths)
    save_checkpoint(tmp_path / "soup.safetensors", averaged, info, half=True)
    loaded, loaded_info = load_checkpoint(tmp_path / "soup.safetensors")
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), averaged(x), atol=2e-3, rtol=0)
    assert len(loaded_info["averaged_from"]) == 3 and loaded_info["steps"] == 600


def test_only_fine_tunes_of_one_checkpoint_average(tmp_path):
    a, _ = fine_tune(tmp_path, "a", 1)
    other_parent, _ = fine_tune(tmp_path, "b", 2, parent="b" * 64)
    with pytest.raises(WeightsError, match="common parent"):
        average_checkpoints([a, other_parent])
    orphan, _ = fine_tune(tmp_path, "c", 3, initialized_from=None)
    with pytest.raises(WeightsError, match="no parent"):
        average_checkpoints([a, orphan])
    with pytest.raises(ConfigError, match="at least two"):
        average_checkpoints([a])


def test_different_tasks_or_architectures_do_not_average(tmp_path):
    a, _ = fine_tune(tmp_path, "a", 1)
    gray, _ = fine_tune(tmp_path, "b", 2, channels=1)
    with pytest.raises(ConfigError, match="channels"):
        average_checkpoints([a, gray])
    wider = tmp_path / "wider.safetensors"
    save_checkpoint(wider, build_model("tiny", mid_blocks=2), INFO | {"initialized_from": {"sha256": "a" * 64}})
    with pytest.raises(ConfigError, match="architecture"):
        average_checkpoints([a, wider])


def test_a_fine_tune_of_an_averaged_checkpoint_keeps_its_ingredients(tmp_path):
    paths = [fine_tune(tmp_path, n, s)[0] for n, s in (("a", 1), ("b", 2))]
    averaged, info = average_checkpoints(paths)
    save_checkpoint(tmp_path / "soup.safetensors", averaged, info)
    record = init_from(build_model("tiny"), tmp_path / "soup.safetensors")
    assert [i["sha256"] for i in record["averaged_from"]] == [sha256_of(p) for p in paths]
    assert record["initialized_from"]["sha256"] == "a" * 64 and record["steps"] == 300
