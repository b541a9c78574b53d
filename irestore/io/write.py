"""Encode an :class:`Image` for a file or stdout, keeping bit depth, alpha and ICC where the format can."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pillow_heif
import tifffile
from PIL import Image as PILImage

from irestore.errors import ImageWriteError
from irestore.io.atomic import OutputExistsError, write_atomically
from irestore.io.icc import profile_fits
from irestore.io.image import FORMAT_BY_EXTENSION, FORMATS, IMAGE_EXTENSIONS, Image
from irestore.io.messages import FORMAT_NAMES, one_line
from irestore.io.png_format import encode_png
from irestore.io.samples import quantise

_HOLDS_16_BIT = frozenset({"png", "tiff", "heic"})  # HEIC as 10 bits
_HOLDS_ALPHA = frozenset({"png", "tiff", "webp", "heic", "avif"})
_HOLDS_ICC = frozenset({"png", "jpeg", "tiff", "webp", "heic", "avif"})
_MAX_SIDE = {"jpeg": 65535, "webp": 16383}


def output_format(path: str | Path) -> str:
    """Format name from the extension (case-insensitive)."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMAT_BY_EXTENSION:
        raise ImageWriteError(
            f"{path}: unsupported output extension '{suffix or '(none)'}' (use {', '.join(sorted(IMAGE_EXTENSIONS))})"
        )
    return FORMAT_BY_EXTENSION[suffix]


def write_image(
    path: str | Path, image: Image, *, overwrite: bool = False, bit_depth: int | None = None, quality: int = 95
) -> None:
    """Encode in memory, then replace ``path`` atomically; never creates folders, never overwrites unasked.

    Without ``overwrite``, a file that appears at ``path`` while encoding (another process sharing
    the folder) is kept, and :class:`OutputExistsError` raised.
    """
    path = Path(path)
    fmt = output_format(path)
    folder = path.parent
    if not folder.is_dir():
        reason = "is not a folder" if folder.exists() else "does not exist"
        raise ImageWriteError(f"{path}: output folder {folder} {reason}")
    if path.is_dir():
        raise ImageWriteError(f"{path}: is a folder")
    if path.exists() and not overwrite:
        raise OutputExistsError(path)
    data = encode_image(image, fmt, bit_depth=bit_depth, quality=quality, name=str(path))
    write_atomically(path, data, replace=overwrite)


def encode_image(
    image: Image, fmt: str, *, bit_depth: int | None = None, quality: int = 95, name: str = "<stdout>"
) -> bytes:
    """Encode to ``fmt``: a format name or an extension ("jpg", ".tif"); ``name`` is used in errors.

    Bit depth is ``bit_depth`` or the source's, lowered to 8 for JPEG, WebP, BMP and AVIF; HEIC
    holds 16-bit data as 10 bits. Alpha is dropped where the format has none (JPEG, BMP). The ICC
    profile is embedded in all but BMP when its colour space matches the written channels.
    ``quality`` (1-100) applies to JPEG, WebP, HEIC and AVIF; WebP at 100 is lossless. No EXIF is
    written, so no orientation tag either.
    """
    requested = fmt
    fmt = FORMAT_BY_EXTENSION.get("." + fmt.lower().lstrip("."), fmt)
    if fmt not in FORMATS:
        raise ImageWriteError(f"{name}: unsupported output format {requested!r} (use {', '.join(sorted(FORMATS))})")
    if bit_depth not in (None, 8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth}")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be between 1 and 100, got {quality}")
    depth = (bit_depth or image.bit_depth) if fmt in _HOLDS_16_BIT else 8
    side = _MAX_SIDE.get(fmt)
    if side is not None and max(image.width, image.height) > side:
        raise ImageWriteError(
            f"{name}: {image.width}x{image.height} is too large for {FORMAT_NAMES[fmt]} (at most {side} pixels a side)"
        )
    colour = quantise(image.pixels, depth)
    alpha = quantise(image.alpha, depth)[:, :, None] if image.alpha is not None and fmt in _HOLDS_ALPHA else None
    if colour.shape[2] == 1 and fmt in ("webp", "heic"):
        colour = np.repeat(colour, 3, axis=2)  # WebP has no gray mode; see _encode_heic
    icc = image.icc_profile if fmt in _HOLDS_ICC and profile_fits(image.icc_profile, colour.shape[2]) else None
    samples = colour if alpha is None else np.concatenate([colour, alpha], axis=2)
    try:
        return _ENCODERS[fmt](samples, icc, quality)
    except (OSError, ValueError, RuntimeError) as error:  # pillow-heif raises RuntimeError too
        raise ImageWriteError(f"{name}: cannot encode {FORMAT_NAMES[fmt]} ({one_line(error)})") from error


def _pil_image(samples: np.ndarray) -> PILImage.Image:
    """uint8 H x W x {1, 2, 3, 4} -> PIL mode L, LA, RGB or RGBA."""
    return PILImage.fromarray(samples[:, :, 0] if samples.shape[2] == 1 else samples)


def _save_with_pil(picture: PILImage.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **{key: value for key, value in options.items() if value is not None})
    return buffer.getvalue()


def _encode_png(samples: np.ndarray, icc: bytes | None, quality: int) -> bytes:
    """Lossless, so ``quality`` does not apply."""
    return encode_png(samples, icc)


def _encode_jpeg(samples: np.ndarray, icc: bytes | None, quality: int) -> bytes:
    """4:4:4 chroma: subsampling would throw away half the colour detail a model just restored."""
    return _save_with_pil(_pil_image(samples), "JPEG", quality=quality, subsampling=0, icc_profile=icc)


def _encode_webp(samples: np.ndarray, icc: bytes | None, quality: int) -> bytes:
    """``exact`` keeps the colour under fully transparent pixels, as alpha is written back unchanged."""
    return _save_with_pil(
        _pil_image(samples), "WEBP", quality=quality, lossless=quality == 100, exact=True, icc_profile=icc
    )


def _encode_bmp(samples: np.ndarray, icc: bytes | None, quality: int) -> bytes:
    return _save_with_pil(_pil_image(samples), "BMP")


def _encode_heic(samples: np.ndarray, icc: bytes | None, quality: int) -> bytes:
    """HEVC Main or Main 10 (16-bit data, requantised to 10 bits), 4:2:0, RGB only.

    Those are the profiles phones and operating systems decode in hardware; 4:4:4, lossless and
    monochrome HEVC are extensions many of them cannot open. Lossless copies belong in PNG or TIFF.
    """
    if samples.dtype == np.uint16:
        levels = (samples.astype(np.uint32) * 1023 + 32767) // 65535
        data, mode = np.ascontiguousarray((levels << 6).astype(np.uint16)), ("RGBA;16" if samples.shape[2] == 4 else "RGB;16")
    else:
        data, mode = np.ascontiguousarray(samples), ("RGBA" if samples.shape[2] == 4 else "RGB")
    buffer = io.BytesIO()
    options = {"quality": quality, "chroma": 420} | ({"icc_profile": icc} if icc else {})
    pillow_heif.encode(mode, (samples.shape[1], samples.shape[0]), data.tobytes(), buffer, **options)
    return buffer.getvalue()


def _encode_avif(samples: np.ndarray, icc: bytes | None, quality: int) -> bytes:
    """Pillow's AV1 encoder: 8 bits, 4:2:0 (4:0:0 for gray), the AVIF baseline every browser decodes."""
    return _save_with_pil(_pil_image(samples), "AVIF", quality=quality, icc_profile=icc)


def _encode_tiff(samples: np.ndarray, icc: bytes | None, quality: int) -> bytes:
    """Deflate with the horizontal predictor: lossless, and readable by libtiff without extra codecs."""
    colour_channels = 1 if samples.shape[2] in (1, 2) else 3
    buffer = io.BytesIO()
    tifffile.imwrite(
        buffer,
        samples[:, :, 0] if samples.shape[2] == 1 else samples,
        photometric="minisblack" if colour_channels == 1 else "rgb",
        extrasamples=("unassalpha",) if samples.shape[2] > colour_channels else None,
        compression="zlib",
        predictor=True,
        iccprofile=icc,
        metadata=None,
    )
    return buffer.getvalue()


_ENCODERS: dict[str, Callable[[np.ndarray, bytes | None, int], bytes]] = {
    "png": _encode_png,
    "jpeg": _encode_jpeg,
    "tiff": _encode_tiff,
    "webp": _encode_webp,
    "bmp": _encode_bmp,
    "heic": _encode_heic,
    "avif": _encode_avif,
}
