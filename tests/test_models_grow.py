import pytest
import torch

from irestore.errors import ConfigError
from irestore.models import build_model
from irestore.models.grow import deepen, depth_growth


def trained(**kw):
    """A model whose every weight is random, so an identity block cannot pass by accident."""
    torch.manual_seed(0)
    model = build_model("tiny", **kw)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.1)
    return model.eval()


@pytest.mark.parametrize("mixer", ["conv", "attn", "csattn"])
@pytest.mark.parametrize("norm,placement", [("ln", "pre"), ("iln", "pre"), ("rms", "peri"), ("iln", "peri")])
def test_a_deepened_model_computes_what_the_trained_one_did(mixer, norm, placement):
    small = trained(mixer=mixer, norm=norm, placement=placement)
    deeper = deepen(small, small.config.replace(enc_blocks=(2, 1), mid_blocks=3, dec_blocks=(1, 2))).eval()
    x = torch.rand(1, 3, 20, 24)
    with torch.no_grad():
        torch.testing.assert_close(deeper(x), small(x), atol=1e-5, rtol=0)
    assert len(deeper.blocks()) == len(small.blocks()) + 4


def test_new_blocks_learn_from_the_first_step():
    small = trained()
    deeper = deepen(small, small.config.replace(mid_blocks=2)).train()
    deeper(torch.rand(2, 3, 16, 16)).square().mean().backward()
    new = dict(deeper.named_parameters())
    assert new["middle.1.branches.0.fn.project.weight"].grad.abs().sum() > 0


@pytest.mark.parametrize(
    "change,message",
    [
        (dict(width=16, heads=(1, 1, 2)), "width"),
        (dict(enc_blocks=(1, 1, 1), dec_blocks=(1, 1, 1), heads=(1, 1, 2, 4)), "levels"),
        (dict(mid_blocks=0), "cannot shrink"),
        (dict(norm="rms"), "norm"),
    ],
)
def test_only_depth_may_grow(change, message):
    small = build_model("tiny")
    with pytest.raises(ConfigError, match=message):
        depth_growth(small.config, small.config.replace(**change))


def test_growth_is_reported_per_field():
    cfg = build_model("tiny").config
    assert depth_growth(cfg, cfg) == {}
    assert depth_growth(cfg, cfg.replace(mid_blocks=4)) == {"mid_blocks": {"from": 1, "to": 4}}
