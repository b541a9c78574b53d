"""Training patches: random crops of in-memory images, augmented, degraded on the fly.

Reproducibility: sample ``i`` draws everything (which image, where, which flip, the degradation's
randomness) from ``np.random.default_rng([seed, i])``. A batch sampler that gives step ``s`` the
samples ``s * batch + j`` therefore makes a run resumed at step ``s`` see exactly the batches it
would have seen, whatever the number of DataLoader workers. The patch size can travel with the
index (``dataset[(i, patch)]``) because workers hold their own copy of the dataset and would never
see a progressive-patch change made in the main process.

Degradations are applied to the patch plus ``context`` pixels on each side, then the border is cut
away, so blur kernels and bicubic taps at the patch edge see real image content as they would on a
whole test image rather than padding.
"""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from irestore.data.colour import rgb_to_gray
from irestore.data.degradations import Degradation
from irestore.errors import ConfigError, DatasetError
from irestore.io import list_images, read_image

Sample = tuple[torch.Tensor, torch.Tensor]
ImagePair = tuple[np.ndarray, np.ndarray]


def _read_stored(path: Path, gray: bool, downscale: int = 1) -> np.ndarray:
    """H x W x C RGB as uint8 (uint16 for 16-bit files): a quarter of float32's memory.

    ``downscale`` > 1 averages each ``downscale`` x ``downscale`` block: a full-size camera photo,
    even a mean of many shots, keeps noise and JPEG blocks that a clean target must not have, and a
    4x area reduction averages them away (noise std / 4) while keeping a 1.5-2 MP photo of detail.
    """
    image = read_image(path)
    pixels = image.pixels
    if downscale > 1:
        h, w = pixels.shape[0] // downscale * downscale, pixels.shape[1] // downscale * downscale
        blocks = pixels[:h, :w].reshape(h // downscale, downscale, w // downscale, downscale, -1)
        pixels = blocks.mean(axis=(1, 3), dtype=np.float32)
    if gray and pixels.shape[2] == 3:
        pixels = rgb_to_gray(pixels)
    if not gray and pixels.shape[2] == 1:
        raise DatasetError(f"{path}: gray image in a colour training set (use gray=True)")
    dtype = np.uint16 if image.bit_depth == 16 else np.uint8
    return np.rint(pixels * np.iinfo(dtype).max).astype(dtype)


def _checked_patch_size(size: int, scale: int) -> int:
    if size <= 0 or size % scale:
        raise ConfigError(f"patch size must be a positive multiple of scale {scale}, got {size}")
    return int(size)


def _to_float(pixels: np.ndarray) -> np.ndarray:
    return pixels.astype(np.float32) / np.float32(np.iinfo(pixels.dtype).max)


def _augment(images: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """The same one of the 8 flips/rotations (dihedral group) applied to every image in the list."""
    turns, flip = int(rng.integers(4)), bool(rng.random() < 0.5)
    out = [np.rot90(img, turns, axes=(0, 1)) for img in images]
    return [np.ascontiguousarray(img[:, ::-1] if flip else img) for img in out]


def _pad_to(img: np.ndarray, size: int) -> np.ndarray:
    """Pad bottom/right symmetrically up to ``size`` (T91 has images smaller than a 128 patch)."""
    pad_h, pad_w = max(size - img.shape[0], 0), max(size - img.shape[1], 0)
    if not (pad_h or pad_w):
        return img
    return np.pad(img, ((0, pad_h), (0, pad_w), (0, 0)), mode="symmetric")


def _random_window(img: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``size x size`` crop of ``img`` (padded first if smaller)."""
    img = _pad_to(img, size)
    top = int(rng.integers(img.shape[0] - size + 1))
    left = int(rng.integers(img.shape[1] - size + 1))
    return img[top : top + size, left : left + size]


def _to_tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32))


def _check_pair(low: np.ndarray, high: np.ndarray, scale: int, path: Path) -> None:
    if high.shape != (low.shape[0] * scale, low.shape[1] * scale, low.shape[2]):
        raise DatasetError(
            f"{path}: target {high.shape} is not the input {low.shape} times scale {scale}"
        )


def load_pairs(paired: tuple[Path, Path], gray: bool, scale: int = 1, keep: Callable[[str], bool] = lambda name: True) -> list[tuple[str, ImagePair]]:
    """``(input file name, (input, target))`` of two folders matched by sorted file order; only the
    pairs whose input name ``keep`` accepts are read (full-size photo pairs weigh ~100 MB each)."""
    inputs, targets = (list_images(d) for d in paired)
    if len(inputs) != len(targets):
        raise DatasetError(f"{paired[0]}: {len(inputs)} inputs but {len(targets)} targets in {paired[1]}")
    pairs = [(a.name, (_read_stored(a, gray), _read_stored(b, gray))) for a, b in zip(inputs, targets) if keep(a.name)]
    for name, (low, high) in pairs:
        _check_pair(low, high, scale, paired[0] / name)
    return pairs


class PatchDataset(Dataset[Sample]):
    """Map-style dataset of ``(input, target)`` C x H x W float32 tensor pairs.

    ``clean_dirs`` hold clean images degraded on the fly by ``degradation``; ``paired`` is an
    optional ``(input_dir, target_dir)`` of ready-made pairs, matched by sorted file order. Every
    sample picks one image uniformly from both pools. For SR (a degradation with a ``scale``) the
    input patch is ``patch_size / scale`` and paired inputs must be the targets' size / scale.
    Indices beyond ``len()`` are valid: ``len()`` is only one sample per image, an "epoch".
    ``downscale`` maps a clean folder to the factor its images are shrunk by when loaded.
    Clean files in ``exclude`` (resolved paths) are held out, e.g. for validation, and so are pairs
    whose input file name starts with one of ``paired_holdout``. ``paired_share`` > 0 draws that
    share of the samples from the pairs (a few large real pairs beside hundreds of clean images).
    """

    def __init__(
        self,
        clean_dirs: list[Path],
        degradation: Degradation | None,
        patch_size: int,
        gray: bool,
        seed: int,
        paired: tuple[Path, Path] | None = None,
        context: int = 16,
        exclude: frozenset[Path] = frozenset(),
        paired_share: float = 0.0,
        paired_holdout: tuple[str, ...] = (),
        downscale: dict[Path, int] | None = None,
    ) -> None:
        if clean_dirs and degradation is None:
            raise ConfigError("clean training images need a degradation to make inputs")
        self.degradation = degradation
        self.scale = int(getattr(degradation, "scale", 1))
        self.seed = seed
        self.context = context // self.scale * self.scale
        shrink = downscale or {}
        self.clean = [_read_stored(p, gray, shrink.get(d, 1)) for d in clean_dirs for p in list_images(d) if p.resolve() not in exclude]
        trained = lambda name: not name.startswith(paired_holdout)  # with no prefixes every pair trains
        self.pairs = [pair for _, pair in load_pairs(paired, gray, self.scale, keep=trained)] if paired else []
        self.paired_share = paired_share if self.pairs and self.clean else 0.0
        if not self.clean and not self.pairs:
            raise ConfigError("no training images: give clean folders or a paired folder")
        self.patch_size = patch_size

    @property
    def patch_size(self) -> int:
        """Target patch side; may be changed between steps (progressive patches)."""
        return self._patch_size

    @patch_size.setter
    def patch_size(self, size: int) -> None:
        self._patch_size = _checked_patch_size(size, self.scale)

    def __len__(self) -> int:
        return len(self.clean) + len(self.pairs)

    def __getitem__(self, index: int | tuple[int, int]) -> Sample:
        i, size = index if isinstance(index, tuple) else (index, self._patch_size)
        size = _checked_patch_size(size, self.scale)
        rng = np.random.default_rng([self.seed, int(i)])
        if self.paired_share > 0:
            from_pairs = rng.random() < self.paired_share
            pick = len(self.clean) + int(rng.integers(len(self.pairs))) if from_pairs else int(rng.integers(len(self.clean)))
        else:
            pick = int(rng.integers(len(self)))
        if pick < len(self.clean):
            low, high = self._synthetic(self.clean[pick], size, rng)
        else:
            low, high = self._paired(self.pairs[pick - len(self.clean)], size, rng)
        return _to_tensor(low), _to_tensor(high)

    def _synthetic(self, img: np.ndarray, size: int, rng: np.random.Generator) -> ImagePair:
        margin = self.context
        (window,) = _augment([_to_float(_random_window(img, size + 2 * margin, rng))], rng)
        degraded, target = self.degradation(window, rng)
        low_margin, low_size = margin // self.scale, size // self.scale
        low = degraded[low_margin : low_margin + low_size, low_margin : low_margin + low_size]
        return low, target[margin : margin + size, margin : margin + size]

    def _paired(self, pair: ImagePair, size: int, rng: np.random.Generator) -> ImagePair:
        low_size = size // self.scale
        low_img, high_img = _pad_to(pair[0], low_size), _pad_to(pair[1], size)
        top = int(rng.integers(low_img.shape[0] - low_size + 1))
        left = int(rng.integers(low_img.shape[1] - low_size + 1))
        low = low_img[top : top + low_size, left : left + low_size]
        s = self.scale
        high = high_img[top * s : (top + low_size) * s, left * s : (left + low_size) * s]
        low, high = _augment([_to_float(low), _to_float(high)], rng)
        return low, high
