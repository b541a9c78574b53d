"""Synthetic rain streaks.

The usual recipe for synthetic rain (the Photoshop-style method behind Rain100L/H-like data): sparse
random drops, smeared along one direction by a line kernel and widened by a small Gaussian, give a
streak layer; it is laid over the image with a *screen* blend, 1 - (1 - img)(1 - rain), which can
only brighten and never exceeds 1. Heavy rain is several such layers at slightly different angles.
The rain model of Yang et al. (JORDER, who made Rain100L/H) is additive instead, O = B + S clipped;
on bright backgrounds it leaves stronger streaks than the screen blend, so a share of the samples
(``additive``) can be composited that way to cover both.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from irestore.data.blur import convolve, line_kernel


@dataclass(frozen=True)
class StreakLayer:
    """One layer of parallel streaks; angle in degrees from vertical, width a Gaussian sigma."""

    density: float
    length: float
    angle: float
    width: float
    brightness: float


@dataclass(frozen=True)
class StreakRanges:
    """The ranges rain layers are drawn from: per-pixel drop ``density``, streak ``length`` in pixels,
    ``max_angle`` of the main fall direction from vertical (each layer adds up to +-5 degrees),
    Gaussian ``width``, ``brightness``, and up to ``max_layers`` layers; ``additive`` is the share of
    samples added and clipped rather than screen-blended. The defaults are light to moderate
    screen-blended rain; heavier or longer rain needs wider ranges, not more training on these."""

    density: tuple[float, float] = (0.001, 0.01)
    length: tuple[float, float] = (8.0, 40.0)
    max_angle: float = 30.0
    width: tuple[float, float] = (0.3, 1.2)
    brightness: tuple[float, float] = (0.25, 0.8)
    max_layers: int = 3
    additive: float = 0.0


def random_layers(rng: np.random.Generator, ranges: StreakRanges = StreakRanges()) -> list[StreakLayer]:
    """1..max_layers layers sharing a main fall direction (within +-max_angle of vertical)."""
    main_angle = rng.uniform(-ranges.max_angle, ranges.max_angle)
    return [
        StreakLayer(
            density=rng.uniform(*ranges.density),
            length=rng.uniform(*ranges.length),
            angle=main_angle + rng.uniform(-5.0, 5.0),
            width=rng.uniform(*ranges.width),
            brightness=rng.uniform(*ranges.brightness),
        )
        for _ in range(rng.integers(1, ranges.max_layers + 1))
    ]


def streak_kernel(layer: StreakLayer) -> np.ndarray:
    """Line kernel of the layer's length and angle, thickened by a Gaussian of sigma ``width``."""
    line = line_kernel(layer.length, 90.0 + layer.angle)
    pad = int(np.ceil(3 * layer.width))
    line = np.pad(line, pad)
    return cv2.GaussianBlur(line, (2 * pad + 1, 2 * pad + 1), layer.width)


def streak_layer(
    shape: tuple[int, int], layer: StreakLayer, rng: np.random.Generator
) -> np.ndarray:
    """H x W x 1 streak intensities in [0, 1]; an isolated streak peaks at its drop's intensity."""
    drops = (rng.random(shape) < layer.density) * rng.uniform(0.3, 1.0, shape)
    kernel = streak_kernel(layer)
    streaks = convolve(drops.astype(np.float32)[..., None], kernel) / kernel.max()
    return np.clip(streaks, 0.0, 1.0) * layer.brightness


def screen(img: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """Screen blend: brightens, keeps [0, 1], and a zero layer leaves ``img`` unchanged."""
    return 1.0 - (1.0 - img) * (1.0 - layer)


def add_clipped(img: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """Additive rain, O = B + S clipped to 1 (JORDER's model): brighter than screen on bright ground."""
    return np.minimum(img + layer, 1.0)


def add_rain(
    img: np.ndarray,
    rng: np.random.Generator,
    layers: list[StreakLayer] | None = None,
    ranges: StreakRanges = StreakRanges(),
) -> np.ndarray:
    """Rainy ``img`` (float32), layers drawn from ``ranges`` unless given; every pixel is >= the input's."""
    layers = random_layers(rng, ranges) if layers is None else layers
    blend = add_clipped if ranges.additive > 0 and rng.random() < ranges.additive else screen
    clean = img.astype(np.float32)
    out = clean
    for layer in layers:
        out = blend(out, streak_layer(img.shape[:2], layer, rng))
    return np.maximum(out, clean)  # 1 - (1 - x) can round one ulp below x
