"""Dataset lookup, layouts and the benchmark degradations, on small generated datasets."""

import math
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest
import scipy.io

from irestore.errors import ConfigError, DatasetError
from irestore.evaluation import PRESETS, Level, data_roots, evaluate, iter_samples, make_baseline, open_dataset
from irestore.evaluation.datasets import SIDD_GT, SIDD_NOISY
from irestore.evaluation.samples import add_benchmark_noise, read_image
from irestore.evaluation.sidd_mat import BlockFile

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"  # the checkout's sibling


def write_png(path: Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    bgr = pixels if pixels.ndim == 2 else pixels[..., ::-1]
    assert cv2.imwrite(str(path), np.ascontiguousarray(bgr))


def sidd_arrays(images=2, blocks=3, size=16):
    rng = np.random.default_rng(0)
    gt = rng.integers(20, 200, (images, blocks, size, size, 3), dtype=np.uint8)
    offsets = np.arange(1, images * blocks + 1, dtype=np.uint8).reshape(images, blocks, 1, 1, 1)
    return gt + offsets, gt  # block k (image-major) is off by k + 1 grey levels


def write_mat_v73(path: Path, key: str, array: np.ndarray) -> None:
    """What MATLAB's save -v7.3 writes: HDF5 after a 512-byte header, axes in reverse order."""
    with h5py.File(path, "w", userblock_size=512) as f:
        f.create_dataset(key, data=np.ascontiguousarray(array.T))
    with open(path, "r+b") as f:
        f.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: test HDF5 schema 1.00 .".ljust(128))


@pytest.fixture
def sidd_dirs(tmp_path):
    noisy, gt = sidd_arrays()
    v5, v73 = tmp_path / "v5" / "SIDD", tmp_path / "v73" / "SIDD"
    v5.mkdir(parents=True)
    v73.mkdir(parents=True)
    scipy.io.savemat(v5 / f"{SIDD_NOISY}.mat", {SIDD_NOISY: noisy})
    scipy.io.savemat(v5 / f"{SIDD_GT}.mat", {SIDD_GT: gt})
    write_mat_v73(v73 / f"{SIDD_NOISY}.mat", SIDD_NOISY, noisy)
    write_mat_v73(v73 / f"{SIDD_GT}.mat", SIDD_GT, gt)
    return v5, v73, noisy, gt


def test_data_roots_order(monkeypatch, tmp_path):
    monkeypatch.setenv("IRESTORE_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    roots = data_roots()
    assert roots[:2] == [tmp_path, tmp_path / "cache" / "irestore" / "datasets"]
    assert roots[2:] == [SHARED]  # this test runs from a source checkout
    assert data_roots(tmp_path / "x") == [tmp_path / "x"]


def test_cache_folder_follows_xdg_and_ignores_a_relative_one(tmp_path):
    from irestore.data_paths import cache_dir

    assert cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "irestore" / "datasets"
    assert cache_dir({"XDG_CACHE_HOME": "relative"}) == Path.home() / ".cache" / "irestore" / "datasets"
    assert cache_dir({}) == Path.home() / ".cache" / "irestore" / "datasets"


def test_training_root_is_the_named_one_else_the_first_existing_fallback(tmp_path):
    from irestore.data_paths import data_root

    assert data_root(tmp_path / "given", {}) == tmp_path / "given"
    assert data_root(None, {"IRESTORE_DATA": str(tmp_path / "typo")}) == tmp_path / "typo"
    (tmp_path / "cache" / "irestore" / "datasets").mkdir(parents=True)
    assert data_root(None, {"XDG_CACHE_HOME": str(tmp_path / "cache")}) == tmp_path / "cache" / "irestore" / "datasets"


def test_named_dataset_found_under_test_and_case_insensitively(tmp_path):
    write_png(tmp_path / "test" / "set12" / "01.png", np.zeros((8, 8), np.uint8))
    source = open_dataset("SET12", tmp_path)
    assert source.path == tmp_path / "test" / "set12"
    assert source.kind == "clean" and source.gray and source.default_task == "denoise"


def test_missing_dataset_says_where_and_how(tmp_path):
    with pytest.raises(DatasetError, match=r"CBSD68 not found .*test/CBSD68.*get it from .*FFDNet.*68 colour PNGs"):
        open_dataset("CBSD68", tmp_path)
    with pytest.raises(DatasetError) as sidd:
        open_dataset("SIDD", tmp_path)
    assert "SIDD website" in str(sidd.value) and f"{SIDD_NOISY}.mat and {SIDD_GT}.mat" in str(sidd.value)
    assert "\n" not in str(sidd.value)
    with pytest.raises(DatasetError, match="does not exist"):
        open_dataset("CBSD68", tmp_path / "nowhere")
    with pytest.raises(DatasetError, match="unknown dataset"):
        open_dataset("NoSuchSet")
    (tmp_path / "SIDD").mkdir()
    with pytest.raises(DatasetError, match=f"{SIDD_NOISY}.mat: missing"):
        open_dataset("SIDD", tmp_path)


def test_sidd_v5_and_v73_read_the_same_blocks(sidd_dirs):
    v5, v73, noisy, _ = sidd_dirs
    with BlockFile(v5 / f"{SIDD_NOISY}.mat", SIDD_NOISY) as a, BlockFile(v73 / f"{SIDD_NOISY}.mat", SIDD_NOISY) as b:
        assert a.shape == b.shape == (2, 3, 16, 16, 3) and len(a) == 6
        for k in range(6):
            image, block = divmod(k, 3)
            np.testing.assert_array_equal(a.block(k), noisy[image, block] / np.float32(255))
            np.testing.assert_array_equal(b.block(k), a.block(k))


def test_sidd_protocol_scores_float_blocks(sidd_dirs):
    v5, v73, _, _ = sidd_dirs
    # identity: block k differs by k + 1 grey levels everywhere -> PSNR 20 log10(255 / (k + 1)), peak 1
    expected = np.mean([20 * math.log10(255 / (k + 1)) for k in range(6)])
    for folder in (v5, v73):
        (result,) = evaluate("SIDD", restore=lambda img: img, data_dir=folder.parent)
        assert result.preset == "sidd-val" and result.images == 6
        assert result.psnr == pytest.approx(expected, abs=1e-4)
        assert result.ssim_variant == "matlab3d" and result.data_range == 1.0 and result.crop == 0
    (limited,) = evaluate(str(v5), restore=lambda img: img, limit=2)
    assert limited.images == 2
    assert limited.psnr == pytest.approx((20 * math.log10(255) + 20 * math.log10(127.5)) / 2, abs=1e-4)


def test_sidd_wrong_key_and_shape(tmp_path):
    scipy.io.savemat(tmp_path / f"{SIDD_NOISY}.mat", {"a": np.zeros((2, 2)), "b": np.zeros((2, 2))})
    with pytest.raises(DatasetError, match="no variable 'ValidationNoisyBlocksSrgb'"):
        BlockFile(tmp_path / f"{SIDD_NOISY}.mat", SIDD_NOISY)
    scipy.io.savemat(tmp_path / "one.mat", {"x": np.zeros((4, 4), np.uint8)})
    with pytest.raises(DatasetError, match="expected images x blocks"):
        BlockFile(tmp_path / "one.mat", SIDD_NOISY)


def test_custom_pairs_match_by_stem_and_report_missing_targets(tmp_path):
    target = np.full((12, 12, 3), 100, np.uint8)
    write_png(tmp_path / "input" / "a.png", target + 10)
    write_png(tmp_path / "target" / "a.png", target)
    with pytest.raises(ConfigError, match="--task"):
        evaluate(str(tmp_path), restore=lambda img: img)
    (result,) = evaluate(str(tmp_path), restore=lambda img: img, task="denoise")
    assert result.preset == "real-srgb"
    assert result.psnr == pytest.approx(20 * math.log10(255 / 10), abs=1e-4)
    write_png(tmp_path / "input" / "b.png", target)
    with pytest.raises(DatasetError, match=r"b.png: no matching target"):
        evaluate(str(tmp_path), restore=lambda img: img, task="denoise")


def test_gaussian_noise_is_restormers_seeded_unclipped_noise():
    clean = np.full((6, 5, 3), 0.02, np.float32)
    np.random.seed(0)
    expected = clean + np.random.normal(0, 25 / 255.0, clean.shape)
    noisy = add_benchmark_noise(clean, 25)
    np.testing.assert_allclose(noisy, expected, atol=1e-6)
    assert noisy.min() < 0  # not clipped
    np.testing.assert_array_equal(add_benchmark_noise(clean, 25), noisy)  # same seed for every image


def test_gray_jpeg_target_is_rounded_matlab_y_of_colour_file(tmp_path):
    write_png(tmp_path / "img.png", np.tile(np.array([255, 0, 0], np.uint8), (16, 16, 1)))  # pure red
    source = open_dataset(str(tmp_path))
    (sample,) = iter_samples(source, "jpeg", Level("quality", 90), PRESETS["jpeg-gray"])
    assert sample.target.shape == (16, 16, 1)
    np.testing.assert_array_equal(sample.target * 255, np.full((16, 16, 1), 81.0, np.float32))  # 16 + 65.481
    (colour,) = iter_samples(source, "jpeg", Level("quality", 90), PRESETS["jpeg-color"])
    assert colour.target.shape == (16, 16, 3) and colour.degraded.shape == (16, 16, 3)


def test_sr_uses_given_lr_and_crops_hr_to_lr_times_scale(tmp_path):
    hr = np.random.default_rng(1).integers(0, 256, (21, 18, 3), dtype=np.uint8)
    write_png(tmp_path / "HR" / "bird.png", hr)
    write_png(tmp_path / "LR_bicubic" / "X2" / "birdx2.png", hr[::2, ::2][:10, :9])
    source = open_dataset(str(tmp_path))
    (sample,) = iter_samples(source, "sr", Level("scale", 2), PRESETS["sr-y"])
    assert sample.degraded.shape == (10, 9, 3) and sample.target.shape == (20, 18, 3)
    # Restore perfectly except a 2-pixel frame: with crop = scale the frame is not scored.
    def restore(lr):
        out = sample.target.copy()
        out[:2] = 0
        return out

    (result,) = evaluate(str(tmp_path), restore=restore, task="sr", levels=[2])
    assert result.preset == "sr-y" and result.crop == 2 and result.color_space == "y"
    assert result.psnr == math.inf


def test_sr_without_lr_makes_matlab_bicubic_lr(tmp_path):
    pytest.importorskip("irestore.data.resize")
    write_png(tmp_path / "img.png", np.full((13, 12, 3), 77, np.uint8))
    (sample,) = iter_samples(open_dataset(str(tmp_path)), "sr", Level("scale", 4), PRESETS["sr-y"])
    assert sample.degraded.shape == (3, 3, 3) and sample.target.shape == (12, 12, 3)
    np.testing.assert_allclose(sample.degraded, 77 / 255, atol=1e-6)  # a flat image stays flat


def test_deblur_set_is_fixed_and_independent_of_limit(tmp_path):
    pytest.importorskip("irestore.data.blur")
    rng = np.random.default_rng(3)
    for name in ("a", "b"):
        write_png(tmp_path / f"{name}.png", rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    source = open_dataset(str(tmp_path))
    first = [s.degraded for s in iter_samples(source, "deblur", Level("none"), PRESETS["deblur-gopro"])]
    again = [s.degraded for s in iter_samples(source, "deblur", Level("none"), PRESETS["deblur-gopro"], limit=1)]
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.allclose(first[0], read_image(tmp_path / "a.png", "rgb"), atol=0.02)


def test_clean_folder_refuses_pair_only_tasks(tmp_path):
    write_png(tmp_path / "a.png", np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(ConfigError, match="no 'derain' protocol"):
        evaluate(str(tmp_path), restore=lambda img: img, task="derain")


@pytest.mark.skipif(not (SHARED / "test" / "Classic5").is_dir(), reason="shared datasets not mounted")
def test_shared_classic5_jpeg_q10_matches_published_jpeg_row():
    # SwinIR's table: Classic5 JPEG q10 input scores 27.82 dB / 25.21 dB PSNR-B (5 images, gray).
    (result,) = evaluate("Classic5", restore=make_baseline("identity"), levels=[10], data_dir=SHARED)
    assert result.preset == "jpeg-gray" and result.images == 5
    assert result.psnr == pytest.approx(27.82, abs=0.01)
    assert result.psnr_b == pytest.approx(25.21, abs=0.01)
