"""PNG structure irestore handles itself: reading IHDR and eXIf, and encoding.

No installed library writes every PNG irestore needs: PIL truncates 16-bit colour to 8 bits,
OpenCV writes neither 16-bit gray + alpha nor (before 5.0) an ICC profile. PNG's container is
simple (spec sections 5 and 11), so the encoder is written here: IHDR, optional iCCP, one zlib
IDAT of Sub-filtered rows, IEND.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPE_FOR_CHANNELS = {1: 0, 2: 4, 3: 2, 4: 6}


def png_header(data: bytes) -> tuple[int, int]:
    """Return (bit depth, colour type) from IHDR; colour type 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA."""
    if len(data) < 26 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("missing PNG header")
    return data[24], data[25]


def _chunks(png: bytes) -> Iterator[tuple[bytes, bytes, int]]:
    """Yield (type, payload, stored CRC) up to IEND; ValueError when the data ends first."""
    position = len(PNG_SIGNATURE)
    while True:
        if position + 12 > len(png):
            raise ValueError("file is truncated (no IEND chunk)")
        length, kind = struct.unpack_from(">I4s", png, position)
        end = position + 8 + length
        if end + 4 > len(png):
            raise ValueError(f"file is truncated inside a {kind.decode('latin-1')} chunk")
        yield kind, png[position + 8 : end], struct.unpack_from(">I", png, end)[0]
        if kind == b"IEND":
            return
        position = end + 4


def find_chunk(png: bytes, kind: bytes) -> bytes | None:
    """Payload of the first chunk of this type, or None."""
    return next((payload for found, payload, _ in _chunks(png) if found == kind), None)


def verify_png(png: bytes) -> None:
    """Raise ValueError for truncated data or a chunk whose CRC does not match.

    libpng (inside OpenCV) prints such failures straight to stderr before OpenCV returns None,
    so 16-bit PNGs are checked here first to keep errors to irestore's one line.
    """
    for kind, payload, crc in _chunks(png):
        if zlib.crc32(kind + payload) != crc:
            raise ValueError(f"{kind.decode('latin-1')} chunk is corrupt (CRC mismatch)")


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def encode_png(samples: np.ndarray, icc_profile: bytes | None = None) -> bytes:
    """Encode uint8 or uint16 H x W x {1, 2, 3, 4} (gray, gray+alpha, RGB, RGBA) losslessly.

    Every row uses filter type 1 (Sub: each byte minus the byte one pixel to the left, modulo
    256), which compresses photographs and smooth model output far better than no filter, and is
    cheap in numpy. 16-bit samples are big-endian, as the spec requires.
    """
    height, width, channels = samples.shape
    bit_depth = 16 if samples.dtype == np.uint16 else 8
    rows = samples.astype(">u2" if bit_depth == 16 else np.uint8).reshape(height, -1).view(np.uint8)
    pixel_bytes = channels * bit_depth // 8
    filtered = rows.copy()
    filtered[:, pixel_bytes:] -= rows[:, :-pixel_bytes]
    scanlines = np.concatenate([np.ones((height, 1), np.uint8), filtered], axis=1)
    header = struct.pack(">IIBBBBB", width, height, bit_depth, _COLOUR_TYPE_FOR_CHANNELS[channels], 0, 0, 0)
    icc = _chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc_profile)) if icc_profile else b""
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + icc
        + _chunk(b"IDAT", zlib.compress(scanlines.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )
