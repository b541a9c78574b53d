"""Read the SIDD sRGB validation blocks from MATLAB files, v5 or v7.3.

The official files hold one uint8 array of shape 40 x 32 x 256 x 256 x 3 (image, block, row,
column, RGB) under a key named like the file. MATLAB v5 files are read with ``scipy.io.loadmat``;
v7.3 files are HDF5, which ``loadmat`` refuses, so they go through ``h5py``. HDF5 stores MATLAB's
column-major array with the axes in reverse order (3 x 256 x 256 x 32 x 40), so every index is
reversed here; v7.3 blocks are read one at a time instead of loading 250 MB.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import scipy.io

from irestore.errors import DatasetError


class BlockFile:
    """One ``(images, blocks, H, W, C)`` array in a ``.mat`` file, read block by block."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise DatasetError(f"{self.path}: SIDD file not found")
        self._h5: h5py.File | None = None
        if h5py.is_hdf5(self.path):
            self._h5 = h5py.File(self.path, "r")
            names = [k for k in self._h5.keys() if not k.startswith("#")]
            data = self._h5[self._pick(key, names)]
            shape = tuple(reversed(data.shape))
        else:
            data = self._load_v5(key)
            shape = data.shape
        if len(shape) == 4:
            shape = (shape[0], 1) + shape[1:]
        if len(shape) != 5 or shape[-1] not in (1, 3):
            self.close()
            raise DatasetError(f"{self.path}: {key} has shape {shape}, expected images x blocks x H x W x 3")
        self._data = data
        self.shape = shape

    def _pick(self, key: str, names: list[str]) -> str:
        if key in names:
            return key
        if len(names) == 1:
            return names[0]
        raise DatasetError(f"{self.path}: no variable {key!r} (found {', '.join(names) or 'none'})")

    def _load_v5(self, key: str) -> np.ndarray:
        try:
            names = [name for name, _, _ in scipy.io.whosmat(self.path)]
            key = self._pick(key, names)
            return scipy.io.loadmat(self.path, variable_names=[key])[key]
        except (ValueError, OSError, NotImplementedError) as exc:
            raise DatasetError(f"{self.path}: not a readable MATLAB file ({exc})") from None

    def __len__(self) -> int:
        return self.shape[0] * self.shape[1]

    def block(self, index: int) -> np.ndarray:
        """Block ``index`` in image-major order as float32 H x W x C in [0, 1] (uint8 / 255)."""
        image, block = divmod(index, self.shape[1])
        if self._h5 is not None:
            raw = self._data[..., block, image] if self._data.ndim == 5 else self._data[..., image]
            raw = np.asarray(raw).T
        else:
            raw = self._data[image, block] if self._data.ndim == 5 else self._data[image]
        raw = np.asarray(raw)
        if raw.dtype == np.uint8:
            return raw.astype(np.float32) / 255.0
        return raw.astype(np.float32)

    def close(self) -> None:
        if self._h5 is not None:
            self._h5.close()
            self._h5 = None

    def __enter__(self) -> "BlockFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
