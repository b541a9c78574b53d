"""Colour helpers shared by the degradations.

The camera-noise model (Brooks et al. 2019, "Unprocessing images") needs the sRGB tone curve, gamma
and a linear RGB <-> XYZ matrix; gray training sets need one fixed RGB -> gray convention. Keeping
them here means the synthetic noise and the data pipeline agree on the same curves.
"""

import numpy as np

# Linear sRGB (D65) -> CIE XYZ, the matrix Brooks et al. combine with camera XYZ -> cam matrices.
RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)

# BT.601 full-range luma, the weights of cv2.COLOR_RGB2GRAY and PIL "L": what a user's gray image
# most likely went through. (MATLAB's studio-range Y, 16..235, is a metric convention, not this.)
LUMA_BT601 = np.array([0.299, 0.587, 0.114])

GAMMA = 2.2


def smoothstep(x: np.ndarray) -> np.ndarray:
    """Global tone curve 3x^2 - 2x^3 that Brooks et al. fit to camera JPEG rendering."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def inverse_smoothstep(y: np.ndarray) -> np.ndarray:
    """Closed-form inverse of :func:`smoothstep` on [0, 1] (the root of the cubic in [0, 1])."""
    y = np.clip(y, 0.0, 1.0)
    return 0.5 - np.sin(np.arcsin(1.0 - 2.0 * y) / 3.0)


def gamma_expand(x: np.ndarray) -> np.ndarray:
    """Display values -> linear light with a plain 2.2 power (the paper's approximation of sRGB)."""
    return np.maximum(x, 1e-8) ** GAMMA


def gamma_compress(x: np.ndarray) -> np.ndarray:
    """Linear light -> display values, the inverse of :func:`gamma_expand`."""
    return np.maximum(x, 1e-8) ** (1.0 / GAMMA)


def apply_matrix(img: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 3x3 colour matrix to every pixel of an H x W x 3 image (out = M @ rgb)."""
    return img @ np.asarray(matrix, dtype=img.dtype).T


def rgb_to_gray(img: np.ndarray) -> np.ndarray:
    """H x W x 3 RGB -> H x W x 1 gray with BT.601 full-range weights; gray input passes through."""
    if img.shape[-1] == 1:
        return img
    return (img @ LUMA_BT601.astype(img.dtype))[..., None]
