"""Read an image file (or bytes from stdin) into an upright :class:`Image`, or say in one line why not."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from irestore.errors import ImageReadError, IRestoreError
from irestore.io.decoders import Decoded, decode_png_16bit, decode_tiff_exact, decode_with_pil, quiet_decoders
from irestore.io.heif import decode_avif, decode_heic
from irestore.io.image import DEFAULT_MAX_PIXELS, Image
from irestore.io.isobmff import image_family
from irestore.io.messages import FORMAT_NAMES, READABLE, one_line
from irestore.io.orientation import apply_orientation
from irestore.io.pixel_limit import check_pixel_count, pil_pixel_limit
from irestore.io.png_format import png_header

_PIL_OPENERS = ["PNG", "JPEG", "TIFF", "WEBP", "BMP"]
# PIL's JPEG opener returns an MPO image (a camera's multi-picture JPEG) where one applies.
_FORMAT_BY_PIL_NAME = {"PNG": "png", "JPEG": "jpeg", "MPO": "jpeg", "TIFF": "tiff", "WEBP": "webp", "BMP": "bmp"}
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_CONTAINER_DECODERS = {"heic": decode_heic, "avif": decode_avif}
_PAGE_WORD = {"tiff": "page", "heic": "image"}


def read_image(path: str | Path, *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Image:
    """Read a PNG, JPEG, TIFF, WebP, BMP, HEIC or AVIF file; the file is opened read-only and never modified."""
    return decode_image(read_bytes(path), name=str(path), max_pixels=max_pixels)


def read_bytes(path: str | Path) -> bytes:
    """An image file's encoded bytes, read-only, with one-line errors (callers that also inspect
    the encoding, e.g. a JPEG's tables, read the file once and decode with :func:`decode_image`)."""
    path = Path(path)
    if path.is_dir():
        raise ImageReadError(f"{path}: is a folder, not an image file")
    try:
        with open(path, "rb") as file:
            return file.read()
    except FileNotFoundError:
        raise ImageReadError(f"{path}: no such file") from None
    except OSError as error:
        raise ImageReadError(f"{path}: cannot open ({error.strerror or one_line(error)})") from None


def decode_image(data: bytes, *, name: str = "<stdin>", max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Image:
    """Decode encoded bytes (e.g. stdin for ``-``); ``name`` is what error messages call the input.

    The format comes from the content, not the file name. Only the header is parsed before the
    pixel count is checked against ``max_pixels`` (None: no limit). A file holding several pages,
    frames or images yields the first (HEIC: the primary one), and a note saying so.
    """
    if not data:
        raise ImageReadError(f"{name}: file is empty (0 bytes)")
    with quiet_decoders():
        decoded, fmt = _decode(bytes(data), name, max_pixels)
    alpha = decoded.alpha
    return Image(
        pixels=apply_orientation(decoded.colour, decoded.orientation),
        alpha=None if alpha is None else apply_orientation(alpha, decoded.orientation),
        bit_depth=decoded.bit_depth,
        icc_profile=decoded.icc_profile,
        source=name,
        format=fmt,
        notes=_page_note(fmt, decoded.pages),
    )


def _page_note(fmt: str, pages: int) -> tuple[str, ...]:
    if pages <= 1:
        return ()
    if fmt == "heic":
        return (f"primary image of {pages}",)
    return (f"{_PAGE_WORD.get(fmt, 'frame')} 1 of {pages}",)


def _open_header(data: bytes, name: str, max_pixels: int | None) -> PILImage.Image | None:
    """Let PIL parse the header only; None when PIL cannot identify the data."""
    try:
        with pil_pixel_limit(max_pixels):
            return PILImage.open(io.BytesIO(data), formats=_PIL_OPENERS)
    except PILImage.DecompressionBombError as error:
        raise ImageReadError(f"{name}: over the limit of {max_pixels:,} pixels ({one_line(error)})") from error
    except UnidentifiedImageError:
        return None
    except Exception as error:  # header parsers signal corrupt data with assorted exception types
        raise ImageReadError(f"{name}: corrupt or truncated image ({one_line(error)})") from error


def _decode(data: bytes, name: str, max_pixels: int | None) -> tuple[Decoded, str]:
    family = image_family(data)
    picture = None if family else _open_header(data, name, max_pixels)
    if picture is None and family is None and not data.startswith(_TIFF_MAGIC):
        raise ImageReadError(f"{name}: not {READABLE}")
    fmt = family or ("tiff" if picture is None else _FORMAT_BY_PIL_NAME[picture.format or ""])
    try:
        if family is not None:
            return _CONTAINER_DECODERS[family](data, name, max_pixels), fmt
        if picture is None:  # a TIFF layout PIL does not know, e.g. 16-bit gray + alpha
            return decode_tiff_exact(data, name, max_pixels), fmt
        with picture:
            check_pixel_count(picture.width, picture.height, max_pixels, name)
            return _decode_opened(picture, fmt, data, name, max_pixels), fmt
    except IRestoreError:
        raise
    except Exception as error:  # decoders signal truncated or corrupt data with assorted exception types
        raise ImageReadError(f"{name}: cannot decode {FORMAT_NAMES[fmt]} data ({one_line(error)})") from error


def _decode_opened(picture: PILImage.Image, fmt: str, data: bytes, name: str, max_pixels: int | None) -> Decoded:
    """Pick the decoder that keeps every bit of this file."""
    if fmt == "tiff" and _tiff_bits(picture) > 8:
        return decode_tiff_exact(data, name, max_pixels)
    pages = 1 if fmt == "jpeg" else int(getattr(picture, "n_frames", 1))  # a camera's MPO preview is no page
    if fmt == "png":
        bit_depth, colour_type = png_header(data)
        if bit_depth == 16:
            return decode_png_16bit(data, colour_type, picture.info.get("icc_profile") or None)._replace(pages=pages)
    return decode_with_pil(picture)._replace(pages=pages)


def _tiff_bits(picture: PILImage.Image) -> int:
    """Deepest BitsPerSample (tag 258): PIL opens 16-bit RGB TIFF as 8-bit RGB without complaint."""
    bits = picture.tag_v2.get(258, 8)  # type: ignore[attr-defined]
    return max(bits) if isinstance(bits, tuple) else int(bits)
