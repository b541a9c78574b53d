import pytest
import torch

from irestore.engine.bands import conv1x1
from irestore.engine.fuse import (
    ChannelsLastLayerNorm,
    FusedResidual,
    LeanUNet,
    OffsetMajorShuffle,
    PointwiseConv,
    bilinear_upsampling_conv,
    inference_model,
    offset_major_order,
)
from irestore.engine.fuse_attention import FusedAttention, FusedGatedFeedForward
from irestore.engine.tiling import tiled_forward
from irestore.models import build_model
from irestore.models.unet import RestorationUNet


def _perturbed(model):
    """Non-trivial norm affines and biases, so a wrong fold cannot hide behind ones and zeros."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return model.eval()


@pytest.mark.parametrize("overrides", [{}, {"skip": "ls"}, {"norm": "ln"}, {"mixer": "attn"}, {"mixer": "attn", "norm": "ln"}, {"placement": "peri", "norm": "ln"}, {"norm": "rms"}, {"norm": "none"}, {"gate": "sigmoid"}])
def test_inference_model_computes_the_same_function(overrides):
    model = _perturbed(build_model("tiny", **overrides))
    fused = inference_model(model)
    x = torch.rand(2, 3, 24, 40)
    with torch.no_grad():
        expected, got, single = model(x), fused(x), fused(x[1:])
    tolerance = 1e-5 * expected.abs().max()
    assert (got - expected).abs().max() <= tolerance
    assert (single - expected[1:]).abs().max() <= tolerance


def test_conv_blocks_with_image_token_or_no_norms_are_fused_and_other_token_norms_run_as_one_kernel():
    def count(kind, **overrides):
        return sum(isinstance(m, kind) for m in inference_model(build_model("tiny", **overrides)).modules())

    blocks = len(build_model("tiny").blocks())
    assert count(FusedResidual) == count(FusedResidual, norm="ln") == count(FusedResidual, norm="none") == 2 * blocks
    assert count(FusedResidual, mixer="attn") == count(FusedResidual, norm="rms") == count(FusedResidual, placement="peri") == 0
    assert count(ChannelsLastLayerNorm, mixer="attn", norm="ln") == 2 * blocks
    assert count(ChannelsLastLayerNorm, placement="peri", norm="ln") == 4 * blocks
    assert count(FusedAttention, mixer="attn", norm="ln") == count(FusedGatedFeedForward, mixer="attn", norm="ln") == blocks
    assert count(FusedAttention, mixer="attn") == count(FusedAttention, mixer="csattn", norm="ln") == 0


@pytest.mark.parametrize("norm, mixer", [("iln", "conv"), ("ln", "conv"), ("ln", "attn")])
def test_fused_blocks_share_whole_image_statistics_under_tiling(norm, mixer):
    model = _perturbed(build_model("tiny", norm=norm, mixer=mixer, enc_blocks=(1,), dec_blocks=(1,), heads=(1, 2)))
    x = torch.rand(1, 3, 64, 88)
    with torch.no_grad():
        original = tiled_forward(model, x, tile=48, overlap=48, multiple=2, stats_passes=3)
        fused = tiled_forward(inference_model(model), x, tile=48, overlap=48, multiple=2, stats_passes=3)
        naive = tiled_forward(inference_model(model), x, tile=48, overlap=48, multiple=2, stats_passes=0)
    assert (fused - original).abs().max() <= 1e-5 * original.abs().max()
    assert (naive - original).abs().max() > 100 * (fused - original).abs().max()


def test_the_inference_model_runs_channels_last_and_is_a_copy():
    model = build_model("tiny")
    fused = inference_model(model)
    assert fused.stem.module.weight.is_contiguous(memory_format=torch.channels_last)
    assert model.stem.weight.is_contiguous()
    assert fused.stem.module.weight.data_ptr() != model.stem.weight.data_ptr()
    assert type(fused) is LeanUNet and type(model) is RestorationUNet


def test_pointwise_conv_matches_conv2d_and_keeps_channels_last():
    conv = torch.nn.Conv2d(6, 10, 1)
    assert PointwiseConv.supports(conv)
    assert not PointwiseConv.supports(torch.nn.Conv2d(6, 10, 3)) and not PointwiseConv.supports(torch.nn.Conv2d(6, 6, 1, groups=3))
    x = torch.rand(1, 6, 9, 11).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        got = PointwiseConv(conv)(x)
        assert torch.allclose(got, conv(x), atol=1e-6)
        assert got.is_contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert conv1x1(x, conv.weight, conv.bias).dtype == torch.bfloat16


@pytest.mark.parametrize("overrides", [{}, {"mixer": "attn", "norm": "ln", "task": "sr", "scale": 2}])
def test_inference_model_runs_under_bf16_autocast(overrides):
    model = build_model("tiny", **overrides)
    fused = inference_model(model)
    x = torch.rand(1, 3, 16, 24).contiguous(memory_format=torch.channels_last)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        got = fused(x).float()
    with torch.no_grad():
        expected = model(x)
    assert (got - expected).abs().mean() < 0.02


def test_a_plain_residual_body_has_an_inference_form():
    model = build_model("tiny", task="sr", scale=2, enc_blocks=(), dec_blocks=(), heads=(1,), mid_blocks=2).eval()
    x = torch.rand(1, 3, 10, 14)
    with torch.no_grad():
        assert torch.allclose(inference_model(model)(x), model(x), atol=1e-5)


def test_under_bf16_the_full_resolution_stream_stays_float32_and_closer_to_fp32():
    torch.manual_seed(3)
    model = build_model("tiny")
    fused = inference_model(model)
    seen = {}

    def record(name):
        def hook(_module, _inputs, out):
            seen[name] = out.dtype

        return hook

    fused.encoders[0].register_forward_hook(record("encoders"))
    fused.decoders[0].register_forward_hook(record("decoders"))
    fused.encoders[1].register_forward_hook(record("low"))
    x = torch.rand(1, 3, 32, 40).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        expected = model(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            got, plain = fused(x), model(x)
    assert seen == {"encoders": torch.float32, "low": torch.bfloat16, "decoders": torch.float32}
    assert got.dtype == torch.float32
    assert (got - expected).abs().mean() < (plain.float() - expected).abs().mean()


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bilinear_upsampling_is_a_pixel_shuffled_convolution_of_the_replicated_input(scale):
    x = torch.rand(2, 3, 7, 10, dtype=torch.float64)
    expected = torch.nn.functional.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
    weight = bilinear_upsampling_conv(scale, 3).double()
    got = torch.nn.functional.pixel_shuffle(torch.nn.functional.conv2d(torch.nn.functional.pad(x, (1, 1, 1, 1), mode="replicate"), weight), scale)
    assert (got - expected).abs().max() < 1e-6


def test_under_bf16_the_sr_head_runs_in_bf16_and_its_residual_is_added_in_float32():
    torch.manual_seed(4)
    model = build_model("tiny", task="sr", scale=4, enc_blocks=(), dec_blocks=(), heads=(1,), mid_blocks=2).eval()
    fused = inference_model(model)
    seen = {}
    fused.head.module.register_forward_hook(lambda _m, _i, out: seen.update(head=out.dtype))
    x = torch.rand(1, 3, 12, 16).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        expected = model(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            got = fused(x)
    assert seen == {"head": torch.bfloat16}
    assert got.dtype == torch.float32
    assert (got - expected).abs().max() < 0.02


@pytest.mark.parametrize("scale, channels", [(2, 3), (3, 1), (4, 3)])
def test_the_offset_major_shuffle_is_pixel_shuffle_of_reordered_channels_into_a_channels_last_image(scale, channels):
    y = torch.rand(2, channels * scale**2, 5, 7).contiguous(memory_format=torch.channels_last)
    got = OffsetMajorShuffle(scale)(y[:, offset_major_order(scale, channels)])
    assert torch.equal(got, torch.nn.functional.pixel_shuffle(y, scale))
    assert got.is_contiguous(memory_format=torch.channels_last)


def _outputs_and_dtypes(model, fused, watched, shape):
    """The plain model's output, the inference form's in fp32 and under bf16 autocast, and the dtypes the watched modules gave under bf16."""
    seen = {}

    def record(name):
        def hook(_module, _inputs, out):
            seen[name] = out.dtype

        return hook

    for name, module in watched.items():
        module.register_forward_hook(record(name))
    x = torch.rand(*shape).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        expected, exact = model(x), fused(x)
        seen.clear()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            got = fused(x)
    assert (exact - expected).abs().max() <= 1e-5 * expected.abs().max()
    assert got.dtype == torch.float32 and (got - expected).abs().mean() < 0.01
    return seen


@pytest.mark.parametrize("levels", [0, 1])
def test_under_bf16_only_a_plain_sr_body_runs_its_stream_in_bf16(levels):
    torch.manual_seed(5)
    blocks = {"enc_blocks": (), "dec_blocks": (), "heads": (1,)} if levels == 0 else {"enc_blocks": (1,), "dec_blocks": (1,), "heads": (1, 1)}
    model = _perturbed(build_model("tiny", task="sr", scale=4, mid_blocks=2, **blocks))
    fused = inference_model(model)
    seen = _outputs_and_dtypes(model, fused, {"stream": fused.stem, "head": fused.head}, (1, 3, 12, 16))
    assert seen == {"stream": torch.float32 if levels else torch.bfloat16, "head": torch.float32}


def test_a_low_precision_stream_runs_the_full_resolution_maps_in_bf16_and_is_exact_without_autocast():
    torch.manual_seed(6)
    model = _perturbed(build_model("tiny"))
    fused = inference_model(model, low_precision_stream=True)
    seen = _outputs_and_dtypes(model, fused, {"encoders": fused.encoders[0], "decoders": fused.decoders[0]}, (1, 3, 32, 40))
    assert seen == {"encoders": torch.bfloat16, "decoders": torch.bfloat16}


def test_the_stem_and_the_downsampling_in_bands_equal_them_whole(monkeypatch):
    from irestore.engine import bands
    from irestore.engine.fuse import BandedDownsample, LowPrecisionStem

    monkeypatch.setattr(bands, "BAND_BYTES", 1)
    monkeypatch.setattr(bands, "MAX_BANDS", 1000)
    model = _perturbed(build_model("tiny"))
    x = torch.rand(1, 3, 30, 20).contiguous(memory_format=torch.channels_last)
    down = model.downs[0]
    feat = torch.rand(1, down.body[0].in_channels, 30, 20).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        assert torch.allclose(BandedDownsample(down)(feat), down(feat), atol=1e-6)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            stem = LowPrecisionStem(model.stem)(x)
        assert stem.dtype == torch.bfloat16 and torch.equal(stem, model.stem(x).to(torch.bfloat16))
