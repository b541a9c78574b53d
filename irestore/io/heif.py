"""Decode the formats phones write: HEIC/HEIF (iPhones' default) and AVIF.

HEIC goes through pillow-heif (libheif with libde265), asked for 16-bit samples so that 10- and
12-bit photos keep their depth. AVIF goes through Pillow, which reads it natively but always to
8 bits; a deeper AVIF has its pixels decoded by imagecodecs (libavif) instead, with Pillow still
reading its ICC profile and orientation from the container.

Orientation in these formats is the container's rotation and mirror properties (``irot``,
``imir``), which the format says win over an EXIF tag; iPhones write both, in agreement. libheif
applies them as it decodes, so a HEIC is upright as decoded and its EXIF tag is not applied again.
Pillow reports them for AVIF as the EXIF orientation it hands back, which is then applied as for
JPEG. An EXIF tag with no container property is ignored, as browsers do.
"""

from __future__ import annotations

import io

import numpy as np
import pillow_heif
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from irestore.io.decoders import Decoded, decode_with_pil, exif_orientation
from irestore.io.isobmff import avif_bit_depth
from irestore.io.pixel_limit import check_pixel_count, pil_pixel_limit
from irestore.io.samples import levels_to_float


def decode_heic(data: bytes, name: str, max_pixels: int | None) -> Decoded:
    """Decode the primary image of a HEIF file; ``pages`` counts its top-level images.

    libheif hands 10/12-bit samples back in the top bits of uint16 (``hdr_to_16bit``), so they are
    shifted down to their true levels before scaling: 1023 is white in 10 bits, not 65472/65535.
    """
    heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=False, hdr_to_16bit=True)
    width, height = heif.size
    check_pixel_count(width, height, max_pixels, name)
    samples = np.asarray(heif)
    bits = int(heif.info.get("bit_depth", 8)) if samples.dtype == np.uint16 else 8
    if samples.dtype == np.uint16:
        samples = samples >> (16 - bits)
    icc = heif.info.get("icc_profile") or None
    return _decoded(samples, bits, icc, orientation=1, pages=len(heif))


def decode_avif(data: bytes, name: str, max_pixels: int | None) -> Decoded:
    """Decode the first frame of an AVIF; ``pages`` counts the frames of an animated one.

    Pillow's own pixel-count guard is lifted while it parses the header so that ``max_pixels``
    alone decides, before anything is decoded.
    """
    try:
        with pil_pixel_limit(None):
            picture = PILImage.open(io.BytesIO(data), formats=["AVIF"])
    except UnidentifiedImageError:  # its text names a BytesIO object, not the reason
        raise ValueError("truncated or corrupt container") from None
    with picture:
        check_pixel_count(picture.width, picture.height, max_pixels, name)
        frames = int(getattr(picture, "n_frames", 1))
        bits = avif_bit_depth(data)
        if bits <= 8:
            return decode_with_pil(picture)._replace(pages=frames)
        icc = picture.info.get("icc_profile") or None
        orientation = exif_orientation(picture.getexif)
    import imagecodecs  # imported here: large, and only deep AVIF needs it

    samples = imagecodecs.avif_decode(data, index=0)
    return _decoded(samples, bits if samples.dtype == np.uint16 else 8, icc, orientation, frames)


def _decoded(samples: np.ndarray, bits: int, icc: bytes | None, orientation: int, pages: int) -> Decoded:
    """Integer levels H x W x {1, 2, 3, 4} (or H x W) -> colour, alpha and the depth to keep (8 or 16)."""
    if samples.ndim == 2:
        samples = samples[:, :, None]
    values = levels_to_float(samples, bits)
    colour_channels = 1 if samples.shape[2] <= 2 else 3
    alpha = np.ascontiguousarray(values[:, :, colour_channels]) if samples.shape[2] > colour_channels else None
    colour = np.ascontiguousarray(values[:, :, :colour_channels])
    return Decoded(colour, alpha, 8 if bits <= 8 else 16, icc, orientation, pages)
