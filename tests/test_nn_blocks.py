import pytest
import torch

from irestore.errors import ConfigError
from irestore.models.config import ModelConfig
from irestore.nn.attention import ContinuousScalingAttention, TransposedAttention
from irestore.nn.blocks import Block, Residual
from irestore.nn.mixers import GatedFeedForward, SigmoidGate, SimpleGate


def _perturb(block: torch.nn.Module) -> None:
    """Random (non-default) affine parameters so the test does not pass by symmetry."""
    with torch.no_grad():
        for name, p in block.named_parameters():
            if name.endswith(("weight", "bias")) and p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.3)


@pytest.mark.parametrize("mixer", ["attn", "csattn", "conv"])
def test_iln_block_is_equivariant_to_affine_intensity_changes(mixer):
    block = Block(8, mixer=mixer, norm="iln", placement="pre", heads=2, expansion=2.0).eval()
    _perturb(block)
    x = torch.randn(2, 8, 12, 10)
    a, c = 3.7, -1.3
    with torch.no_grad():
        lhs = block(a * x + c)
        rhs = a * block(x) + c
    assert torch.allclose(lhs, rhs, atol=2e-3 * a, rtol=1e-3)


@pytest.mark.parametrize("norm", ["ln", "rms", "none"])
def test_per_token_or_no_norm_block_is_not_affine_equivariant(norm):
    block = Block(8, mixer="attn", norm=norm, placement="pre", heads=2, expansion=2.0).eval()
    _perturb(block)
    x = torch.randn(1, 8, 12, 10)
    with torch.no_grad():
        gap = (block(3.7 * x - 1.3) - (3.7 * block(x) - 1.3)).abs().max()
    assert gap > 1e-2


def test_peri_placement_normalizes_the_branch_output():
    fn = GatedFeedForward(8, 2.0)
    with torch.no_grad():
        fn.project.weight.mul_(100.0)
    pre = Residual(fn, 8, "ln", "pre")
    peri = Residual(fn, 8, "ln", "peri")
    x = torch.randn(1, 8, 6, 6)
    with torch.no_grad():
        update_pre = (pre(x) - x).pow(2).mean(1)
        update_peri = (peri(x) - x).pow(2).mean(1)
    assert torch.allclose(update_peri, torch.ones_like(update_peri), atol=1e-2)
    assert update_pre.mean() > 10 * update_peri.mean()


def test_csattn_block_has_no_feed_forward_branch():
    assert len(Block(8, mixer="csattn", norm="iln", placement="pre", heads=2, expansion=2.0).branches) == 1
    assert len(Block(8, mixer="attn", norm="iln", placement="pre", heads=2, expansion=2.0).branches) == 2


def test_transposed_attention_matches_a_direct_computation():
    attn = TransposedAttention(4, heads=2).eval()
    x = torch.randn(1, 4, 5, 7)
    q, k, v = attn.qkv_dw(attn.qkv(x)).chunk(3, dim=1)
    rows = []
    for h in range(2):
        qh = torch.nn.functional.normalize(q[0, 2 * h : 2 * h + 2].flatten(1), dim=-1)
        kh = torch.nn.functional.normalize(k[0, 2 * h : 2 * h + 2].flatten(1), dim=-1)
        a = torch.softmax(qh @ kh.T * attn.temperature[h], dim=-1)
        rows.append(a @ v[0, 2 * h : 2 * h + 2].flatten(1))
    expected = attn.proj(torch.cat(rows).reshape(1, 4, 5, 7))
    assert torch.allclose(attn(x), expected, atol=1e-5)


def test_csattn_runs_three_stages_with_their_own_temperatures():
    attn = ContinuousScalingAttention(4, heads=2)
    assert attn.temperature.shape == (3, 2, 1, 1)
    x = torch.randn(1, 4, 6, 6)
    y = attn(x)
    y.sum().backward()
    assert all(g is not None for g in [attn.temperature.grad])
    assert (attn.temperature.grad.abs().flatten(1).sum(1) > 0).all()


def test_the_sigmoid_gate_grows_linearly_where_simple_gate_grows_quadratically():
    x = torch.randn(1, 8, 6, 6)
    a = x.chunk(2, dim=1)[0]
    assert torch.allclose(SimpleGate()(100 * x), 10_000 * SimpleGate()(x), rtol=1e-5, atol=1e-3)
    assert (SigmoidGate()(100 * x).abs() <= 100 * a.abs() + 1e-4).all()


def test_the_gate_is_a_config_choice_and_old_configs_keep_simple_gate():
    assert ModelConfig.from_dict({"width": 16}).gate == "product"
    block = Block(8, mixer="conv", norm="iln", placement="pre", heads=2, expansion=2.0, gate="sigmoid")
    assert all(isinstance(b.fn.gate, SigmoidGate) for b in block.branches)
    with pytest.raises(ConfigError, match="gate"):
        ModelConfig(gate="relu")
