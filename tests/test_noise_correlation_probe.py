"""The statistics behind scripts/noise_correlation_probe.py, whose table docs/models.md reports."""

import importlib.util
from pathlib import Path

import numpy as np

_spec = importlib.util.spec_from_file_location(
    "noise_correlation_probe", Path(__file__).parents[1] / "scripts" / "noise_correlation_probe.py"
)
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)


def test_correlations_read_shared_colour_noise_and_neighbouring_pixels():
    rng = np.random.default_rng(0)
    independent = rng.standard_normal((128, 128, 3))
    lag, rg, rb, gb = probe.correlations(independent)
    assert max(abs(lag), abs(rg), abs(rb), abs(gb)) < 0.05
    shared = rng.standard_normal((128, 129, 1))
    smeared = np.repeat((shared[:, 1:] + shared[:, :-1]) / 2, 3, axis=2) + 0.01 * independent
    lag, rg, rb, gb = probe.correlations(smeared)
    assert abs(lag - 0.5) < 0.05 and min(rg, rb, gb) > 0.99


def test_centre_crops_the_middle_and_keeps_small_images_whole():
    img = np.arange(10 * 12).reshape(10, 12, 1)
    assert probe.centre(img, 4)[0, 0, 0] == img[3, 4, 0] and probe.centre(img, 4).shape == (4, 4, 1)
    assert probe.centre(img, 64).shape == img.shape
