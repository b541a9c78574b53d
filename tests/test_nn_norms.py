import pytest
import torch

from irestore.errors import ConfigError
from irestore.nn.norms import DynamicTanh, ImageLayerNorm, NoNorm, TokenLayerNorm, TokenRMSNorm, make_norm


def test_iln_uses_one_mean_and_variance_per_image():
    x = torch.randn(2, 4, 5, 6) * torch.tensor([1.0, 3.0]).view(2, 1, 1, 1) + 2.0
    y, s = ImageLayerNorm(4)(x)
    for b in range(2):
        flat = x[b].flatten().double()
        mu = flat.sum() / flat.numel()
        var = ((flat - mu) ** 2).sum() / flat.numel()
        expected_s = torch.sqrt(var + 1e-4)
        assert s[b].item() == pytest.approx(expected_s.item(), rel=1e-5)
        assert torch.allclose(y[b].double(), (x[b].double() - mu) / expected_s, atol=1e-5)
    assert s.shape == (2, 1, 1, 1)


def test_iln_affine_is_per_channel_and_scale_keeps_gradient():
    norm = ImageLayerNorm(3)
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([1.0, 2.0, 3.0]))
        norm.bias.copy_(torch.tensor([0.0, 1.0, -1.0]))
    x = torch.randn(1, 3, 4, 4, requires_grad=True)
    y, s = norm(x)
    plain, _ = ImageLayerNorm(3)(x)
    assert torch.allclose(y[:, 1], 2 * plain[:, 1] + 1, atol=1e-6)
    s.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_token_layernorm_normalizes_each_pixel_over_channels():
    x = torch.randn(1, 8, 3, 3) * 5 + 1
    y, s = TokenLayerNorm(8)(x)
    assert s is None
    assert torch.allclose(y.mean(1), torch.zeros(1, 3, 3), atol=1e-5)
    assert torch.allclose(y.var(1, unbiased=False), torch.ones(1, 3, 3), atol=1e-3)


def test_rms_norm_has_unit_rms_per_pixel_and_no_bias():
    norm = TokenRMSNorm(6)
    y, _ = norm(torch.randn(2, 6, 4, 4) * 7)
    assert torch.allclose(y.pow(2).mean(1), torch.ones(2, 4, 4), atol=1e-4)
    assert norm.bias is None


def test_dyt_is_elementwise_tanh_with_learned_alpha():
    norm = DynamicTanh(2)
    x = torch.randn(1, 2, 3, 3)
    y, _ = norm(x)
    assert torch.allclose(y, torch.tanh(0.5 * x))
    assert norm.alpha.requires_grad


def test_make_norm_by_name_and_rejects_unknown():
    assert isinstance(make_norm("none", 4), NoNorm)
    with pytest.raises(ConfigError, match="unknown norm"):
        make_norm("batch", 4)
