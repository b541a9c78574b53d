"""The few fields of a HEIF/AVIF container (ISO/IEC 14496-12 boxes) irestore reads itself.

Which family a file is comes from its ``ftyp`` brands, not its name, so that a HEIC renamed
``.jpg`` still reads. The AVIF bit depth is read from the primary item's properties because
Pillow decodes every AVIF to 8 bits and says nothing of the depth it dropped.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1", b"mif2"})

Box = tuple[bytes, int, int]  # type, payload start, payload end


def _boxes(data: bytes, start: int, end: int) -> Iterator[Box]:
    """Child boxes between ``start`` and ``end``; stops quietly at a truncated box."""
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1:
            if position + 16 > end:
                return
            size, header = struct.unpack_from(">Q", data, position + 8)[0], 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            return
        yield kind, position + header, position + size
        position += size


def _child(data: bytes, start: int, end: int, kind: bytes) -> Box | None:
    return next((box for box in _boxes(data, start, end) if box[0] == kind), None)


def image_family(data: bytes) -> str | None:
    """"avif", "heic" or None, from the major and compatible brands of a leading ``ftyp`` box.

    AVIF files often carry ``mif1`` too, so an AVIF brand anywhere wins. Videos (``isom``, ``mp41``)
    and camera raw files (Canon's ``crx ``) have none of these brands and are not images here.
    """
    ftyp = next(_boxes(data, 0, min(len(data), 4096)), None)
    if ftyp is None or ftyp[0] != b"ftyp" or ftyp[2] - ftyp[1] < 8:
        return None
    _, start, end = ftyp
    brands = {data[start : start + 4]} | {data[i : i + 4] for i in range(start + 8, end - 3, 4)}
    if brands & _AVIF_BRANDS:
        return "avif"
    if brands & _HEIF_BRANDS:
        return "heic"
    return None


def avif_bit_depth(data: bytes) -> int:
    """Bits per sample of the primary image (8, 10 or 12); 8 when the boxes cannot be read.

    From its ``pixi`` property, else its ``av1C`` one. A grid image has neither (its tiles do), so
    then the deepest ``pixi`` or ``av1C`` in the file is taken. A wrong 8 only costs depth: the
    pixels are still decoded, by Pillow.
    """
    try:
        return _primary_depth(data)
    except (struct.error, IndexError):
        return 8


def _primary_depth(data: bytes) -> int:
    meta = next((box for box in _boxes(data, 0, len(data)) if box[0] == b"meta"), None)
    if meta is None:
        return 8
    start, end = meta[1] + 4, meta[2]  # meta is a full box: version and flags first
    iprp = _child(data, start, end, b"iprp")
    if iprp is None:
        return 8
    ipco = _child(data, iprp[1], iprp[2], b"ipco")
    properties = list(_boxes(data, ipco[1], ipco[2])) if ipco is not None else []
    pitm, ipma = _child(data, start, end, b"pitm"), _child(data, iprp[1], iprp[2], b"ipma")
    if pitm is not None and ipma is not None:
        primary = struct.unpack_from(">H" if data[pitm[1]] == 0 else ">I", data, pitm[1] + 4)[0]
        associated = [properties[i - 1] for i in _associations(data, ipma).get(primary, []) if 0 < i <= len(properties)]
        for kind in (b"pixi", b"av1C"):
            depths = [_depth(data, box) for box in associated if box[0] == kind]
            if depths:
                return max(depths)
    return max((_depth(data, box) for box in properties if box[0] in (b"pixi", b"av1C")), default=8)


def _associations(data: bytes, ipma: Box) -> dict[int, list[int]]:
    """Item ID -> 1-based property indices, from an ``ipma`` box (version 0/1, flags bit 0)."""
    _, start, _ = ipma
    version, flags = data[start], int.from_bytes(data[start + 1 : start + 4], "big")
    count = struct.unpack_from(">I", data, start + 4)[0]
    size = 2 if flags & 1 else 1
    position, found = start + 8, {}
    for _ in range(count):
        item = struct.unpack_from(">H" if version < 1 else ">I", data, position)[0]
        position += 2 if version < 1 else 4
        associations, position = data[position], position + 1
        indices = []
        for _ in range(associations):
            indices.append(int.from_bytes(data[position : position + size], "big") & (0x7FFF if size == 2 else 0x7F))
            position += size
        found[item] = indices
    return found


def _depth(data: bytes, box: Box) -> int:
    """Bits per sample that a ``pixi`` (full box: channel count, then bits per channel) or an
    ``av1C`` (byte 2: high_bitdepth, twelve_bit flags) property states; 8 for any other box."""
    kind, start, end = box
    if kind == b"pixi":
        channels = data[start + 4]
        return max(data[start + 5 : start + 5 + channels], default=8)
    if kind == b"av1C" and end - start >= 3:
        flags = data[start + 2]
        return (12 if flags & 0x20 else 10) if flags & 0x40 else 8
    return 8
