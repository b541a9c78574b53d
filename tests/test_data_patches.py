"""PatchDataset: reproducible crops, scale handling, pairs, progressive patches, errors."""

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from irestore.data.degradations import make_degradation
from irestore.data.patches import PatchDataset
from irestore.errors import ConfigError, DatasetError

torch.set_num_threads(1)


@dataclass
class HalfBrightness:
    """A degradation whose input is exactly half the target; it records the windows it saw."""

    seen: list = field(default_factory=list)

    def __call__(self, img, rng):
        self.seen.append(img.shape)
        return img * 0.5, img


def _write_images(folder: Path, shapes: list[tuple[int, ...]], seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i, shape in enumerate(shapes):
        cv2.imwrite(str(folder / f"img{i}.png"), rng.integers(0, 256, shape, dtype=np.uint8))
    return folder


@pytest.fixture
def colour_dir(tmp_path: Path) -> Path:
    return _write_images(tmp_path / "clean", [(40, 50, 3), (36, 36, 3), (20, 24, 3)])


def test_samples_are_reproducible_from_seed_and_index(colour_dir):
    dataset = PatchDataset([colour_dir], make_degradation("denoise-gaussian"), 32, False, seed=1)
    low, high = dataset[7]
    assert low.shape == high.shape == (3, 32, 32) and low.dtype == torch.float32
    again = PatchDataset([colour_dir], make_degradation("denoise-gaussian"), 32, False, seed=1)[7]
    assert torch.equal(low, again[0]) and torch.equal(high, again[1])
    other_seed = PatchDataset([colour_dir], make_degradation("denoise-gaussian"), 32, False, seed=2)
    assert not torch.equal(high, other_seed[7][1]) or not torch.equal(low, other_seed[7][0])
    assert not torch.equal(low, dataset[8][0])


def test_targets_are_8bit_crops_and_inputs_come_from_the_degradation(colour_dir):
    degradation = HalfBrightness()
    dataset = PatchDataset([colour_dir], degradation, 24, False, seed=0)
    for i in range(6):  # includes the 20x24 image, padded to fit the window
        low, high = dataset[i]
        assert torch.equal(low, high * 0.5)
        np.testing.assert_allclose(high * 255, torch.round(high * 255), atol=1e-4)
    assert set(degradation.seen) == {(24 + 2 * 16, 24 + 2 * 16, 3)}  # patch + context each side


def test_target_patch_is_a_flipped_or_rotated_crop_of_a_source_image(tmp_path):
    source = np.random.default_rng(4).integers(0, 256, (30, 30, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "only.png"), source)
    dataset = PatchDataset([tmp_path], HalfBrightness(), 8, False, seed=0, context=0)
    rgb = source[..., ::-1].astype(np.float32) / 255
    variants = [np.rot90(v, k) for v in (rgb, rgb[:, ::-1]) for k in range(4)]
    for i in range(4):
        patch = dataset[i][1].numpy().transpose(1, 2, 0)
        windows = [np.lib.stride_tricks.sliding_window_view(v, (8, 8, 3)) for v in variants]
        assert any(np.any(np.all(np.isclose(w, patch), axis=(-3, -2, -1))) for w in windows)


def test_sr_input_is_patch_over_scale_and_patch_size_can_change(colour_dir):
    dataset = PatchDataset([colour_dir], make_degradation("sr", scale=4), 32, False, seed=0)
    low, high = dataset[0]
    assert low.shape == (3, 8, 8) and high.shape == (3, 32, 32)
    dataset.patch_size = 48
    assert dataset[0][0].shape == (3, 12, 12)
    assert dataset[(0, 16)][0].shape == (3, 4, 4)
    with pytest.raises(ConfigError):
        dataset.patch_size = 30


def test_gray_training_converts_colour_and_rejects_gray_in_colour_sets(colour_dir, tmp_path):
    dataset = PatchDataset([colour_dir], make_degradation("jpeg"), 16, True, seed=0)
    assert dataset[0][0].shape == (1, 16, 16)
    gray_dir = _write_images(tmp_path / "gray", [(20, 20)])
    with pytest.raises(DatasetError, match="img0.png"):
        PatchDataset([gray_dir], make_degradation("jpeg"), 16, False, seed=0)


def test_missing_or_empty_folders_are_dataset_errors(tmp_path):
    with pytest.raises(DatasetError, match="nowhere"):
        PatchDataset([tmp_path / "nowhere"], make_degradation("jpeg"), 16, False, seed=0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="empty"):
        PatchDataset([tmp_path / "empty"], make_degradation("jpeg"), 16, False, seed=0)


def test_paired_crops_stay_aligned_under_scale_and_augmentation(tmp_path):
    rng = np.random.default_rng(0)
    lows = [rng.integers(0, 256, (12, 10, 3), dtype=np.uint8) for _ in range(2)]
    (tmp_path / "lr").mkdir()
    (tmp_path / "hr").mkdir()
    for i, low in enumerate(lows):
        cv2.imwrite(str(tmp_path / "lr" / f"a{i}.png"), low)
        cv2.imwrite(str(tmp_path / "hr" / f"b{i}.png"), np.kron(low, np.ones((2, 2, 1), np.uint8)))
    pairs = (tmp_path / "lr", tmp_path / "hr")
    dataset = PatchDataset([], make_degradation("sr", scale=2), 8, False, seed=0, paired=pairs)
    for i in range(6):
        low, high = dataset[i]
        assert low.shape == (3, 4, 4)
        assert torch.equal(low.repeat_interleave(2, 1).repeat_interleave(2, 2), high)
    with pytest.raises(DatasetError, match="a0.png"):
        PatchDataset([], make_degradation("sr", scale=4), 8, False, seed=0, paired=pairs)


def _step_batches(start: int, steps: int, batch: int) -> list[list[tuple[int, int]]]:
    """Step s holds samples s * batch + j, with a progressive patch size (16, then 24)."""
    patch = [16, 16, 24]
    return [[(s * batch + j, patch[s]) for j in range(batch)] for s in range(start, steps)]


def test_resumed_run_sees_the_same_batches_with_workers_or_without(colour_dir):
    dataset = PatchDataset([colour_dir], make_degradation("deblur"), 16, False, seed=0)
    batches = list(DataLoader(dataset, batch_sampler=_step_batches(0, 3, 2)))
    resumed = next(iter(DataLoader(dataset, batch_sampler=_step_batches(2, 3, 2), num_workers=1)))
    assert batches[0][0].shape == (2, 3, 16, 16) and batches[2][0].shape == (2, 3, 24, 24)
    assert torch.equal(resumed[0], batches[2][0]) and torch.equal(resumed[1], batches[2][1])


def test_a_downscaled_folder_is_loaded_as_block_means_and_others_are_not(tmp_path):
    photos = _write_images(tmp_path / "photos", [(41, 62, 3)], seed=4)
    small = _write_images(tmp_path / "small", [(20, 24, 3)], seed=5)
    data = PatchDataset([photos, small], HalfBrightness(), 8, gray=False, seed=0, downscale={photos: 4})
    stored = cv2.imread(str(photos / "img0.png"))[..., ::-1].astype(np.float64)
    expected = stored[:40, :60].reshape(10, 4, 15, 4, 3).mean(axis=(1, 3))
    assert data.clean[0].shape == (10, 15, 3) and data.clean[1].shape == (20, 24, 3)
    assert np.abs(data.clean[0] - expected).max() <= 0.5 + 1e-6


def test_downscale_must_name_a_training_folder_with_an_integer_factor():
    from irestore.train import TrainConfig

    with pytest.raises(ConfigError, match="downscale names folders of train_dirs"):
        TrainConfig(train_dirs=["a"], downscale={"b": 4})
    with pytest.raises(ConfigError, match="integers >= 1"):
        TrainConfig(train_dirs=["a"], downscale={"a": 0.5})
