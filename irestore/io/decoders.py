"""Turn an encoded image into float colour, alpha and the metadata irestore carries.

Three decoders, each used where it is exact: PIL for 8-bit data and for what PIL alone understands
(palettes, CMYK, EXIF, ICC); OpenCV for 16-bit PNG, which PIL truncates to 8 bits for colour;
tifffile for TIFF deeper than 8 bits, which PIL truncates (RGB) or cannot open (gray + alpha).
HEIC and AVIF have theirs in :mod:`irestore.io.heif`. Only the first frame of a multi-page TIFF
or animated PNG/WebP/AVIF is read; ``pages`` says how many there are, so the user can be told.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import Any, NamedTuple

import cv2
import numpy as np
import tifffile
from PIL import Image as PILImage

from irestore.io.orientation import ORIENTATION_TAG
from irestore.io.pixel_limit import check_pixel_count
from irestore.io.png_format import find_chunk, verify_png
from irestore.io.samples import to_float


class Decoded(NamedTuple):
    colour: np.ndarray  # float32 H x W x C, C in {1, 3}, as stored (orientation not applied)
    alpha: np.ndarray | None  # float32 H x W
    bit_depth: int
    icc_profile: bytes | None
    orientation: int
    pages: int = 1  # pages, frames or top-level images in the file; the pixels are the first's


_PIL_MODES = frozenset({"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr"})
_PIL_GRAY_MODES = frozenset({"1", "L", "LA", "La"})
_PIL_ALPHA_MODES = frozenset({"LA", "La", "PA", "RGBA", "RGBa"})


def _split(samples: np.ndarray, colour_channels: int) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Split H x W (x C) integer samples into float colour and optional alpha (the next channel)."""
    if samples.ndim == 2:
        samples = samples[:, :, None]
    values, bit_depth = to_float(samples)
    alpha = np.ascontiguousarray(values[:, :, colour_channels]) if values.shape[2] > colour_channels else None
    return np.ascontiguousarray(values[:, :, :colour_channels]), alpha, bit_depth


def decode_with_pil(picture: PILImage.Image) -> Decoded:
    """Decode an 8-bit image PIL has opened.

    Palettes become RGB, or RGBA when they carry transparency (also a tRNS colour on gray/RGB);
    CMYK becomes RGB by PIL's naive ink formula, and its profile is dropped because a CMYK profile
    does not describe the RGB result. Premultiplied modes (La, RGBa) are un-premultiplied.
    """
    picture.load()
    mode = picture.mode
    if mode not in _PIL_MODES:
        raise ValueError(f"unsupported colour mode {mode}")
    gray = mode in _PIL_GRAY_MODES
    has_alpha = mode in _PIL_ALPHA_MODES or "transparency" in picture.info
    target = ("LA" if has_alpha else "L") if gray else ("RGBA" if has_alpha else "RGB")
    samples = np.asarray(picture if mode == target else picture.convert(target))
    colour, alpha, bit_depth = _split(samples, 1 if gray else 3)
    icc = None if mode == "CMYK" else picture.info.get("icc_profile") or None
    return Decoded(colour, alpha, bit_depth, icc, exif_orientation(picture.getexif))


def _exif_from_bytes(payload: bytes) -> PILImage.Exif:
    exif = PILImage.Exif()
    exif.load(payload)
    return exif


def exif_orientation(read_exif: Callable[[], Mapping[int, Any]]) -> int:
    """Orientation from ``read_exif()``; unreadable EXIF means as stored, not an unreadable image."""
    try:
        return int(read_exif().get(ORIENTATION_TAG, 1))
    except Exception:  # corrupt EXIF makes PIL raise assorted types; the pixels are still good
        return 1


@contextmanager
def quiet_decoders() -> Iterator[None]:
    """Silence what decoders print on stderr (OpenCV's log, tifffile's logger, PIL's warnings).

    irestore reports a failed read as one line naming the file; a half-readable file that decodes
    must not spray library chatter over the CLI's progress output either.
    """
    tiff_logger = logging.getLogger("tifffile")
    opencv_level = cv2.utils.logging.getLogLevel()
    tiff_disabled = tiff_logger.disabled
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    tiff_logger.disabled = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        cv2.utils.logging.setLogLevel(opencv_level)
        tiff_logger.disabled = tiff_disabled


def decode_png_16bit(data: bytes, colour_type: int, icc_profile: bytes | None) -> Decoded:
    """Decode a 16-bit PNG with OpenCV (IMREAD_UNCHANGED keeps uint16 and ignores EXIF; BGR -> RGB).

    OpenCV expands gray + alpha to BGRA, so the IHDR colour type says whether to keep one channel.
    EXIF is read from the eXIf chunk directly: asking PIL would make it decode the pixels first.
    """
    verify_png(data)
    samples = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if samples is None:
        raise ValueError("OpenCV could not decode the PNG data")
    gray = colour_type in (0, 4)
    if samples.ndim == 3:
        rgb = samples[:, :, 2::-1]
        samples = np.concatenate([rgb[:, :, :1] if gray else rgb, samples[:, :, 3:]], axis=2)
    colour, alpha, bit_depth = _split(samples, 1 if gray else 3)
    exif = find_chunk(data, b"eXIf")
    orientation = exif_orientation(partial(_exif_from_bytes, exif)) if exif else 1
    return Decoded(colour, alpha, bit_depth, icc_profile, orientation)


def _unpremultiply(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Associated alpha stores colour x alpha; fully transparent pixels have no colour and become 0."""
    safe = np.where(alpha > 0, alpha, 1.0)[:, :, None]
    return np.clip(colour / safe, 0.0, 1.0) * (alpha > 0)[:, :, None]


def decode_tiff_exact(data: bytes, name: str, max_pixels: int | None) -> Decoded:
    """Decode the first page of a TIFF with tifffile, keeping uint16 and float samples.

    Handles min-is-black/white gray, RGB, 8/16-bit CMYK (naive ink formula, profile dropped),
    separate or interleaved planes, and associated (premultiplied) or unassociated alpha.
    Without the optional ``imagecodecs`` package tifffile cannot undo LZW or JPEG compression
    (what OpenCV, GIMP and Photoshop often write); OpenCV's libtiff decodes those instead.
    """
    with tifffile.TiffFile(io.BytesIO(data)) as tiff:
        page = tiff.pages[0]
        pages = len(tiff.pages)
        check_pixel_count(page.imagewidth, page.imagelength, max_pixels, name)
        try:
            samples = _samples_last(page.asarray(), page.axes)
        except ValueError as error:
            samples = _decode_tiff_with_opencv(data, page, error)
        photometric = page.photometric
        extras = tuple(page.extrasamples)
        icc_tag = page.tags.get(34675)
        orientation_tag = page.tags.get(ORIENTATION_TAG)
    if samples.dtype.kind == "i":
        raise ValueError("signed integer samples are not supported")
    values, bit_depth = to_float(samples)
    inks = values.shape[2] - len(extras)
    colour = values[:, :, :inks]
    if photometric == tifffile.PHOTOMETRIC.MINISWHITE and inks == 1:
        colour = 1.0 - colour
    elif photometric == tifffile.PHOTOMETRIC.SEPARATED and inks == 4:
        colour = (1.0 - colour[:, :, :3]) * (1.0 - colour[:, :, 3:])
    elif not (photometric == tifffile.PHOTOMETRIC.MINISBLACK and inks == 1
              or photometric == tifffile.PHOTOMETRIC.RGB and inks == 3):
        raise ValueError(f"unsupported TIFF photometric {photometric.name} with {inks} channels")
    alpha = None
    if extras and extras[0] in (tifffile.EXTRASAMPLE.ASSOCALPHA, tifffile.EXTRASAMPLE.UNASSALPHA):
        alpha = np.ascontiguousarray(values[:, :, inks])
        if extras[0] == tifffile.EXTRASAMPLE.ASSOCALPHA:
            colour = _unpremultiply(colour, alpha)
    icc = icc_tag.value if icc_tag is not None and photometric != tifffile.PHOTOMETRIC.SEPARATED else None
    orientation = int(orientation_tag.value) if orientation_tag is not None else 1
    return Decoded(np.ascontiguousarray(colour, dtype=np.float32), alpha, bit_depth, icc, orientation, pages)


def _samples_last(samples: np.ndarray, axes: str) -> np.ndarray:
    """tifffile returns planar data as S x Y x X; make it Y x X x S."""
    if axes.startswith("S"):
        samples, axes = np.moveaxis(samples, 0, -1), axes[1:] + "S"
    if axes == "YX":
        return samples[:, :, None]
    if axes != "YXS":
        raise ValueError(f"unsupported TIFF layout {axes}")
    return samples


def _decode_tiff_with_opencv(data: bytes, page: tifffile.TiffPage, tifffile_error: ValueError) -> np.ndarray:
    """OpenCV's result is used only if it has the header's sample size and count.

    OpenCV silently returns 8-bit gray for 16-bit gray + alpha, and its handling of min-is-white
    and CMYK is not what irestore does, so anything else re-raises tifffile's error.
    """
    if page.photometric not in (tifffile.PHOTOMETRIC.MINISBLACK, tifffile.PHOTOMETRIC.RGB):
        raise tifffile_error
    samples = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if samples is None or samples.dtype.itemsize * 8 != page.bitspersample:
        raise tifffile_error
    if samples.ndim == 2:
        samples = samples[:, :, None]
    elif samples.shape[2] >= 3:
        samples = np.concatenate([samples[:, :, 2::-1], samples[:, :, 3:]], axis=2)
    if samples.shape[2] != page.samplesperpixel:
        raise tifffile_error
    return samples
