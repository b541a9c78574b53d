"""Gaussian noise and the unprocessing camera-noise model."""

import numpy as np
import pytest

from irestore.data.camera_noise import (
    add_camera_noise,
    add_demosaicked_noise,
    bayer_masks,
    demosaic_mhc,
    add_poisson_gaussian,
    camera_noise_pair,
    process,
    random_camera,
    random_noise_levels,
    unprocess,
)
from irestore.data.colour import inverse_smoothstep, rgb_to_gray, smoothstep
from irestore.data.noise import add_gaussian


def test_gaussian_noise_has_the_requested_std_and_is_reproducible():
    img = np.full((128, 128, 3), 0.5, dtype=np.float32)
    noisy = add_gaussian(img, 25.0, np.random.default_rng(0))
    assert noisy.dtype == np.float32
    assert abs((noisy - img).std() - 25 / 255) < 0.02 * 25 / 255
    assert abs((noisy - img).mean()) < 0.002
    np.testing.assert_array_equal(noisy, add_gaussian(img, 25.0, np.random.default_rng(0)))
    assert not np.array_equal(noisy, add_gaussian(img, 25.0, np.random.default_rng(1)))


def test_gaussian_noise_clip_and_quantize():
    img = np.full((64, 64, 1), 0.95, dtype=np.float32)
    raw = add_gaussian(img, 50.0, np.random.default_rng(0))
    assert raw.max() > 1.0  # the benchmark convention: no clipping by default
    eight_bit = add_gaussian(img, 50.0, np.random.default_rng(0), quantize=True)
    assert eight_bit.min() >= 0.0 and eight_bit.max() == 1.0
    np.testing.assert_allclose(eight_bit * 255, np.rint(eight_bit * 255), atol=1e-4)
    np.testing.assert_allclose(eight_bit, np.rint(np.clip(raw, 0, 1) * 255) / 255, atol=1e-6)


def test_tone_curve_and_gray_conversion_by_hand():
    np.testing.assert_allclose(smoothstep(np.array([0.0, 0.25, 0.5, 1.0])), [0, 0.15625, 0.5, 1])
    x = np.linspace(0, 1, 101)
    np.testing.assert_allclose(inverse_smoothstep(smoothstep(x)), x, atol=1e-9)
    pixel = np.array([[[1.0, 0.5, 0.0]]], dtype=np.float32)
    np.testing.assert_allclose(rgb_to_gray(pixel), [[[0.299 + 0.5 * 0.587]]], rtol=1e-6)


def test_random_camera_keeps_white_and_draws_paper_ranges():
    rng = np.random.default_rng(3)
    for _ in range(20):
        camera = random_camera(rng)
        np.testing.assert_allclose(camera.rgb_to_cam.sum(axis=1), 1.0)
        assert 1.9 <= camera.red_gain <= 2.4 and 1.5 <= camera.blue_gain <= 1.9


def test_noise_levels_follow_the_log_linear_fit():
    rng = np.random.default_rng(0)
    levels = np.array([random_noise_levels(rng) for _ in range(2000)])
    shot, read = np.log(levels[:, 0]), np.log(levels[:, 1])
    assert shot.min() >= np.log(1e-4) and shot.max() <= np.log(1.2e-2)
    residual = read - (2.18 * shot + 1.20)
    assert abs(residual.mean()) < 0.03 and abs(residual.std() - 0.26) < 0.02


@pytest.mark.parametrize("channels", [3, 1])
def test_process_inverts_unprocess_without_noise(channels):
    rng = np.random.default_rng(7)
    img = rng.uniform(0.05, 0.6, size=(16, 16, channels)).astype(np.float32)
    for _ in range(5):
        camera = random_camera(rng)
        np.testing.assert_allclose(process(unprocess(img, camera), camera), img, atol=1e-3)


def test_shot_noise_variance_grows_with_brightness():
    shot, read = 0.01, 1e-4
    rng = np.random.default_rng(0)
    for level in (0.1, 0.8):
        raw = np.full((200, 200, 3), level)
        variance = (add_poisson_gaussian(raw, shot, read, rng) - raw).var()
        assert abs(variance / (shot * level + read) - 1) < 0.03  # 0.0011 and 0.0081 by hand


def _lag1_correlation(noise: np.ndarray) -> float:
    d = noise - noise.mean()
    return float((d[:, 1:] * d[:, :-1]).mean() / d.var())


def test_demosaicked_noise_is_spatially_correlated_like_real_camera_noise():
    raw = np.full((128, 128, 3), 0.3)
    independent = add_poisson_gaussian(raw, 4e-3, 1e-4, np.random.default_rng(0)) - raw
    demosaicked = add_demosaicked_noise(raw, 4e-3, 1e-4, np.random.default_rng(0)) - raw
    assert abs(_lag1_correlation(independent)) < 0.05
    assert 0.4 < _lag1_correlation(demosaicked) < 0.8  # Nam CC15 measures 0.6-0.8
    masks = bayer_masks(128, 128)
    assert masks.sum(-1).tolist() == np.ones((128, 128)).tolist() and masks[..., 1].mean() == 0.5
    sampled = demosaicked[masks[..., 0], 0]  # red sites keep their own full-variance sample
    assert abs(sampled.var() / (4e-3 * 0.3 + 1e-4) - 1) < 0.1


def test_demosaic_leaves_the_clean_target_and_gray_images_alone():
    img = np.random.default_rng(1).uniform(0.2, 0.7, (32, 32, 3)).astype(np.float32)
    _, plain = camera_noise_pair(img, np.random.default_rng(5))
    noisy, clean = camera_noise_pair(img, np.random.default_rng(5), demosaic=True)
    np.testing.assert_array_equal(clean, plain)
    assert _lag1_correlation((noisy - clean)[..., 0]) > 0.3
    gray = img[..., :1]
    np.testing.assert_array_equal(
        camera_noise_pair(gray, np.random.default_rng(2), demosaic=True)[0], camera_noise_pair(gray, np.random.default_rng(2))[0]
    )


def test_camera_noise_is_unbiased_reproducible_and_in_range():
    img = np.random.default_rng(1).uniform(0.2, 0.7, (48, 48, 3)).astype(np.float32)
    noisy, clean = camera_noise_pair(img, np.random.default_rng(5))
    assert noisy.dtype == np.float32 and 0 <= noisy.min() and noisy.max() <= 1
    np.testing.assert_allclose(clean, img, atol=1e-3)
    assert abs(float((noisy - clean).mean())) < 0.01
    assert (noisy - clean).std() > 1e-3
    np.testing.assert_array_equal(noisy, add_camera_noise(img, np.random.default_rng(5)))
    assert not np.array_equal(noisy, add_camera_noise(img, np.random.default_rng(6)))


def test_camera_noise_degradation_demosaics_the_configured_share():
    from irestore.data.degradations import CameraNoise
    from irestore.errors import ConfigError

    with pytest.raises(ConfigError, match="demosaic"):
        CameraNoise(demosaic=1.5)
    img = np.full((64, 64, 3), 0.4, np.float32)
    noisy, clean = CameraNoise(quantize=False, demosaic=1.0)(img, np.random.default_rng(0))
    assert _lag1_correlation(noisy - clean) > 0.3
    noisy, clean = CameraNoise(quantize=False)(img, np.random.default_rng(0))
    assert abs(_lag1_correlation(noisy - clean)) < 0.1


def test_shot_range_bounds_the_sampled_noise_levels():
    from irestore.data.degradations import CameraNoise
    from irestore.errors import ConfigError

    rng = np.random.default_rng(0)
    shots = [random_noise_levels(rng, (2e-2, 3e-2))[0] for _ in range(200)]
    assert 2e-2 <= min(shots) and max(shots) <= 3e-2
    with pytest.raises(ConfigError, match="shot_range"):
        CameraNoise(shot_range=(3e-2, 1e-3))
    img = np.full((64, 64, 3), 0.4, np.float32)
    quiet = CameraNoise(quantize=False, shot_range=(1e-4, 1e-4))(img, np.random.default_rng(1))
    loud = CameraNoise(quantize=False, shot_range=(3e-2, 3e-2))(img, np.random.default_rng(1))
    assert (loud[0] - loud[1]).std() > 3 * (quiet[0] - quiet[1]).std()


def test_in_camera_jpeg_applies_to_its_share_and_leaves_the_target_clean():
    from irestore.data.degradations import CameraNoise
    from irestore.data.jpeg import jpeg_compress
    from irestore.errors import ConfigError

    with pytest.raises(ConfigError, match="jpeg"):
        CameraNoise(jpeg=2.0)
    with pytest.raises(ConfigError, match="jpeg_quality"):
        CameraNoise(jpeg=0.5, jpeg_quality=(90, 120))
    img = np.random.default_rng(3).random((64, 64, 3)).astype(np.float32)
    noisy, clean = CameraNoise(jpeg=1.0, jpeg_quality=(90, 90))(img, np.random.default_rng(4))
    raw, raw_clean = CameraNoise(quantize=False)(img, np.random.default_rng(4))  # the same noise, before the camera saves it
    np.testing.assert_array_equal(noisy, jpeg_compress(raw, 90))
    np.testing.assert_array_equal(clean, raw_clean)
    kept = CameraNoise(quantize=False, jpeg=0.0)(img, np.random.default_rng(4))[0]
    np.testing.assert_array_equal(kept, raw)


def test_mhc_demosaicking_restores_a_flat_colour_from_its_mosaic():
    colour = np.array([0.7, 0.4, 0.2])
    img = np.broadcast_to(colour, (16, 16, 3))
    restored = demosaic_mhc(np.where(bayer_masks(16, 16), img, 0.0))
    np.testing.assert_allclose(restored, img, atol=1e-12)


def _rb_correlation(noise: np.ndarray) -> float:
    return float(np.corrcoef(noise[..., 0].ravel(), noise[..., 2].ravel())[0, 1])


def test_mhc_noise_correlates_the_colours_as_real_srgb_noise_does():
    img = np.full((96, 96, 3), 0.35, np.float32)
    camera = random_camera(np.random.default_rng(3))
    noise = {
        method: np.subtract(*camera_noise_pair(
            img, np.random.default_rng(4), camera, (4e-3, 1e-4), demosaic=True, demosaic_method=method
        ))
        for method in ("bilinear", "mhc")
    }
    assert _rb_correlation(noise["mhc"]) > 0.3  # SIDD's samples measure 0.4-0.6, PolyU_real's 0.4-0.9
    assert _rb_correlation(noise["bilinear"]) < 0.2
    assert 0.3 < _lag1_correlation(noise["mhc"][..., 1]) < 0.8


def test_camera_noise_rejects_an_unknown_demosaicker():
    from irestore.data.degradations import CameraNoise
    from irestore.errors import ConfigError

    with pytest.raises(ConfigError, match="demosaic_method"):
        CameraNoise(demosaic=1.0, demosaic_method="vng")
