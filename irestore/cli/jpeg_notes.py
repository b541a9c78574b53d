"""What ``irestore jpeg`` tells the user about the file it was given, from the file's own tables."""

from __future__ import annotations

from irestore.io.jpeg_quality import JpegInfo, jpeg_info

DEFAULT_RANGE = (10, 60)


def trained_range(meta: dict) -> tuple[int, int]:
    """The JPEG qualities a checkpoint was trained on (its recipe), 10-60 when it does not say."""
    low, high = meta.get("recipe", {}).get("degradation", {}).get("quality_range", DEFAULT_RANGE)
    return int(low), int(high)


def inspect_jpeg(data: bytes, meta: dict) -> tuple[JpegInfo | None, str | None]:
    """The file's compression and, when the model may not suit it, a one-line warning.

    A file that is not a JPEG (a PNG screenshot of a JPEG, say) is restored all the same, but the
    user learns that no quality could be read; a quality outside the trained range is restored
    below it with a model that has not seen it (above it, the change is weighted down instead, see
    :mod:`irestore.models.jpeg_blend`).
    """
    info = jpeg_info(data)
    low, high = trained_range(meta)
    if info is None:
        return None, f"not a JPEG file, so its quality is unknown; restoring as a JPEG of quality {low}-{high}"
    if info.quality < low:
        return info, f"JPEG quality {info.quality} is below the trained {low}-{high}: expect some artifacts to remain"
    return info, None
