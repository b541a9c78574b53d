"""The memory-lean inference form (issue 36): same outputs as the plain model, training untouched."""

import copy
import json

import numpy as np
import pytest
import torch

from irestore.engine import bands
from irestore.engine.fuse import FusedResidual, LeanUNet, inference_model
from irestore.errors import WeightsError
from irestore.models import build_model
from irestore.models.registry import get_config
from irestore.models.unet import RestorationUNet
from irestore.nn.blocks import Residual

FUSED = [{"norm": "iln"}, {"norm": "ln"}, {"mixer": "attn", "norm": "ln"}, {"mixer": "attn", "norm": "ln", "heads": (2, 2, 4)}, {"norm": "iln", "skip": "ls"}, {"norm": "ln", "skip": "cs"}, {"skip": "inv_sqrt2"}]
UNFUSED = [{"mixer": "attn"}, {"mixer": "csattn"}, {"norm": "rms"}, {"norm": "dyt"}, {"placement": "peri", "norm": "ln"}]
SHAPES = [{"scale": 2}, {"in_channels": 1, "out_channels": 1}, {"in_channels": 3, "out_channels": 1}]


def _perturbed(model):
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return model.eval()


def _max_difference(model, x):
    lean = inference_model(model)
    with torch.no_grad():
        expected = model(x)
    with torch.inference_mode():
        got = lean(x)
    return float((got - expected).abs().max()), float(expected.abs().max())


@pytest.mark.parametrize("band_bytes, max_bands", [(1, 1000), (700, 1000), (1, 5), (bands.BAND_BYTES, bands.MAX_BANDS)])
@pytest.mark.parametrize("overrides", FUSED + UNFUSED + SHAPES)
def test_lean_inference_form_equals_the_plain_model(overrides, band_bytes, max_bands, monkeypatch):
    """One row per band, a few rows, five bands, and the defaults (one band at this size)."""
    monkeypatch.setattr(bands, "BAND_BYTES", band_bytes)
    monkeypatch.setattr(bands, "MAX_BANDS", max_bands)
    model = _perturbed(RestorationUNet(get_config("tiny", **overrides)))
    x = torch.rand(2, model.config.in_channels, 24, 40)
    difference, size = _max_difference(model, x)
    assert difference <= 1e-5 * size
    single, _ = _max_difference(model, x[1:])
    assert single <= 1e-5 * size


@pytest.mark.parametrize("name", ["denoise-real", "deblur"])
def test_lean_inference_form_equals_a_shipped_release(name, monkeypatch):
    from irestore.models.zoo import load_model

    try:
        model = load_model(name).model.eval()
    except WeightsError as exc:
        pytest.skip(str(exc))
    monkeypatch.setattr(bands, "BAND_BYTES", 1 << 16)
    monkeypatch.setattr(bands, "MAX_BANDS", 1000)
    x = torch.rand(1, 3, 136, 200)
    difference, _ = _max_difference(model, x)
    assert difference <= 1e-5


def test_fused_blocks_add_into_their_input_only_without_autograd():
    model = _perturbed(build_model("tiny", norm="ln"))
    block = inference_model(model).encoders[0][0].branches[0]
    assert isinstance(block, FusedResidual)
    x = torch.rand(1, 8, 16, 24).contiguous(memory_format=torch.channels_last)
    before = x.clone()
    out = block(x)
    assert out.data_ptr() != x.data_ptr() and torch.equal(x, before)
    with torch.inference_mode():
        inner = x.clone()
        assert block(inner).data_ptr() == inner.data_ptr()
    assert torch.allclose(inner, out, atol=1e-6)


def test_the_inference_form_with_autograd_is_the_out_of_place_model():
    model = _perturbed(build_model("tiny", norm="ln"))
    lean = inference_model(model)
    x = torch.rand(1, 3, 16, 24, requires_grad=True)
    lean(x).square().mean().backward()
    expected = torch.autograd.grad(model(x).square().mean(), x)[0]
    assert torch.allclose(x.grad, expected, atol=1e-6)


@pytest.mark.parametrize("norm", ["iln", "ln"])
def test_training_modules_are_untouched(norm):
    model = build_model("tiny", norm=norm).train()
    twin = copy.deepcopy(model)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    lean = inference_model(model)
    with torch.inference_mode():
        lean(torch.rand(1, 3, 16, 16))
    assert type(model) is RestorationUNet and type(lean) is LeanUNet and model.training
    assert all(type(block.branches[0]) is Residual for _, block in model.blocks())
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    x = torch.rand(2, 3, 16, 16)
    loss, twin_loss = model(x).square().mean(), twin(x).square().mean()
    loss.backward()
    twin_loss.backward()
    assert torch.equal(loss, twin_loss)
    assert all(torch.equal(p.grad, q.grad) for p, q in zip(model.parameters(), twin.parameters()))


def _peak_activation_bytes(model, x, tmp_path):
    """Peak bytes held by PyTorch's CPU allocator during one forward, above what was held before."""
    from torch.profiler import ProfilerActivity, profile

    with torch.inference_mode(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        model.forward_features(x)
    prof.export_chrome_trace(str(tmp_path / "trace.json"))
    events = [e["args"] for e in json.loads((tmp_path / "trace.json").read_text())["traceEvents"] if e.get("name") == "[memory]"]
    assert events
    held = events[0]["Total Allocated"] - events[0]["Bytes"]
    return max(e["Total Allocated"] for e in events) - held


def test_peak_activations_are_two_full_resolution_maps_plus_bands(tmp_path, monkeypatch):
    """The old form peaked at 31 bytes per pixel per unit of width (about eight 16-channel maps)."""
    monkeypatch.setattr(bands, "BAND_BYTES", 1 << 16)
    monkeypatch.setattr(bands, "MAX_BANDS", 1000)
    model = build_model("small", norm="ln").eval()
    lean = inference_model(model)
    x = torch.rand(1, 3, 256, 384).contiguous(memory_format=torch.channels_last)
    per_pixel_per_channel = _peak_activation_bytes(lean, x, tmp_path) / (256 * 384 * model.config.width)
    assert per_pixel_per_channel <= 10


def test_a_low_precision_stream_holds_its_full_resolution_maps_in_half_the_bytes(tmp_path, monkeypatch):
    """What ``LOW_PRECISION_STREAM_BYTES`` plans with: the stream map at its peak takes 2 bytes per value instead of 4."""
    monkeypatch.setattr(bands, "BAND_BYTES", 1 << 16)
    monkeypatch.setattr(bands, "MAX_BANDS", 1000)
    model = build_model("small", norm="ln").eval()
    x = torch.rand(1, 3, 256, 384).contiguous(memory_format=torch.channels_last)
    peaks = {}
    for low in (False, True):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            peaks[low] = _peak_activation_bytes(inference_model(model, low_precision_stream=low), x, tmp_path) / (256 * 384 * model.config.width)
    assert peaks[False] - peaks[True] >= 1.9
    assert peaks[True] <= 5


def test_the_planner_runs_a_12_mp_photo_whole_only_with_a_low_precision_stream_and_tiles_as_before():
    from irestore.engine.restorer import Restorer

    model = build_model("small", norm="ln")
    plans = {low: Restorer(model, precision="bf16", low_precision_stream=low) for low in (False, True)}
    assert {low: len(r.grid_for(3000, 4000)) for low, r in plans.items()} == {False: 4, True: 1}
    assert plans[True].tile_for(6124, 8165) == plans[False].tile_for(6124, 8165) > 0
    assert not Restorer(model, precision="fp32", low_precision_stream=True).low_precision_stream


def _resident_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def test_a_photo_run_whole_near_its_budget_maps_its_large_maps_and_its_output_on_their_own():
    from irestore.engine import allocator

    if not allocator.reuse_freed_memory():
        pytest.skip("glibc's allocator tunables are not available here")
    out = allocator.mapped_zeros((4000, 3000, 3))
    assert out.dtype == np.float32 and not out[-10:].any()
    before = _resident_mb()
    out[:1000] = 1.0
    assert 30 < _resident_mb() - before < 100  # only the written quarter of the 137 MB became resident
    with allocator.large_maps_mapped():
        block = torch.ones(200 * 2**20 // 4)
        held = _resident_mb()
        del block
        assert _resident_mb() < held - 150  # unmapped at once, not kept by the heap
    model = build_model("small", norm="ln")
    from irestore.engine.restorer import Restorer

    low = Restorer(model, precision="bf16", low_precision_stream=True)
    assert low.maps_large_maps(3000, 4000) and not low.maps_large_maps(866, 1155)
    assert not Restorer(model, precision="bf16").maps_large_maps(3000, 4000)
