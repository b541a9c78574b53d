"""What a JPEG file says about its own compression: the quality and the chroma subsampling.

A JPEG carries its quantization tables (DQT segments) and each component's sampling factors (SOF).
Encoders built on libjpeg (OpenCV, Pillow, ImageMagick, most cameras' and phones' software) scale
the two example tables of the standard (ITU-T T.81, Annex K) by one quality number, so matching the
stored luma table against the 100 scaled versions recovers that number exactly; for other encoders
(custom tables) the nearest scaled table gives a close estimate, flagged as not exact. Read from
the bytes, not through an image library, so the result does not depend on a library's table order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Annex K example tables, natural (row-major) order.
_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
], dtype=np.int64)
_CHROMA = np.array([
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    *([99] * 32),
], dtype=np.int64)
# Position in the 8x8 block (natural order) of the k-th coefficient in zigzag order, as stored.
_ZIGZAG = np.array([
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
])
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


@dataclass(frozen=True)
class JpegInfo:
    quality: int  # libjpeg quality 1-100 whose tables match best
    exact: bool  # the stored tables are exactly libjpeg's at that quality
    subsampling: str  # "4:4:4", "4:2:2", "4:2:0", "4:1:1", "gray" or "HxV,..." otherwise
    progressive: bool

    def describe(self) -> str:
        quality = f"quality {self.quality}" if self.exact else f"quality ~{self.quality} (non-libjpeg tables)"
        return f"JPEG {quality}, {self.subsampling}{', progressive' if self.progressive else ''}"

    def to_dict(self) -> dict:
        return {"quality": self.quality, "exact": self.exact, "subsampling": self.subsampling, "progressive": self.progressive}


def scaled_table(base: np.ndarray, quality: int) -> np.ndarray:
    """libjpeg's ``jpeg_quality_scaling`` + ``jpeg_add_quant_table`` with baseline limits."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return np.clip((base * scale + 50) // 100, 1, 255)


def _segments(data: bytes):
    """(marker, payload) of each header segment up to the first scan."""
    if data[:2] != b"\xff\xd8":
        return
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        yield marker, data[pos + 4 : pos + 2 + length]
        if marker == 0xDA:
            return
        pos += 2 + length


def _tables(payload: bytes) -> dict[int, np.ndarray]:
    """Quantization tables of one DQT segment by id, in natural order."""
    tables, pos = {}, 0
    while pos < len(payload):
        precision, ident = payload[pos] >> 4, payload[pos] & 0x0F
        size = 128 if precision else 64
        raw = payload[pos + 1 : pos + 1 + size]
        if len(raw) < size:
            break
        values = np.frombuffer(raw, dtype=">u2" if precision else np.uint8).astype(np.int64)
        table = np.empty(64, dtype=np.int64)
        table[_ZIGZAG] = values
        tables[ident] = table
        pos += 1 + size
    return tables


def _subsampling(factors: list[tuple[int, int]]) -> str:
    if len(factors) == 1:
        return "gray"
    (h0, v0), rest = factors[0], factors[1:]
    if len(factors) == 3 and rest[0] == rest[1] == (1, 1):
        named = {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0", (4, 1): "4:1:1"}
        if (h0, v0) in named:
            return named[(h0, v0)]
    return ",".join(f"{h}x{v}" for h, v in factors)


def _best_quality(luma: np.ndarray, chroma: np.ndarray | None) -> tuple[int, bool]:
    """The quality whose scaled tables are nearest (relative error), and whether they are equal."""
    best, best_err = 50, np.inf
    for q in range(1, 101):
        err = np.abs(np.log(scaled_table(_LUMA, q) / luma)).mean()
        if chroma is not None:
            err += np.abs(np.log(scaled_table(_CHROMA, q) / chroma)).mean()
        if err < best_err:
            best, best_err = q, err
    return best, bool(best_err == 0.0)


def jpeg_info(data: bytes) -> JpegInfo | None:
    """The compression a JPEG's bytes record, or None for anything that is not a readable JPEG."""
    tables: dict[int, np.ndarray] = {}
    components: list[tuple[int, int, int]] = []
    progressive = False
    for marker, payload in _segments(data):
        if marker == 0xDB:
            tables.update(_tables(payload))
        elif marker in _SOF and len(payload) >= 6:
            progressive = marker in (0xC2, 0xC6, 0xCA, 0xCE)
            count = payload[5]
            for i in range(count):
                c = payload[6 + 3 * i : 9 + 3 * i]
                if len(c) == 3:
                    components.append((c[1] >> 4, c[1] & 0x0F, c[2]))
    if not components or components[0][2] not in tables:
        return None
    luma = np.maximum(tables[components[0][2]], 1)
    chroma_id = components[1][2] if len(components) > 1 else None
    chroma = np.maximum(tables[chroma_id], 1) if chroma_id in tables and chroma_id != components[0][2] else None
    quality, exact = _best_quality(luma, chroma)
    return JpegInfo(quality, exact, _subsampling([(h, v) for h, v, _ in components]), progressive)


def read_jpeg_info(path: str | Path) -> JpegInfo | None:
    """:func:`jpeg_info` of a file (its header can hold 64 KiB segments of EXIF and ICC before the tables)."""
    return jpeg_info(Path(path).read_bytes())
