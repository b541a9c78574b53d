"""The task -> degradation registry."""

import pickle

import cv2
import numpy as np
import pytest

from irestore.data.degradations import DEGRADATIONS, make_degradation
from irestore.data.jpeg import jpeg_compress
from irestore.data.resize import imresize
from irestore.errors import ConfigError


def _image(channels: int, size: int = 40) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size] / size
    planes = [0.3 + 0.4 * x, 0.2 + 0.5 * y, 0.5 + 0.2 * np.sin(7 * x)][:channels]
    return np.stack(planes, axis=-1).astype(np.float32)


@pytest.mark.parametrize("task", sorted(DEGRADATIONS))
@pytest.mark.parametrize("channels", [1, 3])
def test_every_task_degrades_gray_and_colour(task, channels):
    img = _image(channels)
    degrade = make_degradation(task)
    low, target = degrade(img, np.random.default_rng(0))
    scale = getattr(degrade, "scale", 1)
    assert low.dtype == np.float32 and target.shape == img.shape
    assert low.shape == (img.shape[0] // scale, img.shape[1] // scale, channels)
    if scale == 1:
        assert not np.array_equal(low, target)
    again = degrade(img, np.random.default_rng(0))
    np.testing.assert_array_equal(low, again[0])
    assert pickle.loads(pickle.dumps(degrade)) == degrade


def test_fixed_sigma_gaussian_noise_level():
    degrade = make_degradation("denoise-gaussian", sigma_range=(25, 25))
    img = np.full((128, 128, 1), 0.5, dtype=np.float32)
    noisy, target = degrade(img, np.random.default_rng(0))
    assert target is img
    assert abs((noisy - img).std() * 255 - 25) < 0.5
    eight_bit = make_degradation("denoise-gaussian", clip_quantize=1.0)
    clipped, _ = eight_bit(img, np.random.default_rng(0))
    np.testing.assert_allclose(clipped * 255, np.rint(clipped * 255), atol=1e-4)


def test_jpeg_and_sr_match_their_building_blocks():
    img = _image(3, 42)
    jpeg, _ = make_degradation("jpeg", quality_range=(30, 30))(img, np.random.default_rng(0))
    np.testing.assert_array_equal(jpeg, jpeg_compress(img, 30))
    low, target = make_degradation("sr", scale=4)(img, np.random.default_rng(0))
    assert target.shape == (40, 40, 3)
    np.testing.assert_array_equal(low, np.clip(imresize(target, 0.25, quantize_8bit=True), 0, 1))


def test_deblur_with_kernel_files(tmp_path):
    kernel = np.zeros((5, 5), dtype=np.uint8)
    kernel[2, :] = 255
    cv2.imwrite(str(tmp_path / "line.png"), kernel)
    degrade = make_degradation("deblur", kernel_files=[str(tmp_path / "line.png")], noise_sigma=0, file_kernel_share=1.0)
    img = np.zeros((9, 9, 1), dtype=np.float32)
    img[4, 4] = 1.0
    blurred, _ = degrade(img, np.random.default_rng(0))
    np.testing.assert_allclose(blurred[4, 2:7, 0], 0.2, atol=1e-6)
    assert blurred[3].max() == 0


def test_deblur_mixes_file_kernels_with_random_trajectories(tmp_path):
    kernel = np.zeros((5, 5), dtype=np.uint8)
    kernel[2, :] = 255
    cv2.imwrite(str(tmp_path / "line.png"), kernel)
    degrade = make_degradation("deblur", kernel_files=[str(tmp_path / "line.png")], noise_sigma=0)
    img = np.zeros((31, 31, 1), dtype=np.float32)
    img[15, 15] = 1.0
    line = np.zeros_like(img)
    line[15, 13:18] = 0.2
    from_file = [np.allclose(degrade(img, np.random.default_rng(i))[0], line, atol=1e-6) for i in range(40)]
    assert 5 < sum(from_file) < 35


def test_unknown_task_or_option_is_a_config_error():
    with pytest.raises(ConfigError, match="known tasks"):
        make_degradation("colorize")
    with pytest.raises(ConfigError, match="sigma"):
        make_degradation("jpeg", sigma_range=(0, 50))
    with pytest.raises(ConfigError):
        make_degradation("sr", scale=5)
    with pytest.raises(ConfigError):
        make_degradation("jpeg", quality_range=(60, 10))
