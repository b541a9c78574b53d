"""Metric conventions checked against values worked out by hand (and one independent implementation)."""

import math

import numpy as np
import pytest
from scipy.ndimage import convolve

from irestore.metrics import blocking_effect_factor, psnr, psnr_b, rgb_to_y, ssim, ssim_map, to_uint8

C1 = 0.01**2
C2 = 0.03**2


def _rng_image(shape, seed=0):
    return np.random.default_rng(seed).random(shape)


def test_psnr_of_known_mse():
    x = np.zeros((4, 4, 3))
    assert psnr(x, x + 0.1) == pytest.approx(20.0)  # MSE 0.01 at peak 1
    y = np.zeros((4, 4))
    y[:2] = 10.0  # half the pixels off by 10 grey levels: MSE 50
    assert psnr(np.zeros((4, 4)), y, peak=255) == pytest.approx(10 * math.log10(255**2 / 50))


def test_psnr_identical_is_inf_and_crop_border_drops_the_ring():
    x = np.zeros((10, 10, 1))
    y = np.ones((10, 10, 1))
    y[1:-1, 1:-1] = 0.0  # error 1.0 on the 36 pixels of the outer ring
    assert psnr(x, y) == pytest.approx(10 * math.log10(1 / 0.36))
    assert psnr(x, y, crop_border=1) == math.inf
    assert psnr(x, x) == math.inf


def test_psnr_rejects_shape_mismatch_and_excessive_crop():
    with pytest.raises(ValueError):
        psnr(np.zeros((4, 4, 3)), np.zeros((4, 4, 1)))
    with pytest.raises(ValueError):
        psnr(np.zeros((4, 4)), np.zeros((4, 4)), crop_border=2)


@pytest.mark.parametrize("variant", ["2d", "matlab3d"])
def test_ssim_of_identical_images_is_one(variant):
    x = _rng_image((24, 20, 3))
    assert ssim(x, x, variant=variant) == pytest.approx(1.0)


@pytest.mark.parametrize("variant", ["2d", "matlab3d"])
def test_ssim_of_constant_offset_matches_closed_form(variant):
    # Flat images: sigma terms vanish, so SSIM = (2ab + C1) / (a^2 + b^2 + C1) at every pixel.
    a, b = 0.3, 0.4
    x = np.full((20, 20, 3), a)
    expected = (2 * a * b + C1) / (a * a + b * b + C1)
    assert ssim(x, np.full_like(x, b), variant=variant) == pytest.approx(expected, rel=1e-9)


def test_ssim_data_range_sets_the_constants():
    a, b = 30.0, 40.0  # same picture in 0..255 units
    x = np.full((16, 16), a)
    c1 = (0.01 * 255) ** 2
    expected = (2 * a * b + c1) / (a * a + b * b + c1)
    assert ssim(x, np.full_like(x, b), data_range=255) == pytest.approx(expected, rel=1e-9)


def test_ssim_2d_matches_skimage_gaussian_settings():
    from skimage.metrics import structural_similarity

    x = _rng_image((30, 26, 3), 1)
    y = np.clip(x + np.random.default_rng(2).normal(0, 0.1, x.shape), 0, 1)
    ref = structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0, channel_axis=-1)
    assert ssim(x, y) == pytest.approx(ref, abs=1e-12)


def test_ssim_matlab3d_equals_full_volumetric_convolution():
    x = _rng_image((14, 15, 3), 3)
    y = np.clip(x + np.random.default_rng(4).normal(0, 0.2, x.shape), 0, 1)
    t = np.exp(-(np.arange(-5, 6) ** 2) / (2 * 1.5**2))
    kernel = t[:, None, None] * t[None, :, None] * t[None, None, :]
    kernel /= kernel.sum()

    def f(img):
        return convolve(img, kernel, mode="nearest")

    mx, my = f(x), f(y)
    vx, vy, cxy = f(x * x) - mx**2, f(y * y) - my**2, f(x * y) - mx * my
    expected = ((2 * mx * my + C1) * (2 * cxy + C2) / ((mx**2 + my**2 + C1) * (vx + vy + C2))).mean()
    assert ssim(x, y, variant="matlab3d") == pytest.approx(expected, abs=1e-12)


def test_ssim_variants_differ_on_colour_and_agree_on_channel_constant_interior():
    x = _rng_image((24, 24, 3), 5)
    y = np.clip(x + np.random.default_rng(6).normal(0, 0.1, x.shape), 0, 1)
    assert abs(ssim(x, y, variant="2d") - ssim(x, y, variant="matlab3d")) > 1e-3
    # Identical channels: filtering along the colour axis changes nothing, so away from the border
    # (where MATLAB pads and Wang crops) the two maps must be equal.
    g, h = x[..., :1].repeat(3, -1), y[..., :1].repeat(3, -1)
    map2d = ssim_map(g, h, variant="2d")
    map3d = ssim_map(g, h, variant="matlab3d")
    assert map2d.shape == (14, 14, 3) and map3d.shape == (24, 24, 3)
    np.testing.assert_allclose(map3d[5:-5, 5:-5], map2d, atol=1e-12)


def test_rgb_to_y_studio_range():
    white, black = np.ones((1, 1, 3)), np.zeros((1, 1, 3))
    assert rgb_to_y(white, round_uint8=False)[0, 0, 0] == pytest.approx(235.0)
    assert rgb_to_y(black, round_uint8=False)[0, 0, 0] == pytest.approx(16.0)
    red = np.array([[[1.0, 0.0, 0.0]]])
    assert rgb_to_y(red, round_uint8=False)[0, 0, 0] == pytest.approx(81.481)
    assert rgb_to_y(red, round_uint8=True)[0, 0, 0] == 81.0
    blue_u8 = np.array([[[0, 0, 255]]], dtype=np.uint8)  # uint8 input is read as /255
    assert rgb_to_y(blue_u8, round_uint8=False)[0, 0, 0] == pytest.approx(40.966)
    assert rgb_to_y(np.full((2, 2, 1), 0.5), round_uint8=False)[0, 0, 0] == pytest.approx(125.5)


def test_to_uint8_clips_then_rounds_half_to_even():
    values = np.array([-0.2, 0.5 / 255, 1.5 / 255, 2.5 / 255, 3.5 / 255, 254.6 / 255, 1.3])
    assert (values * 255)[1:5].tolist() == [0.5, 1.5, 2.5, 3.5]  # the ties really are ties
    assert to_uint8(values).tolist() == [0, 0, 2, 2, 4, 255, 255]


def test_blocking_effect_factor_of_blocky_image():
    # 16x16, four flat 8x8 blocks: only the block-boundary pairs differ.
    x = np.kron(np.array([[0.0, 0.2], [0.4, 0.6]]), np.ones((8, 8)))
    # boundary: 16 pairs across column 7|8 (diff 0.2), 16 across row 7|8 (diff 0.4) -> mean 0.1
    # non-boundary mean 0; weight log2(8)/log2(16) = 0.75
    assert blocking_effect_factor(x) == pytest.approx(0.075)
    assert psnr_b(x, x) == pytest.approx(10 * math.log10(1 / 0.075))


def test_psnr_b_equals_psnr_without_blocking_and_is_lower_otherwise():
    rows, cols = np.meshgrid(np.arange(16), np.arange(24), indexing="ij")
    ramp = ((rows + cols) / 64.0)[..., None]  # every neighbour step 1/64 (exact): no blocking
    noise = np.random.default_rng(7).normal(0, 0.02, ramp.shape)
    assert blocking_effect_factor(ramp[..., 0]) == 0.0
    assert psnr_b(ramp, ramp + noise) == pytest.approx(psnr(ramp, ramp + noise))
    blocky = ramp + np.kron(np.array([[0.0, 0.1, 0.0], [0.1, 0.0, 0.1]]), np.ones((8, 8)))[..., None]
    assert psnr_b(blocky, ramp) < psnr(blocky, ramp)


def test_psnr_b_penalises_the_tested_image_only():
    clean = np.zeros((16, 16))
    blocky = np.kron(np.array([[0.0, 0.2], [0.4, 0.6]]), np.ones((8, 8)))
    assert psnr_b(clean, blocky) == pytest.approx(psnr(clean, blocky))
    assert psnr_b(blocky, clean) < psnr(blocky, clean)
