"""MATLAB-compatible bicubic imresize: kernel, taps, borders, and MATLAB's own Set5 LR files."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from irestore.data.resize import cubic, imresize, modcrop, resize_weights
from irestore.errors import ConfigError

SET5 = Path("/work/shared/datasets/test/Set5")


def test_cubic_kernel_values_for_a_minus_half():
    # 1.5|x|^3 - 2.5|x|^2 + 1 inside, -0.5|x|^3 + 2.5|x|^2 - 4|x| + 2 outside, 0 beyond 2
    x = np.array([0.0, 0.25, 0.75, 1.0, 1.25, 1.75, 2.0, 2.5])
    expected = [1.0, 0.8671875, 0.2265625, 0.0, -0.0703125, -0.0234375, 0.0, 0.0]
    np.testing.assert_allclose(cubic(x), expected, atol=1e-12)
    np.testing.assert_allclose(cubic(-x), expected, atol=1e-12)


def test_half_scale_weights_are_eight_antialiased_taps():
    weights, indices = resize_weights(in_len=20, out_len=10, scale=0.5)
    assert weights.shape == (10, 8)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    # output 5 (1-based) sits at input 9.5: taps 6..13 at distances 3.5 .. -3.5, cubic(d/2)/2
    np.testing.assert_allclose(weights[4] * 256, [-3, -9, 29, 111, 111, 29, -9, -3])
    np.testing.assert_array_equal(indices[4], np.arange(5, 13))


def test_upscale_weights_and_symmetric_border():
    weights, indices = resize_weights(in_len=4, out_len=8, scale=2.0)
    # first output at input 0.75 (1-based): taps 0, 1, 2, 3 -> reflected to 2, 1, 1, 2
    np.testing.assert_allclose(weights[0], [-0.0234375, 0.2265625, 0.8671875, -0.0703125])
    np.testing.assert_array_equal(indices[0], [1, 0, 0, 1])
    np.testing.assert_array_equal(indices[-1], [2, 3, 3, 2])


def test_constant_image_stays_constant():
    img = np.full((30, 21, 3), 0.37, dtype=np.float32)
    for scale in (0.25, 1 / 3, 0.5, 2.0, 3.0):
        out = imresize(img, scale)
        assert out.shape == (int(np.ceil(30 * scale - 1e-9)), int(np.ceil(21 * scale - 1e-9)), 3)
        np.testing.assert_allclose(out, 0.37, atol=1e-6)


def test_half_of_a_block_image_spreads_by_the_kernel_weights():
    # A single 2x2 block far from the border: each output is (222 b + 20 neighbours - 3 next) / 256
    # along each axis, and the 2-D response is the outer product.
    img = np.zeros((24, 24, 1), dtype=np.float32)
    img[10:12, 10:12] = 1.0
    out = imresize(img, 0.5)[..., 0]
    profile = np.array([-3, 20, 222, 20, -3]) / 256
    np.testing.assert_allclose(out[3:8, 3:8], np.outer(profile, profile), atol=1e-6)
    assert abs(out.sum() - 1.0) < 1e-5  # area-preserving: 4 pixels of 1 -> 1 pixel of 1


def test_modcrop_removes_bottom_right_remainder():
    img = np.arange(11 * 7, dtype=np.float32).reshape(11, 7, 1)
    out = modcrop(img, 4)
    assert out.shape == (8, 4, 1)
    np.testing.assert_array_equal(out, img[:8, :4])
    with pytest.raises(ConfigError):
        modcrop(img, 2.5)


def _read_rgb(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255.0


@pytest.mark.skipif(not SET5.is_dir(), reason="shared Set5 not available")
@pytest.mark.parametrize("scale", [2, 4])
def test_matches_matlab_lr_files_of_set5(scale):
    within_one, exact, total = 0, 0, 0
    for hr_path in sorted((SET5 / "HR").glob("*.png")):
        hr = modcrop(_read_rgb(hr_path), scale)
        lr_path = SET5 / "LR_bicubic" / f"X{scale}" / f"{hr_path.stem}x{scale}.png"
        matlab = np.rint(_read_rgb(lr_path) * 255)
        ours = np.clip(np.rint(imresize(hr, 1 / scale) * 255), 0, 255)
        ours_8bit = np.rint(imresize(hr, 1 / scale, quantize_8bit=True) * 255)
        assert ours.shape == matlab.shape
        within_one += np.count_nonzero(np.abs(ours - matlab) <= 1)
        exact += np.count_nonzero(ours_8bit == matlab)
        total += matlab.size
    assert within_one / total > 0.99
    assert exact / total > 0.99  # MATLAB rounds to uint8 between its two passes
