"""Refuse images with too many pixels while only their header has been read."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image as PILImage

from irestore.errors import ImageReadError

_PIL_LIMIT_LOCK = threading.Lock()


def check_pixel_count(width: int, height: int, max_pixels: int | None, name: str) -> None:
    """Raise before any decoding: a 40-byte PNG can claim 2^31 x 2^31 pixels (a decompression bomb)."""
    if max_pixels is not None and width * height > max_pixels:
        raise ImageReadError(
            f"{name}: {width}x{height} is {width * height:,} pixels, over the limit of {max_pixels:,} "
            "(raise max_pixels to read it)"
        )


@contextmanager
def pil_pixel_limit(max_pixels: int | None) -> Iterator[None]:
    """Make PIL's own bomb guard follow ``max_pixels`` for the duration of ``Image.open``.

    PIL warns above ``MAX_IMAGE_PIXELS`` (89 MP) and raises ``DecompressionBombError`` above twice
    that, whatever the caller allowed; irestore's limit is the policy, so PIL's module-wide setting
    is swapped under a lock and its warning silenced. Callers still catch the error, which PIL
    raises above twice the limit.
    """
    with _PIL_LIMIT_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
        saved = PILImage.MAX_IMAGE_PIXELS
        PILImage.MAX_IMAGE_PIXELS = max_pixels
        try:
            yield
        finally:
            PILImage.MAX_IMAGE_PIXELS = saved
