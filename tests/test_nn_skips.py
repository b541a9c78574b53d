import math

import pytest
import torch

from irestore.errors import ConfigError
from irestore.models import build_model
from irestore.nn.skips import LearnedSkipGate, make_skips, skip_coefficients


def test_cs_coefficients_are_powers_of_kappa_from_the_outermost_skip():
    assert skip_coefficients("cs", 4, kappa=0.5) == [1.0, 0.5, 0.25, 0.125]
    assert skip_coefficients("cs", 3, kappa=0.7) == pytest.approx([1.0, 0.7, 0.49])
    assert skip_coefficients("inv_sqrt2", 2) == [1 / math.sqrt(2)] * 2
    assert skip_coefficients("1", 3) == [1.0] * 3


def test_model_applies_cs_coefficients_outermost_first():
    model = build_model("small", skip="cs", kappa=0.5)
    coefficients = [m.coefficient for m in model.skip_scales]
    assert coefficients == [1.0, 0.5, 0.25]
    x = torch.randn(1, 16, 4, 4)
    assert torch.equal(model.skip_scales[2](x), x * 0.25)


def test_ls_gates_lie_strictly_between_zero_and_one():
    gate = LearnedSkipGate(32)
    for scale in (1.0, 100.0):
        g = gate.gate(torch.randn(3, 32, 8, 8) * scale)
        assert ((g > 0) & (g < 1)).all()
        assert g.shape == (3, 32, 1, 1)


def test_ls_has_one_gate_per_distinct_width():
    skips = make_skips("ls", [16, 32, 16])
    assert skips[0] is skips[2] and skips[0] is not skips[1]


def test_unknown_skip_is_a_config_error():
    with pytest.raises(ConfigError):
        make_skips("half", [8])
