"""JPEG degradation: quality extremes, 8x8 blocking, channel handling."""

import numpy as np
import pytest

from irestore.data.jpeg import jpeg_compress
from irestore.errors import ConfigError


def _test_image(channels: int) -> np.ndarray:
    y, x = np.mgrid[0:64, 0:64] / 63.0
    texture = 0.1 * np.sin(x * 9) * np.cos(y * 7)
    planes = [0.2 + 0.6 * x + texture, 0.3 + 0.4 * y, 0.5 + texture][:channels]
    return np.stack(planes, axis=-1).astype(np.float32)


def _border_and_inner_steps(img: np.ndarray) -> tuple[float, float]:
    """Mean |difference| between horizontally adjacent pixels across vs inside 8x8 blocks."""
    steps = np.abs(np.diff(img[..., 0], axis=1))
    across = steps[:, 7::8].mean()
    inside = np.delete(steps, np.s_[7::8], axis=1).mean()
    return float(across), float(inside)


@pytest.mark.parametrize("channels", [1, 3])
def test_quality_100_is_near_lossless(channels):
    img = _test_image(channels)
    out = jpeg_compress(img, 100)
    assert out.shape == img.shape and out.dtype == np.float32
    assert np.abs(out - img).max() < 6 / 255


def test_quality_10_has_8x8_blocking():
    img = _test_image(1)
    across, inside = _border_and_inner_steps(jpeg_compress(img, 10))
    clean_across, clean_inside = _border_and_inner_steps(img)
    assert abs(clean_across / clean_inside - 1) < 0.2  # the clean image has no grid
    assert across > 2 * inside


def test_colour_order_is_kept():
    red = np.zeros((16, 16, 3), dtype=np.float32)
    red[..., 0] = 0.9
    out = jpeg_compress(red, 50)
    assert out[..., 0].mean() > 0.8 and out[..., 2].mean() < 0.1


def test_invalid_quality_is_a_config_error():
    with pytest.raises(ConfigError):
        jpeg_compress(_test_image(1), 0)


def test_full_chroma_jpegs_keep_colour_detail_that_4_2_0_loses():
    import numpy as np

    from irestore.data.degradations import JpegArtifacts
    from irestore.data.jpeg import jpeg_compress

    rng = np.random.default_rng(0)
    img = np.repeat(np.repeat(rng.random((16, 16, 3)), 4, axis=0), 4, axis=1).astype(np.float32)
    err = {sub: float(np.abs(jpeg_compress(img, 90, subsample=sub) - img).mean()) for sub in (True, False)}
    assert err[False] < 0.7 * err[True]
    assert np.array_equal(jpeg_compress(img[..., :1], 50, subsample=False), jpeg_compress(img[..., :1], 50))
    mixed = JpegArtifacts(quality_range=(90, 90), full_chroma=0.5)
    outs = [mixed(img, np.random.default_rng(i))[0] for i in range(12)]
    kinds = {bool(np.array_equal(o, jpeg_compress(img, 90, subsample=False))) for o in outs}
    assert kinds == {True, False}
