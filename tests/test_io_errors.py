"""Every bad input becomes one ImageReadError line naming the file and the reason, and nothing else."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image as PILImage

from irestore.errors import ImageReadError, IRestoreError
from irestore.io import decode_image, read_image


def read_error(path, **options) -> str:
    with pytest.raises(ImageReadError) as caught:
        read_image(path, **options)
    message = str(caught.value)
    assert isinstance(caught.value, IRestoreError)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message


def noisy_rgb(height: int = 32, width: int = 32) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_missing_file(tmp_path):
    assert "no such file" in read_error(tmp_path / "absent.png")


def test_directory(tmp_path):
    (tmp_path / "folder.png").mkdir()
    assert "is a folder" in read_error(tmp_path / "folder.png")


def test_empty_file(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert "empty (0 bytes)" in read_error(tmp_path / "empty.jpg")


def test_text_file_renamed_png(tmp_path):
    (tmp_path / "notes.png").write_text("hello, I am not a picture\n")
    assert "not a PNG, JPEG, TIFF, WebP, BMP, HEIC or AVIF image" in read_error(tmp_path / "notes.png")


def test_random_bytes_and_unsupported_format(tmp_path):
    (tmp_path / "noise.png").write_bytes(np.random.default_rng(1).bytes(500))
    PILImage.new("RGB", (4, 4)).save(tmp_path / "anim.gif")
    assert "not a PNG" in read_error(tmp_path / "noise.png")
    assert "not a PNG" in read_error(tmp_path / "anim.gif")


def _halved(path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("name", ["cut.png", "cut.jpg", "cut.webp", "cut.bmp", "cut.tif"])
def test_truncated_8bit_files(tmp_path, name):
    path = tmp_path / name
    PILImage.fromarray(noisy_rgb()).save(path)
    _halved(path)
    message = read_error(path)
    assert "cannot decode" in message or "corrupt" in message


def test_truncated_jpeg_says_truncated(tmp_path):
    path = tmp_path / "cut.jpg"
    PILImage.fromarray(noisy_rgb()).save(path)
    _halved(path)
    assert "cannot decode JPEG data (image file is truncated" in read_error(path)


def test_truncated_16bit_png_and_tiff_print_nothing(tmp_path, capfd):
    cv2.imwrite(str(tmp_path / "cut.png"), noisy_rgb().astype(np.uint16) * 257)
    tifffile.imwrite(tmp_path / "cut.tif", noisy_rgb().astype(np.uint16), photometric="rgb")
    _halved(tmp_path / "cut.png")
    _halved(tmp_path / "cut.tif")
    assert "truncated" in read_error(tmp_path / "cut.png")
    assert "cannot decode TIFF data" in read_error(tmp_path / "cut.tif")
    assert capfd.readouterr() == ("", "")


def test_corrupt_bytes_inside_png(tmp_path):
    for name, encode in (("c8.png", lambda p: PILImage.fromarray(noisy_rgb()).save(p)),
                         ("c16.png", lambda p: cv2.imwrite(str(p), noisy_rgb().astype(np.uint16)))):
        path = tmp_path / name
        encode(path)
        data = bytearray(path.read_bytes())
        data[len(data) // 2 : len(data) // 2 + 16] = b"\xff" * 16
        path.write_bytes(bytes(data))
        assert "cannot decode PNG data" in read_error(path)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge size over a few bytes of pixel data: a decompression bomb."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def test_pixel_limit_is_checked_from_the_header_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_claiming(100_000, 100_000))  # 10^10 pixels, a few bytes on disk
    message = read_error(path)
    assert "over the limit of 200,000,000" in message


def test_pixel_limit_own_check_and_pil_bomb_error(tmp_path):
    path = tmp_path / "ten.png"
    PILImage.new("RGB", (10, 10)).save(path)
    # 100 pixels > 60: irestore's check; 100 > 2 x 20: PIL's DecompressionBombError
    assert "10x10 is 100 pixels, over the limit of 60" in read_error(path, max_pixels=60)
    assert "over the limit of 20 pixels" in read_error(path, max_pixels=20)
    assert read_image(path, max_pixels=100).pixels.shape == (10, 10, 3)
    assert read_image(path, max_pixels=None).pixels.shape == (10, 10, 3)
    assert PILImage.MAX_IMAGE_PIXELS == 89478485  # PIL's own setting is restored


def test_pixel_limit_for_tiff_pil_cannot_open(tmp_path):
    path = tmp_path / "ga.tif"
    tifffile.imwrite(path, np.zeros((10, 10, 2), np.uint16), photometric="minisblack", extrasamples=["unassalpha"])
    assert "over the limit of 50" in read_error(path, max_pixels=50)


def test_stdin_errors_name_stdin():
    with pytest.raises(ImageReadError, match="^<stdin>: file is empty"):
        decode_image(b"")
    with pytest.raises(ImageReadError, match="^<stdin>: not a PNG"):
        decode_image(b"GIF89a not really")
