"""Synthetic rain: only brightens, follows its angle, varies with the rng."""

import numpy as np
import pytest

from irestore.data.degradations import make_degradation
from irestore.data.rain import StreakLayer, StreakRanges, add_rain, random_layers, screen, streak_layer
from irestore.errors import ConfigError


def _image(channels: int = 3) -> np.ndarray:
    return np.random.default_rng(0).uniform(0.1, 0.8, (64, 64, channels)).astype(np.float32)


def test_screen_blend_by_hand():
    np.testing.assert_allclose(screen(np.array([0.2, 0.5, 1.0]), np.array([0.5, 0.0, 0.3])),
                               [0.6, 0.5, 1.0])


def test_rain_only_brightens_and_stays_in_range():
    for channels in (1, 3):
        img = _image(channels)
        rainy = add_rain(img, np.random.default_rng(1))
        assert rainy.shape == img.shape and rainy.dtype == np.float32
        assert np.all(rainy >= img) and rainy.max() <= 1.0
        assert (rainy - img).mean() > 0.005


def test_rain_is_reproducible_and_varies_with_the_rng():
    img = _image()
    first = add_rain(img, np.random.default_rng(3))
    np.testing.assert_array_equal(first, add_rain(img, np.random.default_rng(3)))
    increments = [float((add_rain(img, np.random.default_rng(s)) - img).mean()) for s in range(6)]
    assert np.std(increments) > 0.1 * np.mean(increments)


def test_zero_density_leaves_the_image_unchanged():
    img = _image()
    dry = StreakLayer(density=0.0, length=20, angle=0, width=1, brightness=0.8)
    np.testing.assert_allclose(add_rain(img, np.random.default_rng(0), [dry]), img, atol=1e-6)


def test_vertical_streaks_are_correlated_along_columns():
    flat = np.zeros((96, 96, 1), dtype=np.float32)
    layer = StreakLayer(density=0.01, length=25, angle=0, width=0.5, brightness=0.8)
    rain = add_rain(flat, np.random.default_rng(0), [layer])[..., 0]
    rain = rain - rain.mean()
    down = (rain[1:] * rain[:-1]).mean()
    across = (rain[:, 1:] * rain[:, :-1]).mean()
    assert down > 3 * across


def test_rain_ranges_are_configurable_and_the_defaults_keep_the_old_rain():
    img = np.random.default_rng(0).random((48, 48, 3)).astype(np.float32)
    rainy, clean = make_degradation("derain")(img, np.random.default_rng(7))
    np.testing.assert_array_equal(rainy, add_rain(img, np.random.default_rng(7)))
    np.testing.assert_array_equal(clean, img)
    wide = StreakRanges(length=(50.0, 60.0), max_angle=0.0, max_layers=1)
    layers = [random_layers(np.random.default_rng(s), wide) for s in range(20)]
    assert all(len(ls) == 1 and 50.0 <= ls[0].length <= 60.0 and abs(ls[0].angle) <= 5.0 for ls in layers)
    heavy = make_degradation("derain", density=[0.02, 0.03], brightness=[0.8, 0.9])
    assert float((heavy(img, np.random.default_rng(7))[0] - img).mean()) > float((rainy - img).mean())
    with pytest.raises(ConfigError, match="length"):
        make_degradation("derain", length=[40, 8])
    with pytest.raises(ConfigError, match="max_angle"):
        make_degradation("derain", max_angle=120)


def test_additive_rain_follows_the_jorder_model_and_is_stronger_on_bright_ground():
    bright = np.full((64, 64, 3), 0.7, dtype=np.float32)
    layer = StreakLayer(density=0.01, length=20, angle=10, width=0.8, brightness=0.6)
    streaks = streak_layer((64, 64), layer, np.random.default_rng(5))
    added = add_rain(bright, np.random.default_rng(5), [layer], StreakRanges(additive=1.0))
    screened = add_rain(bright, np.random.default_rng(5), [layer])
    # with additive=1 the blend draw comes first, so the streaks are those of the next draw
    rng = np.random.default_rng(5)
    rng.random()
    np.testing.assert_allclose(added, np.broadcast_to(np.minimum(0.7 + streak_layer((64, 64), layer, rng), 1.0), bright.shape), atol=1e-6)
    assert float(added.mean()) > float(screened.mean()) > float(bright.mean())
    np.testing.assert_allclose(screened, np.broadcast_to(1 - 0.3 * (1 - streaks), bright.shape), atol=1e-6)
    with pytest.raises(ConfigError, match="additive"):
        make_degradation("derain", additive=1.5)
