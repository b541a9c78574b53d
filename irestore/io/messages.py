"""Wording shared by the reader's and writer's one-line error messages."""

from __future__ import annotations

FORMAT_NAMES = {"png": "PNG", "jpeg": "JPEG", "tiff": "TIFF", "webp": "WebP", "bmp": "BMP", "heic": "HEIC", "avif": "AVIF"}
READABLE = "a PNG, JPEG, TIFF, WebP, BMP, HEIC or AVIF image"


def one_line(error: BaseException) -> str:
    """A library's exception text on one line: the CLI prints exactly one line per failed file."""
    return " ".join(str(error).split()) or type(error).__name__
