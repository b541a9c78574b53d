import json

import pytest
import torch
from safetensors.torch import save_file

from irestore.checkpoint import load_checkpoint, read_metadata, save_checkpoint, sha256_of
from irestore.errors import ConfigError, WeightsError
from irestore.models import ModelConfig, RestorationUNet, build_model, list_configs
from irestore.models.complexity import count_parameters, gflops_per_megapixel
from irestore.models.zoo import load_model, release_name


@pytest.mark.parametrize("mixer", ["attn", "csattn", "conv"])
@pytest.mark.parametrize("norm", ["ln", "iln", "rms", "dyt", "none"])
def test_every_option_builds_and_restores_odd_sizes(mixer, norm):
    model = build_model("tiny", mixer=mixer, norm=norm).eval()
    with torch.no_grad():
        assert model(torch.rand(1, 3, 13, 7)).shape == (1, 3, 13, 7)


@pytest.mark.parametrize("scale", [2, 4])
def test_sr_head_upsamples(scale):
    model = build_model("tiny", task="sr", scale=scale, channels=1).eval()
    with torch.no_grad():
        assert model(torch.rand(1, 1, 9, 11)).shape == (1, 1, 9 * scale, 11 * scale)


def test_zero_head_returns_the_input_exactly():
    """The global residual: a head that outputs zero leaves the input unchanged (bilinear-up for SR)."""
    model = build_model("tiny").eval()
    torch.nn.init.zeros_(model.head[0].weight)
    torch.nn.init.zeros_(model.head[0].bias)
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(model(x), x)


def test_tiny_images_are_padded_not_refused():
    model = build_model("tiny").eval()
    with torch.no_grad():
        assert model(torch.rand(1, 3, 1, 1)).shape == (1, 3, 1, 1)


def test_config_validation_and_round_trip():
    cfg = ModelConfig(norm="rms", mixer="csattn", skip="cs", kappa=0.7)
    assert ModelConfig.from_dict(json.loads(cfg.to_json())) == cfg
    with pytest.raises(ConfigError, match="norm"):
        ModelConfig(norm="batch")
    with pytest.raises(ConfigError, match="unknown model config keys"):
        ModelConfig.from_dict({"widht": 3})
    with pytest.raises(ConfigError):
        build_model("huge")
    assert {"tiny", "small", "base"} <= set(list_configs())


def test_parameter_names_are_stable_across_norms_of_the_same_kind():
    names = {norm: set(build_model("tiny", norm=norm).state_dict()) for norm in ["ln", "iln"]}
    assert names["ln"] == names["iln"]


def test_checkpoint_round_trip_with_metadata_and_fp16(tmp_path):
    model = build_model("tiny", norm="iln", skip="ls")
    digest = save_checkpoint(tmp_path / "m.safetensors", model, {"task": "denoise", "steps": 3}, half=True)
    assert digest == sha256_of(tmp_path / "m.safetensors")
    loaded, info = load_checkpoint(tmp_path / "m.safetensors", sha256=digest)
    assert info == {"task": "denoise", "steps": 3}
    assert loaded.config == model.config
    for k, v in model.state_dict().items():
        assert torch.allclose(loaded.state_dict()[k], v, atol=1e-3, rtol=1e-3)
    assert read_metadata(tmp_path / "m.safetensors")[0] == model.config


def test_checkpoint_loads_only_into_its_own_config(tmp_path):
    """Tensors from one config relabelled as another config are refused (names or shapes differ)."""
    small = build_model("tiny", mixer="conv")
    other = build_model("tiny", mixer="attn")
    path = tmp_path / "x.safetensors"
    meta = {"format": "irestore-checkpoint/1", "config": other.config.to_json(), "irestore": "{}"}
    save_file({k: v.contiguous() for k, v in small.state_dict().items()}, str(path), metadata=meta)
    with pytest.raises(WeightsError, match="do not match"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "corrupt or truncated"),
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(b"\x00" * 100), "corrupt or truncated"),
        (lambda p: p.unlink(), "not found"),
    ],
)
def test_damaged_checkpoints_give_one_line_errors(tmp_path, damage, message):
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, build_model("tiny"), {"task": "denoise"})
    damage(path)
    with pytest.raises(WeightsError, match=message) as info:
        load_checkpoint(path)
    assert "\n" not in str(info.value)


def test_wrong_sha256_is_refused(tmp_path):
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, build_model("tiny"), {})
    with pytest.raises(WeightsError, match="sha256"):
        load_checkpoint(path, sha256="0" * 64)


def test_non_irestore_safetensors_is_refused(tmp_path):
    path = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(WeightsError, match="not an irestore checkpoint"):
        load_checkpoint(path)


def test_zoo_names_and_missing_release_weights(tmp_path, monkeypatch):
    assert release_name("denoise") == "denoise-real"
    assert release_name("denoise", noise="gaussian", gray=True) == "denoise-gaussian-gray"
    assert release_name("sr", scale=4) == "sr-x4"
    monkeypatch.setenv("IRESTORE_WEIGHTS", str(tmp_path))
    with pytest.raises(WeightsError, match="denoise-real.safetensors"):
        load_model("denoise-real")


def test_zoo_verifies_manifest_hash_and_task(tmp_path, monkeypatch):
    monkeypatch.setenv("IRESTORE_WEIGHTS", str(tmp_path))
    digest = save_checkpoint(tmp_path / "jpeg.safetensors", build_model("tiny", task="jpeg"), {"task": "jpeg"})
    (tmp_path / "manifest.json").write_text(json.dumps({"models": {"jpeg": {"file": "jpeg.safetensors", "sha256": digest, "task": "jpeg"}}}))
    assert isinstance(load_model("jpeg", task="jpeg").model, RestorationUNet)
    with pytest.raises(WeightsError, match="not 'denoise'"):
        load_model("jpeg", task="denoise")
    (tmp_path / "manifest.json").write_text(json.dumps({"models": {"jpeg": {"file": "jpeg.safetensors", "sha256": "f" * 64}}}))
    with pytest.raises(WeightsError, match="sha256"):
        load_model("jpeg")


def test_complexity_counts():
    model = build_model("tiny")
    assert count_parameters(model) == sum(p.numel() for p in model.parameters()) > 0
    flops = gflops_per_megapixel(model)
    assert 1 < flops < 100
    assert gflops_per_megapixel(build_model("small")) > flops
