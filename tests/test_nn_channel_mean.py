import pytest
import torch

from irestore.nn.global_stats import channel_mean


def _map(dtype=torch.float32, batch=1, channels=16, height=37, width=53):
    torch.manual_seed(0)
    x = torch.rand(batch, channels, height, width) * 2 - 0.3
    return x.to(dtype).contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("batch", [1, 3])
def test_equals_the_mean_on_channels_last_maps_and_their_crops(batch):
    x = _map(batch=batch)
    for t in (x, x[..., 5:30, 7:41]):
        got = channel_mean(t)
        assert got.shape == (batch, 16, 1, 1) and got.dtype == torch.float32
        torch.testing.assert_close(got, t.mean(dim=(2, 3), keepdim=True), rtol=1e-6, atol=1e-6)


def test_a_crop_is_summed_in_place_not_copied():
    """The (H, W*C) view of a channels-last crop exists without a copy: the reshape must be a view."""
    t = _map()[..., 5:30, 7:41]
    view = t[0].permute(1, 2, 0).reshape(t.shape[2], -1)
    assert view.data_ptr() == t.data_ptr()


def test_bf16_mean_is_closer_to_float64_than_torch_mean():
    x = _map(torch.bfloat16, channels=16, height=300, width=400)
    exact = x.double().mean(dim=(2, 3), keepdim=True)
    new = (channel_mean(x).double() - exact).abs().max()
    old = (x.mean(dim=(2, 3), keepdim=True).double() - exact).abs().max()
    assert channel_mean(x).dtype == torch.bfloat16
    assert new <= old


def test_other_layouts_and_autograd_reduce_as_before():
    x = torch.rand(2, 8, 9, 11, requires_grad=True)
    got = channel_mean(x)
    torch.testing.assert_close(got, x.mean(dim=(2, 3), keepdim=True))
    got.sum().backward()
    torch.testing.assert_close(x.grad, torch.full_like(x, 1 / 99))


def test_fp16_sums_of_large_values_over_tall_maps_do_not_overflow():
    x = (torch.full((1, 4, 3000, 8), 300.0) + torch.arange(4.0).view(1, 4, 1, 1)).half().contiguous(memory_format=torch.channels_last)
    got = channel_mean(x)
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got.float(), x.float().mean(dim=(2, 3), keepdim=True), rtol=2e-3, atol=0)
