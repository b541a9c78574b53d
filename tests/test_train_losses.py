"""Losses and the EMA: small pure pieces of the training step."""

import math

import pytest
import torch
from torch import nn

from irestore.errors import ConfigError
from irestore.train.config import TrainConfig
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


def test_psnr_floor_bounds_the_gradient_of_nearly_clean_patches():
    target = torch.zeros(2, 1, 4, 4)
    output = torch.stack([torch.full((1, 4, 4), 0.1), torch.full((1, 4, 4), 1e-3)]).requires_grad_()
    grads = []
    for floor_db in (0.0, 50.0):
        output.grad = None
        loss = pixel_loss("psnr", output, target, psnr_floor_db=floor_db)
        loss.backward()
        grads.append(output.grad.abs().flatten(1).sum(1))
    free, capped = grads
    assert free[1] / free[0] == pytest.approx(100.0, rel=0.02)  # 2 / RMSE: the 60 dB patch 100x the 20 dB one
    assert capped[1] / capped[0] < 1e-5**-0.5 / 20  # at most 1 / RMSE_floor against 2 / 0.1
    assert loss.item() == pytest.approx(-(20.0 + 10 * math.log10(1 / 1.1e-5)) / 2, abs=0.01)


def test_psnr_floor_needs_the_psnr_loss():
    assert TrainConfig(task="denoise-gaussian", loss="psnr", psnr_floor_db=50.0).psnr_floor_db == 50.0
    assert TrainConfig(task="denoise-gaussian", loss="l1").psnr_floor_db == 0.0
    with pytest.raises(ConfigError, match="psnr_floor_db"):
        TrainConfig(task="denoise-gaussian", loss="l1", psnr_floor_db=50.0)
