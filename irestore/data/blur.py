"""Blur kernels (random camera shake, straight lines, kernel files) and blurring.

Random motion kernels follow the camera-shake model of Boracchi & Foi (2012, "Modeling the
performance of image restoration from motion blur"): the camera position is a random walk with
constant speed whose direction gets Gaussian jitter, a pull back toward the start (centripetal
term) and rare abrupt shakes; the kernel is the path rasterised with bilinear splatting. The kernel
is centred on its centroid so that blurring does not shift the image (a shifted target would teach
the network to shift).
"""

from pathlib import Path

import cv2
import h5py
import numpy as np
import scipy.io
from scipy.io.matlab import MatReadError

from irestore.data.noise import add_gaussian
from irestore.errors import DatasetError

DEBLUR_NOISE_SIGMA = 0.01  # the deblur preset's "motion blur + 1% noise", in [0, 1] units
# Boracchi & Foi draw anxiety in [0, 0.1] over 2000 steps; at that level most paths curl into a
# blob of a few pixels, so (like DeblurGAN's 0.005) this uses a ten times smaller ceiling.
ANXIETY_MAX = 0.01


def rasterise_path(points: np.ndarray, size: int) -> np.ndarray:
    """Splat equally weighted (row, col) points bilinearly onto a ``size x size`` grid; sum 1.

    Bilinear splatting keeps each point's mass and centroid, so the kernel's centroid is the mean of
    the points. Points must lie inside ``[0, size - 1]``.
    """
    kernel = np.zeros((size + 1, size + 1))
    base = np.floor(points).astype(np.int64)
    frac = points - base
    for dr, dc in ((0, 0), (0, 1), (1, 0), (1, 1)):
        weight = np.abs(1 - dr - frac[:, 0]) * np.abs(1 - dc - frac[:, 1])
        np.add.at(kernel, (base[:, 0] + dr, base[:, 1] + dc), weight)
    kernel = kernel[:size, :size]
    return (kernel / kernel.sum()).astype(np.float32)


def _centre_in_kernel(points: np.ndarray, size: int) -> np.ndarray:
    """Move the path's centroid to the kernel centre, shrinking it if it would not fit."""
    centred = points - points.mean(axis=0)
    radius = np.abs(centred).max()
    room = (size - 1) / 2 - 1e-6
    if radius > room:
        centred *= room / radius
    return centred + (size - 1) / 2


def random_trajectory(
    rng: np.random.Generator, length: float, steps: int = 1000, anxiety: float | None = None
) -> np.ndarray:
    """Camera path of ``length`` pixels as ``steps x 2`` (row, col) points (Boracchi & Foi)."""
    anxiety = ANXIETY_MAX * rng.random() if anxiety is None else anxiety
    centripetal = 0.7 * rng.random()
    jitter = 10.0 * rng.random()
    shake_probability = 0.2 * rng.random() * anxiety
    step = length / (steps - 1)
    shakes = rng.random(steps) < shake_probability
    shake_turns = np.exp(1j * (np.pi + rng.uniform(-0.5, 0.5, steps)))
    noise = rng.standard_normal(steps) + 1j * rng.standard_normal(steps)
    velocity = step * np.exp(1j * rng.uniform(0.0, 2.0 * np.pi))
    path = np.zeros(steps, dtype=np.complex128)
    for t in range(steps - 1):
        dv = anxiety * (jitter * noise[t] - centripetal * path[t]) * step
        if shakes[t]:
            dv += 2.0 * velocity * shake_turns[t]
        velocity += dv
        velocity *= step / max(abs(velocity), 1e-12)
        path[t + 1] = path[t] + velocity
    return np.stack([path.imag, path.real], axis=1)


def random_motion_kernel(
    rng: np.random.Generator, size: int = 25, length: float | None = None
) -> np.ndarray:
    """A ``size x size`` camera-shake kernel (float32, >= 0, sum 1, centroid at the centre).

    ``length`` (pixels of camera travel) defaults to a uniform draw in [size/4, 1.5 size]; a path
    that would not fit in the kernel is shrunk to fit.
    """
    length = rng.uniform(size / 4, 1.5 * size) if length is None else length
    path = random_trajectory(rng, length)
    return rasterise_path(_centre_in_kernel(path, size), size)


def line_kernel(length: float, angle_deg: float, size: int | None = None) -> np.ndarray:
    """Uniform straight-line kernel (linear motion); angle 0 is horizontal, 90 vertical."""
    size = size if size is not None else int(np.ceil(length)) // 2 * 2 + 3
    t = np.linspace(-length / 2, length / 2, max(int(np.ceil(length * 4)), 2))
    theta = np.deg2rad(angle_deg)
    points = np.stack([-t * np.sin(theta), t * np.cos(theta)], axis=1)
    return rasterise_path(_centre_in_kernel(points, size), size)


def _mat_kernels(path: Path) -> list[np.ndarray]:
    """``kernels`` cell array from a .mat; v7.3 files are HDF5 and store matrices transposed."""
    try:
        cells = scipy.io.loadmat(path).get("kernels")
        return [] if cells is None else [np.asarray(k) for k in cells.ravel()]
    except NotImplementedError:
        with h5py.File(path, "r") as f:
            if "kernels" not in f:
                return []
            return [np.asarray(f[ref]).T for ref in np.asarray(f["kernels"]).ravel()]


def _normalised(kernel: np.ndarray, path: Path) -> np.ndarray:
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2 or not np.all(np.isfinite(kernel)) or kernel.sum() <= 0:
        raise DatasetError(f"{path}: a kernel is not a finite 2-D array with a positive sum")
    return (kernel / kernel.sum()).astype(np.float32)


def load_kernels(path: Path | str) -> list[np.ndarray]:
    """Kernels from a .mat (``kernels`` cell array, MATLAB v5 or v7.3) or a gray image; sum 1 each.

    Values are only rescaled, never clipped: ``kernels_bicubicx234.mat`` holds SR kernels with small
    negative lobes, which are part of their definition.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: kernel file not found")
    if path.suffix.lower() == ".mat":
        try:
            kernels = _mat_kernels(path)
        except (OSError, ValueError, MatReadError) as error:
            raise DatasetError(f"{path}: cannot read as a MATLAB file ({error})") from None
        if not kernels:
            raise DatasetError(f"{path}: no 'kernels' variable in this MATLAB file")
    else:
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise DatasetError(f"{path}: not a readable kernel image")
        kernels = [image]
    return [_normalised(k, path) for k in kernels]


def convolve(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """True 2-D convolution of each channel, symmetric border (MATLAB imfilter 'symmetric')."""
    flipped = np.ascontiguousarray(kernel[::-1, ::-1], dtype=np.float32)
    out = cv2.filter2D(img.astype(np.float32), -1, flipped, borderType=cv2.BORDER_REFLECT)
    return out.reshape(img.shape)


def blur(
    img: np.ndarray,
    kernel: np.ndarray,
    noise_sigma: float = DEBLUR_NOISE_SIGMA,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Blur with ``kernel`` and add white Gaussian noise of std ``noise_sigma`` ([0, 1] units).

    The noisy result is not clipped, like the Gaussian-denoising protocol. ``rng`` is required
    whenever ``noise_sigma > 0``.
    """
    blurred = convolve(img, kernel)
    if noise_sigma <= 0:
        return blurred
    if rng is None:
        raise ValueError("blur: noise_sigma > 0 needs an rng")
    return add_gaussian(blurred, noise_sigma * 255.0, rng)
