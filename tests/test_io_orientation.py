"""EXIF orientation: applied once on read, for every decoder; never written."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image as PILImage

from irestore.io import read_image, write_image
from irestore.io.orientation import apply_orientation

STORED = np.array([[1, 2, 3], [4, 5, 6]])
# How a viewer displays STORED for each tag value (EXIF 2.3, Orientation), worked out by hand.
DISPLAYED = {
    1: [[1, 2, 3], [4, 5, 6]],
    2: [[3, 2, 1], [6, 5, 4]],
    3: [[6, 5, 4], [3, 2, 1]],
    4: [[4, 5, 6], [1, 2, 3]],
    5: [[1, 4], [2, 5], [3, 6]],
    6: [[4, 1], [5, 2], [6, 3]],
    7: [[6, 3], [5, 2], [4, 1]],
    8: [[3, 6], [2, 5], [1, 4]],
}


def exif_bytes(orientation: int) -> bytes:
    exif = PILImage.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def gray_levels(pixels: np.ndarray, top: int = 255) -> list:
    return np.rint(pixels[:, :, 0] * top).astype(int).tolist()


@pytest.mark.parametrize("orientation", sorted(DISPLAYED))
def test_apply_orientation_matches_the_hand_worked_table(orientation):
    assert apply_orientation(STORED, orientation).tolist() == DISPLAYED[orientation]
    with_channels = apply_orientation(np.stack([STORED, STORED * 10], axis=2), orientation)
    assert with_channels[:, :, 1].tolist() == (np.array(DISPLAYED[orientation]) * 10).tolist()


def test_unknown_orientation_values_leave_the_image_as_stored():
    for value in (0, 9, 65535):
        assert apply_orientation(STORED, value).tolist() == DISPLAYED[1]


@pytest.mark.parametrize("orientation", sorted(DISPLAYED))
def test_png_exif_orientation_is_applied_on_read(tmp_path, orientation):
    path = tmp_path / "o.png"
    PILImage.fromarray(STORED.astype(np.uint8)).save(path, exif=exif_bytes(orientation))
    assert gray_levels(read_image(path).pixels) == DISPLAYED[orientation]


def test_alpha_is_rotated_with_the_pixels(tmp_path):
    path = tmp_path / "o.png"
    gray_alpha = np.stack([STORED, STORED + 100], axis=2).astype(np.uint8)
    PILImage.fromarray(gray_alpha).save(path, exif=exif_bytes(6))
    image = read_image(path)
    assert np.rint(image.alpha * 255).astype(int).tolist() == (np.array(DISPLAYED[6]) + 100).tolist()


def test_jpeg_orientation_6_rotates_clockwise(tmp_path):
    stored = np.zeros((16, 32), np.uint8)
    stored[:, 16:] = 255  # left half black, right half white
    PILImage.fromarray(stored).save(tmp_path / "o.jpg", quality=100, exif=exif_bytes(6))
    image = read_image(tmp_path / "o.jpg")
    assert image.pixels.shape == (32, 16, 1)
    assert image.pixels[:16].mean() < 0.02 and image.pixels[16:].mean() > 0.98  # left went to the top


def test_tiff_orientation_tag_for_pil_and_tifffile_decoders(tmp_path):
    tag = [(274, "H", 1, 5, True)]
    tifffile.imwrite(tmp_path / "o8.tif", STORED.astype(np.uint8), extratags=tag)
    tifffile.imwrite(tmp_path / "o16.tif", STORED.astype(np.uint16), extratags=tag)
    assert gray_levels(read_image(tmp_path / "o8.tif").pixels) == DISPLAYED[5]
    assert gray_levels(read_image(tmp_path / "o16.tif").pixels, 65535) == DISPLAYED[5]


def test_16bit_png_orientation_is_applied_exactly_once(tmp_path):
    ok, encoded = cv2.imencode(".png", STORED.astype(np.uint16))
    png = encoded.tobytes()
    payload = exif_bytes(8)
    chunk = struct.pack(">I", len(payload)) + b"eXIf" + payload + struct.pack(">I", zlib.crc32(b"eXIf" + payload))
    (tmp_path / "o16.png").write_bytes(png[:33] + chunk + png[33:])  # right after IHDR
    image = read_image(tmp_path / "o16.png")
    assert image.bit_depth == 16
    assert gray_levels(image.pixels, 65535) == DISPLAYED[8]


def test_webp_orientation(tmp_path):
    PILImage.fromarray(STORED.astype(np.uint8)).convert("RGB").save(
        tmp_path / "o.webp", lossless=True, exif=exif_bytes(7)
    )
    assert gray_levels(read_image(tmp_path / "o.webp").pixels) == DISPLAYED[7]


@pytest.mark.parametrize("extension", [".png", ".jpg", ".tif", ".webp"])
def test_output_is_upright_without_an_orientation_tag(tmp_path, extension):
    source = tmp_path / "in.jpg"
    PILImage.new("RGB", (32, 16), (10, 200, 30)).save(source, exif=exif_bytes(6))
    output = tmp_path / f"out{extension}"
    write_image(output, read_image(source))
    with PILImage.open(output) as written:
        assert written.size == (16, 32)  # width, height as displayed
        assert 0x0112 not in written.getexif()
