"""Losses and the EMA: small pure pieces of the training step."""

import math

import pytest
import torch
from torch import nn

from irestore.train.ema import EMA
from irestore.train.losses import fft_loss, pixel_loss, training_loss

torch.set_num_threads(1)


def test_psnr_loss_is_minus_the_mean_per_image_psnr():
    target = torch.zeros(2, 1, 4, 4)
    output = torch.stack([torch.full((1, 4, 4), 0.1), torch.full((1, 4, 4), 0.01)])
    expected = -(20.0 + 40.0) / 2  # PSNR of 0.1 and 0.01 errors at peak 1
    assert pixel_loss("psnr", output, target).item() == pytest.approx(expected, abs=1e-3)


def test_l1_charbonnier_and_frequency_terms():
    target = torch.rand(2, 3, 8, 8)
    output = target + 0.5
    assert pixel_loss("l1", output, target).item() == pytest.approx(0.5)
    assert pixel_loss("charbonnier", output, target).item() == pytest.approx(0.5, rel=1e-4)
    assert fft_loss(target, target).item() == 0.0 and fft_loss(output, target).item() > 0.0
    combined = training_loss(output, target, name="l1", fft_weight=0.1).item()
    assert combined == pytest.approx(0.5 + 0.1 * fft_loss(output, target).item())


def test_ema_decay_warms_up_then_averages():
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)
    ema = EMA(model, decay=0.9)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema.update(model)  # first update: decay min(0.9, 2/11)
    assert ema.model.weight.item() == pytest.approx(1 - 2 / 11)
    for _ in range(200):
        ema.update(model)
    assert ema.model.weight.item() == pytest.approx(1.0, abs=1e-6)
    restored = EMA(model, decay=0.9)
    restored.load_state_dict(ema.state_dict())
    assert restored.updates == 201 and not math.isclose(restored.decay, 0.0)
