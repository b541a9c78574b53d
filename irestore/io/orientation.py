"""Apply the EXIF Orientation tag (0x0112) to a numpy image."""

from __future__ import annotations

import numpy as np

ORIENTATION_TAG = 0x0112


def apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Return the array as a viewer would display it.

    The tag (EXIF 2.3 / TIFF 6.0) says where the stored first row and first column end up: 1 as
    stored, 2 mirrored, 3 rotated 180, 4 flipped, 5 transposed, 6 rotated 90 clockwise, 7
    transversed, 8 rotated 90 counter-clockwise. Phones write 6 and 8 for portrait shots; OpenCV's
    IMREAD_UNCHANGED ignores the tag, which is why restored photos come out sideways elsewhere.
    Values outside 1..8 (broken EXIF is common) are treated as 1. Works on H x W and H x W x C.
    """
    if orientation == 2:
        oriented = array[:, ::-1]
    elif orientation == 3:
        oriented = array[::-1, ::-1]
    elif orientation == 4:
        oriented = array[::-1]
    elif orientation == 5:
        oriented = array.swapaxes(0, 1)
    elif orientation == 6:
        oriented = np.rot90(array, k=-1)
    elif orientation == 7:
        oriented = array[::-1, ::-1].swapaxes(0, 1)
    elif orientation == 8:
        oriented = np.rot90(array, k=1)
    else:
        return array
    return np.ascontiguousarray(oriented)
