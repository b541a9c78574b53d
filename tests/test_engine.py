import numpy as np
import pytest
import torch

from irestore.engine import Restorer, auto_tile
from irestore.engine.ensemble import inverse, self_ensemble, transform, transform_box
from irestore.engine.restorer import BYTES_PER_PIXEL_PER_CHANNEL, padded_window, padding
from irestore.engine.tiling import _profile_sum, blend_weights, plan_axis, tiled_forward, uses_global_stats
from irestore.errors import IRestoreError
from irestore.models import build_model
from irestore.models.unet import pad_to_multiple


def _one_level(mixer: str, norm: str = "iln", skip: str = "ls"):
    """A U-Net with one level: its receptive field (about 10 px) fits inside a 48 px overlap."""
    return build_model("tiny", mixer=mixer, norm=norm, skip=skip, enc_blocks=(1,), dec_blocks=(1,), heads=(1, 1)).eval()


@pytest.mark.parametrize("length, tile, overlap, multiple", [(100, 32, 8, 4), (1024, 512, 32, 8), (4000, 700, 32, 8), (136, 64, 32, 2), (40, 16, 8, 1)])
def test_axis_plan_covers_the_image_and_cuts_on_the_multiple(length, tile, overlap, multiple):
    axis = plan_axis(length, tile, overlap, multiple)
    assert axis.tile <= tile
    assert axis.starts[0] == 0 and axis.starts[-1] + axis.tile == length
    assert axis.cuts[0] == 0 and axis.cuts[-1] == length
    assert all(s % multiple == 0 for s in axis.starts) and all(c % multiple == 0 for c in axis.cuts[:-1])
    assert all(prev + axis.tile - nxt >= overlap for prev, nxt in zip(axis.starts, axis.starts[1:]))
    for i, s in enumerate(axis.starts):
        assert s <= axis.cuts[i] < axis.cuts[i + 1] <= s + axis.tile


def test_axis_plan_shrinks_tiles_instead_of_recomputing_a_nearly_whole_tile():
    axis = plan_axis(1024, 512, 32, 8)
    assert len(axis.starts) == 3
    assert len(axis.starts) * axis.tile <= 1.1 * 1024


def test_normalised_blend_weights_sum_to_one_along_the_axis():
    axis = plan_axis(100, 32, 16, 4)
    total = torch.zeros(200)
    for s, w in zip(axis.starts, blend_weights(axis, 2)):
        total[2 * s : 2 * (s + axis.tile)] += w
    assert torch.allclose(total, torch.ones(200), atol=1e-6)


def test_blend_weights_sum_to_positive_everywhere_and_one_inside_single_tiles():
    axis = plan_axis(100, 32, 16, 4)
    total = _profile_sum(axis, 1)
    assert (total > 0.99).all()


@pytest.mark.parametrize("mixer", ["conv", "attn", "csattn"])
def test_tiled_equals_whole_image_when_the_receptive_field_fits_the_overlap(mixer):
    model = _one_level(mixer)
    x = torch.rand(1, 3, 96, 136)
    with torch.no_grad():
        whole = model(x)
        tiled = tiled_forward(model, x, tile=64, overlap=48, multiple=2, stats_passes=3)
        naive = tiled_forward(model, x, tile=64, overlap=48, multiple=2, stats_passes=0)
    assert (tiled - whole).abs().max() < 1e-5
    assert (naive - whole).abs().max() > 10 * (tiled - whole).abs().max()


def test_model_without_global_statistics_needs_no_statistics_pass():
    model = _one_level("attn", norm="ln", skip="1")
    conv_ln = build_model("tiny", mixer="conv", norm="ln")
    assert uses_global_stats(model, torch.rand(1, 3, 8, 8), 2)
    assert uses_global_stats(conv_ln, torch.rand(1, 3, 8, 8), 4)
    seen = []
    x = torch.rand(1, 3, 40, 40)
    plain = torch.nn.Sequential(torch.nn.Conv2d(3, 3, 3, padding=1)).eval()
    with torch.no_grad():
        y = tiled_forward(plain, x, tile=16, overlap=8, multiple=1, progress=lambda d, t: seen.append(t))
        assert torch.allclose(y, plain(x), atol=1e-6)
    assert seen[-1] == len(seen)


def test_sr_tiles_blend_in_output_coordinates():
    model = build_model("tiny", task="sr", scale=2, enc_blocks=(1,), dec_blocks=(1,), heads=(1, 1)).eval()
    x = torch.rand(1, 3, 80, 112)
    with torch.no_grad():
        whole = model(x)
        tiled = tiled_forward(model, x, tile=56, overlap=48, multiple=2, scale=2, stats_passes=3)
    assert tiled.shape == whole.shape == (1, 3, 160, 224)
    assert (tiled - whole).abs().max() < 1e-5


@pytest.mark.parametrize("k", range(8))
def test_each_ensemble_transform_is_inverted_exactly(k):
    x = torch.arange(2 * 3 * 5, dtype=torch.float32).reshape(1, 2, 3, 5)
    assert torch.equal(inverse(transform(x, k), k), x)


@pytest.mark.parametrize("k", range(8))
def test_transform_box_follows_the_transform(k):
    mask = torch.zeros(6, 10)
    mask[1:4, 2:7] = 1
    box, size = transform_box((1, 4, 2, 7), (6, 10), k)
    moved = torch.zeros(size)
    moved[box[0] : box[1], box[2] : box[3]] = 1
    assert torch.equal(transform(mask, k), moved)


def test_the_eight_transforms_are_distinct():
    x = torch.arange(9.0).reshape(1, 1, 3, 3)
    assert len({tuple(transform(x, k).flatten().tolist()) for k in range(8)}) == 8


def test_self_ensemble_of_an_equivariant_function_is_that_function():
    x = torch.rand(1, 3, 7, 9)
    assert torch.allclose(self_ensemble(lambda t: t * 2 + 1, x), x * 2 + 1)


def test_self_ensemble_averages_orientation_dependent_outputs():
    x = torch.rand(1, 1, 4, 6)
    shifted = self_ensemble(lambda t: torch.roll(t, 1, dims=-1), x)
    expected = sum(inverse(torch.roll(transform(x, k), 1, dims=-1), k) for k in range(8)) / 8
    assert torch.allclose(shifted, expected)


def test_restorer_shapes_channels_and_clamping():
    img = np.random.default_rng(0).random((21, 30, 3), dtype=np.float32)
    out = Restorer(build_model("tiny"))(img)
    assert out.shape == img.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    gray = Restorer(build_model("tiny"))(img[..., :1])
    assert gray.shape == (21, 30, 1)
    colour_with_gray_model = Restorer(build_model("tiny", channels=1))(img)
    assert colour_with_gray_model.shape == img.shape


@pytest.mark.parametrize("shape", [(21, 30), (3, 40), (16, 16)])
def test_padded_windows_match_padding_the_whole_image(shape):
    h, w = shape
    img = np.random.default_rng(3).random((h, w, 2), dtype=np.float32)
    ph, pw, mode = padding(h, w, 8)
    whole = pad_to_multiple(torch.from_numpy(img.transpose(2, 0, 1).copy())[None], 8)[0][0].permute(1, 2, 0).numpy()
    assert whole.shape == (ph, pw, 2)
    for y0, x0, th, tw in [(0, 0, ph, pw), (ph - 8, pw - 8, 8, 8), (0, pw - 8, ph, 8)]:
        assert np.array_equal(padded_window(img, y0, y0 + th, x0, x0 + tw, mode), whole[y0 : y0 + th, x0 : x0 + tw])


def test_restorer_tiled_matches_whole_image_on_odd_sizes():
    img = np.random.default_rng(4).random((45, 59, 3), dtype=np.float32)
    model = _one_level("conv")
    whole = Restorer(model, tile=0)(img)
    tiled = Restorer(model, tile=32, overlap=32, stats_passes=3)(img)
    assert np.abs(whole - tiled).max() < 1e-4


def test_the_model_only_ever_sees_tiles():
    class Spy(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.inner, self.config, self.sides = model, model.config, []

        def forward_features(self, x):
            self.sides.append(max(x.shape[-2:]))
            return self.inner.forward_features(x)

    spy = Spy(build_model("tiny"))
    restorer = Restorer(spy, tile=32, overlap=8)
    out = restorer(np.random.default_rng(5).random((50, 70, 3), dtype=np.float32))
    sides = restorer.model.sides
    assert out.shape == (50, 70, 3) and max(sides) <= 32 and len(sides) > 3 * len(restorer.grid_for(50, 70)) > 3
    assert spy.sides == []


def test_batched_output_tiles_equal_one_at_a_time():
    img = np.random.default_rng(6).random((30, 40, 3), dtype=np.float32)
    model = build_model("tiny", skip="ls")
    one = Restorer(model, tile=16, overlap=8, batch=1)(img)
    batched = Restorer(model, tile=16, overlap=8, batch=4)(img)
    assert np.abs(one - batched).max() < 1e-5


def test_restorer_leaves_the_callers_model_alone():
    model = build_model("tiny").train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    Restorer(model)(np.random.default_rng(7).random((16, 16, 3), dtype=np.float32))
    assert model.training and model.stem.weight.is_contiguous()
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_restorer_tiled_and_ensemble_compose():
    img = np.random.default_rng(1).random((40, 52, 3), dtype=np.float32)
    model = _one_level("conv")
    whole = Restorer(model, tile=0, ensemble=True)(img)
    tiled = Restorer(model, tile=32, overlap=24, ensemble=True, stats_passes=3)(img)
    assert np.abs(whole - tiled).max() < 1e-4


def test_bf16_precision_runs_and_stays_close():
    img = np.random.default_rng(2).random((16, 16, 3), dtype=np.float32)
    model = build_model("tiny")
    fp32 = Restorer(model)(img)
    bf16 = Restorer(model, precision="bf16")(img)
    assert np.abs(fp32 - bf16).mean() < 0.02


def test_auto_precision_is_bf16_only_where_the_hardware_has_it(monkeypatch):
    from irestore.engine import device

    cpu = torch.device("cpu")
    monkeypatch.setattr(device, "native_bf16", lambda d: True)
    assert device.check_precision("auto", cpu) == torch.bfloat16
    monkeypatch.setattr(device, "native_bf16", lambda d: False)
    assert device.check_precision("auto", cpu) == torch.float32


def test_a_reduced_precision_overflow_is_redone_in_float32():
    class Overflows(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.config = build_model("tiny").config

        def forward_features(self, x):
            return x * 1e39 if x.dtype == torch.bfloat16 or torch.is_autocast_enabled("cpu") else x

    img = np.random.default_rng(8).random((16, 16, 3), dtype=np.float32)
    assert np.array_equal(Restorer(Overflows(), precision="bf16")(img), img)


def test_bad_engine_options_are_user_errors():
    model = build_model("tiny")
    with pytest.raises(IRestoreError, match="fp16"):
        Restorer(model, precision="fp16", device="cpu")
    with pytest.raises(IRestoreError, match="--tile"):
        Restorer(model, tile=-1)
    with pytest.raises(IRestoreError, match="precision"):
        Restorer(model, precision="int8")
    if not torch.cuda.is_available():
        with pytest.raises(IRestoreError, match="CUDA"):
            Restorer(model, device="cuda")


def test_auto_tile_is_whole_image_when_it_fits_and_bounded_otherwise():
    assert auto_tile(512, 512, 16, 8, budget_mb=1536) == 0
    tile = auto_tile(8000, 6000, 16, 8, budget_mb=256)
    assert 0 < tile < 8000 and tile % 8 == 0
    assert tile * tile * BYTES_PER_PIXEL_PER_CHANNEL * 16 <= 256 * 2**20


def test_auto_tile_leaves_room_for_the_image_itself():
    restorer = Restorer(build_model("small"), memory_mb=1536)
    assert restorer.tile_for(864, 1152) == 0
    side = restorer.tile_for(6000, 8000)
    per_pixel = BYTES_PER_PIXEL_PER_CHANNEL * 16
    image_mb = 6000 * 8000 * 3 * 4 * 2 / 2**20
    assert 0 < side and side * side * per_pixel <= (1536 - image_mb) * 2**20
