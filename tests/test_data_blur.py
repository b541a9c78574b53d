"""Blur kernels (random, line, files) and blurring."""

from pathlib import Path

import numpy as np
import pytest

from irestore.data.blur import blur, line_kernel, load_kernels, random_motion_kernel
from irestore.errors import DatasetError

KERNELS = Path("/work/shared/datasets/train/blur_kernels")


def _centroid(kernel: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(kernel.shape)
    return float((kernel * rows).sum()), float((kernel * cols).sum())


def test_random_motion_kernels_are_normalised_centred_and_seeded():
    rng = np.random.default_rng(0)
    kernels = [random_motion_kernel(rng, size=21) for _ in range(10)]
    for kernel in kernels:
        assert kernel.shape == (21, 21) and kernel.dtype == np.float32
        assert kernel.min() >= 0 and abs(kernel.sum() - 1) < 1e-5
        np.testing.assert_allclose(_centroid(kernel), (10, 10), atol=1e-3)
    assert np.median([np.count_nonzero(k) for k in kernels]) > 10  # paths, not dots
    again = random_motion_kernel(np.random.default_rng(0), size=21)
    np.testing.assert_array_equal(kernels[0], again)
    assert not np.array_equal(kernels[0], kernels[1])


def test_line_kernel_lies_on_its_line():
    horizontal = line_kernel(5, 0)
    assert horizontal.shape == (7, 7)
    assert np.count_nonzero(horizontal.sum(axis=1)) == 1  # a single row
    vertical = line_kernel(5, 90)
    np.testing.assert_allclose(vertical, horizontal.T, atol=1e-6)


@pytest.mark.skipif(not KERNELS.is_dir(), reason="shared blur kernels not available")
@pytest.mark.parametrize(
    ("name", "count", "first_shape"),
    [
        ("Levin09.mat", 8, (19, 19)),
        ("kernels_12.mat", 12, (25, 25)),
        ("k_large_1.png", 1, (67, 67)),
    ],
)
def test_shared_kernel_files_load_normalised(name, count, first_shape):
    kernels = load_kernels(KERNELS / name)
    assert len(kernels) == count and kernels[0].shape == first_shape
    for kernel in kernels:
        assert kernel.min() >= 0 and abs(float(kernel.sum()) - 1) < 1e-5


def test_kernel_file_errors_name_the_file(tmp_path):
    with pytest.raises(DatasetError, match="missing.mat"):
        load_kernels(tmp_path / "missing.mat")
    broken = tmp_path / "broken.mat"
    broken.write_bytes(b"not a mat file")
    with pytest.raises(DatasetError, match="broken.mat"):
        load_kernels(broken)


def test_blur_keeps_constants_and_is_a_true_convolution():
    flat = np.full((20, 20, 3), 0.4, dtype=np.float32)
    kernel = random_motion_kernel(np.random.default_rng(1), size=15)
    np.testing.assert_allclose(blur(flat, kernel, noise_sigma=0), 0.4, atol=1e-6)
    img = np.random.default_rng(2).random((12, 12, 1)).astype(np.float32)
    shift_right = np.zeros((3, 3), dtype=np.float32)
    shift_right[1, 2] = 1.0  # convolution with a right-of-centre impulse moves content right
    out = blur(img, shift_right, noise_sigma=0)
    np.testing.assert_allclose(out[:, 1:], img[:, :-1], atol=1e-6)


def test_blur_adds_one_percent_noise_by_default():
    flat = np.full((128, 128, 1), 0.5, dtype=np.float32)
    noisy = blur(flat, line_kernel(7, 30), rng=np.random.default_rng(0))
    assert abs((noisy - 0.5).std() - 0.01) < 0.0005
    with pytest.raises(ValueError):
        blur(flat, line_kernel(7, 30))
